"""Hostile strings from containers never reach the terminal (issue 6, first part).

A container controls its labels, env, logs and health-probe output. Here they carry escape sequences that set the
terminal title (OSC 0), write the clipboard (OSC 52), make hidden links (OSC 8), ask the terminal to answer as if
typed (CSI 6n, 21t), clear the screen and move the cursor, 8-bit C1 codes, a bidi override, and Textual markup
(`[/]`, `[@click=app.quit]`). The scan output and the real TUI's raw terminal bytes (under a pty) must contain none
of those sequences, and nothing may crash. Textual itself emits none of the markers checked (checked on a clean run).
"""
import json
import os
import pty
import signal
import struct
import subprocess
import sys
import fcntl
import termios
import time
from pathlib import Path

import pytest

from tests.engine import BASE, docker, ensure_base, wait_state, PREFIX
from tests.pty_io import read_for

pytestmark = pytest.mark.engine
BIN = Path(sys.executable).with_name("troubleshoot")

HOSTILE = ("\x1b]0;PWNED-TITLE\x07 \x1b]52;c;UFdORUQtQ0xJUA==\x07 \x1b]8;;http://evil.example/\x07click\x1b]8;;\x07 "
           "\x1b[6n \x1b[21t \x1b[2J\x1b[1;1H \x9b31mC1 \x9d0;C1-TITLE\x9c \u202eDESREVER [/] [@click=app.quit] "
           "[bold]not-markup[/bold]")
# printf %b in the container turns these escapes into the raw bytes above
HOSTILE_PRINTF = (r"\033]0;PWNED-TITLE\007 \033]52;c;UFdORUQtQ0xJUA==\007 \033]8;;http://evil.example/\007click"
                  r"\033]8;;\007 \033[6n \033[21t \033[2J\033[1;1H \0302\0233" + r"1mC1 [/] [@click=app.quit]")
# Sequences, not words: the container's command is shown as text and literally contains `\033]0;PWNED-TITLE`.
MARKERS = [b"\x1b]0;", b"\x1b]52", b"\x1b]8;", b"\x1b[6n", b"\x1b[21t", b"\xc2\x9b", b"\xc2\x9d", b"\x9b31m",
           "\u202e".encode(), b"\x1b]0;PWNED", b"\x07click"]


def leaked(data: bytes) -> list[bytes]:
    return [m for m in MARKERS if m in data]


@pytest.fixture(scope="module")
def hostile(engine):
    ensure_base()
    names = [PREFIX + "hostile-crash", PREFIX + "hostile-probe"]
    docker("rm", "-f", *names, check=False)
    docker("run", "-d", "--name", names[0], "--label", f"evil={HOSTILE}", "-e", f"HOSTILE={HOSTILE}",
           "-e", f"API_TOKEN={HOSTILE}", BASE, "sh", "-c",
           f"printf '%b\\n' '{HOSTILE_PRINTF}'; printf '%b\\n' 'Error: DB_HOST is not set {HOSTILE_PRINTF}' >&2; exit 3")
    docker("run", "-d", "--name", names[1], "--memory=64m", "--label", f"evil={HOSTILE}",
           "--health-cmd", f"printf '%b' '{HOSTILE_PRINTF}'; exit 1", "--health-interval", "1s",
           "--health-retries", "1", BASE, "sleep", "600")
    wait_state(names[0], "exited")
    wait_state(names[1], "unhealthy")
    raw_logs = subprocess.run(["docker", "logs", names[0]], capture_output=True).stdout
    assert b"\x1b]0;PWNED-TITLE" in raw_logs  # the container really emits the raw sequences
    yield names
    docker("rm", "-f", *names, check=False)


def test_scan_output_carries_no_sequence(hostile):
    for args in (["scan", *hostile], ["scan", "--json", *hostile]):
        proc = subprocess.run([str(BIN), "--no-user-playbooks", *args], capture_output=True, timeout=60)
        assert proc.returncode == 1, proc.stderr
        assert b"Traceback" not in proc.stderr
        assert leaked(proc.stdout) == [] and leaked(proc.stderr) == []
        assert b"\x1b" not in proc.stdout  # nothing at all: output to a pipe carries no colour either
    doc = json.loads(subprocess.run([str(BIN), "--no-user-playbooks", "scan", "--json", *hostile],
                                    capture_output=True).stdout)
    found = {f["container"]: f["playbook"] for f in doc["findings"] if f["container"] in hostile}
    assert found == {PREFIX + "hostile-crash": "missing-env", PREFIX + "hostile-probe": "unhealthy"} or \
        set(found) == set(hostile)
    assert "[@click=app.quit]" in json.dumps(doc)  # markup-looking text stays text


def test_tui_raw_terminal_bytes_carry_no_sequence(hostile):
    pid, fd = pty.fork()
    if pid == 0:  # the child: the real binary on a real pseudo-terminal
        os.environ["TERM"] = "xterm-256color"
        os.execv(str(BIN), [str(BIN), "--no-user-playbooks"])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    out = read_for(fd, 5)
    for name in hostile:  # each hostile container: its findings, logs, inspect and image tabs, its walkthrough
        for keys in (b"\x1b", f"/{name}\r".encode(), b"1", b"2", b"3", b"4", b"1", b"\r", b"r"):
            os.write(fd, keys)
            out += read_for(fd, 0.8)
        os.write(fd, b"\x1b")  # back to the board
        out += read_for(fd, 0.8)
    os.write(fd, b"\x1b")
    out += read_for(fd, 0.5)
    status = None
    for _ in range(3):  # an ESC and the next key read together are one key, Alt+q (a starved app reads late): again
        os.write(fd, b"q")
        deadline = time.monotonic() + 15
        while status is None and time.monotonic() < deadline:
            out += read_for(fd, 0.2)
            done, code = os.waitpid(pid, os.WNOHANG)
            status = code if done else None
        if status is not None:
            break
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise AssertionError(f"q did not quit the app; it wrote last:\n{out[-2000:]!r}")
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"the app did not quit cleanly: {status}"
    assert b"Traceback" not in out
    assert all(name.encode() in out for name in hostile)  # it did show them
    assert leaked(out) == []


def test_a_markup_compose_project_name_is_shown_literally(engine, tmp_path):
    """A container says which Compose project and service it is with labels anyone can set: `[@click=app.quit]` as
    a project name is text on the board's project line (at 80x24), in `scan` and in `scan --json`, never markup."""
    ensure_base()
    name, project = PREFIX + "hostile-project", "[@click=app.quit]"
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, "--label", f"com.docker.compose.project={project}",
           "--label", "com.docker.compose.service=[bold]svc[/bold]", "--label", f"evil={HOSTILE}", BASE, "sh", "-c", "exit 3")
    session = PREFIX + "hostile-project"
    try:
        wait_state(name, "exited")
        doc = json.loads(subprocess.run([str(BIN), "--no-user-playbooks", "scan", "--json", "--project", project],
                                        capture_output=True).stdout)
        assert [(c["name"], c["project"]) for c in doc["containers"]] == [(name, project)]
        assert doc["containers"][0]["service"] == "[bold]svc[/bold]" and doc["findings"][0]["project"] == project
        text = subprocess.run([str(BIN), "--no-user-playbooks", "scan", "--project", project], capture_output=True)
        assert f"▾ {project}".encode() in text.stdout and b"0/1 up" in text.stdout and leaked(text.stdout) == [] and b"\x1b" not in text.stdout
        env = ["-e", "TERM=xterm-256color", "-e", f"XDG_DATA_HOME={tmp_path}"]
        if os.environ.get("PYTHONPATH"):
            env += ["-e", f"PYTHONPATH={os.environ['PYTHONPATH']}"]
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", *env,
                        f"{BIN} --no-user-playbooks; sleep 30"], check=True)

        def shows(text: str, timeout: float = 60) -> str:
            deadline = time.monotonic() + timeout
            while True:
                shown = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True,
                                       text=True).stdout
                if text in shown or time.monotonic() > deadline:
                    assert text in shown, shown
                    return shown
                time.sleep(0.05)
        shows("TOP FINDING")
        subprocess.run(["tmux", "send-keys", "-t", session, "-l", f"/{project}\r"], check=True)
        shown = shows(f"▾ {project} (1)  0/1 up")
        shows("CRIT")  # inspected and diagnosed
        assert "[bold]svc[/bold]" in shown  # the member's service name, literally (bold markup not applied)
        subprocess.run(["tmux", "send-keys", "-t", session, "Up", "Enter"], check=True)  # enter on it: folds
        shown = shows(f"▸ {project} (1)")
        assert "TOP FINDING" in shown  # the app is still there: the name was not a click action
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        docker("rm", "-f", name, check=False)
