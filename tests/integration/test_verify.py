"""`troubleshoot verify`: a container whose tag was re-pointed runs another image than the lock file says; verify
reports it as critical, and passes the container that runs what was expected."""
import json

import pytest

from tests.engine import BASE, build, docker, ensure_base, inspect, wait_state, PREFIX
from tests.integration.conftest import run_cli

pytestmark = pytest.mark.engine


@pytest.fixture
def deployed(engine, tmp_path):
    ensure_base()
    tag = PREFIX + "verify-order:latest"
    build(tag, f"FROM {BASE}\nLABEL version=2.8.4\nCMD [\"sleep\", \"600\"]\n")
    good = inspect_image_id(tag)
    docker("rm", "-f", PREFIX + "verify-ok", PREFIX + "verify-bad", check=False)
    docker("run", "-d", "--name", PREFIX + "verify-ok", tag)
    build(tag, f"FROM {BASE}\nLABEL version=testing-build\nCMD [\"sleep\", \"600\"]\n")  # latest re-pointed
    newer = inspect_image_id(tag)
    docker("run", "-d", "--name", PREFIX + "verify-bad", tag)  # deployed from the moved tag: the wrong code
    for name in (PREFIX + "verify-ok", PREFIX + "verify-bad"):
        wait_state(name, "running")
    assert inspect(PREFIX + "verify-bad")["Image"] == newer != good
    yield good, newer
    docker("rm", "-f", PREFIX + "verify-ok", PREFIX + "verify-bad", check=False)


def inspect_image_id(ref: str) -> str:
    return docker("image", "inspect", "--format", "{{.Id}}", ref).stdout.decode().strip()


def test_lock_file_mismatch_is_critical(deployed, tmp_path):
    good, newer = deployed
    lock = tmp_path / "images.lock.json"
    lock.write_text(json.dumps({PREFIX + "verify-ok": f"{PREFIX}verify-order@{good}", PREFIX + "verify-bad": f"{PREFIX}verify-order@{good}",
                                PREFIX + "verify-gone": f"{PREFIX}verify-order@{good}"}))
    proc = run_cli("verify", "--lock", str(lock), "--json")
    assert proc.returncode == 1, proc.stderr
    results = {r["name"]: r for r in json.loads(proc.stdout)["results"]}
    assert results[PREFIX + "verify-ok"]["status"] == "ok"
    bad = results[PREFIX + "verify-bad"]
    assert bad["status"] == "mismatch" and bad["severity"] == "critical" and bad["running_id"] == newer
    assert results[PREFIX + "verify-gone"]["status"] == "missing"
    text = run_cli("verify", "--lock", str(lock))
    assert "wrong image" in text.stdout and "CRITICAL" in text.stdout.upper()


def test_expected_digest_on_the_command_line(deployed):
    good, _newer = deployed
    ok = run_cli("verify", f"{PREFIX}verify-ok={PREFIX}verify-order@{good}")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = run_cli("verify", f"{PREFIX}verify-ok={PREFIX}verify-order:latest")
    assert bad.returncode == 2 and "expected NAME IMAGE@sha256" in bad.stderr and bad.stderr.count("\n") == 1
