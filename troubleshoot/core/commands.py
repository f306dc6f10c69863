"""Playbook command templates rendered into argument lists for one container. No shell is ever involved:
a value is substituted inside one argument and cannot add another, and every value is checked first."""
from __future__ import annotations

import re
from typing import Any

from .facts import Host, Observation
from .playbooks import ASKABLE, PLACEHOLDERS, Step, _PLACEHOLDER

_CHECKS = {
    "container": re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$"),
    "container_id": re.compile(r"^[0-9a-f]{12,64}$"),
    "image": re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._/:@-]{0,511}$"),
    "image_id": re.compile(r"^(sha256:)?[0-9a-f]{12,64}$"),
    "missing_env": re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"),
    "library": re.compile(r"^[A-Za-z0-9_.+-]{1,128}$"),
    "docker_root": re.compile(r"^/[A-Za-z0-9_./-]{0,511}$"),
    "host_port": re.compile(r"^[0-9]{1,5}$"),
    "peer": re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$"),
    "peer_network": re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$"),
    "peer_host": re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$"),
    "env_var": re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"),
    "host_ip": re.compile(r"^([0-9.]{7,15}|\[[0-9a-fA-F:.]{2,45}\])$"),
    "container_port": re.compile(r"^[0-9]{1,5}$"),
    "listen_port": re.compile(r"^[0-9]{1,5}$"),
    "pid": re.compile(r"^[1-9][0-9]{0,9}$"),
    "entrypoint": re.compile(r"^/[A-Za-z0-9_./@+-]{0,511}$"),
    "bind_source": re.compile(r"^/[A-Za-z0-9_./@+-]{0,1023}$"),
    "bind_target": re.compile(r"^/[A-Za-z0-9_./@+-]{0,1023}$"),
    "mount_source": re.compile(r"^/[A-Za-z0-9_./@+-]{0,1023}$"),
    "user": re.compile(r"^[0-9]{1,10}(:[0-9]{1,10})?$"),
    "write_dir": re.compile(r"^/[A-Za-z0-9_./@+-]{0,511}$"),
    "port_holder": re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$"),
    "bind_env": re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"),
    # asked (core/playbooks.py ASKABLE): what the engineer types is checked as strictly as what the evidence says
    "memory": re.compile(r"^[1-9][0-9]{0,6}[kmgKMG]?$"),
    "cpus": re.compile(r"^(0\.[0-9]{1,3}|[1-9][0-9]{0,2}(\.[0-9]{1,3})?)$"),
    "shm_size": re.compile(r"^[1-9][0-9]{0,6}[kmgKMG]?$"),
    "tmpfs_size": re.compile(r"^[1-9][0-9]{0,6}[kmgKMG]?$"),
    "nofile": re.compile(r"^[1-9][0-9]{0,8}(:[1-9][0-9]{0,8})?$"),
    "pids": re.compile(r"^[1-9][0-9]{0,6}$"),
    "free_port": re.compile(r"^[1-9][0-9]{0,4}$"),
    "env_value": re.compile(r"^[^\x00-\x1f\x7f]{1,4096}$"),
    "health_cmd": re.compile(r"^[^\x00-\x1f\x7f]{1,1024}$"),
    "command": re.compile(r"^[^\x00-\x1f\x7f]{1,4096}$"),
    "new_image": re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._/:@-]{0,511}$"),
    "pin_tag": re.compile(r"^[a-z0-9][a-z0-9._/-]{0,255}:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"),
    "log_max_size": re.compile(r"^[1-9][0-9]{0,6}[kmgKMG]?$"),
    "volume": re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$"),
}


class UnsafeValue(ValueError):
    """A value that does not look like what its placeholder names; the command is not rendered."""


def placeholder_values(obs: Observation | None, host: Host, signals: dict[str, Any] | None = None) -> dict[str, str]:
    values: dict[str, str] = {"docker_root": host.docker_root or "/var/lib/docker"}
    if obs is not None:
        c = obs.container
        values.update(container=c.name, container_id=c.id, image=c.image_ref or c.image_id, image_id=c.image_id)
        if c.pid > 0:
            values["pid"] = str(c.pid)
        holder = (signals or {}).get("port_holder")
        if isinstance(holder, str) and holder:
            values["port_holder"] = holder
        bind_env = (signals or {}).get("localhost_bind_env")
        if isinstance(bind_env, str) and bind_env:
            values["bind_env"] = bind_env
        if c.ports:
            first = c.ports[0]
            values["host_port"] = first.host_port
            ip = first.host_ip or "0.0.0.0"
            values["host_ip"] = f"[{ip}]" if ":" in ip else ip
            values["container_port"] = first.container_port.partition("/")[0]
    for key, signal in (("missing_env", "missing_env"), ("library", "missing_library")):
        found = (signals or {}).get(signal) or []
        if found:
            values[key] = found[0]
    for key, names in (("peer", ("unresolved_peer", "localhost_peer", "waiting_peer")),
                       ("peer_network", ("unresolved_network", "localhost_peer_network")),
                       ("peer_host", ("unresolved_host", "localhost_peer_name")),
                       ("env_var", ("localhost_env",))):
        value = next((str((signals or {}).get(n)) for n in names if (signals or {}).get(n)), "")
        if value:
            values[key] = value
    reachable = (signals or {}).get("listening_unpublished") or []
    if reachable:
        values["listen_port"] = reachable[0].rpartition(":")[2]
    for key, names in (("entrypoint", ("entrypoint_file",)), ("bind_source", ("bind_source",)),
                       ("bind_target", ("bind_target",)),
                       ("mount_source", ("denied_mount_source",)), ("user", ("run_as_user",)),
                       ("write_dir", ("read_only_dir", "full_dir"))):
        found = next((v for v in ((signals or {}).get(n) for n in names) if isinstance(v, str) and v), None)
        if found is not None and _CHECKS[key].match(found):  # `root` or a user name: no {user} (shown, not run)
            values[key] = found
    return values


_UNITS = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}
_LEAST = {"memory": (6 * 1024 ** 2, "6m: Docker refuses less"), "shm_size": (1024 ** 2, "1m"),
          "tmpfs_size": (1024 ** 2, "1m"), "log_max_size": (100 * 1024, "100k")}


def check(name: str, value: str) -> str:
    """"" when `value` may stand for {name}; else why not (one line)."""
    pattern = _CHECKS.get(name)
    if pattern is None:
        return f"{{{name}}} is not a known value"
    what = ASKABLE.get(name) or PLACEHOLDERS.get(name) or name.replace("_", " ")
    if not pattern.match(value):
        return f"{value[:60]!r} is not {what}"
    if name in _LEAST:
        size = int(value.rstrip("kmgKMG")) * _UNITS[value[-1].lower() if value[-1].isalpha() else ""]
        least, said = _LEAST[name]
        if size < least:
            return f"{value} is too small for {what} (at least {said})"
    if name in ("free_port", "host_port", "container_port", "listen_port") and not 1 <= int(value) <= 65535:
        return f"{value} is not a port (1-65535)"
    return ""


def fill(template: str, values: dict[str, str]) -> str:
    """One template with its placeholders filled; raises UnsafeValue for a value that fails its check or is missing."""
    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        value = values.get(name)
        if value is None or value == "":
            raise UnsafeValue(f"no value for {{{name}}} ({PLACEHOLDERS.get(name) or ASKABLE.get(name, '?')})")
        why = check(name, value)
        if why:
            raise UnsafeValue(f"{{{name}}}: {why}")
        return value
    return _PLACEHOLDER.sub(one, template)


def render(step: Step, values: dict[str, str]) -> list[str]:
    """The step's argv with placeholders filled; raises UnsafeValue for a value that fails its check or is missing."""
    return [fill(token, values) for token in step.run]


def render_changes(step: Step, values: dict[str, str]) -> list[tuple[str, str]]:
    """A recreate step's changes with their values filled (same checks as a command's)."""
    return [(key, fill(template, values)) for key, template in step.recreate]


def missing_values(step: Step, values: dict[str, str]) -> list[str]:
    """The placeholders of a step that have no value and are not asked: it cannot be made concrete here."""
    names = [n for t in (*step.run, *(v for _, v in step.recreate)) for n in _PLACEHOLDER.findall(t)]
    return [n for n in dict.fromkeys(names) if n not in step.ask and not values.get(n)]
