"""Which Compose command this machine has (v2's `docker compose`, v1's `docker-compose`), and whether the project's
files were edited: what the walkthrough needs to give a Compose container's fix (core/fixform.py) and to run its
`up -d SERVICE` only once the file holds the change. Read-only; nothing is installed or run but `docker compose
version`."""
from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache


@lru_cache(maxsize=1)
def installed() -> tuple[bool, bool]:
    """(v2, v1): `docker compose` answers its `version`; `docker-compose` is on PATH."""
    v2 = False
    if shutil.which("docker"):
        try:
            v2 = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=10,
                                stdin=subprocess.DEVNULL).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            v2 = False
    return v2, shutil.which("docker-compose") is not None


def mtimes(paths: tuple[str, ...]) -> dict[str, float]:
    """The files' modification times, for those readable here (a remote daemon's files are not)."""
    out = {}
    for p in paths:
        try:
            out[p] = os.stat(p).st_mtime
        except OSError:
            continue
    return out


def unedited(before: dict[str, float], paths: tuple[str, ...]) -> list[str]:
    """The files seen before that none of which changed since: [] when one was edited (or none is readable here)."""
    now = mtimes(paths)
    seen = [p for p in paths if p in before and p in now]
    if not seen or any(now[p] != before[p] for p in seen):
        return []
    return seen


def read_service(inspect, known=()):
    """The container's service as its Compose files on this machine say now (probes/compose_file.py, bounded, never
    run), through the boundary (secret values masked): a `schema.ComposeService`, or None without its inspect.
    For the walkthrough to check the fragment is in the file before `up -d SERVICE` runs."""
    from .boundary import compose_service_record
    from .core.secrets import SecretValues
    from .probes import compose_file
    if inspect is None:
        return None
    return compose_service_record(compose_file.probe(inspect), known if isinstance(known, SecretValues)
                                  else SecretValues(known))
