"""`troubleshoot lab up --compose` on its own instance: a real Compose project (Debian's docker-compose 1.29.2 here,
or Compose v2), its file written where the engineer edits it; `scan` finds its three incidents; `lab down` leaves
nothing of the project (containers, networks, volumes, its directory)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.engine import LAB_INSTANCE, docker

pytestmark = pytest.mark.engine


def cli(env: dict, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "troubleshoot", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def left(project: str) -> dict[str, list[str]]:
    label = f"label=com.docker.compose.project={project}"
    return {kind: docker(*cmd, "--filter", label, check=False).stdout.decode().split()
            for kind, cmd in (("containers", ("ps", "-aq")), ("networks", ("network", "ls", "-q")),
                              ("volumes", ("volume", "ls", "-q")))}


def test_lab_up_compose_scan_finds_three_incidents_and_down_leaves_nothing(engine, tmp_path):
    instance = f"{LAB_INSTANCE}-compose"[:40]
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    from troubleshoot.lab_compose import project_name
    project = project_name(instance)
    try:
        up = cli(env, "lab", "up", "--compose", "--instance", instance)
        assert up.returncode == 0, up.stderr
        path = Path(re.search(r"is up from (\S+\.yml)", up.stdout).group(1))
        assert path.is_file() and str(path).startswith(str(tmp_path / "data"))
        services = yaml.safe_load(path.read_text())["services"]
        assert services["web"]["depends_on"] == ["db"]  # no health condition
        assert "DB_HOST" not in services["api"]["environment"] and services["worker"]["mem_limit"] == "24m"
        assert "DB_HOST=orders-db" in (path.parent / ".env").read_text()
        made = left(project)
        assert len(made["containers"]) == 5 and made["networks"] and made["volumes"]

        scan = cli(env, "scan", "--json", project)
        assert scan.returncode == 1, scan.stderr
        doc = json.loads(scan.stdout)
        by_service = {}
        for c in doc["containers"]:
            m = re.fullmatch(rf"{re.escape(project)}[_-](.+)[_-]\d+", c["name"])  # v1 p_s_1, v2 p-s-1
            assert m, c["name"]
            by_service[m.group(1)] = c["top_finding"]
        assert by_service.get("web") == "dependency-not-ready", by_service
        assert by_service.get("api") == "missing-env", by_service
        assert by_service.get("worker") == "oom-killed", by_service
        assert all(c["training"] for c in doc["containers"])  # marked [lab] on the board
    finally:
        down = cli(env, "lab", "down", "--instance", instance)
    assert down.returncode == 0, down.stderr
    assert f"removed Compose project {project}" in down.stdout
    assert left(project) == {"containers": [], "networks": [], "volumes": []}
    assert not (tmp_path / "data" / "troubleshoot" / "lab-compose" / instance).exists()
