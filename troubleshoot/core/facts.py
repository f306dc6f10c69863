"""Facts: frozen records built from the daemon's JSON (container inspect, image inspect + history, info).

Pure: no docker, no textual. Every builder takes the plain JSON the Engine API returns (already cleaned of
control sequences by the adapter) and never talks to anything.
"""
from __future__ import annotations

import msgspec
from datetime import datetime, timezone
from typing import Any

from . import schema
from .compose import Compose
from .compose import from_labels as compose_from_labels
from .secrets import SecretValues

_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386",
                 "i386": "386", "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}


def normalize_arch(arch: str | None) -> str:
    """Docker image architectures and kernel machine names in one vocabulary (x86_64 -> amd64)."""
    if not arch:
        return ""
    return _ARCH_ALIASES.get(arch.lower(), arch.lower())


def parse_time(value: str | None) -> datetime | None:
    """Docker timestamps (RFC 3339 with nanoseconds); the zero time 0001-01-01 means 'never'."""
    if not value or value.startswith("0001-01-01"):
        return None
    text = value.rstrip("Z")
    offset = "+00:00"
    for sign in ("+", "-"):
        idx = text.rfind(sign)
        if idx > 10:  # an explicit offset after the date part
            text, offset = text[:idx], text[idx:]
            break
    if "." in text:
        head, frac = text.split(".", 1)
        text = f"{head}.{frac[:6]}"
    try:
        return datetime.fromisoformat(text + offset).astimezone(timezone.utc)
    except ValueError:
        return None


def split_env(items: list[str] | tuple[str, ...] | None) -> tuple[tuple[str, str], ...]:
    out = []
    for item in items or ():
        key, _, value = item.partition("=")
        out.append((key, value))
    return tuple(out)


class HealthProbe(msgspec.Struct, frozen=True):
    exit_code: int
    output: str
    start: datetime | None


class Health(msgspec.Struct, frozen=True):
    status: str  # starting | healthy | unhealthy
    failing_streak: int
    probes: tuple[HealthProbe, ...]


class PortBinding(msgspec.Struct, frozen=True):
    container_port: str  # "80/tcp"
    host_ip: str
    host_port: str


class Container(msgspec.Struct, frozen=True):
    id: str
    name: str
    state: str  # created | running | paused | restarting | removing | exited | dead
    exit_code: int
    oom_killed: bool
    error: str
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime | None
    restart_count: int
    restart_policy: str
    health: Health | None
    healthcheck: tuple[str, ...]  # Config.Healthcheck.Test, () when none
    image_ref: str  # Config.Image: what the user asked for (a tag, a digest or an id)
    image_id: str  # Image: the id the container actually runs
    env: tuple[tuple[str, str], ...]
    memory_limit: int  # bytes, 0 = unlimited
    ports: tuple[PortBinding, ...]
    labels: tuple[tuple[str, str], ...]
    command: tuple[str, ...]
    tty: bool = False  # Config.Tty: its log stream is raw, not multiplexed
    pid: int = 0  # State.Pid: its main process on the daemon's host (0: not running)
    compose: Compose | None = None  # its Compose project and service, from its labels (None: a loose container)

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def env_keys(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.env)

    def label(self, key: str, default: str = "") -> str:
        for k, v in self.labels:
            if k == key:
                return v
        return default

    @property
    def seconds_ran(self) -> float | None:
        """How long the last run lasted (running: until `now` is unknown, so None)."""
        if self.started_at is None or self.finished_at is None or self.state == "running":
            return None
        return max(0.0, (self.finished_at - self.started_at).total_seconds())

    @property
    def has_healthcheck(self) -> bool:
        return bool(self.healthcheck) and self.healthcheck[0] != "NONE"


def container_from_inspect(data: schema.ContainerInspect) -> Container:
    """A container fact from its typed inspect record (decoded, cleaned and masked by the boundary)."""
    state = data.State
    config = data.Config
    host_config = data.HostConfig or schema.HostConfig()
    health = None
    if state.Health is not None:
        health = Health(
            status=state.Health.Status,
            failing_streak=state.Health.FailingStreak,
            probes=tuple(HealthProbe(p.ExitCode, p.Output.strip(), parse_time(p.Start)) for p in state.Health.Log or ()),
        )
    healthcheck = tuple((config.Healthcheck.Test or ()) if config.Healthcheck else ())
    ports = []
    for cport, bindings in sorted((host_config.PortBindings or {}).items()):
        for b in bindings or ():
            ports.append(PortBinding(cport, b.HostIp, b.HostPort))
    command = tuple([data.Path] + list(data.Args or ())) if data.Path else ()
    return Container(
        id=data.Id,
        name=data.Name.lstrip("/"),
        state=state.Status,
        exit_code=state.ExitCode,
        oom_killed=state.OOMKilled,
        error=state.Error,
        started_at=parse_time(state.StartedAt),
        finished_at=parse_time(state.FinishedAt),
        created_at=parse_time(data.Created),
        restart_count=data.RestartCount,
        restart_policy=(host_config.RestartPolicy.Name if host_config.RestartPolicy else "") or "no",
        health=health,
        healthcheck=healthcheck,
        image_ref=config.Image,
        image_id=data.Image,
        env=split_env(config.Env),
        memory_limit=host_config.Memory,
        ports=tuple(ports),
        labels=tuple(sorted((config.Labels or {}).items())),
        command=command,
        tty=config.Tty,
        pid=state.Pid,
        compose=compose_from_labels(config.Labels),
    )


class Layer(msgspec.Struct, frozen=True):
    id: str
    created_by: str
    size: int
    created: datetime | None


class Image(msgspec.Struct, frozen=True):
    id: str
    tags: tuple[str, ...]
    digests: tuple[str, ...]
    size: int
    architecture: str
    os: str
    variant: str
    created: datetime | None
    healthcheck: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    cmd: tuple[str, ...]
    entrypoint: tuple[str, ...]
    history: tuple[Layer, ...] = ()

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]

    def largest_layers(self, n: int = 3) -> tuple[Layer, ...]:
        return tuple(sorted((l for l in self.history if l.size > 0), key=lambda l: -l.size)[:n])


def image_from_inspect(data: schema.ImageInspect, history: list[schema.HistoryEntry] | None = None) -> Image:
    config = data.Config or schema.ImageConfig()
    layers = tuple(Layer(id=h.Id, created_by=h.CreatedBy, size=h.Size,
                         created=datetime.fromtimestamp(h.Created, timezone.utc) if h.Created > 0 else None)
                   for h in history or ())
    return Image(
        id=data.Id,
        tags=tuple(data.RepoTags or ()),
        digests=tuple(data.RepoDigests or ()),
        size=data.Size,
        architecture=normalize_arch(data.Architecture),
        os=data.Os,
        variant=data.Variant,
        created=parse_time(data.Created),
        healthcheck=tuple((config.Healthcheck.Test or ()) if config.Healthcheck else ()),
        env=split_env(config.Env),
        cmd=tuple(config.Cmd or ()),
        entrypoint=tuple(config.Entrypoint or ()),
        history=layers,
    )


class Host(msgspec.Struct, frozen=True):
    """The Docker host. Local daemons: psutil + /proc. Remote daemons: what `docker info` says (fewer fields)."""
    name: str
    local: bool
    architecture: str
    ncpu: int
    kernel: str
    os: str
    server_version: str
    api_version: str
    docker_root: str
    mem_total: int | None
    mem_available: int | None
    swap_total: int | None
    swap_used: int | None
    disk_total: int | None
    disk_free: int | None
    load1: float | None
    oom_kills: int | None  # the kernel's oom_kill counter (/proc/vmstat), since boot
    engine: str = "Docker"  # the engine behind the Docker API: Docker or Podman (its /version says which)

    @property
    def engine_label(self) -> str:
        """"Docker 20.10.24", "Podman 4.3.1": the engine and its version (a distribution's `+dfsg1` left out)."""
        version = self.server_version.split("+", 1)[0]
        return f"{self.engine} {version}" if version else self.engine

    @property
    def mem_available_percent(self) -> float | None:
        if not self.mem_total or self.mem_available is None:
            return None
        return 100.0 * self.mem_available / self.mem_total

    @property
    def swap_used_percent(self) -> float | None:
        if not self.swap_total or self.swap_used is None:
            return None
        return 100.0 * self.swap_used / self.swap_total

    @property
    def disk_free_percent(self) -> float | None:
        if not self.disk_total or self.disk_free is None:
            return None
        return 100.0 * self.disk_free / self.disk_total

    @property
    def load_per_cpu(self) -> float | None:
        if self.load1 is None or not self.ncpu:
            return None
        return self.load1 / self.ncpu


def parse_vmstat_oom_kills(text: str) -> int | None:
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill":
            try:
                return int(value.strip())
            except ValueError:
                return None
    return None


def engine_name(version: schema.Version) -> str:
    """Which engine answers the Docker API: Podman names itself in /version's components ("Podman Engine") or its
    platform; anything else is Docker (Docker Engine - Community, Debian's docker.io, an old daemon without either)."""
    names = [c.Name for c in version.Components or ()]
    names.append(version.Platform.Name if version.Platform else "")
    return "Podman" if any("podman" in n.lower() for n in names) else "Docker"


def host_from_info(info: schema.Info, version: schema.Version | None = None,
                   local: schema.LocalReadings | None = None) -> Host:
    """`info` is GET /info; `local` holds psutil readings when the daemon runs on this machine."""
    version = version or schema.Version()
    return Host(
        name=info.Name,
        local=local is not None,
        architecture=normalize_arch(info.Architecture),
        ncpu=info.NCPU,
        kernel=info.KernelVersion,
        os=info.OperatingSystem,
        server_version=info.ServerVersion or version.Version,
        api_version=version.ApiVersion,
        docker_root=info.DockerRootDir,
        mem_total=local.mem_total if local is not None and local.mem_total is not None else (info.MemTotal or None),
        mem_available=local.mem_available if local else None,
        swap_total=local.swap_total if local else None,
        swap_used=local.swap_used if local else None,
        disk_total=local.disk_total if local else None,
        disk_free=local.disk_free if local else None,
        load1=local.load1 if local else None,
        oom_kills=parse_vmstat_oom_kills(local.vmstat) if local is not None and local.vmstat else None,
        engine=engine_name(version),
    )


class ContainerEvent(msgspec.Struct, frozen=True):
    """One past event of the container (the daemon's event history): who stopped it, with which signal, when."""
    action: str  # start | kill | stop | die | oom | health_status | restart
    at: datetime | None
    signal: int | None = None  # kill: the signal number (None: not said, or dropped as forged by a label)
    exit_code: int | None = None  # die
    status: str = ""  # health_status


class EventHistory(msgspec.Struct, frozen=True):
    """The daemon's event history of one container: what it still holds of the window read, or why it could not
    be read (`error`)."""
    events: tuple[ContainerEvent, ...] = ()
    truncated: bool = False
    error: str = ""


SIGNAL_NUMBERS = {"SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGILL": 4, "SIGTRAP": 5, "SIGABRT": 6, "SIGBUS": 7,
                  "SIGFPE": 8, "SIGKILL": 9, "SIGUSR1": 10, "SIGSEGV": 11, "SIGUSR2": 12, "SIGPIPE": 13,
                  "SIGALRM": 14, "SIGTERM": 15}


def signal_number(text: str) -> int | None:
    """"15", "SIGTERM", "TERM" -> 15; None when it is not a signal (Linux numbering)."""
    text = text.strip().upper()
    if text.isdigit():
        n = int(text)
        return n if 0 < n < 65 else None
    return SIGNAL_NUMBERS.get(text if text.startswith("SIG") else f"SIG{text}")


def event_history_from_record(rec: schema.EventHistory) -> EventHistory:
    events = []
    for e in rec.seen:
        at = datetime.fromtimestamp(e.time / 1e9, timezone.utc) if e.time > 0 else None
        events.append(ContainerEvent(e.action, at, signal_number(e.signal) if e.signal else None, e.exit_code,
                                     e.status))
    events.sort(key=lambda e: e.at or datetime.min.replace(tzinfo=timezone.utc))
    return EventHistory(tuple(events), rec.truncated, rec.error)


class NetworkEndpoint(msgspec.Struct, frozen=True):
    """One network a container is on (NetworkSettings.Networks): the names it answers to there, and its address."""
    network: str
    aliases: tuple[str, ...] = ()
    ip: str = ""


def networks_from_inspect(data: schema.ContainerInspect) -> tuple[NetworkEndpoint, ...]:
    nets = (data.NetworkSettings.Networks or {}) if data.NetworkSettings is not None else {}
    return tuple(NetworkEndpoint(name, tuple(a for a in ep.Aliases or () if a), ep.IPAddress)
                 for name, ep in sorted(nets.items()))


class MountFact(msgspec.Struct, frozen=True):
    """One mount: from inspect (any daemon), with what the host showed of its source (local daemon only)."""
    destination: str
    type: str  # bind, volume, tmpfs
    source: str = ""
    rw: bool = True
    seen: schema.MountSeen | None = None  # None: the source was not looked at


class FileFacts(msgspec.Struct, frozen=True):
    """A container's files and mounts: the entrypoint's head (probes/files.py), its mounts, the user it runs as,
    /dev/shm's size, a read-only root filesystem."""
    heads: tuple[schema.FileHead, ...] = ()
    mounts: tuple[MountFact, ...] = ()
    why: str = ""  # a probe that could not be made, and why
    user: str = ""  # Config.User ("" is root)
    shm_size: int = 0  # HostConfig.ShmSize (0: the daemon's default, 64 MB)
    readonly_rootfs: bool = False

    def head(self, role: str) -> schema.FileHead | None:
        return next((h for h in self.heads if h.role == role), None)

    def mount_for(self, path: str) -> MountFact | None:
        """The mount a container path lives on (the longest destination that contains it)."""
        best = None
        for m in self.mounts:
            d = m.destination.rstrip("/") or "/"
            if (path == d or path.startswith(d + "/") or d == "/") and (best is None or len(d) > len(best.destination)):
                best = m
        return best


def files_from_inspect(data: schema.ContainerInspect, seen: schema.ContainerFiles | None) -> FileFacts:
    hc = data.HostConfig or schema.HostConfig()
    looked = {(m.type, m.destination): m for m in (seen.mounts if seen else ())}
    mounts = [MountFact(m.Destination, m.Type, m.Source, m.RW, looked.get((m.Type, m.Destination)))
              for m in data.Mounts or ()]
    for dest, options in sorted((hc.Tmpfs or {}).items()):
        mounts.append(MountFact(dest, "tmpfs", "", "ro" not in options.split(","),
                                looked.get(("tmpfs", dest)) or schema.MountSeen(destination=dest, type="tmpfs",
                                                                                options=options)))
    return FileFacts(heads=tuple(seen.heads) if seen else (), mounts=tuple(mounts), why=seen.why if seen else "",
                     user=data.Config.User, shm_size=hc.ShmSize, readonly_rootfs=hc.ReadonlyRootfs)


class Observation(msgspec.Struct, frozen=True):
    """Everything known about one container at scan time: the inspect, its image, bounded log tail,
    and what its image reference (tag) points to now."""
    container: Container
    image: Image | None = None
    logs: tuple[str, ...] = ()
    tag_image: Image | None = None  # the image the container's tag points to *now* (None: not a tag / gone)
    logs_error: str = ""  # why there are no logs (logging driver none/syslog, container gone)
    forensics: Any = None  # core.forensics.Forensics when the image's layers were read (`scan --deep`)
    secrets: SecretValues = msgspec.field(default_factory=SecretValues)  # its own raw values (its repr hides them)
    events: EventHistory | None = None  # the daemon's event history of it (None: not read)
    networks: tuple[NetworkEndpoint, ...] = ()  # NetworkSettings.Networks
    exposed_ports: tuple[str, ...] = ()  # Config.ExposedPorts ("5432/tcp")
    network_mode: str = ""  # HostConfig.NetworkMode
    peers: Any = None  # core.peers.Peers: who answers to which name across the scan (set by diagnose)
    listening: tuple[str, ...] | None = None  # TCP addr:port listening in its network namespace (None: not read)
    listening_why_not: str = ""  # why they could not be read (remote daemon, no access), when they were wanted
    listening_read_at: datetime | None = None  # when they were read
    files: FileFacts = msgspec.field(default_factory=FileFacts)  # its files and mounts (probes/files.py)


    resources: schema.Resources | None = None  # usage against limits, processes, log file size (None: not probed)
    compose_env: schema.ComposeEnv | None = None  # its Compose project's .env, secret values masked (None: not read)
    compose_service: schema.ComposeService | None = None  # its service in the project's files (None: not read)
    log_driver: str = ""  # HostConfig.LogConfig.Type
    log_max_size: str = ""  # HostConfig.LogConfig.Config max-size ("" none)
    ulimit_nofile: int | None = None  # HostConfig.Ulimits nofile (soft), when set on the container
    init: bool = False  # HostConfig.Init: docker-init runs as PID 1
    inspect: schema.ContainerInspect | None = None  # the typed record (core/fixform.py)
    image_config: schema.ImageConfig | None = None  # its image's, when read

    def __repr__(self) -> str:
        """Every field but the typed inspect and image records (kilobytes each, told apart by the container)."""
        shown = (f"{name}={getattr(self, name)!r}" for name in self.__struct_fields__
                 if name not in ("inspect", "image_config"))
        return f"Observation({', '.join(shown)})"


def wants_logs(c: Container) -> bool:
    """Whether a diagnosis needs this container's log tail: it is not simply up and fine (and it ever started:
    a container that never started has no log; why it did not start is in State.Error)."""
    if c.started_at is None and c.state == "created":
        return False
    return (c.state != "running" or c.restart_count > 0
            or (c.health is not None and c.health.status == "unhealthy"))
