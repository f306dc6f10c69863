"""A container's Compose project files, read on the daemon's own host: what its service sets (environment, env_file,
memory limits, healthcheck, depends_on, restart, logging), the evidence a diagnosis names by file and service.

Compose labels every container with its config files (`com.docker.compose.project.config_files`, comma-separated
absolute paths) and its working directory (v1 1.29 and v2). Only for a local daemon (the paths are on the daemon's
host), only regular files (opened without following a symlink, checked with fstat: a FIFO or a device is never
read), at most 512 KB each and 8 of them; parsed by core/compose_file.py with the bounded YAML the playbooks use,
never run, nothing interpolated. The service's env_file(s) are read for their variable names only (64 KB each).
Returns plain data: the boundary (boundary.compose_service_record) cleans it and masks every secret value.
"""
from __future__ import annotations

import os
import stat
import threading
from typing import Any

from ..core import compose_file, schema
from . import compose_env


MAX_PARSED = 32  # compose files whose parse is kept (a project's members share their files)
_PARSED_LOCK = threading.Lock()  # the app's workers probe in threads
_PARSED: dict[tuple[str, bytes], tuple[dict[str, Any], dict[str, int]]] = {}


def _parsed(path: str, raw: bytes, text: str) -> tuple[dict[str, Any], dict[str, int]]:
    """compose_file.load of a file's text, once per (path, bytes): the members of a project read the same files, and
    the YAML parse (~1.2 ms a file) was paid for each member. Keyed by the bytes just read, so an edited file is
    parsed anew; the parse is only read afterwards (service_reading copies what it keeps)."""
    key = (path, raw)
    with _PARSED_LOCK:
        hit = _PARSED.get(key)
    if hit is None:
        hit = compose_file.load(text, path)  # ComposeError: not kept, said for each member as before
        with _PARSED_LOCK:
            if len(_PARSED) >= MAX_PARSED:
                _PARSED.pop(next(iter(_PARSED)), None)
            _PARSED[key] = hit
    return hit


def wanted(data: schema.ContainerInspect, local: bool) -> bool:
    labels = (data.Config.Labels if data.Config is not None else None) or {}
    return local and bool(labels.get(compose_file.CONFIG_FILES)) and bool(labels.get(compose_file.SERVICE))


def read_regular(path: str, limit: int) -> tuple[bytes | None, str]:
    """(the file's bytes, "") or (None, why): a regular file only, not through a symlink, at most `limit` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        return None, f"cannot read {path}: {exc.strerror or exc}"
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None, f"{path} is not a regular file"
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(65536, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        raw = b"".join(chunks)
    except OSError as exc:
        return None, f"cannot read {path}: {exc.strerror or exc}"
    finally:
        os.close(fd)
    if len(raw) > limit:
        return None, f"{path} is larger than {limit // 1024} KB: not read"
    return raw, ""


def probe(data: schema.ContainerInspect) -> dict[str, Any]:
    labels = (data.Config.Labels if data.Config is not None else None) or {}
    service = labels.get(compose_file.SERVICE) or ""
    project = labels.get(compose_file.PROJECT) or ""
    paths = compose_file.config_paths(labels)
    if not paths:
        return {"project": project, "service": service, "why": "no absolute config file path in its Compose labels"}
    files = []
    for path in paths:
        raw, why = read_regular(path, compose_file.MAX_BYTES)
        if raw is None:
            return {"project": project, "service": service, "files": paths, "why": why}
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return {"project": project, "service": service, "files": paths,
                    "why": f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"}
        try:
            top, lines = _parsed(path, raw, text)
        except compose_file.ComposeError as exc:
            return {"project": project, "service": service, "files": paths, "why": str(exc)}
        files.append((path, top, lines))
    reading = compose_file.service_reading(files, service, project)
    for entry in reading.get("env_files", []):
        raw, why = read_regular(entry["path"], compose_env.MAX_BYTES)
        if raw is None:
            entry["why"] = why
        else:
            entry["keys"] = list(compose_env.parse(raw.decode("utf-8", "replace")))
    return reading
