"""Typed records: the part of the Engine API's answers (and of snapshot files) that troubleshoot reads.

Every daemon answer and every snapshot is decoded into these types in one step (`troubleshoot/boundary.py`), which
checks every type on the way (`Config.Env: [1, 2]` is an error naming that path, never a traceback later) and drops
every field that is not declared here, so nothing unread is kept or written to a snapshot. Field names are the
Engine API's own (PascalCase), so a record encodes back to the JSON the daemon sent, minus what we do not read.

Pure: msgspec types only. Cleaning, bounding and masking happen in the boundary, once, after decoding.
"""
from __future__ import annotations

from typing import Optional

import msgspec
from msgspec import Struct, field

# Docker sends null for an empty list or map almost anywhere: every container field is Optional with a default.


class HealthLogEntry(Struct, omit_defaults=True):
    ExitCode: int = 0
    Output: str = ""
    Start: str = ""
    End: str = ""


class HealthState(Struct, omit_defaults=True):
    Status: str = ""
    FailingStreak: int = 0
    Log: Optional[list[HealthLogEntry]] = None


class ContainerState(Struct, omit_defaults=True):
    Status: str = ""
    Running: bool = False
    Paused: bool = False
    Restarting: bool = False
    OOMKilled: bool = False
    Dead: bool = False
    Pid: int = 0
    ExitCode: int = 0
    Error: str = ""
    StartedAt: str = ""
    FinishedAt: str = ""
    Health: Optional[HealthState] = None

    def __post_init__(self) -> None:
        # Podman answers `"Health": {"Status": "", "FailingStreak": 0, "Log": null}` for every container, with a
        # health check or without, until a probe has run; Docker leaves Health out. The same record for both: none.
        h = self.Health
        if h is not None and not h.Status and not h.Log and not h.FailingStreak:
            self.Health = None


class Healthcheck(Struct, omit_defaults=True):
    Test: Optional[list[str]] = None
    Interval: int = 0
    Timeout: int = 0
    StartPeriod: int = 0
    Retries: int = 0


class ContainerConfig(Struct, omit_defaults=True):
    Hostname: str = ""
    User: str = ""
    Tty: bool = False
    Env: Optional[list[str]] = None
    Cmd: Optional[list[str]] = None
    Entrypoint: Optional[list[str]] = None
    Healthcheck: Optional[Healthcheck] = None
    Image: str = ""
    WorkingDir: str = ""
    Labels: Optional[dict[str, str]] = None
    StopSignal: str = ""
    StopTimeout: Optional[int] = None
    ExposedPorts: Optional[dict[str, dict]] = None


class RestartPolicy(Struct, omit_defaults=True):
    Name: str = ""
    MaximumRetryCount: int = 0


class PortBinding(Struct, omit_defaults=True):
    HostIp: str = ""
    HostPort: str = ""


class LogConfig(Struct, omit_defaults=True):
    Type: str = ""
    Config: Optional[dict[str, str]] = None


class Ulimit(Struct, omit_defaults=True):
    Name: str = ""
    Soft: int = 0
    Hard: int = 0


class HostConfig(Struct, omit_defaults=True):
    Binds: Optional[list[str]] = None
    NetworkMode: str = ""
    PortBindings: Optional[dict[str, Optional[list[PortBinding]]]] = None
    RestartPolicy: Optional[RestartPolicy] = None
    AutoRemove: bool = False
    LogConfig: Optional[LogConfig] = None
    Memory: int = 0
    MemorySwap: int = 0
    MemoryReservation: int = 0
    NanoCpus: int = 0
    CpuQuota: int = 0
    CpuPeriod: int = 0
    PidsLimit: Optional[int] = None
    ShmSize: int = 0
    ReadonlyRootfs: bool = False
    Tmpfs: Optional[dict[str, str]] = None
    Init: Optional[bool] = None
    Privileged: bool = False
    Ulimits: Optional[list[Ulimit]] = None


class Mount(Struct, omit_defaults=True):
    Type: str = ""
    Name: str = ""
    Source: str = ""
    Destination: str = ""
    Driver: str = ""
    Mode: str = ""
    RW: bool = True


class EndpointSettings(Struct, omit_defaults=True):
    NetworkID: str = ""
    IPAddress: str = ""
    Aliases: Optional[list[str]] = None


class NetworkSettings(Struct, omit_defaults=True):
    Networks: Optional[dict[str, EndpointSettings]] = None


class ContainerInspect(Struct, omit_defaults=True):
    """GET /containers/{id}/json, the fields the facts read."""
    Id: str
    Name: str
    State: ContainerState
    Config: ContainerConfig
    Created: str = ""
    Path: str = ""
    Args: Optional[list[str]] = None
    Image: str = ""
    RestartCount: int = 0
    LogPath: str = ""
    HostConfig: Optional[HostConfig] = None
    Mounts: Optional[list[Mount]] = None
    NetworkSettings: Optional[NetworkSettings] = None


class ImageConfig(Struct, omit_defaults=True):
    User: str = ""
    Env: Optional[list[str]] = None
    Cmd: Optional[list[str]] = None
    Entrypoint: Optional[list[str]] = None
    Healthcheck: Optional[Healthcheck] = None
    Labels: Optional[dict[str, str]] = None
    WorkingDir: str = ""
    ExposedPorts: Optional[dict[str, dict]] = None


class ImageInspect(Struct, omit_defaults=True):
    """GET /images/{id}/json."""
    Id: str
    RepoTags: Optional[list[str]] = None
    RepoDigests: Optional[list[str]] = None
    Created: str = ""
    Size: int = 0
    Architecture: str = ""
    Os: str = ""
    Variant: str = ""
    Config: Optional[ImageConfig] = None


class HistoryEntry(Struct, omit_defaults=True):
    """One row of GET /images/{id}/history."""
    Id: str = ""
    Created: int = 0
    CreatedBy: str = ""
    Size: int = 0
    Comment: str = ""


class ConfigHistory(Struct, omit_defaults=True):
    """One `history` entry of an image's config (docker save)."""
    created: str = ""
    created_by: str = ""
    empty_layer: bool = False
    comment: str = ""


class LayerListing(Struct, omit_defaults=True):
    """What one layer holds, read from `docker save` (daemon.image_layers)."""
    id: str = ""
    size: int = 0
    files: list[tuple[str, int]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)
    secrets: list[tuple[str, int, bool]] = field(default_factory=list)


class ImageLayers(Struct, omit_defaults=True):
    layers: list[LayerListing] = field(default_factory=list)
    history: list[ConfigHistory] = field(default_factory=list)
    truncated: bool = False


class EventSeen(Struct, omit_defaults=True):
    """One past event of a container, from the daemon's event history (GET /events). Attributes whose key is also a
    label of the container are dropped (a label overwrites the attribute of that name: a forged `signal`) and their
    keys listed in `forged`."""
    action: str  # start, kill, stop, die, oom, health_status, restart
    time: int = 0  # unix time, nanoseconds
    signal: str = ""  # kill: the signal sent, as the daemon says it ("15", "9", or a name)
    exit_code: Optional[int] = None  # die: the exit code
    status: str = ""  # health_status: healthy | unhealthy | starting
    forged: list[str] = field(default_factory=list)


class EventHistory(Struct, omit_defaults=True):
    """What the daemon's event history says about one container: read once per scan (a bounded window), or why it
    could not be read. `None` on the record: not read (the container did not need it, or an older snapshot)."""
    seen: list[EventSeen] = field(default_factory=list)
    since: int = 0  # the window read, unix seconds
    until: int = 0
    truncated: bool = False  # the count or byte bound was reached: older events were not read
    error: str = ""  # why the history could not be read (empty when it was)
class Sockets(Struct, omit_defaults=True):
    """The listening TCP sockets of a running container's network namespace, read on the daemon's host from
    /proc/<State.Pid>/net/tcp and tcp6 (probes/sockets.py). `why_not` says why they could not be read (a remote
    daemon, no access, not the container's process): then `listening` is empty and means nothing."""
    listening: list[str] = field(default_factory=list)  # "127.0.0.1:8080", "[::]:80"
    why_not: str = ""
    read_at: str = ""  # RFC 3339, when they were read
    truncated: bool = False  # more sockets than were read


class PathStat(Struct, omit_defaults=True):
    """The `X-Docker-Container-Path-Stat` header of the archive API (HEAD /containers/{id}/archive?path=): a path's
    stat in the container's filesystem. `mode` is Go's os.FileMode (directory 1<<31, symlink 1<<27)."""
    name: str = ""
    size: int = 0
    mode: int = 0
    mtime: str = ""
    linkTarget: str = ""


class FileHead(Struct, omit_defaults=True):
    """One file of the container, read through the archive API (troubleshoot/probes/files.py): its stat and what its
    first bytes (at most 4 KB) say. `role`: entrypoint (the file the container execs), interpreter (its #! line's
    program), loader (an ELF's PT_INTERP)."""
    path: str = ""
    role: str = ""
    found: bool = False
    kind: str = ""  # file, dir, link, other
    link_target: str = ""
    mode: int = 0  # permission bits
    size: int = 0
    shebang: str = ""  # the #! line, without #! (control characters cleaned: see crlf)
    crlf: bool = False  # the first line ends with \r\n: the kernel looks for an interpreter named "...\r"
    elf_machine: str = ""  # x86-64, aarch64, ...
    elf_interp: str = ""  # the dynamic loader it needs; "" for a static binary
    error: str = ""  # why it could not be read


class MountSeen(Struct, omit_defaults=True):
    """One mount as seen from the host (local daemon only): the source's kind, owner and mode; tmpfs options."""
    destination: str = ""
    type: str = ""  # bind, volume, tmpfs
    source: str = ""
    rw: bool = True
    kind: str = ""  # file, dir, missing, other ("" when not looked at)
    empty: bool = False  # an empty directory
    made_at_create: bool = False  # an empty directory no older than the container: Docker made a missing source
    uid: Optional[int] = None
    gid: Optional[int] = None
    mode: Optional[int] = None  # permission bits
    options: str = ""  # tmpfs: size=1m,...
    error: str = ""


class ContainerFiles(Struct, omit_defaults=True):
    """What troubleshoot read of a container's files (entrypoint, interpreter, loader) and of its mounts' sources;
    `why` says which probe could not be made (a remote daemon's host paths), never a guess."""
    heads: list[FileHead] = field(default_factory=list)
    mounts: list[MountSeen] = field(default_factory=list)
    why: str = ""


class ProcessState(Struct, omit_defaults=True):
    """One process of a container, from /proc/<pid>/stat: its pid (host namespace), state letter, name, parent."""
    pid: int = 0
    state: str = ""
    name: str = ""
    ppid: int = 0


class Resources(Struct, omit_defaults=True):
    """What a container uses against its limits (troubleshoot/probes/resources.py): its cgroup (v1 or v2), /proc,
    its log file on a local host; the one-shot stats API on a remote one. A value that could not be read stays None
    and `unavailable` says why (a remote daemon, an old API, a snapshot...): never a guess."""
    source: str = ""  # "cgroup v1 /docker/<id>", "cgroup v2 ...", "stats API (one-shot)"
    unavailable: list[str] = field(default_factory=list)
    memory_usage: Optional[int] = None  # bytes, page cache (inactive_file) left out, as `docker stats` does
    memory_limit: Optional[int] = None  # bytes; None: unlimited
    memory_peak: Optional[int] = None  # memory.max_usage_in_bytes (v1), memory.peak (v2)
    memory_failcnt: Optional[int] = None  # times the limit was hit (v1 memory.failcnt, v2 memory.events max)
    oom_kills: Optional[int] = None  # this cgroup's OOM kills (v1 memory.oom_control oom_kill, v2 memory.events)
    cpu_periods: Optional[int] = None  # cpu.stat nr_periods
    cpu_throttled: Optional[int] = None  # cpu.stat nr_throttled
    cpu_throttled_usec: Optional[int] = None  # throttled_time (ns, v1) / throttled_usec (v2), in microseconds
    cpu_quota_usec: Optional[int] = None  # cfs quota per period; None: unlimited
    cpu_period_usec: Optional[int] = None
    pids_current: Optional[int] = None
    pids_max: Optional[int] = None  # None: unlimited
    pids_limit_hit: Optional[int] = None  # pids.events max: forks refused by pids.max
    fd_count: Optional[int] = None  # open descriptors of the container's busiest process (counted up to a bound)
    fd_limit: Optional[int] = None  # that process's soft `Max open files`
    fd_process: str = ""  # "pid 1 (tail)"
    processes: list[ProcessState] = field(default_factory=list)  # bounded; zombies included
    processes_truncated: bool = False
    pid1_name: str = ""
    log_bytes: Optional[int] = None  # the size of LogPath on a local host


class ComposeEnv(Struct, omit_defaults=True):
    """Its Compose project's env file (probes/compose_env.py), secret values masked by the boundary."""
    path: str = ""
    values: dict[str, str] = field(default_factory=dict)
    why: str = ""


class ComposeHealthcheck(Struct, omit_defaults=True):
    """A Compose service's `healthcheck:` as written: `disabled` for `disable: true` or `test: ["NONE"]`."""
    disabled: bool = False
    test: str = ""  # the test as one line ("CMD-SHELL pg_isready"), secrets masked


class ComposeDependency(Struct, omit_defaults=True):
    """One `depends_on` entry: the list form has no condition (Compose waits for the start only)."""
    service: str = ""
    condition: str = ""  # service_healthy, service_started, service_completed_successfully; "" in the list form
    healthcheck: str = ""  # the dependency's own healthcheck in the files: present, disabled, none, unknown


class ComposeEnvFile(Struct, omit_defaults=True):
    """An `env_file:` of the service: the names it sets (values are never kept), or why it could not be read."""
    path: str = ""
    keys: list[str] = field(default_factory=list)
    why: str = ""


class ComposeService(Struct, omit_defaults=True):
    """The container's service as its Compose files on this host say (probes/compose_file.py, parsed by
    core/compose_file.py with bounded YAML; never run). `${VAR}` is kept as written, secret values masked by the
    boundary. `where` maps a key (environment, env_file, mem_limit, deploy.resources.limits.memory, healthcheck,
    depends_on, restart, logging) to `FILE:LINE` of the file that set it (the last one, with several files)."""
    project: str = ""
    service: str = ""
    files: list[str] = field(default_factory=list)  # the config files read, in order
    environment: dict[str, Optional[str]] = field(default_factory=dict)  # None: `- NAME` (from the shell)
    env_files: list[ComposeEnvFile] = field(default_factory=list)
    mem_limit: str = ""
    deploy_memory: str = ""  # deploy.resources.limits.memory
    healthcheck: Optional[ComposeHealthcheck] = None  # None: no healthcheck key
    depends_on: list[ComposeDependency] = field(default_factory=list)
    restart: str = ""
    logging_driver: str = ""
    logging_options: dict[str, str] = field(default_factory=dict)
    extensions: list[str] = field(default_factory=list)  # the service's own x- keys
    where: dict[str, str] = field(default_factory=dict)
    why: str = ""  # why the files could not be read or the service was not found (nothing else is then set)


class ContainerRecord(Struct, omit_defaults=True):
    """Everything read about one container: what facts are built from, what fixtures and snapshots store."""
    inspect: ContainerInspect
    image: Optional[ImageInspect] = None
    history: list[HistoryEntry] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    logs_error: str = ""
    tag_image: Optional[ImageInspect] = None  # the image the container's tag points to now
    layers: Optional[ImageLayers] = None  # only with --deep
    events: Optional[EventHistory] = None  # the daemon's event history of it (probes/events.py)
    sockets: Optional[Sockets] = None  # running, publishing ports: what listens inside (None: not probed)


    files_seen: Optional[ContainerFiles] = None  # probes/files.py: only for containers whose failure names files
    resources: Optional[Resources] = None  # usage against limits (probes/resources.py): running, or a log file
    compose_env: Optional[ComposeEnv] = None  # its Compose project's .env (local daemon, Compose containers)
    compose_service: Optional[ComposeService] = None  # its service in the project's files (local daemon)


class StatsMemory(Struct, omit_defaults=True):
    usage: Optional[int] = None
    max_usage: Optional[int] = None
    limit: Optional[int] = None
    failcnt: Optional[int] = None
    stats: Optional[dict[str, int]] = None


class StatsThrottling(Struct, omit_defaults=True):
    periods: int = 0
    throttled_periods: int = 0
    throttled_time: int = 0


class StatsCpu(Struct, omit_defaults=True):
    throttling_data: Optional[StatsThrottling] = None


class StatsPids(Struct, omit_defaults=True):
    current: Optional[int] = None
    limit: Optional[int] = None


class Stats(Struct, omit_defaults=True):
    """GET /containers/{id}/stats?stream=false&one-shot=true (API 1.41): one sample, no wait for a second."""
    memory_stats: Optional[StatsMemory] = None
    cpu_stats: Optional[StatsCpu] = None
    pids_stats: Optional[StatsPids] = None


class Info(Struct, omit_defaults=True):
    """GET /info."""
    Name: str = ""
    Architecture: str = ""
    NCPU: int = 0
    KernelVersion: str = ""
    OperatingSystem: str = ""
    ServerVersion: str = ""
    DockerRootDir: str = ""
    MemTotal: int = 0
    Containers: int = 0
    ContainersRunning: int = 0
    CgroupVersion: str = ""
    CgroupDriver: str = ""


class VersionPlatform(Struct, omit_defaults=True):
    Name: str = ""  # "Docker Engine - Community", "" (Debian's docker.io), "linux/amd64/debian-12" (Podman)


class VersionComponent(Struct, omit_defaults=True):
    Name: str = ""  # "Engine" (Docker), "Podman Engine", "containerd", "Conmon", ...
    Version: str = ""


class Version(Struct, omit_defaults=True):
    """GET /version."""
    Version: str = ""
    ApiVersion: str = ""
    MinAPIVersion: str = ""
    Os: str = ""
    Arch: str = ""
    Platform: Optional[VersionPlatform] = None
    Components: Optional[list[VersionComponent]] = None


class LocalReadings(Struct, omit_defaults=True):
    """psutil and /proc readings, when the daemon runs on this machine."""
    mem_total: Optional[int] = None
    mem_available: Optional[int] = None
    swap_total: Optional[int] = None
    swap_used: Optional[int] = None
    disk_total: Optional[int] = None
    disk_free: Optional[int] = None
    load1: Optional[float] = None
    vmstat: str = ""


class HostRecord(Struct, omit_defaults=True):
    info: Info = field(default_factory=Info)
    version: Version = field(default_factory=Version)
    local: Optional[LocalReadings] = None


class ListRow(Struct, omit_defaults=True):
    """One row of GET /containers/json (the sparse list: no inspect)."""
    Id: str
    Names: Optional[list[str]] = None
    Image: str = ""
    ImageID: str = ""
    State: str = ""
    Status: str = ""
    Created: int = 0
    Labels: Optional[dict[str, str]] = None

    @property
    def name(self) -> str:
        return (self.Names or ["/?"])[0].lstrip("/")


class ImageRow(Struct, omit_defaults=True):
    """One row of GET /images/json."""
    Id: str
    RepoTags: Optional[list[str]] = None
    Labels: Optional[dict[str, str]] = None
    Created: int = 0
    Size: int = 0


class NetworkRow(Struct, omit_defaults=True):
    """One row of GET /networks (the lab lists its own networks)."""
    Id: str
    Name: str = ""
    Driver: str = ""
    Labels: Optional[dict[str, str]] = None


class EventActor(Struct, omit_defaults=True):
    ID: str = ""
    Attributes: Optional[dict[str, str]] = None


class Event(Struct, omit_defaults=True):
    """One message of GET /events. Attributes can be forged with labels: act on the id, re-inspect, never trust
    the rest."""
    Type: str = ""
    Action: str = ""
    Actor: Optional[EventActor] = None
    time: int = 0
    timeNano: int = 0
    id: str = ""
    status: str = ""

    @property
    def container_id(self) -> str:
        return self.id or (self.Actor.ID if self.Actor else "")

    @property
    def action(self) -> str:
        return (self.Action or self.status or "").split(":")[0]


class Snapshot(Struct, omit_defaults=True):
    """A snapshot file (`troubleshoot snapshot`)."""
    format: str
    version: int
    taken_at: str
    host: HostRecord
    containers: list[ContainerRecord]
    tool: str = ""
    source: str = ""


def to_builtins(value: Struct) -> dict:
    """A record as plain JSON data (what a snapshot file holds)."""
    return msgspec.to_builtins(value)
