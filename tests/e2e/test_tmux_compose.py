"""End to end at 80x24 on the real engine: a real Compose project (docker-compose 1.29; tests/compose_project.py)
on the board of the real binary, in tmux. Filtered to the project (`/` matches project names), the board shows the
project's line with its container count and its worst finding (the same one `scan --json --project` ranks first),
its members by service and replica under it; `z` folds it to its line, enter on that line unfolds it."""
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.compose_project import compose_project
from tests.e2e.settle import Terminal
from tests.engine import PREFIX
from tests.integration.conftest import run_cli

pytestmark = pytest.mark.engine
TERM = Terminal(PREFIX + "e2e-compose", timeout=60)
BIN = Path(sys.executable).with_name("troubleshoot")


def line_with(shown: str, text: str) -> str:
    return next((line for line in shown.splitlines() if text in line), "")


@pytest.fixture
def project(engine, tmp_path):
    if shutil.which("tmux") is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is missing (make test installs it)")
        pytest.skip("tmux is not installed")
    with compose_project(tmp_path, "e2e") as name:
        env = {"XDG_DATA_HOME": str(tmp_path)}
        if os.environ.get("PYTHONPATH"):  # a checkout run with PYTHONPATH: the app from the same code as the test
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        TERM.start(f"{BIN} --no-user-playbooks", (80, 24), env)
        try:
            yield name
        finally:
            TERM.kill()


def test_the_grouped_board_at_80x24_folds_and_unfolds(project):
    doc = json.loads(run_cli("--no-user-playbooks", "scan", "--json", "--project", project).stdout)
    worst = next(f for f in doc["findings"] if f["project"] == project)  # ranked: the project's worst first
    assert worst["container"] == f"{project}_worker_1" and worst["severity"] == "critical"
    unfolded, folded = f"▾ {project} (3)", f"▸ {project} (3)"

    TERM.wait(lambda s: "TOP FINDING" in s)
    TERM.type(f"/{project}\r")
    shown = TERM.wait(lambda s: unfolded in s and f"CRIT  {worst['playbook']}" in line_with(s, unfolded)
                        and "web #2" in s)
    head = line_with(shown, unfolded)
    assert "2/3 up" in head  # its line: the count, how many run, its worst finding
    rows = shown.splitlines()
    at = rows.index(head)
    assert rows[at + 1].startswith("   worker ") and "exited 1" in rows[at + 1]  # worst member first
    assert {rows[at + 2].split()[0:2][1], rows[at + 3].split()[0:2][1]} == {"#1", "#2"}
    assert all(r.split()[0] == "web" for r in rows[at + 2:at + 4])

    TERM.keys("z")
    shown = TERM.wait(lambda s: folded in s and "web #1" not in s and "worker " not in line_with(s, "exited 1"))
    assert f"CRIT  {worst['playbook']}" in line_with(shown, folded)  # folded: its worst finding still on its line
    assert f"Compose project {project}: 3 container(s)" in shown  # the pane tells the project
    assert "z Fold project" in shown  # the key is in the footer

    TERM.keys("Enter")  # enter on the project's line unfolds it
    shown = TERM.wait(lambda s: unfolded in s and "web #1" in s and "web #2" in s)
    shown = TERM.settled("", timeout=2)
    assert "TOP FINDING" in shown and "Root cause" not in shown  # still the board: no walkthrough opened
    TERM.keys("Escape", "q")
