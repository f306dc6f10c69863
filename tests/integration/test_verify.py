"""`troubleshoot verify`: a container whose tag was re-pointed runs another image than the lock file says; verify
reports it as critical, and passes the container that runs what was expected."""
import json

import pytest

from tests.engine import BASE, build, docker, ensure_base, inspect, wait_state
from tests.integration.conftest import run_cli

pytestmark = pytest.mark.engine


@pytest.fixture
def deployed(engine, tmp_path):
    ensure_base()
    tag = "tst-verify-order:latest"
    build(tag, f"FROM {BASE}\nLABEL version=2.8.4\nCMD [\"sleep\", \"600\"]\n")
    good = inspect_image_id(tag)
    docker("rm", "-f", "tst-verify-ok", "tst-verify-bad", check=False)
    docker("run", "-d", "--name", "tst-verify-ok", tag)
    build(tag, f"FROM {BASE}\nLABEL version=testing-build\nCMD [\"sleep\", \"600\"]\n")  # latest re-pointed
    newer = inspect_image_id(tag)
    docker("run", "-d", "--name", "tst-verify-bad", tag)  # deployed from the moved tag: the wrong code
    for name in ("tst-verify-ok", "tst-verify-bad"):
        wait_state(name, "running")
    assert inspect("tst-verify-bad")["Image"] == newer != good
    yield good, newer
    docker("rm", "-f", "tst-verify-ok", "tst-verify-bad", check=False)


def inspect_image_id(ref: str) -> str:
    return docker("image", "inspect", "--format", "{{.Id}}", ref).stdout.decode().strip()


def test_lock_file_mismatch_is_critical(deployed, tmp_path):
    good, newer = deployed
    lock = tmp_path / "images.lock.json"
    lock.write_text(json.dumps({"tst-verify-ok": f"tst-verify-order@{good}", "tst-verify-bad": f"tst-verify-order@{good}",
                                "tst-verify-gone": f"tst-verify-order@{good}"}))
    proc = run_cli("verify", "--lock", str(lock), "--json")
    assert proc.returncode == 1, proc.stderr
    results = {r["name"]: r for r in json.loads(proc.stdout)["results"]}
    assert results["tst-verify-ok"]["status"] == "ok"
    bad = results["tst-verify-bad"]
    assert bad["status"] == "mismatch" and bad["severity"] == "critical" and bad["running_id"] == newer
    assert results["tst-verify-gone"]["status"] == "missing"
    text = run_cli("verify", "--lock", str(lock))
    assert "wrong image" in text.stdout and "CRITICAL" in text.stdout.upper()


def test_expected_digest_on_the_command_line(deployed):
    good, _newer = deployed
    ok = run_cli("verify", f"tst-verify-ok=tst-verify-order@{good}")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = run_cli("verify", "tst-verify-ok=tst-verify-order:latest")
    assert bad.returncode == 64 and "expected NAME IMAGE@sha256" in bad.stderr and bad.stderr.count("\n") == 1
