"""How a fix is given for one container: the one place that decides "Compose or loose". Pure.

A Compose container (its `com.docker.compose.project` and `.service` labels) is recreated by its project on the
next `up`: a `docker run`/`docker update` on it would be undone. Its fix is the YAML fragment to add to that service
in the project's file, and the `docker compose -p P -f FILE... up -d SERVICE` that applies it once the file is edited.

A loose container's fix that must recreate it is the full equivalent `docker run`, rebuilt from its typed inspect
record (name, ports, mounts, networks and aliases, env, restart policy, limits, user, workdir, entrypoint and
command, labels, log driver, health check), with the fix's change applied. Secret values are never in it: the
boundary masked them, and a masked value is shown as `<secret: kept from the container>`.

Changes are fixplan's `(key, value)` pairs (`env`, `memory`, `shm_size`, ...), plus `restart` and `env_file`,
which fix steps written as `docker update`/`docker run` commands give (`changes_from_argv`).
"""
from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Collection, Iterable, Mapping, Sequence

from . import schema
from .compose import Compose
from .fixplan import NO_ALIASES, PlanError, human_size, parse_size
from .playbooks import Step
from .secrets import is_masked, is_secret_name

PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
CONFIG_FILES = "com.docker.compose.project.config_files"
WORKING_DIR = "com.docker.compose.project.working_dir"
ONEOFF = "com.docker.compose.oneoff"
COMPOSE_KEYS = (PROJECT, SERVICE, CONFIG_FILES, WORKING_DIR, ONEOFF)
SECRET_KEPT = "<secret: kept from the container>"
SECOND = 1_000_000_000
_DEFAULT_SHM = 64 * 1024 * 1024
_PLAIN = re.compile(r"^[A-Za-z0-9_./@+-][A-Za-z0-9_./@+:=-]*$")
_YAML_WORDS = {"y", "n", "yes", "no", "true", "false", "on", "off", "null", "~"}
VALUE_PLACEHOLDER = "<value>"  # an env value the engineer writes in the file: shown as is, never masked
_HOLDER = re.compile(r"^<[a-z][a-z_ ]*>$")


def is_placeholder(value: str) -> bool:
    """`<env_value>`, `<value>`: a name for the engineer to replace, not a value (never masked, never copied)."""
    return bool(_HOLDER.match(value or ""))


@dataclass(frozen=True)
class ComposeTarget:
    """A container's place in its Compose project, from its labels."""
    project: str
    service: str
    files: tuple[str, ...] = ()  # the project's compose files, as `up` was given them (absolute paths)
    working_dir: str = ""

    @property
    def file(self) -> str:
        """The file to edit: the last one given (an override file wins), or the default name in the working dir."""
        if self.files:
            return self.files[-1]
        return f"{self.working_dir.rstrip('/')}/docker-compose.yml" if self.working_dir else "docker-compose.yml"


def compose_target(labels: Mapping[str, str] | None) -> ComposeTarget | None:
    """The one rule: a container with a Compose project and service label (and not a `run` one-off) is Compose's."""
    labels = labels or {}
    project, service = labels.get(PROJECT, ""), labels.get(SERVICE, "")
    if not project or not service or labels.get(ONEOFF, "").lower() == "true":
        return None
    working = labels.get(WORKING_DIR, "")
    files = []
    for f in labels.get(CONFIG_FILES, "").split(","):
        f = f.strip()
        if f:
            files.append(f if f.startswith("/") or not working else f"{working.rstrip('/')}/{f}")
    return ComposeTarget(project, service, tuple(files), working)


def compose_up(target: ComposeTarget, v1: bool = False) -> list[str]:
    """The argv that applies an edited file to that one service (v2 `docker compose`, or v1 `docker-compose`)."""
    files = [w for f in target.files for w in ("-f", f)]
    head = ["docker-compose"] if v1 else ["docker", "compose"]
    return [*head, "-p", target.project, *files, "up", "-d", target.service]


def compose_commands(target: ComposeTarget, have_v2: bool, have_v1: bool) -> list[str]:
    """The command lines to show: v2's always; v1's too when only `docker-compose` is installed here."""
    out = [shlex.join(compose_up(target))]
    if have_v1 and not have_v2:
        out.append(shlex.join(compose_up(target, v1=True)))
    return out


# -- a fix step's command, as changes -----------------------------------------------------------------------------
def changes_from_argv(argv: Sequence[str]) -> list[tuple[str, str]] | None:
    """The changes a `docker update ...` or a (non `--rm`) `docker run ... IMAGE` fix command makes to the container's
    configuration, or None when it is no such command (or says something this module cannot express)."""
    if len(argv) < 3 or argv[0] != "docker" or argv[1] not in ("update", "run"):
        return None
    out: list[tuple[str, str]] = []
    words = list(argv[2:])
    i = 0
    flag_map = {"--memory": "memory", "-m": "memory", "--cpus": "cpus", "--pids-limit": "pids", "--restart": "restart",
                "--env-file": "env_file", "--shm-size": "shm_size", "--env": "env", "-e": "env"}
    while i < len(words):
        word = words[i]
        if not word.startswith("-"):
            break  # the container (update) or the image (run): the end of the options
        name, eq, value = word.partition("=")
        if name in ("--rm", "-it", "-i", "-t", "--interactive", "--tty"):
            return None  # a throwaway or interactive run, not the container recreated
        if not eq:
            i += 1
            if i >= len(words):
                return None
            value = words[i]
        i += 1
        if name == "--memory-swap":
            continue  # the memory change keeps no-swap as no-swap (fixplan) and Compose's memswap_limit follows it
        key = flag_map.get(name)
        if key is None:
            return None
        out.append((key, value))
    return out or None


# -- Compose: the fragment ----------------------------------------------------------------------------------------
def _q(value: str) -> str:
    """A YAML scalar: plain when it is unambiguous, else double-quoted (JSON strings are YAML)."""
    if _PLAIN.match(value) and value.lower() not in _YAML_WORDS and not re.fullmatch(r"[0-9.:+-]+(e[0-9]+)?", value):
        return value
    return json.dumps(value)


def _env_line(key: str, value: str, secret: Callable[[str, str], str], dotenv: Collection[str],
              hints: Mapping[str, str]) -> str:
    """One `environment:` entry of a fragment: `K: ${K}` when the project's .env has K (Compose interpolates it on
    `up`: the value is never copied); the fix's own value when it gives one (`HOST: 0.0.0.0`); else `K: "<value>"`
    for the engineer to write (a placeholder, a secret name or a masked value: never a masked string to copy), with
    a value suggested elsewhere (`hints`) as a comment when it is no secret."""
    if key in dotenv:
        return f"  {key}: ${{{key}}}  # from the project's .env"
    if value and not is_placeholder(value) and not is_secret_name(key) and not is_masked(value) \
            and "****(" not in value and secret(key, value) == value:
        return f"  {key}: {_q(value)}"
    hint = hints.get(key, "")
    shown = f"  # e.g. {hint}" if hint and not is_secret_name(key) and secret(key, hint) == hint \
        and not is_masked(hint) and "****(" not in hint and "\n" not in hint else ""
    return f"  {key}: {json.dumps(VALUE_PLACEHOLDER)}{shown}"


def compose_fragment(target: ComposeTarget, changes: Sequence[tuple[str, str]], secret: Callable[[str, str], str],
                     inspect: schema.ContainerInspect | None = None, dotenv: Collection[str] = (),
                     set_in: Mapping[str, str] | None = None, hints: Mapping[str, str] | None = None) -> str:
    """The YAML to merge into `services: SERVICE:` of the project's file. `secret(name, value)` masks env values;
    `dotenv`: the names the project's .env sets; `set_in`: the keys the service already sets (compose_file's
    `where`), to change a memory limit where it is written (`deploy.resources.limits.memory` stays in that form);
    `hints`: env values suggested elsewhere, shown as a comment beside a placeholder."""
    set_in = set_in or {}
    lines: list[str] = []
    top: dict[str, list[str]] = {}
    hc = inspect.HostConfig if inspect is not None and inspect.HostConfig is not None else schema.HostConfig()

    def add(*items: str) -> None:
        lines.extend(f"    {item}" for item in items)
    env = [(k, v) for k, val in changes if k == "env" for k, _, v in [val.partition("=")]]
    if env:
        add("environment:", *(_env_line(k, v, secret, dotenv, hints or {}) for k, v in env))
    for key, value in changes:
        if key in ("env", "network"):
            continue
        if key == "memory" and "deploy.resources.limits.memory" in set_in and "mem_limit" not in set_in:
            add("deploy:", "  resources:", "    limits:", f"      memory: {_q(value)}")
        elif key == "memory":
            add(f"mem_limit: {_q(value)}")
            if not hc.MemorySwap or hc.MemorySwap == hc.Memory:
                add(f"memswap_limit: {_q(value)}  # no swap beyond the limit")
        elif key == "cpus":
            add(f"cpus: {_q(value)}")
        elif key == "shm_size":
            add(f"shm_size: {_q(value)}")
        elif key == "pids":
            add(f"pids_limit: {int(value)}")
        elif key == "restart":
            add(f"restart: {_q(value)}")
        elif key == "env_file":
            add("env_file:", f"  - {_q(value)}")
        elif key == "tmpfs_size":
            path, _, size = value.partition("=")
            add("tmpfs:", f"  - {_q(f'{path}:size={size}')}")
        elif key == "volume":
            name, _, path = value.partition(":")
            add("volumes:", f"  - {_q(value)}")
            top.setdefault("volumes", []).append(f"  {_q(name)}: {{}}")
        elif key == "unbind":
            add(f"# volumes: remove the entry that mounts onto {value}")
        elif key == "container_port":
            old, _, new = value.partition("=")
            hosts = [b.HostPort for p, bs in (hc.PortBindings or {}).items() if p.partition("/")[0] == old
                     for b in bs or [] if b.HostPort]
            add(f"ports:  # instead of \"{hosts[0] if hosts else 'HOST'}:{old}\"",
                f"  - {_q(f'{hosts[0]}:{new}' if hosts else new)}")
        elif key == "host_port":
            old, _, new = value.partition("=")
            inside = [p.partition("/")[0] for p, bs in (hc.PortBindings or {}).items()
                      for b in bs or [] if b.HostPort == old]
            add(f"ports:  # instead of \"{old}:{inside[0] if inside else 'PORT'}\"",
                f"  - {_q(f'{new}:{inside[0]}' if inside else new)}")
        elif key == "health_cmd":
            probe = inspect.Config.Healthcheck if inspect is not None else None
            interval = _duration(probe.Interval) if probe is not None and probe.Interval else "2s"
            retries = probe.Retries if probe is not None and probe.Retries else 3
            add("healthcheck:", f"  test: [\"CMD-SHELL\", {json.dumps(value)}]", f"  interval: {interval}",
                f"  retries: {retries}")
        elif key == "command":
            add(f"command: {json.dumps(shlex.split(value))}")
        elif key == "init":
            add(f"init: {'true' if value.lower() == 'true' else 'false'}")
        elif key == "log_max_size":
            add("logging:", "  driver: json-file", "  options:", f"    max-size: {_q(value)}", "    max-file: \"3\"")
        elif key == "nofile":
            soft, _, hard = value.partition(":")
            add("ulimits:", "  nofile:", f"    soft: {int(soft)}", f"    hard: {int(hard or soft)}")
        elif key == "image":
            add(f"image: {_q(value)}")
        else:
            raise PlanError(f"unknown change {key!r}")
    nets = [v for k, v in changes if k == "network"]
    if nets:
        add("networks:", *(f"  - {_q(n)}" for n in nets))
        top.setdefault("networks", []).extend(f"  {_q(n)}:\n    external: true" for n in nets)
    out = ["services:", f"  {_q(target.service)}:", *lines]
    for section, entries in top.items():
        out += [f"{section}:", *entries]
    return "\n".join(out)


def _duration(ns: int) -> str:
    if ns % SECOND == 0:
        return f"{ns // SECOND}s"
    return f"{ns // 1_000_000}ms"


# -- loose: the full equivalent docker run ------------------------------------------------------------------------
@dataclass
class _Run:
    name: str
    image: str
    flags: list[list[str]] = field(default_factory=list)  # each a group: ["-p", "8080:80"]
    env: dict[str, str] = field(default_factory=dict)
    env_files: list[str] = field(default_factory=list)
    limits: dict[str, str] = field(default_factory=dict)  # flag -> value, in order
    ports: list[tuple[str, str, str]] = field(default_factory=list)  # (host ip, host port, container port/proto)
    volumes: list[tuple[str, str, str]] = field(default_factory=list)  # (source or name, destination, options)
    tmpfs: dict[str, str] = field(default_factory=dict)
    health: list[list[str]] = field(default_factory=list)
    log: list[list[str]] = field(default_factory=list)
    ulimits: dict[str, str] = field(default_factory=dict)
    restart: str = ""
    init: bool = False
    entrypoint: list[str] | None = None
    cmd: list[str] = field(default_factory=list)
    network: str = ""
    aliases: list[str] = field(default_factory=list)
    connect: list[tuple[str, list[str]]] = field(default_factory=list)


def _env_shown(key: str, value: str) -> str:
    if is_placeholder(value):
        return value  # `<env_value>`: for the engineer to write, no secret
    return SECRET_KEPT if is_masked(value) or "****(" in value or is_secret_name(key) else value


def _aliases(ep: schema.EndpointSettings, net: str, cid: str, name: str, hostname: str) -> list[str]:
    """The aliases given by hand: not the short id, the name or the hostname, which Docker adds by itself."""
    if net in NO_ALIASES:
        return []
    return [a for a in ep.Aliases or [] if a and not cid.startswith(a) and a not in (name, hostname)]


def _from_inspect(d: schema.ContainerInspect, image: schema.ImageConfig | None) -> _Run:
    cfg, hc = d.Config, d.HostConfig or schema.HostConfig()
    name = d.Name.lstrip("/")
    run = _Run(name, cfg.Image or d.Image)
    img_env = set(image.Env or []) if image is not None else set()
    for item in cfg.Env or []:
        if item in img_env:
            continue
        key, _, value = item.partition("=")
        run.env[key] = value
    if cfg.Hostname and not d.Id.startswith(cfg.Hostname):
        run.flags.append(["--hostname", cfg.Hostname])
    if cfg.User and (image is None or cfg.User != image.User):
        run.flags.append(["--user", cfg.User])
    if cfg.WorkingDir and (image is None or cfg.WorkingDir != image.WorkingDir):
        run.flags.append(["--workdir", cfg.WorkingDir])
    if cfg.Tty:
        run.flags.append(["--tty"])
    img_labels = (image.Labels or {}) if image is not None else {}
    for k, v in sorted((cfg.Labels or {}).items()):
        if img_labels.get(k) != v:
            run.flags.append(["--label", f"{k}={v}"])
    if cfg.StopSignal:
        run.flags.append(["--stop-signal", cfg.StopSignal])
    if cfg.StopTimeout is not None:
        run.flags.append(["--stop-timeout", str(cfg.StopTimeout)])
    for port, bindings in sorted((hc.PortBindings or {}).items()):
        for b in bindings or [schema.PortBinding()]:
            run.ports.append((b.HostIp, b.HostPort, port))
    bound = set()
    for m in d.Mounts or []:
        opts = "" if m.RW else "ro"
        if m.Type == "bind":
            run.volumes.append((m.Source, m.Destination, opts))
        elif m.Type == "volume" and m.Name:
            run.volumes.append((m.Name, m.Destination, opts))
        elif m.Type == "tmpfs":
            run.tmpfs[m.Destination] = ""
        bound.add(m.Destination)
    for path, opts in sorted((hc.Tmpfs or {}).items()):
        run.tmpfs[path] = opts
    if hc.RestartPolicy is not None and hc.RestartPolicy.Name not in ("", "no"):
        run.restart = hc.RestartPolicy.Name + (f":{hc.RestartPolicy.MaximumRetryCount}"
                                               if hc.RestartPolicy.MaximumRetryCount else "")
    if hc.AutoRemove:
        run.flags.append(["--rm"])
    if hc.Memory:
        run.limits["--memory"] = human_size(hc.Memory)
    if hc.MemorySwap and hc.MemorySwap != 2 * hc.Memory:  # twice the memory is Docker's default
        run.limits["--memory-swap"] = "-1" if hc.MemorySwap == -1 else human_size(hc.MemorySwap)
    if hc.MemoryReservation:
        run.limits["--memory-reservation"] = human_size(hc.MemoryReservation)
    if hc.NanoCpus:
        run.limits["--cpus"] = f"{hc.NanoCpus / 1e9:g}"
    if hc.CpuQuota:
        run.limits["--cpu-quota"] = str(hc.CpuQuota)
    if hc.CpuPeriod:
        run.limits["--cpu-period"] = str(hc.CpuPeriod)
    if hc.PidsLimit and hc.PidsLimit > 0:
        run.limits["--pids-limit"] = str(hc.PidsLimit)
    if hc.ShmSize and hc.ShmSize != _DEFAULT_SHM:
        run.limits["--shm-size"] = human_size(hc.ShmSize)
    for u in hc.Ulimits or []:
        run.ulimits[u.Name] = f"{u.Soft}:{u.Hard}"
    run.init = bool(hc.Init)
    if hc.ReadonlyRootfs:
        run.flags.append(["--read-only"])
    if hc.Privileged:
        run.flags.append(["--privileged"])
    log = hc.LogConfig or schema.LogConfig()
    if log.Type and log.Type != "json-file":
        run.log.append(["--log-driver", log.Type])
    for k, v in sorted((log.Config or {}).items()):
        run.log.append(["--log-opt", f"{k}={v}"])
    probe = cfg.Healthcheck
    img_probe = image.Healthcheck if image is not None else None
    if probe is not None and probe.Test and probe != img_probe:
        if probe.Test[0] == "NONE":
            run.health.append(["--no-healthcheck"])
        else:
            test = probe.Test[1] if probe.Test[0] == "CMD-SHELL" and len(probe.Test) == 2 else shlex.join(probe.Test[1:])
            run.health.append(["--health-cmd", test])
            for flag, ns in (("--health-interval", probe.Interval), ("--health-timeout", probe.Timeout),
                             ("--health-start-period", probe.StartPeriod)):
                if ns:
                    run.health.append([flag, _duration(ns)])
            if probe.Retries:
                run.health.append(["--health-retries", str(probe.Retries)])
    entry = list(cfg.Entrypoint or [])
    cmd = list(cfg.Cmd or [])
    if entry and (image is None or entry != list(image.Entrypoint or [])):
        run.entrypoint = entry  # --entrypoint resets the image's command: the command is written too
        run.cmd = cmd
    elif image is None or cmd != list(image.Cmd or []):
        run.cmd = cmd
    mode = hc.NetworkMode or "default"
    networks = (d.NetworkSettings.Networks or {}) if d.NetworkSettings is not None else {}
    if mode not in ("default", "bridge"):
        run.network = mode
    primary = mode if mode in networks else ("bridge" if mode in ("default", "bridge") else "")
    if primary and primary in networks:
        run.aliases = _aliases(networks[primary], primary, d.Id, name, cfg.Hostname)
    if not mode.startswith("container:") and mode not in ("host", "none"):
        for net, ep in networks.items():
            if net != primary:
                run.connect.append((net, _aliases(ep, net, d.Id, name, cfg.Hostname)))
    return run


def _apply(run: _Run, key: str, value: str) -> None:
    if key == "env":
        k, _, v = value.partition("=")
        run.env.pop(k, None)
        run.env[k] = v
    elif key == "env_file":
        run.env_files.append(value)
    elif key == "memory":
        parse_size(value)
        if "--memory-swap" in run.limits and run.limits["--memory-swap"] == run.limits.get("--memory"):
            run.limits["--memory-swap"] = value  # no swap beyond the limit stays so
        run.limits["--memory"] = value
        run.limits.pop("--memory-reservation", None)
    elif key == "cpus":
        run.limits["--cpus"] = value
        run.limits.pop("--cpu-quota", None)
        run.limits.pop("--cpu-period", None)
    elif key == "shm_size":
        run.limits["--shm-size"] = value
    elif key == "pids":
        run.limits["--pids-limit"] = value
    elif key == "restart":
        run.restart = "" if value == "no" else value
    elif key == "tmpfs_size":
        path, _, size = value.partition("=")
        opts = [o for o in run.tmpfs.get(path, "").split(",") if o and not o.startswith("size=")]
        run.tmpfs[path] = ",".join(opts + [f"size={size}"])
    elif key == "volume":
        name, _, path = value.partition(":")
        run.volumes = [v for v in run.volumes if v[1] != path] + [(name, path, "")]
    elif key == "unbind":
        run.volumes = [v for v in run.volumes if v[1] != value]
    elif key == "container_port":
        old, _, new = value.partition("=")
        run.ports = [(ip, hp, f"{new}/{cp.partition('/')[2] or 'tcp'}" if cp.partition("/")[0] == old else cp)
                     for ip, hp, cp in run.ports]
    elif key == "host_port":
        old, _, new = value.partition("=")
        run.ports = [(ip, new if hp == old else hp, cp) for ip, hp, cp in run.ports]
    elif key == "health_cmd":
        kept = [g for g in run.health if g[0] not in ("--health-cmd", "--no-healthcheck")]
        if not any(g[0] == "--health-interval" for g in kept):
            kept.append(["--health-interval", "2s"])
        run.health = [["--health-cmd", value], *kept]
    elif key == "command":
        run.cmd = shlex.split(value)
    elif key == "init":
        run.init = value.lower() == "true"
    elif key == "log_max_size":
        driver = next((g[1] for g in run.log if g[0] == "--log-driver"), "json-file")
        kept = [g for g in run.log if g[0] == "--log-opt" and not g[1].startswith(("max-size=", "max-file="))]
        head: list[list[str]] = [["--log-driver", driver]] if driver != "json-file" else []
        run.log = head + kept + [["--log-opt", f"max-size={value}"], ["--log-opt", "max-file=3"]]
    elif key == "nofile":
        soft, _, hard = value.partition(":")
        run.ulimits["nofile"] = f"{soft}:{hard or soft}"
    elif key == "image":
        run.image = value
    elif key == "network":
        if value != run.network and value not in (n for n, _ in run.connect):
            run.connect.append((value, []))
    else:
        raise PlanError(f"unknown change {key!r}")


def _port(ip: str, host: str, inside: str) -> str:
    inside = inside.removesuffix("/tcp")
    if not host:
        return f"{ip}::{inside}" if ip else inside
    return f"{ip}:{host}:{inside}" if ip else f"{host}:{inside}"


def docker_run(inspect: schema.ContainerInspect, changes: Iterable[tuple[str, str]] = (),
               image: schema.ImageConfig | None = None,
               env_value: Callable[[str, str], str] = _env_shown) -> list[list[str]]:
    """The commands that recreate the container as it is (its name free), `changes` applied: `docker run -d ...`,
    then one `docker network connect` per further network. Each an argv (shlex.join it to show). `image`: its
    image's config, to leave out what the image gives anyway (env, labels, command); without it all is written."""
    run = _from_inspect(inspect, image)
    for key, value in changes:
        _apply(run, key, value)
    argv = ["docker", "run", "-d", "--name", run.name]
    for group in run.flags:
        argv += group
    if run.network:
        argv += ["--network", run.network]
    for alias in run.aliases:
        argv += ["--network-alias", alias]
    for ip, host, inside in run.ports:
        argv += ["-p", _port(ip, host, inside)]
    for source, dest, opts in run.volumes:
        argv += ["-v", f"{source}:{dest}" + (f":{opts}" if opts else "")]
    for path, opts in run.tmpfs.items():
        argv += ["--tmpfs", f"{path}:{opts}" if opts else path]
    for env_file in run.env_files:
        argv += ["--env-file", env_file]
    for key, value in run.env.items():
        argv += ["-e", f"{key}={env_value(key, value)}"]
    if run.restart:
        argv += ["--restart", run.restart]
    for flag, value in run.limits.items():
        argv += [flag, value]
    for name, limit in run.ulimits.items():
        argv += ["--ulimit", f"{name}={limit}"]
    if run.init:
        argv.append("--init")
    for group in run.log + run.health:
        argv += group
    tail = list(run.cmd)
    if run.entrypoint is not None:
        argv += ["--entrypoint", run.entrypoint[0]]
        tail = run.entrypoint[1:] + tail
    argv.append(run.image)
    argv += tail
    out = [argv]
    for net, aliases in run.connect:
        out.append(["docker", "network", "connect", *(w for a in aliases for w in ("--alias", a)), net, run.name])
    return out


# -- a playbook's fix step, for this container --------------------------------------------------------------------
_PLACEHOLDER = re.compile(r"(?<!\{)\{([a-z_]+)\}(?!\})")


def _shown(template: str, values: Mapping[str, str]) -> str:
    """A template filled for display only (never run): a value missing is `<name>`, for the engineer to write."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1)) or f"<{m.group(1)}>", template)


def step_changes(step: Step, values: Mapping[str, str]) -> list[tuple[str, str]] | None:
    """What a fix step changes in the container's configuration (a `recreate:` step, or a `docker update`/`docker run`
    command), filled for display; None for a step that changes no configuration (`docker start`, a Dockerfile)."""
    if step.recreate:
        return [(key, _shown(template, values)) for key, template in step.recreate]
    if step.run and step.is_change:
        return changes_from_argv([_shown(t, values) for t in step.run])
    return None


# a change's keys in a Compose service, as compose_file's `where` names them (the first one set decides the file)
WHERE_KEYS = {"memory": ("mem_limit", "deploy.resources.limits.memory"), "restart": ("restart",),
              "health_cmd": ("healthcheck",), "log_max_size": ("logging",), "env": ("environment",),
              "env_file": ("env_file",)}


def _at(changes: Sequence[tuple[str, str]], set_in: Mapping[str, str]) -> tuple[str, str]:
    """(`FILE:LINE`, key) where the service already sets what the first such change changes; ("", "") when none."""
    for key, _value in changes:
        for name in WHERE_KEYS.get(key, ()):
            spot = set_in.get(name, "")
            if spot and spot.rpartition(":")[0]:
                return spot, name
    return "", ""


@dataclass(frozen=True)
class ComposeFix:
    """A fix given in Compose terms: the fragment to add to the service in `file`, then `argv` to apply it."""
    target: ComposeTarget
    fragment: str
    commands: tuple[str, ...]  # shown: v2's, and v1's when only `docker-compose` is installed here
    argv: tuple[str, ...]  # what runs once the file is edited: `docker compose` when installed, else `docker-compose`
    changes: tuple[tuple[str, str], ...] = ()
    at: str = ""  # `FILE:LINE` where the service already sets the key the fix changes ("": add it to target.file)
    at_key: str = ""

    @property
    def file(self) -> str:
        """The file to edit: where the key is already set, else the last one given (target.file)."""
        return self.at.rpartition(":")[0] if self.at else self.target.file

    def text(self) -> str:
        head = (f"{self.at}: service {self.target.service}'s {self.at_key} is set here: edit it there"
                if self.at else f"{self.target.file}: add to service {self.target.service}")
        lines = [f"{head} (a docker run/update would be undone by the project's next `up`):", self.fragment,
                 "then apply it:", *(f"  {c}" for c in self.commands)]
        if len(self.commands) > 1:
            lines[-1] += "   (Compose v1, the one installed here)"
        return "\n".join(lines)


def compose_fix(labels: Mapping[str, str] | None, changes: Sequence[tuple[str, str]] | None,
                secret: Callable[[str, str], str], inspect: schema.ContainerInspect | None = None,
                have_v2: bool = True, have_v1: bool = False, dotenv: Collection[str] = (),
                set_in: Mapping[str, str] | None = None, hints: Mapping[str, str] | None = None) -> ComposeFix | None:
    """The fix in Compose terms when the container is a Compose service's and the step changes its configuration;
    None otherwise (a loose container, or a step such as `docker start` that no `up` undoes). `dotenv`: the names
    the project's .env sets (written `${NAME}`); `set_in`: compose_file's `where` of the service (a key already set
    is changed in the file and at the line that sets it)."""
    target = compose_target(labels)
    if target is None or not changes:
        return None
    argv = compose_up(target, v1=have_v1 and not have_v2)
    at, at_key = _at(changes, set_in or {})
    return ComposeFix(target, compose_fragment(target, changes, secret, inspect, dotenv, set_in, hints),
                      tuple(compose_commands(target, have_v2, have_v1)), tuple(argv), tuple(changes), at, at_key)


def recreate_text(inspect: schema.ContainerInspect, changes: Sequence[tuple[str, str]],
                  image: schema.ImageConfig | None = None) -> str:
    """A loose container's recreate, as the engineer would type it: the full `docker run` (and network connects)."""
    return "\n".join(shlex.join(argv) for argv in docker_run(inspect, changes, image))


def compose_prevention(labels: Mapping[str, str] | None) -> str:
    """The preventive action every Compose fix shares ("" for a loose container)."""
    target = compose_target(labels)
    if target is None:
        return ""
    return (f"Make every change in {target.file} (service {target.service}) and apply it with `up -d "
            f"{target.service}`: a `docker run`/`docker update` on a Compose container is undone by the project's "
            f"next `up`.")


# -- is the fragment in the file? ----------------------------------------------------------------------------------
def missing_in_file(service: schema.ComposeService | None, changes: Sequence[tuple[str, str]]) -> str | None:
    """Whether the service, as its Compose files say now (probes/compose_file.py through the boundary), holds what
    the fix's fragment adds: "" when it does; one line saying what is missing and where when it does not; None when
    this cannot tell (the files not read here, or a change of a kind not checked: the caller falls back on whether
    a file changed)."""
    from .compose_file import memory_bytes
    if service is None or service.why or not changes:
        return None
    name = service.service or "the service"
    where = service.where or {}
    last = service.files[-1] if service.files else "the Compose file"

    def spot(key: str) -> str:
        return where.get(key) or where.get("service") or last
    for key, value in changes:
        if key == "env":
            var = value.partition("=")[0]
            if var in service.environment:
                have = service.environment[var]
                if have is None:
                    return (f"{var} is listed in service {name}'s environment ({spot('environment')}) without a "
                            "value: write `" + f"{var}: ...` with its value")
                if is_placeholder(have):
                    return (f"{var} in service {name}'s environment ({spot('environment')}) is still the placeholder "
                            f"{have}: write its value there")
                continue
            if any(var in f.keys for f in service.env_files):
                continue
            return f"{var} is not in service {name}'s environment nor in its env_file(s): add it at {spot('environment')}"
        elif key == "memory":
            want = memory_bytes(value)
            have, which = ((service.mem_limit, "mem_limit") if service.mem_limit else
                           (service.deploy_memory, "deploy.resources.limits.memory"))
            if want is None or memory_bytes(have) != want:
                return (f"service {name}'s {which} is {have or 'not set'}"
                        + (f" ({spot(which)})" if have else f" (add it at {spot('service')})") + f", not {value}")
        elif key == "restart":
            if service.restart != value:
                return (f"service {name}'s restart is {service.restart or 'not set'} ({spot('restart')}), "
                        f"not {value}")
        elif key == "env_file":
            tail = "/" + value.removeprefix("./").lstrip("/")
            if not any(f.path == value or f.path.endswith(tail) for f in service.env_files):
                return f"service {name} has no env_file {value}: add it at {spot('env_file')}"
        else:
            return None
    return ""


# -- after `up -d SERVICE`: the service's container now -----------------------------------------------------------
SLACK_SECONDS = 1.0  # the daemon's clock against ours (same host): a container created this much before still counts


def successor(old: Compose | None, old_id: str, candidates: Iterable[tuple[str, Compose | None, datetime | None]],
              since: datetime) -> str | None:
    """The container that is `old`'s service now, once `up -d SERVICE` ran (started at `since`): the newest one of
    the same project, service and container number (not a `run` one-off) created after `since`; the old one itself
    when `up` did not recreate it (nothing changed) and it is still there; None when neither is found."""
    if old is None:
        return None
    found: list[tuple[datetime, str]] = []
    still = False
    for cid, compose, created in candidates:
        if cid == old_id:
            still = True
            continue
        if compose is None or compose.oneoff or (compose.project, compose.service) != (old.project, old.service):
            continue
        if old.number and compose.number and compose.number != old.number:
            continue
        if created is not None and (created - since).total_seconds() >= -SLACK_SECONDS:
            found.append((created, cid))
    if found:
        return max(found)[1]
    return old_id if still else None
