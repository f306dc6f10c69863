import json
import subprocess
import sys

import pytest


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
