"""A fix that recreates a container: the full equivalent of the old one, from its inspect, with only the change that
fixes it. Pure: the Engine API's inspect document in, the create body out (the adapter sends it), and the lines that
tell the engineer what will change (built from the masked facts, so no secret value is ever shown).

What is kept: the command, entrypoint, env, labels, user, working dir, health check, stop signal and timeout, every
HostConfig setting (ports, binds, mounts, tmpfs, limits, restart policy, log config, capabilities, devices...),
the networks with their aliases and static addresses, and the data of its volumes (anonymous ones too: they are
mounted by name into the new container). The old container is stopped and renamed, not removed, until verify passes.
"""
from __future__ import annotations

import copy
import re
import shlex
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from .facts import Observation

_SIZE = re.compile(r"^([0-9]+)([kmg]?)$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}
_CONFIG_KEYS = ("Domainname", "User", "AttachStdin", "AttachStdout", "AttachStderr", "ExposedPorts", "Tty",
                "OpenStdin", "StdinOnce", "Env", "Cmd", "Healthcheck", "ArgsEscaped", "Image", "Volumes", "WorkingDir",
                "Entrypoint", "NetworkDisabled", "MacAddress", "OnBuild", "Labels", "StopSignal", "StopTimeout", "Shell")
_FROM_IMAGE = ("Cmd", "Entrypoint", "WorkingDir", "User", "Healthcheck", "StopSignal", "ExposedPorts", "Volumes",
               "Shell", "OnBuild")  # dropped when the image changes and the old image gave them: the new one's apply
NO_ALIASES = frozenset({"bridge", "host", "none", "default"})


class PlanError(ValueError):
    """A change that cannot be made on this container; one line."""


def parse_size(text: str) -> int:
    m = _SIZE.match(text.strip())
    if not m:
        raise PlanError(f"{text!r} is not a size (64m, 1g)")
    return int(m.group(1)) * _UNITS[m.group(2).lower()]


def human_size(n: int) -> str:
    for unit, factor in (("g", 1024 ** 3), ("m", 1024 ** 2), ("k", 1024)):
        if n and n % factor == 0:
            return f"{n // factor}{unit}"
    return str(n)


def before_fix_name(name: str, at: datetime) -> str:
    """The old container's name while the fix is tried: `web` -> `web-before-fix-031502` (Docker's name rules)."""
    return f"{name[:200]}-before-fix-{at:%H%M%S}"


@dataclass(frozen=True)
class Body:
    """What the adapter sends: the create body, then the other networks to connect before the start."""
    create: dict[str, Any]
    connect: tuple[tuple[str, dict[str, Any]], ...]


def _endpoint(ep: dict[str, Any], network: str, cid: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if network not in NO_ALIASES:
        aliases = [a for a in ep.get("Aliases") or [] if a and not cid.startswith(a)]  # Docker adds the short id
        if aliases:
            out["Aliases"] = aliases
    for key in ("IPAMConfig", "Links", "DriverOpts"):  # not MacAddress: the daemon assigned it
        if ep.get(key):
            out[key] = ep[key]
    return out


def create_body(raw: dict[str, Any], changes: list[tuple[str, str]],
                old_image_config: dict[str, Any] | None = None) -> Body:
    """The Engine API body that recreates `raw` (GET /containers/{id}/json) with `changes` applied."""
    cfg_in = raw.get("Config") or {}
    cid = str(raw.get("Id") or "")
    config: dict[str, Any] = {k: copy.deepcopy(cfg_in[k]) for k in _CONFIG_KEYS if cfg_in.get(k) not in (None, "", [], {})}
    hostname = cfg_in.get("Hostname") or ""
    if hostname and not cid.startswith(hostname):
        config["Hostname"] = hostname  # set by the user (the default is the short id, which changes)
    host: dict[str, Any] = copy.deepcopy(raw.get("HostConfig") or {})
    for limit in host.get("Ulimits") or []:  # Podman's inspect says RLIMIT_NOFILE; its create, as Docker's, nofile
        if isinstance(limit, dict) and isinstance(limit.get("Name"), str) and limit["Name"].startswith("RLIMIT_"):
            limit["Name"] = limit["Name"].removeprefix("RLIMIT_").lower()
    binds = list(host.get("Binds") or [])
    mounted = {b.split(":")[1] if len(b.split(":")) > 1 else b for b in binds}
    mounted |= {m.get("Target") for m in host.get("Mounts") or [] if isinstance(m, dict)}
    for m in raw.get("Mounts") or []:  # volumes (anonymous, or from the image's VOLUME): the same data, by name
        if m.get("Type") == "volume" and m.get("Name") and m.get("Destination") not in mounted:
            binds.append(f"{m['Name']}:{m['Destination']}" + ("" if m.get("RW", True) else ":ro"))
    host["Binds"] = binds or None
    networks = dict((raw.get("NetworkSettings") or {}).get("Networks") or {})
    mode = host.get("NetworkMode") or "default"
    primary = mode if mode in networks else ("bridge" if mode == "default" and "bridge" in networks else None)
    endpoints: dict[str, Any] = {}
    connect: list[tuple[str, dict[str, Any]]] = []
    if primary is None and networks and not mode.startswith("container:") and mode not in ("host", "none"):
        primary = next(iter(networks))
        host["NetworkMode"] = primary
    for net, ep in networks.items():
        if net == primary:
            endpoints[net] = _endpoint(ep or {}, net, cid)
        elif not mode.startswith("container:") and mode not in ("host", "none"):
            connect.append((net, _endpoint(ep or {}, net, cid)))
    for key, value in changes:
        if key == "network":  # join one more network (its name answers there); already on it: nothing to do
            if value not in networks and value != primary:
                connect.append((value, {}))
            continue
        _apply(key, value, config, host, cfg_in)
    if any(k == "image" for k, _ in changes) and old_image_config is not None:
        _drop_image_defaults(config, old_image_config)
    body = {**config, "HostConfig": host}
    if endpoints:
        body["NetworkingConfig"] = {"EndpointsConfig": endpoints}
    return Body(body, tuple(connect))


def _drop_image_defaults(config: dict[str, Any], old: dict[str, Any]) -> None:
    for key in _FROM_IMAGE:
        if key in config and config[key] == old.get(key):
            del config[key]
    if config.get("Env"):
        inherited = set(old.get("Env") or [])
        config["Env"] = [e for e in config["Env"] if e not in inherited] or None
    if config.get("Labels"):
        inherited_labels = old.get("Labels") or {}
        config["Labels"] = {k: v for k, v in config["Labels"].items() if inherited_labels.get(k) != v}


def _split(value: str, sep: str, what: str) -> tuple[str, str]:
    left, found, right = value.partition(sep)
    if not found or not left or not right:
        raise PlanError(f"{value!r}: expected {what}")
    return left, right


def _apply(key: str, value: str, config: dict[str, Any], host: dict[str, Any], cfg_in: dict[str, Any]) -> None:
    if key == "env":
        name, _ = _split(value, "=", "KEY=VALUE")
        env = [e for e in config.get("Env") or [] if e.partition("=")[0] != name]
        config["Env"] = env + [value]
    elif key == "memory":
        limit, before, swap = parse_size(value), int(host.get("Memory") or 0), int(host.get("MemorySwap") or 0)
        if limit < 6 * 1024 * 1024:
            raise PlanError(f"{value}: Docker refuses a memory limit under 6 MB")
        host["Memory"] = limit
        if swap == -1:
            pass  # unlimited swap stays unlimited
        elif swap and before and swap == before:
            host["MemorySwap"] = limit  # no swap stays no swap
        elif swap:
            host["MemorySwap"] = limit * 2  # Docker's default: as much swap as memory
        if int(host.get("MemoryReservation") or 0) > limit:
            host["MemoryReservation"] = 0
    elif key == "cpus":
        try:
            host["NanoCpus"] = int(round(float(value) * 1e9))
        except ValueError:
            raise PlanError(f"{value!r} is not a number of CPUs") from None
        host["CpuQuota"] = host["CpuPeriod"] = 0
    elif key == "shm_size":
        host["ShmSize"] = parse_size(value)
    elif key == "tmpfs_size":
        path, size = _split(value, "=", "PATH=SIZE")
        size_bytes = parse_size(size)
        found = False
        tmpfs = dict(host.get("Tmpfs") or {})
        if path in tmpfs:
            opts = [o for o in str(tmpfs[path]).split(",") if o and not o.startswith("size=")]
            tmpfs[path] = ",".join(opts + [f"size={size}"])
            host["Tmpfs"] = tmpfs
            found = True
        for m in host.get("Mounts") or []:
            if isinstance(m, dict) and m.get("Type") == "tmpfs" and m.get("Target") == path:
                m.setdefault("TmpfsOptions", {})["SizeBytes"] = size_bytes
                found = True
        if not found:
            raise PlanError(f"no tmpfs is mounted on {path}")
    elif key == "volume":
        name, path = _split(value, ":", "NAME:PATH")
        host["Binds"] = [b for b in host.get("Binds") or [] if b.split(":")[1:2] != [path]] + [f"{name}:{path}"]
    elif key == "unbind":
        before = len(host.get("Binds") or []) + len(host.get("Mounts") or [])
        host["Binds"] = [b for b in host.get("Binds") or [] if b.split(":")[1:2] != [value]] or None
        host["Mounts"] = [m for m in host.get("Mounts") or [] if not (isinstance(m, dict) and m.get("Target") == value)] or None
        if len(host.get("Binds") or []) + len(host.get("Mounts") or []) == before:
            raise PlanError(f"no bind mount onto {value}")
    elif key == "container_port":
        old, new = _split(value, "=", "OLD=NEW")
        ports = dict(host.get("PortBindings") or {})
        moved = {k: v for k, v in ports.items() if k.partition("/")[0] == old}
        if not moved:
            raise PlanError(f"container port {old} is not published")
        for k, v in moved.items():
            del ports[k]
            ports[f"{new}/{k.partition('/')[2] or 'tcp'}"] = v
            config.setdefault("ExposedPorts", {})[f"{new}/{k.partition('/')[2] or 'tcp'}"] = {}
        host["PortBindings"] = ports
    elif key == "host_port":
        old, new = _split(value, "=", "OLD=NEW")
        hits = 0
        for bindings in (host.get("PortBindings") or {}).values():
            for b in bindings or []:
                if str(b.get("HostPort")) == old:
                    b["HostPort"] = new
                    hits += 1
        if not hits:
            raise PlanError(f"host port {old} is not published")
    elif key == "health_cmd":
        probe = dict(cfg_in.get("Healthcheck") or {})
        probe["Test"] = ["CMD-SHELL", value]
        probe.setdefault("Interval", 2_000_000_000)
        probe.setdefault("Retries", 3)
        config["Healthcheck"] = probe
    elif key == "command":
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise PlanError(f"the command cannot be split into words: {exc}") from None
        if not argv:
            raise PlanError("an empty command")
        config["Cmd"] = argv
    elif key == "init":
        host["Init"] = value.lower() == "true"
    elif key == "log_max_size":
        parse_size(value)
        log = dict(host.get("LogConfig") or {})
        if (log.get("Type") or "json-file") not in ("json-file", "local"):
            raise PlanError(f"the {log.get('Type')} log driver does not rotate files")
        log_opts = dict(log.get("Config") or {})
        log_opts["max-size"] = value
        log_opts.setdefault("max-file", "3")
        host["LogConfig"] = {"Type": log.get("Type") or "json-file", "Config": log_opts}
    elif key == "nofile":
        soft, _, hard = value.partition(":")
        limits = [u for u in host.get("Ulimits") or [] if u.get("Name") != "nofile"]
        host["Ulimits"] = limits + [{"Name": "nofile", "Soft": int(soft), "Hard": int(hard or soft)}]
    elif key == "pids":
        host["PidsLimit"] = int(value)
    elif key == "image":
        config["Image"] = value
    else:
        raise PlanError(f"unknown change {key!r}")


def check_changes(changes: list[tuple[str, str]]) -> None:
    """Refuse (PlanError) a value the daemon would refuse, before anything is asked or stopped."""
    for key, value in changes:
        if key in ("memory", "shm_size", "log_max_size"):
            _apply(key, value, {}, {}, {})
        elif key == "tmpfs_size":
            parse_size(_split(value, "=", "PATH=SIZE")[1])
        elif key in ("env", "container_port", "host_port"):
            _split(value, "=", "KEY=VALUE" if key == "env" else "OLD=NEW")
        elif key == "volume":
            if _split(value, ":", "NAME:PATH")[1].rstrip("/") == "":
                raise PlanError("a volume cannot be mounted on /: give the directory it writes")
        elif key in ("cpus", "command"):
            _apply(key, value, {}, {}, {})


def change_lines(changes: list[tuple[str, str]], obs: Observation | None, secret: Callable[[str, str], str]) -> list[str]:
    """What will be different, as `docker run` flags with what it was; env values through `secret` (the mask)."""
    c = obs.container if obs is not None else None
    files = obs.files if obs is not None else None
    out = []
    for key, value in changes:
        if key == "env":
            name, _, val = value.partition("=")
            was = dict(c.env).get(name) if c is not None else None
            out.append(f"-e {name}={secret(name, val)}" + (f"  (was {secret(name, was)})" if was is not None
                                                            else "  (not set before)"))
        elif key == "memory":
            was = human_size(c.memory_limit) if c is not None and c.memory_limit else "no limit"
            out.append(f"--memory {value}  (was {was})")
        elif key == "cpus":
            out.append(f"--cpus {value}")
        elif key == "shm_size":
            was = human_size(files.shm_size) if files is not None and files.shm_size else "64m, the default"
            out.append(f"--shm-size {value}  (was {was})")
        elif key == "tmpfs_size":
            path, _, size = value.partition("=")
            out.append(f"--tmpfs {path}:size={size}")
        elif key == "volume":
            name, _, path = value.partition(":")
            out.append(f"-v {name}:{path}  (a named volume: what is written there is kept)")
        elif key == "unbind":
            out.append(f"without the bind mount onto {value}")
        elif key == "container_port":
            old, _, new = value.partition("=")
            hosts = [p.host_port for p in c.ports if p.container_port.partition("/")[0] == old] if c else []
            out.append(f"-p {','.join(hosts) or '?'}:{new}  (was -p {','.join(hosts) or '?'}:{old})")
        elif key == "host_port":
            old, _, new = value.partition("=")
            out.append(f"-p {new}:...  (was host port {old})")
        elif key == "health_cmd":
            was = " ".join(c.healthcheck[1:]) if c is not None and c.healthcheck else "none"
            out.append(f"--health-cmd {shlex.quote(value)}  (was {was})")
        elif key == "command":
            out.append(f"command: {value}  (was {shlex.join(c.command) if c is not None else '?'})")
        elif key == "init":
            out.append("--init  (docker-init as PID 1: forwards signals, reaps zombies)")
        elif key == "log_max_size":
            out.append(f"--log-opt max-size={value} --log-opt max-file=3")
        elif key == "nofile":
            out.append(f"--ulimit nofile={value}")
        elif key == "pids":
            out.append(f"--pids-limit {value}")
        elif key == "image":
            out.append(f"image {value}  (was {c.image_ref if c is not None else '?'})")
        elif key == "network":
            on = obs is not None and any(n.network == value for n in obs.networks)
            out.append(f"--network {value}" + ("  (already on it: kept)" if on else "  (joined: its names resolve there)"))
    return out


def kept_summary(obs: Observation) -> str:
    """One line: what the new container keeps (from the facts; secret values never read here)."""
    c = obs.container
    parts = [f"{len(c.env)} env variables", f"{len(c.labels)} labels"]
    if c.ports:
        parts.append("ports " + ", ".join(f"{p.host_port}->{p.container_port}" for p in c.ports))
    if obs.files.mounts:
        parts.append(f"{len(obs.files.mounts)} mounts")
    if obs.networks:
        parts.append("networks " + ", ".join(n.network for n in obs.networks))
    if c.restart_policy:
        parts.append(f"restart {c.restart_policy}")
    if c.memory_limit:
        parts.append(f"memory {human_size(c.memory_limit)}")
    if c.command:
        parts.append(f"command {shlex.join(c.command)}")
    return "keeps what it has now: " + "; ".join(parts)


def fix_script(data: bytes, interpreter_exists: Callable[[str], bool]) -> tuple[bytes, list[str]]:
    """A script the container execs, made runnable: CRLF line ends to LF; a `#!` interpreter the image does not have
    (bash in busybox or alpine) replaced by /bin/sh when /bin/sh is there. Returns the new bytes and what changed."""
    notes = []
    out = data
    if b"\r" in out:
        count = data.count(b"\r")
        out = out.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        notes.append(f"{count} carriage returns removed (CRLF line ends to LF)")
    if out.startswith(b"#!"):
        first, nl, rest = out.partition(b"\n")
        words = first[2:].decode("utf-8", "replace").split()
        if words:
            interp = words[0]
            if interp.endswith("/env") and len(words) > 1:
                interp = words[1]
            if not interp.startswith("/"):
                pass  # `#!/usr/bin/env bash`: env looks it up in PATH; checked by name below
            name = interp.rsplit("/", 1)[-1]
            if not interpreter_exists(interp) and name in ("bash", "ash", "dash", "zsh", "ksh", "sh"):
                if not interpreter_exists("/bin/sh"):
                    raise PlanError(f"{interp} is not in the image, and neither is /bin/sh")
                out = b"#!/bin/sh" + nl + rest
                notes.append(f"#!{first[2:].decode('utf-8', 'replace').strip()} -> #!/bin/sh "
                             f"({interp} is not in the image)")
    if not notes:
        raise PlanError("the script has neither CRLF line ends nor a missing interpreter: nothing to fix")
    return out, notes
