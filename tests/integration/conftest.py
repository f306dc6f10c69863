import json
import subprocess
import sys
import time

import pytest


async def until(pilot, predicate, timeout: float = 20, what: str = "condition"):
    """Let a pilot-driven app run until `predicate()` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await pilot.pause(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def run_cli(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    """The real command line, in a subprocess, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "troubleshoot", *args], capture_output=True, text=True,
                          timeout=timeout)


def scan_json(*names: str) -> tuple[dict, int]:
    proc = run_cli("scan", "--json", *names)
    assert proc.returncode in (0, 1), f"scan failed ({proc.returncode}): {proc.stderr}"
    return json.loads(proc.stdout), proc.returncode


@pytest.fixture
def cli():
    return run_cli


async def press_run(pilot, app) -> None:
    """In a confirmation dialog: Tab out of its value fields to the buttons (typing `y` in a field types a y), then
    `y`, as an engineer does."""
    from textual.widgets import Button
    for _ in range(10):
        if isinstance(app.focused, Button):
            break
        await pilot.press("tab")
    await pilot.press("y")
