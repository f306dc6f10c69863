"""Playbook command templates rendered into argument lists for one container. No shell is ever involved:
a value is substituted inside one argument and cannot add another, and every value is checked first."""
from __future__ import annotations

import re
from typing import Any

from .facts import Host, Observation
from .playbooks import PLACEHOLDERS, Step, _PLACEHOLDER

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
    "mount_source": re.compile(r"^/[A-Za-z0-9_./@+-]{0,1023}$"),
    "user": re.compile(r"^[0-9]{1,10}(:[0-9]{1,10})?$"),
    "write_dir": re.compile(r"^/[A-Za-z0-9_./@+-]{0,511}$"),
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
                       ("mount_source", ("denied_mount_source",)), ("user", ("run_as_user",)),
                       ("write_dir", ("read_only_dir", "full_dir"))):
        found = next((v for v in ((signals or {}).get(n) for n in names) if isinstance(v, str) and v), None)
        if found is not None and _CHECKS[key].match(found):  # `root` or a user name: no {user} (shown, not run)
            values[key] = found
    return values


def render(step: Step, values: dict[str, str]) -> list[str]:
    """The step's argv with placeholders filled; raises UnsafeValue for a value that fails its check or is missing."""
    argv = []
    for token in step.run:
        def fill(m: re.Match[str]) -> str:
            name = m.group(1)
            value = values.get(name)
            if value is None:
                raise UnsafeValue(f"no value for {{{name}}} ({PLACEHOLDERS.get(name, '?')})")
            if not _CHECKS[name].match(value):
                raise UnsafeValue(f"{{{name}}} value {value!r} does not look like a {name.replace('_', ' ')}")
            return value
        argv.append(_PLACEHOLDER.sub(fill, token))
    return argv
