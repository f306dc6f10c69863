"""A real Compose project for the tests, made with the docker-compose CLI (Debian's 1.29: the labels of Compose v2)
on the locally built base image (no registry): `web` (2 replicas, running) and `worker` (exits 1 at once: a
finding). Its name starts with the run's PREFIX, so the engine's cleanup finds its containers too; its own
`docker-compose -p NAME down` always runs when the block ends."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from tests.engine import BASE, PREFIX, ensure_base, wait_state

COMPOSE_FILE = f"""\
version: "2.4"
services:
  web:
    image: {BASE}
    command: ["sh", "-c", "echo listening; sleep 3600"]
    scale: 2
  worker:
    image: {BASE}
    command: ["sh", "-c", "echo 'fatal: queue unreachable' >&2; exit 1"]
"""


def compose_name(suffix: str) -> str:
    """A project name with this run's prefix, as Compose 1.29 keeps it ([-_a-z0-9], lowercase)."""
    return re.sub(r"[^-_a-z0-9]", "", f"{PREFIX}{suffix}".lower())


def compose_cli() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        message = "docker-compose is missing (make test installs it: scripts/ensure-engine.sh)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def run_compose(directory: Path, project: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([compose_cli(), "-p", project, *args], cwd=directory, capture_output=True, text=True,
                          timeout=300)
    if check and proc.returncode != 0:
        raise RuntimeError(f"docker-compose {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc


@contextmanager
def compose_project(directory: Path, suffix: str) -> Iterator[str]:
    """The project up (web x2 running, worker exited 1), its name yielded; `down` (containers, network) after."""
    ensure_base()
    project = compose_name(suffix)
    (directory / "docker-compose.yml").write_text(COMPOSE_FILE)
    run_compose(directory, project, "down", "--remove-orphans", check=False)  # a previous run's leftovers
    try:
        run_compose(directory, project, "up", "-d")
        for n in (1, 2):
            wait_state(f"{project}_web_{n}", "running")
        wait_state(f"{project}_worker_1", "exited")
        yield project
    finally:
        run_compose(directory, project, "down", "--remove-orphans", "-t", "1", check=False)
