"""The control set: containers that are fine, or stopped on purpose, give no critical finding (issue 11). Each is made
for real on the engine and scanned with the product, events read from the daemon."""
import pytest

from tests.engine import PREFIX, docker, ensure_base, wait_for, wait_state
from tests.integration.conftest import scan_json
from tests.scenarios import create

pytestmark = [pytest.mark.engine, pytest.mark.reads_events]  # stopped on purpose: its stop or kill events


def _run(name: str, *args: str) -> None:
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, *args)


def no_critical(name: str) -> list[dict]:
    doc, _ = scan_json(name)
    assert name in [c["name"] for c in doc["containers"]]
    mine = [f for f in doc["findings"] if f["container"] == name]
    assert [f for f in mine if f["severity"] == "critical"] == [], mine
    assert not {"crashed", "exits-immediately", "oom-killed", "stop-timeout"} & {f["playbook"] for f in mine}, mine
    return mine


@pytest.mark.parametrize("how,args,code", [
    ("init-143", ("--init", "sleep", "86400"), 143),  # SIGTERM forwarded by the init: 143
    ("trap-0", ("sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"), 0),  # handles SIGTERM: 0
])
def test_stopped_on_purpose_is_not_an_incident(engine, how, args, code):
    name = f"{PREFIX}ctl-stopped-{how}"
    try:
        args = (*args[:1], ensure_base(), *args[1:]) if args[0] == "--init" else (ensure_base(), *args)
        _run(name, *args)
        wait_state(name, "running")
        docker("stop", "-t", "30", name)
        assert wait_state(name, "exited")["State"]["ExitCode"] == code
        no_critical(name)
    finally:
        docker("rm", "-f", name, check=False)


def test_killed_on_purpose_is_a_sigkill_not_an_oom(engine):
    """`docker kill`: 137 with a kill event and no stop timeout: on purpose, and never an OOM."""
    name = f"{PREFIX}ctl-killed"
    try:
        _run(name, ensure_base(), "sleep", "86400")
        wait_state(name, "running")
        docker("kill", name)
        assert wait_state(name, "exited")["State"]["ExitCode"] == 137
        no_critical(name)
    finally:
        docker("rm", "-f", name, check=False)


def test_finished_one_off_job_is_not_an_incident(engine):
    name = f"{PREFIX}ctl-oneoff"
    try:
        _run(name, "--label", "com.docker.compose.oneoff=True", "--label", "com.docker.compose.service=migrate",
             ensure_base(), "sh", "-c", "echo migrations applied")
        assert wait_state(name, "exited")["State"]["ExitCode"] == 0
        mine = no_critical(name)
        assert [f for f in mine if f["kind"] == "incident"] == []
    finally:
        docker("rm", "-f", name, check=False)


def test_healthy_with_a_probe_is_not_an_incident(engine):
    name = create("control")
    try:
        mine = no_critical(name)
        assert [f for f in mine if f["severity"] in ("critical", "warning")] == []
    finally:
        docker("rm", "-f", name, check=False)


def test_stopped_then_removed_leaves_nothing_behind(engine):
    """Its events are still in the daemon's history; it is gone, so nothing is said about it, and the scan of the
    others is not disturbed."""
    gone, kept = f"{PREFIX}ctl-gone", f"{PREFIX}ctl-gone-kept"
    try:
        _run(gone, ensure_base(), "sleep", "86400")
        _run(kept, "--init", ensure_base(), "sleep", "86400")
        wait_state(gone, "running")
        wait_state(kept, "running")
        docker("stop", "-t", "1", gone)
        docker("rm", gone)
        docker("stop", kept)
        wait_for(lambda: docker("inspect", gone, check=False).returncode != 0, 30, f"{gone} to be removed")
        doc, _ = scan_json(gone)
        assert gone not in [c["name"] for c in doc["containers"]]
        assert [f for f in doc["findings"] if f["container"] == gone] == []
        no_critical(kept)
    finally:
        docker("rm", "-f", gone, kept, check=False)
