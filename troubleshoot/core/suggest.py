"""Suggested values for what the engineer decides in a fix's confirmation dialog (core/playbooks.py ASKABLE), each
from the evidence, with the reason shown beside it. Pure. A value with no evidence behind it is not suggested: the
field stays empty and the engineer types it (the fix cannot run with an empty value)."""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from .facts import Host, Observation
from .fixplan import human_size
from .peers import distance, names_on, user_networks
from .secrets import is_masked

MB = 1024 * 1024
_FOREGROUND = (  # daemons that fork into the background unless told not to, and the flag that keeps them in front
    ("httpd", "-f", "busybox httpd"),
    ("crond", "-f", "busybox crond"),
    ("syslogd", "-n", "busybox syslogd"),
    ("dropbear", "-F", "dropbear"),
    ("sshd", "-D", "OpenSSH"),
    ("nginx", "-g 'daemon off;'", "nginx"),
    ("redis-server", "--daemonize no", "Redis"),
    ("memcached", "", "memcached"),
)
_LOOPBACK = re.compile(r"\b(127\.0\.0\.1|localhost)\b")
_HOST_SUFFIXES = ("_HOST", "_HOSTNAME", "_ADDR", "_ADDRESS", "_SERVER", "_URL", "_URI")


@dataclass(frozen=True)
class Suggestion:
    value: str
    why: str


def _round_up(n: int, step: int) -> int:
    return max(step, -(-n // step) * step)


def _memory(obs: Observation, signals: dict[str, Any]) -> Suggestion | None:
    c = obs.container
    res = obs.resources
    if c.oom_killed or signals.get("oom_event"):
        if c.memory_limit:
            new = max(4 * c.memory_limit, 256 * MB)
            return Suggestion(human_size(_round_up(new, 64 * MB)),
                              f"it was killed at its {human_size(c.memory_limit)} limit: 4x, at least 256m")
        return Suggestion("512m", "killed with no limit of its own: a limit that protects the host")
    peak = (res.memory_peak or res.memory_usage) if res is not None else None
    if peak:
        new = _round_up(2 * peak, 64 * MB)
        what = "peak" if res is not None and res.memory_peak else "use"
        return Suggestion(human_size(new), f"2x its observed {what} of {peak / MB:.0f} MB, rounded up to 64m")
    return None


def _free_port(obs: Observation) -> Suggestion | None:
    c = obs.container
    if not c.ports:
        return None
    taken = {p.host_port for o in (obs.peers.observations if obs.peers is not None else ()) for p in o.container.ports}
    start = int(c.ports[0].host_port or 8080)
    for port in range(start + 1, min(start + 2000, 65535)):
        if str(port) not in taken:
            return Suggestion(str(port), f"the next port after {start} that no container publishes")
    return None


def _env_value(obs: Observation, signals: dict[str, Any]) -> Suggestion | None:
    names = signals.get("missing_env") or []
    if not names:
        return None
    var = str(names[0])
    env_file = obs.compose_env
    if env_file is not None and env_file.values.get(var) and not is_masked(env_file.values[var]):
        return Suggestion(env_file.values[var], f"its Compose project's {env_file.path} has {var}={env_file.values[var]}")
    peers = obs.peers
    if peers is None:
        return None
    c = obs.container
    service = c.label("com.docker.compose.service")
    for other in peers.observations:  # a sibling (same Compose service, or same image deployed with it) that has it
        o = other.container
        # the same image alone is no sibling: unrelated apps share base images (a stack's own DB_HOST is not this one's)
        if o.id == c.id or not (service and o.label("com.docker.compose.service") == service
                                or o.image_id == c.image_id and distance(obs, other) < 3):
            continue
        value = dict(o.env).get(var)
        if value and value not in other.secrets:
            return Suggestion(value, f"{o.name} (same {'service' if service else 'image'}) has {var}={value}")
    stem = var.upper()
    for suffix in _HOST_SUFFIXES:
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    else:
        return None
    stem = stem.lower().replace("_", "-")
    mine = user_networks(obs)
    for other in peers.observations:
        if other.container.id == c.id or other.container.state != "running":
            continue
        for net in mine:
            names = sorted(n for n in names_on(other, net) if stem and stem in n and len(n) != 12)
            if names:
                return Suggestion(names[0], f"{other.container.name} answers to {names[0]} on {net}, a network "
                                            f"{c.name} is on")
    return None


def _health_cmd(obs: Observation, signals: dict[str, Any]) -> Suggestion | None:
    c = obs.container
    listening = [a.rpartition(":")[2] for a in obs.listening or ()]
    ports = sorted(set(listening), key=int) if listening else []
    if c.healthcheck and c.healthcheck[0] in ("CMD-SHELL", "CMD"):
        probe = " ".join(c.healthcheck[1:]) if c.healthcheck[0] == "CMD-SHELL" else shlex.join(c.healthcheck[1:])
        new, why = probe, []
        curl = re.search(r"\bcurl\b[^|;&]*?(https?://\S+)", probe)
        if curl and signals.get("probe_broken"):
            new = new.replace(curl.group(0), f"wget -q -O /dev/null {curl.group(1)}")
            why.append("curl is not in the image; wget is")
        url_port = re.search(r"https?://(?:127\.0\.0\.1|localhost|\[::1\]|0\.0\.0\.0)(?::(\d+))?", new)
        if url_port and len(ports) == 1:
            asked = url_port.group(1) or "80"
            if asked != ports[0] and asked not in ports:
                new = new[:url_port.start()] + url_port.group(0).replace(f":{asked}", "") + f":{ports[0]}" \
                    + new[url_port.end():] if url_port.group(1) is None else \
                    new[:url_port.start(1)] + ports[0] + new[url_port.end(1):]
                why.append(f"the probe asks port {asked}; the server listens on {ports[0]} only")
        if new != probe:
            return Suggestion(new, "; ".join(why))
        return None
    if len(ports) == 1:
        return Suggestion(f"wget -q -O /dev/null http://127.0.0.1:{ports[0]}/ || exit 1",
                          f"it listens on port {ports[0]}: the probe asks it for /")
    if c.state == "running":
        return Suggestion("kill -0 1", "no port to ask: at least PID 1 is alive (write a probe of your service)")
    return None


def _command(obs: Observation, signals: dict[str, Any]) -> Suggestion | None:
    c = obs.container
    if not c.command:
        return None
    words = list(c.command)
    text = shlex.join(words)
    if signals.get("published_on_localhost") and _LOOPBACK.search(text):
        return Suggestion(_LOOPBACK.sub("0.0.0.0", text), "bind every address, not the loopback only")
    if c.state == "exited" and c.exit_code == 0:
        for i, word in enumerate(words):
            base = word.rsplit("/", 1)[-1]
            for name, flag, what in _FOREGROUND:
                if base == name and flag and flag.split()[0] not in words:
                    new = words[:i + 1] + shlex.split(flag) + words[i + 1:]
                    return Suggestion(shlex.join(new), f"{what} forks into the background and PID 1 exits: "
                                                       f"{flag} keeps it in front")
    return None


def _pin_tag(obs: Observation) -> Suggestion | None:
    c = obs.container
    ref = c.image_ref
    if not ref or "@" in ref or ref.startswith("sha256:"):
        return None
    repo = ref.rsplit(":", 1)[0] if ":" in ref.rsplit("/", 1)[-1] else ref
    version = ""
    for key in ("org.opencontainers.image.version", "version"):
        version = c.label(key) or version
    if version and re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", version) and version != "latest":
        return Suggestion(f"{repo}:{version}", f"its version label says {version}")
    short = c.image_id.removeprefix("sha256:")[:12]
    return Suggestion(f"{repo}:id-{short}", "named after the image id it runs (no version label)")


def suggestions(obs: Observation, host: Host, signals: dict[str, Any]) -> dict[str, Suggestion]:
    """Every value this container's evidence can suggest (a playbook's `ask:` picks what it needs)."""
    c = obs.container
    out: dict[str, Suggestion] = {}
    memory = _memory(obs, signals)
    if memory:
        out["memory"] = memory
    limit = signals.get("cpu_limit")
    if limit:
        cpus = max(2.0, 4 * float(limit))
        if host.ncpu:
            cpus = min(cpus, float(host.ncpu))
        out["cpus"] = Suggestion(f"{cpus:g}", f"4x its {float(limit):g} CPU limit, at least 2, at most the host's "
                                              f"{host.ncpu or '?'} CPUs")
    shm = obs.files.shm_size
    out["shm_size"] = Suggestion(human_size(max(64 * MB, 4 * shm)),
                                 f"4x its {human_size(shm)}, at least 64m (Docker's default)" if shm
                                 else "Docker's default, 64m")
    out["tmpfs_size"] = Suggestion("64m", "room for what it writes (the failed write needed more than the tmpfs had)")
    held = (obs.resources.fd_count if obs.resources is not None else None) or 0
    nofile = max(1024, 1 << (4 * held - 1).bit_length()) if held else 1024
    out["nofile"] = Suggestion(f"{nofile}:{nofile}", (f"4x the {held} files it holds, at least 1024" if held else
                                                      "1024, the usual default") + " (above the daemon's own hard "
                                                     "limit the container cannot start: the fix then rolls back)")
    pids = (obs.resources.pids_max if obs.resources is not None else None) or 0
    out["pids"] = Suggestion(str(max(256, 4 * pids)), f"4x its {pids}, at least 256" if pids else "at least 256")
    port = _free_port(obs)
    if port:
        out["free_port"] = port
    env = _env_value(obs, signals)
    if env:
        out["env_value"] = env
    probe = _health_cmd(obs, signals)
    if probe:
        out["health_cmd"] = probe
    command = _command(obs, signals)
    if command:
        out["command"] = command
    if c.image_ref and not c.image_ref.startswith("sha256:"):
        out["new_image"] = Suggestion(c.image_ref, f"what {c.image_ref} names now (the container runs an older "
                                                   f"image than its tag)")
    pin = _pin_tag(obs)
    if pin:
        out["pin_tag"] = pin
    out["log_max_size"] = Suggestion("10m", "10 MB per file, 3 files: at most 30 MB of logs")
    safe = re.sub(r"[^a-zA-Z0-9_.-]", "-", c.name).strip("-.") or "data"
    out["volume"] = Suggestion(f"{safe}-data", "a named volume for this container's data")
    return out
