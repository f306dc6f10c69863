"""A crash never prints a secret: the app (under a real pseudo-terminal) and the command line, each crashing while a
container's secret env value is in local variables and in the exception's message. The terminal gets one line, the
traceback goes to a 0600 report under the data dir, and the secret is on no output byte and in no file written.

No engine needed: the container comes from a hand-made snapshot that is NOT masked (as a file from another tool
may be). The crash is injected by the test only: a small driver script replaces one function with a wrapper that
runs the real one, then raises holding the env. Nothing in troubleshoot itself knows about it.
"""
import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import textwrap
import time
from pathlib import Path

from tests.unit.conftest import fixture

ROOT = Path(__file__).resolve().parents[2]
SECRET = "hunter2-SECRET-zz9"
LINE_START = "troubleshoot: crashed (RuntimeError); a report (secrets masked) is in "


def raw_snapshot(path: Path) -> Path:
    doc = fixture("oom-killed")
    record = doc["record"]
    record["inspect"]["Config"]["Env"].append(f"DB_PASSWORD={SECRET}")
    record["logs"] = [f"connecting with {SECRET}", "loading cache"]
    path.write_text(json.dumps({"format": "troubleshoot-snapshot", "version": 1, "taken_at": "2026-11-23T03:10:00Z",
                                "source": "hand-made", "host": doc["host"], "containers": [record]}))
    return path


APP_DRIVER = """
import sys
from troubleshoot import cli
from troubleshoot.tui.app import TroubleshootApp

real = TroubleshootApp.on_observed

def on_observed(self, message):
    real(self, message)
    for obs in message.observations:
        env = obs.container.env
        pair = next(p for p in env if p[0] == "DB_PASSWORD")
        raise RuntimeError(f"injected crash holding {pair!r} of {env!r}")

TroubleshootApp.on_observed = on_observed
sys.exit(cli.main(sys.argv[1:]))
"""

CLI_DRIVER = """
import sys
from troubleshoot import cli
import troubleshoot.core.diagnose as diagnose_module

real = diagnose_module.diagnose

def diagnose(observations, host, catalog, **kwargs):
    report = real(observations, host, catalog, **kwargs)
    env = observations[0].container.env
    pair = next(p for p in env if p[0] == "DB_PASSWORD")
    raise RuntimeError(f"injected crash holding {pair!r}")

diagnose_module.diagnose = diagnose
sys.exit(cli.main(sys.argv[1:]))
"""


def _env(tmp_path: Path) -> dict:
    out = tmp_path / "out"  # where it may write: the data dir, the config dir, home, the working directory
    (out / "cwd").mkdir(parents=True, exist_ok=True)
    return {**os.environ, "XDG_DATA_HOME": str(out / "data"), "XDG_CONFIG_HOME": str(out / "config"),
            "HOME": str(out / "home"), "PYTHONPATH": str(ROOT), "TERM": "xterm-256color"}


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _check_report(tmp_path: Path, line: str) -> Path:
    assert line.startswith(LINE_START), line
    report = Path(line[len(LINE_START):])
    crash_dir = tmp_path / "out" / "data" / "troubleshoot" / "crash"
    assert report.parent == crash_dir and report.is_file()
    assert report.stat().st_mode & 0o777 == 0o600
    assert crash_dir.stat().st_mode & 0o777 == 0o700
    text = report.read_text()
    assert "RuntimeError: injected crash holding ('DB_PASSWORD', 'hu****(18 chars)')" in text  # masked, not gone
    assert "Traceback (most recent call last)" in text
    for written in _files(tmp_path / "out"):  # every file it wrote: the report, incident records, anything
        assert SECRET.encode() not in written.read_bytes(), written
    return report


def _read(fd: int, seconds: float) -> bytes:
    out, end = b"", time.time() + seconds
    while time.time() < end:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out


def test_the_app_crashing_prints_one_line_and_no_secret(tmp_path):
    snap = raw_snapshot(tmp_path / "raw.json")
    driver = tmp_path / "app_driver.py"
    driver.write_text(textwrap.dedent(APP_DRIVER))
    env = _env(tmp_path)
    pid, fd = pty.fork()
    if pid == 0:  # the child: the real app on a real pseudo-terminal
        os.chdir(tmp_path / "out" / "cwd")
        os.execve(sys.executable, [sys.executable, str(driver), "--no-user-playbooks", "--from", str(snap)], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    out = b""
    deadline = time.time() + 60
    while time.time() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        out += _read(fd, 0.2)
        if done:
            out += _read(fd, 0.5)
            break
    else:
        os.kill(pid, 9)
        raise AssertionError(f"the app did not end after the crash: {out[-2000:]!r}")
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 2, (status, out[-2000:])
    assert SECRET.encode() not in out and b"hu****(18" not in out  # not even masked: no dump at all
    assert b"Traceback" not in out and b"DB_PASSWORD" not in out
    after = out.rsplit(b"\x1b[?1049l", 1)[-1]  # what is left on the terminal once the app's screen is gone
    text = re.sub(r"\x1b\[[0-9;?<>=]*[A-Za-z~]", "", after.decode(errors="replace"))  # terminal mode resets
    lines = [line for line in text.replace("\r", "").split("\n") if line.strip()]
    assert len(lines) == 1, text  # exactly one line
    _check_report(tmp_path, lines[0])


def test_the_cli_crashing_prints_one_line_and_no_secret(tmp_path):
    snap = raw_snapshot(tmp_path / "raw.json")
    driver = tmp_path / "cli_driver.py"
    driver.write_text(textwrap.dedent(CLI_DRIVER))
    for args in (["scan"], ["scan", "--json"]):
        proc = subprocess.run([sys.executable, str(driver), "--no-user-playbooks", *args, "--from", str(snap)],
                              capture_output=True, timeout=60, env=_env(tmp_path), cwd=tmp_path / "out" / "cwd")
        assert proc.returncode == 2, (proc.returncode, proc.stderr)
        assert proc.stdout == b""
        assert SECRET.encode() not in proc.stderr and b"Traceback" not in proc.stderr
        lines = proc.stderr.decode().splitlines()
        assert len(lines) == 1, proc.stderr
        _check_report(tmp_path, lines[0])
