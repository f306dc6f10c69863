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
        if c.ports:
            values["host_port"] = c.ports[0].host_port
    for key, signal in (("missing_env", "missing_env"), ("library", "missing_library")):
        found = (signals or {}).get(signal) or []
        if found:
            values[key] = found[0]
    for key, names in (("entrypoint", ("entrypoint_file",)), ("bind_source", ("bind_source",)),
                       ("mount_source", ("denied_mount_source",)), ("user", ("run_as_user",)),
                       ("write_dir", ("read_only_dir", "full_dir"))):
        value = next((v for v in ((signals or {}).get(n) for n in names) if isinstance(v, str) and v), None)
        if value is not None and _CHECKS[key].match(value):  # `root` or a user name: no {user} (shown, not run)
            values[key] = value
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
