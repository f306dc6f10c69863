"""Hostile input from every source never drives the terminal (issue 10): a snapshot file someone hands you, a
playbook directory, a Dockerfile under review. Each carries terminal controls (OSC 0 title, OSC 52 clipboard, OSC 8
links, CSI 6n/21t device queries, clear screen, 8-bit C1, DCS, a bidi override) and Textual markup
(`[@click=app.quit]`, `bad[/]name`). The real binary's output bytes are read: from pipes for the CLI (`scan`,
`scan --json`, `report`, `playbooks show`, `dockerfile`) and from a pseudo-terminal for the app, whose toasts show a
hostile container name. None of the sequences may appear, no traceback, and markup stays literal text.

No daemon is involved: the sources here are files. (Live daemon strings are tested by test_hostile.py.)
"""
import fcntl
import json
import os
import pty
import struct
import subprocess
import termios
import sys
from pathlib import Path

import pytest

from tests.integration.test_hostile import leaked
from tests.pty_io import read_for, read_until
from tests.unit.conftest import fixture

BIN = Path(sys.executable).with_name("troubleshoot")

ESC = ("\x1b]0;PWNED-TITLE\x07 \x1b]52;c;UFdORUQtQ0xJUA==\x07 \x1b]8;;http://evil.example/\x07click\x1b]8;;\x07 "
       "\x1b[6n \x1b[21t \x1b[2J\x1b[1;1H \x9b31mC1 \x9d0;C1-TITLE\x9c \x1bPdcs-payload\x1b\\ \u202eDESREVER")
MARKUP = "[@click=app.quit]quit[/] bad[/]name [bold]not-markup[/bold]"
HOSTILE = f"{ESC} {MARKUP}"
# the same controls as YAML double-quoted escapes: they only become raw bytes once YAML decodes them
YAML_ESC = (r"\e]0;PWNED-TITLE\a \e]52;c;UFdORUQtQ0xJUA==\a \e]8;;http://evil.example/\aclick\e]8;;\a \e[6n "
            r"\e[21t \e[2J\e[1;1H \x9b31mC1 \x9d0;C1-TITLE\x9c \u202eDESREVER")
NAME = "hostile-snap"
TOAST = b"quiet-[@click=app.quit]x[/]: nothing"  # the toast of a container with nothing to walk through
QUIET = "quiet-[@click=app.quit]x[/]"


def _snapshot(tmp: Path) -> Path:
    """A snapshot file written by hand (never through troubleshoot): hostile strings in every free-text field."""
    crashed = fixture("crashed")
    rec = crashed["record"]
    d = rec["inspect"]
    d["Name"] = f"/{NAME}"
    d["Args"] = ["-c", f"echo {HOSTILE}"]
    d["State"]["Error"] = HOSTILE
    d["Config"]["Labels"] = {"evil": HOSTILE, "com.docker.compose.service": f"<img src=x onerror=alert(1)> {HOSTILE}"}
    d["Config"]["Env"] = (d["Config"].get("Env") or []) + [f"HOSTILE={HOSTILE}"]
    rec["logs"] = [f"Error: DB_HOST is not set {HOSTILE}", HOSTILE]
    quiet = fixture("control")["record"]
    quiet["inspect"]["Name"] = f"/{QUIET}\x1b]0;PWNED\x07\x9b31m\u202e"  # short: its toast stays one line
    doc = {"format": "troubleshoot-snapshot", "version": 1, "taken_at": "2026-11-23T10:00:00Z", "tool": HOSTILE,
           "source": HOSTILE, "host": crashed["host"], "containers": [rec, quiet]}
    path = tmp / "hostile-snapshot.json"
    path.write_text(json.dumps(doc))
    return path


def _playbooks(tmp: Path) -> Path:
    """A team's playbook directory whose text fields carry the controls (as YAML escapes) and markup."""
    d = tmp / "playbooks"
    d.mkdir()
    text = f'"{YAML_ESC} {MARKUP}"'
    (d / "hostile.yaml").write_text(f"""id: hostile-text
title: {text}
severity: critical
priority: 100
symptom: {text}
root_cause: [{text}]
match: {{signal: state, equals: exited}}
diagnose:
  - title: {text}
    run: docker logs --tail 20 {{container}}
    look_for: {text}
prevent: [{text}]
lesson: {text}
""")
    return d


def _dockerfile(tmp: Path) -> Path:
    d = tmp / "ctx"
    d.mkdir()
    (d / "Dockerfile").write_text(f"FROM busybox:latest\nRUN echo '{HOSTILE}'\nLABEL evil=\"{ESC}\"\n"
                                  f"ENV API_TOKEN=\"{ESC}\"\nCMD [\"sh\"]\n")
    broken = tmp / "broken"
    broken.mkdir()
    (broken / "Dockerfile").write_text(f"FROM busybox\nENV API_TOKEN={ESC}\n")  # the parser quotes it in its error
    return d


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN), "--no-user-playbooks", *args], capture_output=True, timeout=120)


@pytest.fixture
def sources(tmp_path):
    return _snapshot(tmp_path), _playbooks(tmp_path), _dockerfile(tmp_path)


def test_cli_output_from_hostile_files_carries_no_sequence(sources, tmp_path):
    snap, playbooks, ctx = sources
    runs = {
        "scan": _run("scan", "--from", str(snap)),
        "scan --json": _run("scan", "--json", "--from", str(snap)),
        "scan with a hostile playbook": _run("--playbooks", str(playbooks), "scan", "--from", str(snap)),
        "report": _run("report", NAME, "--from", str(snap)),
        "playbooks show": _run("--playbooks", str(playbooks), "playbooks", "show", "hostile-text"),
        "playbooks list": _run("--playbooks", str(playbooks), "playbooks", "list"),
        "dockerfile": _run("dockerfile", str(ctx)),
        "dockerfile --json": _run("dockerfile", "--json", str(ctx)),
        "a broken dockerfile": _run("dockerfile", str(ctx.parent / "broken")),
    }
    for what, proc in runs.items():
        assert b"Traceback" not in proc.stderr, (what, proc.stderr)
        assert proc.returncode in ((2,) if what == "a broken dockerfile" else (0, 1)), (what, proc.returncode,
                                                                                         proc.stderr)
        assert leaked(proc.stdout) == [] and leaked(proc.stderr) == [], what
        assert b"\x1b" not in proc.stdout and b"\x07" not in proc.stdout, what
        assert "\u202e".encode() not in proc.stdout and b"\xc2\x9b" not in proc.stdout, what
    assert b"PWNED" not in runs["playbooks show"].stdout  # the whole OSC sequence went, not just its ESC
    assert b"[@click=app.quit]" in runs["playbooks show"].stdout  # markup-looking text stays text
    rca = runs["report"].stdout.decode()
    assert "<img" not in rca and "&lt;img" in rca  # the RCA's Markdown escapes what it quotes
    doc = json.loads(runs["scan --json"].stdout)
    names = {c["name"] for c in doc["containers"]}
    assert NAME in names and any(n.startswith(QUIET) for n in names), names
    assert all(ch.isprintable() for n in names for ch in n), "a name is one clean line"


def test_a_bad_source_is_one_line_and_exit_2(tmp_path):
    for content in (b"{", b"\xff", b'{"format": "troubleshoot-snapshot", "version": 1, "taken_at": 5}',
                    b"[" * 100_000, b'{"format": "troubleshoot-snapshot", "version": 1, "taken_at": '
                    b'"2026-01-01T00:00:00Z", "host": {"info": {"NCPU": "many"}}, "containers": []}'):
        path = tmp_path / "bad.json"
        path.write_bytes(content)
        for args in (["scan", "--from", str(path)], ["report", "x", "--from", str(path)], ["--from", str(path)]):
            proc = _run(*args)
            assert proc.returncode == 2, (content[:40], args, proc.stderr)
            assert proc.stderr.decode().count("\n") == 1 and str(path).encode() in proc.stderr, proc.stderr
            assert b"Traceback" not in proc.stderr


def _read(fd: int, seconds: float) -> bytes:
    return read_for(fd, seconds)


def _read_until(fd: int, needle: bytes, timeout: float = 30) -> bytes:
    """What the app writes, until `needle` is in it (at most `timeout` s: a loaded machine paints late)."""
    return read_until(fd, [needle], timeout)


def test_app_on_hostile_files_shows_text_never_sequences(sources):
    """The real binary on a pseudo-terminal: every byte it writes is what a terminal emulator would act on."""
    snap, playbooks, _ = sources
    pid, fd = pty.fork()
    if pid == 0:  # the child: the real binary on a real pseudo-terminal
        os.environ["TERM"] = "xterm-256color"
        os.execv(str(BIN), [str(BIN), "--no-user-playbooks", "--playbooks", str(playbooks), "--from", str(snap)])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    # the board, diagnosed (its first paint is the bare list), with the quiet container's row
    out = read_until(fd, [b"CRIT", b"quiet-"], 30)
    assert b"CRIT" in out and b"quiet-" in out, "the board never showed the snapshot's containers"
    out += _read(fd, 1)
    # the quiet container (second, worst first) has nothing to walk through: enter makes a toast naming it
    os.write(fd, b"\x1b[B")
    out += _read(fd, 1)
    toast = b""
    for _ in range(3):  # a loaded machine may still be repainting the board: enter again until the toast
        os.write(fd, b"\r")
        toast += _read_until(fd, TOAST, timeout=10)
        if TOAST in toast:
            break
    out += toast
    assert TOAST in toast, "the toast names it, its markup as text (the rest of its words wrap with the width)"
    for keys in (b"1", b"2", b"3", b"4", b"\x1b[A", b"1", b"2", b"3", b"4", b"1"):
        os.write(fd, keys)
        out += _read(fd, 0.5)
    os.write(fd, b"\r")  # the hostile container's walkthrough: the hostile playbook's text everywhere
    walkthrough = _read_until(fd, b"Root cause")
    out += walkthrough
    assert b"Root cause" in walkthrough and b"[@click=app.quit]" in walkthrough
    for keys in (b"r", b"j", b"r", b"\x1b"):
        os.write(fd, keys)
        out += _read(fd, 0.8)
    os.write(fd, b"q")
    out += _read(fd, 3)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"the app did not quit cleanly: {status}"
    assert b"Traceback" not in out
    assert NAME.encode() in out
    assert leaked(out) == []
    assert b"PWNED" not in out and b"dcs-payload" not in out
