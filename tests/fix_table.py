"""Which shipped fix closes which lab incident (tests/integration/test_fixes.py proves every `yes` on the engine;
docs/playbooks.md shows this table, kept equal by tests/unit/test_docs.py)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Closes:
    fixes: tuple[int, ...]  # the fix steps applied, in order (0-based in the playbook's fix list); () = does not close
    evidence: tuple[str, ...] = ()  # words the RCA must carry (from the evidence)
    why_not: str = ""
    wait: bool = False  # wait for the scenario's database first


CLOSES: dict[str, Closes] = {
    "arch-mismatch": Closes((), why_not="needs an image built for this CPU (a Dockerfile/CI change)"),
    "bind-mount-mismatch": Closes((0,), ("/app/config.json",)),
    "command-not-found": Closes((), why_not="the program is not in the image: a new image (Dockerfile) is the fix"),
    "cpu-throttled": Closes((0,), ("0.1",)),
    "crashed": Closes((), why_not="no specific cause is known: the fix is whatever the logs say"),
    "dependency-not-ready": Closes((1,), ("inventory-db",), wait=True),
    "disk-full": Closes((0,), ("/data",)),
    "entrypoint-interpreter": Closes((0, 1), ("/entrypoint.sh",)),
    "exits-immediately": Closes((0,), ("httpd",)),
    "fd-limit": Closes((0,), ("32",)),
    "image-drift": Closes((0,), ("order-service",)),
    "image-too-large": Closes((), why_not="a smaller image is a rebuild (multi-stage Dockerfile)"),
    "listens-on-localhost": Closes((0,), ("127.0.0.1",)),
    "localhost-dependency": Closes((0,), ("localhost", "postgres")),
    "memory-near-limit": Closes((0,), ("MB",)),
    "missing-env": Closes((0,), ("DB_HOST",)),
    "missing-library": Closes((), why_not="the library must be installed in the image (Dockerfile)"),
    "mutable-tag": Closes((0, 1), ("latest",)),
    "name-resolution": Closes((0, 1), ("orders-db",)),
    "no-healthcheck": Closes((0,), ()),
    "no-memory-limit": Closes((0,), ()),
    "oom-killed": Closes((0, 2), ("OOMKilled",)),
    "permission-denied": Closes((0, 2), ("4242",)),
    "pids-limit": Closes((0,), ()),
    "port-conflict": Closes((0, 1), ("holder",)),
    "published-port-unused": Closes((0,), ("9090",)),
    "read-only-filesystem": Closes((0,), ("/data",)),
    "restart-loop": Closes((), why_not="the loop is a symptom: its fix stops the loop; the crash's own cause closes it"),
    "secrets-in-image": Closes((), why_not="the secret is in the image's layers: rebuild without it, and rotate it"),
    "segfault": Closes((), why_not="the rollback needs the engineer to name the last good build (no suggestion)"),
    "shm-exhausted": Closes((0,), ("/dev/shm",)),
    "stop-timeout": Closes((0,), ("137",)),
    "unbounded-logs": Closes((0,), ("max-size",)),
    "unhealthy": Closes((0,), ("8081",)),
    "zombie-processes": Closes((0,), ("zombie",)),
}

# Lab variants (troubleshoot/lab.py VARIANTS): the same playbook, another cause, the same shipped fix.
VARIANT_CLOSES: dict[str, Closes] = {
    "unhealthy-probe-broken": Closes((0,), ("curl",)),
    "entrypoint-interpreter-bash": Closes((0, 1), ("/bin/bash",)),
}
