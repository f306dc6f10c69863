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
