"""End to end: the real `troubleshoot` binary in a real terminal (tmux), driven by keys, read with capture-pane."""
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.settle import Terminal, tmux
from tests.engine import docker
from tests.engine import PREFIX
from tests.scenarios import create, make_lab

pytestmark = pytest.mark.engine
SESSION = PREFIX + "e2e"
BIN = Path(sys.executable).with_name("troubleshoot")
TERM = Terminal(SESSION)


def board_rows(shown: str) -> list[str]:
    """Lines of the board: a container name at column 1, then its state."""
    return [l for l in shown.splitlines()
            if re.match(r"^ \S+( \[lab\])?\s+(exited|running|created|restarting|healthy|unhealthy|starting|paused|dead)\b", l)]


@pytest.fixture
def terminal(engine):
    if shutil.which("tmux") is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is missing (make test installs it)")
        pytest.skip("tmux is not installed")
    TERM.kill()
    yield
    TERM.kill()


WHY_NOT_OPENED = ("not inspected yet", "nothing found to walk through")


def open_walkthrough(first_step: str) -> str:
    """Enter on the filtered board. If the app answers with a toast instead of the walkthrough, fail with the screen
    as it is then (a toast lasts 5 s: a plain timeout would hide why)."""
    opened = lambda s: first_step in s or "Symptom:" in s or any(w in s for w in WHY_NOT_OPENED)  # noqa: E731
    TERM.enter(opened)
    shown = TERM.settled("", timeout=2)  # the walkthrough drawn whole, not a frame of it
    # it opens on its evidence and root cause: down to the steps
    shown = TERM.scroll_until(lambda s: first_step in s or any(w in s for w in WHY_NOT_OPENED), shown)
    assert first_step in shown, f"Enter did not open the walkthrough; the screen was:\n{shown}"
    return shown


def launch_filtered_to(name: str, state_text: str, env: dict[str, str] | None = None, others: tuple[str, ...] = ()) -> str:
    """Start the real binary, type '/name<enter>' in one burst once the board is drawn (as a paste or SSH latency
    delivers it: no key may be lost), and wait until the board shows only that container, inspected. (Not "once the
    name is on screen": on a shared daemon hundreds of other containers may fill the first page.)"""
    TERM.start(f"{BIN} --no-user-playbooks", (100, 30), env)
    TERM.wait("TOP FINDING")  # the board is up (the container itself may be below the fold: a busy daemon)
    TERM.type(f"/{name}\r")
    return TERM.wait(lambda s: [r.split()[0] for r in board_rows(s)] == [name, *others] and state_text in s)


def test_navigate_to_a_broken_container_and_run_a_step(terminal):
    name = create("oom-killed")
    try:
        shown = launch_filtered_to(name, "exited 137")
        assert "CRIT  oom-killed" in shown  # filtered to that one container, inspected
        open_walkthrough("Confirm the OOM kill and the limit")
        TERM.keys("r")
        # the step's real output: the same as the daemon says now. (Under load dockerd sometimes records exit 137
        # without OOMKilled=true; the app then reports a *likely* OOM. The output must match either way.)
        real = docker("inspect", "--format", "OOMKilled={{.State.OOMKilled}} ExitCode={{.State.ExitCode}}",
                      name).stdout.decode().strip()
        shown = TERM.wait(real)
        assert "ExitCode=137" in real and "[x] 1. Confirm the OOM kill" in shown
        TERM.keys("Escape")
        TERM.wait("TOP FINDING")
        TERM.keys("q")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and TERM.alive():
            time.sleep(0.2)
        assert not TERM.alive(), "q did not quit the app"
    finally:
        docker("rm", "-f", name, check=False)


def test_interactive_step_gets_the_terminal_and_the_app_comes_back(terminal):
    name = create("unhealthy")
    try:
        launch_filtered_to(name, "CRIT  unhealthy")
        open_walkthrough("Read the last probe results")
        for _ in range(3):  # the fourth step: probe results, probe definition, logs, then the shell
            TERM.keys("Down")
            time.sleep(0.3)
        TERM.wait("Run the probe by hand from inside")
        TERM.keys("r")
        TERM.wait("Run this diagnose step on")  # a shell in the container can change anything: it asks first
        TERM.keys("y")
        TERM.wait("exit the command to return to troubleshoot")
        TERM.type("echo INSIDE-$((40+2)) $(hostname)\r")
        TERM.wait("INSIDE-42")
        TERM.type("exit 0\r")
        # all three on one screen (the step's mark can be drawn a frame before its result line under load)
        TERM.wait(lambda s: "[x] 4. Run the probe by hand from inside" in s and "(ran in the terminal)" in s
                    and "exit 0" in s)
    finally:
        docker("rm", "-f", name, check=False)


def test_an_interactive_step_that_fails_shows_its_real_exit_code(terminal, tmp_path):
    """`docker exec -it` on a stopped container fails in the terminal: the step says so (its real exit code), on
    screen and in the incident record, instead of `exit 0`."""
    name = create("missing-env")  # exited: nothing to exec into
    data = tmp_path / "data"
    try:
        # its database beside it; "exited" alone is also the sparse list's word, before the inspect: wait for that
        launch_filtered_to(name, "CRIT  missing-env", env={"XDG_DATA_HOME": str(data)}, others=(f"{name}-db",))
        open_walkthrough("List the variables the container really has")
        for _ in range(2):
            TERM.keys("Down")
            time.sleep(0.3)
        TERM.wait("Check the environment from inside")
        TERM.keys("r")
        TERM.wait("Run this diagnose step on")
        TERM.keys("y")
        shown = TERM.wait("press Enter to return to troubleshoot")  # the command's own error stays readable
        assert "is not running" in shown
        code = int(re.search(r"\(exit (\d+)\) press Enter", shown).group(1))
        assert code != 0
        TERM.keys("Enter")
        shown = TERM.wait(lambda s: "[!] 3. Check the environment from inside" in s and f"exit {code}" in s)
        assert "exit 0" not in shown
        records = list((data / "troubleshoot" / "incidents").glob("*.jsonl"))
        steps = [e for e in map(json.loads, records[0].read_text().splitlines()) if e["kind"] == "step"]
        assert steps[-1]["exit_code"] == code
    finally:
        docker("rm", "-f", name, f"{name}-db", check=False)


def test_incident_record_survives_a_killed_app_and_its_rca_has_evidence_and_no_secret(terminal, tmp_path):
    """A real OOM kill of a container that carries a password and prints it. The engineer opens it, runs two steps
    and types a note (pasting the password); then the app is killed -9. The record on disk has it all, masked, and
    `troubleshoot report` writes the RCA from it."""
    secret = "hunter2-oom-rca-55"
    token = "ghp_" + "Z" * 36
    lab = make_lab()
    name = f"{PREFIX}oom-rca"
    cid, _ = lab.run(name, "oom-killed", ["sh", "-c", f"echo connecting with password $DB_PASSWORD; echo auth {token}; "
                                                      "echo loading cache; dd if=/dev/zero of=/dev/null bs=120M count=1"],
                     env=(f"DB_PASSWORD={secret}",), memory=24 * 1024 * 1024)
    lab.wait_oom_killed(cid, name)  # the RCA below says OOMKilled: a run the daemon did not flag is run again
    data = tmp_path / "data"
    try:
        launch_filtered_to(name, "exited 137", env={"XDG_DATA_HOME": str(data)})
        open_walkthrough("Confirm the OOM kill and the limit")
        TERM.keys("r")
        TERM.wait("[x] 1. Confirm the OOM kill")  # (the evidence above already says ExitCode=137)
        TERM.keys("Down")
        TERM.wait(lambda s: "2. Read the last lines" in s)
        TERM.keys("r")
        shown = TERM.wait("│ connecting with password")  # the step's output, not the evidence line
        assert secret not in shown and token not in shown, "a container's own secret reached the screen"
        TERM.keys("n")
        TERM.wait("Note for the incident")
        TERM.type(f"paged 03:10, the password {secret} is in its env\r")
        TERM.wait("note saved")
        pid = tmux("display-message", "-p", "-t", SESSION, "#{pane_pid}").strip()
        subprocess.run(["pkill", "-9", "-P", pid], check=False)  # the app, not tmux: as if the terminal died
        subprocess.run(["kill", "-9", pid], check=False)
        records = list((data / "troubleshoot" / "incidents").glob("*.jsonl"))
        assert len(records) == 1
        text = records[0].read_text()
        events = [json.loads(line) for line in text.splitlines()]
        assert [e["kind"] for e in events] == ["opened", "step", "step", "note"]
        assert secret not in text and token not in text
        assert "connecting with password" in text and "ExitCode=137 Memory=" in text  # both steps' output

        env = {**os.environ, "XDG_DATA_HOME": str(data)}
        rca = subprocess.run([str(BIN), "report", name], capture_output=True, text=True, env=env, timeout=60)
        assert rca.returncode == 0, rca.stderr
        doc = rca.stdout
        for section in ("## Incident", "**Time:**", "**Service:**", "**Impact:**", "## Step-by-step troubleshooting",
                        "## Root Cause Analysis (RCA)", "**Final RCA:**", "## Fix Applied", "## Preventive Actions",
                        "## Lesson"):
            assert section in doc
        assert "exited with code 137 (OOMKilled" in doc
        assert "State.OOMKilled=true" in doc or "State.ExitCode=137" in doc  # the evidence
        assert "$ docker logs --tail 100 " + name in doc and "loading cache" in doc
        assert "paged 03:10" in doc
        assert secret not in doc and token not in doc
    finally:
        docker("rm", "-f", name, check=False)
