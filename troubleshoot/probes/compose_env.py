"""The `.env` file of a container's Compose project, read on the daemon's own host: where the value of a variable
the container lacks usually is (the fix dialog suggests it; core/suggest.py).

Compose labels every container with its project's working directory (`com.docker.compose.project.working_dir`,
v1 and v2) and, v2, the env files it read (`com.docker.compose.project.environment_file`). Only for a local daemon
(the path is on the daemon's host), only a regular file of at most 64 KB, KEY=VALUE lines (quotes removed,
comments and `export ` skipped). Returns plain data: the boundary (boundary.compose_env_record) masks every secret
value before it is a record, so a password in `.env` is never shown or stored.
"""
from __future__ import annotations

import os
import re
import stat
from typing import Any

from ..core import schema

WORKING_DIR = "com.docker.compose.project.working_dir"
ENV_FILE = "com.docker.compose.project.environment_file"
MAX_BYTES = 64 * 1024
MAX_KEYS = 500
_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def wanted(data: schema.ContainerInspect, local: bool) -> bool:
    labels = (data.Config.Labels if data.Config is not None else None) or {}
    return local and bool(labels.get(WORKING_DIR) or labels.get(ENV_FILE))


def _paths(labels: dict[str, str]) -> list[str]:
    files = [p for p in (labels.get(ENV_FILE) or "").split(",") if p.strip()]
    work = labels.get(WORKING_DIR) or ""
    if not files and work:
        files = [os.path.join(work, ".env")]
    return [p.strip() for p in files if os.path.isabs(p.strip())]


def parse(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            continue
        value = m.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        out[m.group(1)] = value
        if len(out) >= MAX_KEYS:
            break
    return out


def probe(data: schema.ContainerInspect) -> dict[str, Any]:
    labels = (data.Config.Labels if data.Config is not None else None) or {}
    for path in _paths(labels):
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except OSError as exc:
            return {"path": path, "why": f"cannot read {path}: {exc.strerror or exc}"}
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return {"path": path, "why": f"{path} is not a regular file"}
            raw = os.read(fd, MAX_BYTES + 1)
        except OSError as exc:
            return {"path": path, "why": f"cannot read {path}: {exc.strerror or exc}"}
        finally:
            os.close(fd)
        if len(raw) > MAX_BYTES:
            return {"path": path, "why": f"{path} is larger than {MAX_BYTES // 1024} KB: not read"}
        return {"path": path, "values": parse(raw.decode("utf-8", "replace"))}
    return {"why": "no env file named by its Compose labels"}
