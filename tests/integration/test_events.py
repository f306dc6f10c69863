"""The daemon's event history and exit semantics, on the real engine: who stopped a container, with which signal, and
what its exit code means (stop-timeout, segfault; 137 is not an OOM without OOM evidence; labels cannot forge it)."""
import json
import time

import pytest

from tests.engine import PREFIX, docker, ensure_base, inspect, remove_before_fix, wait_state
from tests.integration.conftest import run_cli, scan_json
from tests.scenarios import create
from troubleshoot.boundary import fixture_host, fixture_record
from troubleshoot.core.commands import placeholder_values
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.core.records import host_from_record, observation_from_record

pytestmark = [pytest.mark.engine, pytest.mark.reads_events]  # kill, stop, die, oom read back


def findings(doc: dict, name: str) -> list[dict]:
    return [f for f in doc["findings"] if f["container"] == name]


def test_stop_timeout_names_the_kill_sequence_and_is_not_an_oom(engine):
    name = create("stop-timeout")
    try:
        doc, _ = scan_json(name)
        mine = findings(doc, name)
        assert mine[0]["playbook"] == "stop-timeout", [f["playbook"] for f in mine]
        assert "oom-killed" not in [f["playbook"] for f in mine] and "crashed" not in [f["playbook"] for f in mine]
        ev = " | ".join(mine[0]["evidence"])
        assert "exit signal=SIGKILL (137 = 128+9" in ev
        assert "kill SIGTERM (15)" in ev and "kill SIGKILL (9)" in ev and "die exit 137" in ev and " stop" in ev
        assert ev.index("kill SIGTERM (15)") < ev.index("kill SIGKILL (9)") < ev.index("die exit 137")
        assert "waited before SIGKILL=" in ev
        assert not any("oom_kill" in e for e in mine[0]["evidence"])  # the host's counter is not its evidence
    finally:
        docker("rm", "-f", name, check=False)


def test_stop_timeout_fix_runs_and_really_fixes_the_lab_container(engine):
    """The playbook's fix (a recreate with an init), filled for this container and made through the data source as
    the app makes it: the new container has an init as PID 1 and everything else the old one had, and `docker stop`
    then ends it with SIGTERM (143) at once, not 137."""
    from troubleshoot.backend import LiveBackend
    from troubleshoot.core.commands import render_changes
    name = create("stop-timeout")
    try:
        record = inspect(name)
        pb = load_catalog().get("stop-timeout")
        obs = observation_from_record(*fixture_record({"inspect": record}))  # facts as the product builds them
        values = placeholder_values(obs, host_from_record(fixture_host({})))
        backend = LiveBackend(load_catalog())
        backend.connect()
        result = backend.recreate(record["Id"], render_changes(pb.fix[0], values))
        assert result.exit_code == 0, result.lines
        wait_state(name, "running")
        new = inspect(name)
        assert new["HostConfig"]["Init"] is True and new["Id"] != record["Id"]
        assert new["Config"]["Labels"] == record["Config"]["Labels"] and new["Config"]["Cmd"] == record["Config"]["Cmd"]
        started = time.monotonic()
        docker("stop", "-t", "30", name)
        assert time.monotonic() - started < 20  # the init forwarded SIGTERM: no wait for the timeout
        assert inspect(name)["State"]["ExitCode"] == 143
        doc, _ = scan_json(name)
        assert [f for f in findings(doc, name) if f["severity"] == "critical" or f["playbook"] == "stop-timeout"] == []
        assert backend.drop_old(result).exit_code == 0
    finally:
        docker("rm", "-f", name, check=False)
        remove_before_fix(name)


def test_segfault_names_sigsegv_by_number(engine):
    name = create("segfault")
    try:
        doc, _ = scan_json(name)
        mine = findings(doc, name)
        assert mine[0]["playbook"] == "segfault", [f["playbook"] for f in mine]
        assert "exit signal=SIGSEGV (139 = 128+11, segmentation fault)" in mine[0]["evidence"]
        assert any("die exit 139 SIGSEGV" in e for e in mine[0]["evidence"])
    finally:
        docker("rm", "-f", name, check=False)


def test_labels_cannot_forge_the_signal_or_the_exit_code(engine, tmp_path):
    """Docker copies a container's labels into its events' attributes, over the real ones: a `signal=9` label
    would make a graceful stop look like a SIGKILL. Those attributes are dropped."""
    base = ensure_base()
    name = f"{PREFIX}ev-forged"
    docker("rm", "-f", name, check=False)
    try:
        docker("run", "-d", "--init", "--name", name, "--label", "signal=9", "--label", "exitCode=137", base,
               "sleep", "86400")
        wait_state(name, "running")
        docker("stop", name)
        doc, _ = scan_json(name)
        mine = findings(doc, name)
        assert not any("SIGKILL" in e for f in mine for e in f["evidence"]), mine
        assert not any(f["playbook"] in ("stop-timeout", "oom-killed", "crashed") for f in mine), mine
        out = tmp_path / "snap.json"
        proc = run_cli("snapshot", "-o", str(out), name)
        assert proc.returncode == 0, proc.stderr
        snap = json.loads(out.read_text())
        seen = snap["containers"][0]["events"]["seen"]
        kills = [e for e in seen if e["action"] == "kill"]
        assert kills and all("signal" not in e and "signal" in e["forged"] for e in kills), seen
        assert all("exit_code" not in e for e in seen if e["action"] == "die"), seen
    finally:
        docker("rm", "-f", name, check=False)


def test_a_forged_signal_label_does_not_hide_a_stop_timeout(engine):
    """`--label signal=9` overwrites every kill event's signal, so both kills of a stop read 9 (dropped as forged
    when read). The stop's shape stays: a kill, another kill the timeout later, a stop, exit 137: a stop timeout
    (a trial found it reported as nothing wrong)."""
    base = ensure_base()
    name = f"{PREFIX}ev-forged-timeout"
    docker("rm", "-f", name, check=False)
    try:
        docker("run", "-d", "--name", name, "--label", "signal=9", base, "sh", "-c",
               'trap "" TERM; echo worker started; while true; do sleep 1; done')
        wait_state(name, "running")
        docker("stop", "-t", "2", name)
        wait_state(name, "exited")
        doc, _ = scan_json(name)
        mine = findings(doc, name)
        assert mine and mine[0]["playbook"] == "stop-timeout" and mine[0]["confidence"] == "certain", mine
    finally:
        docker("rm", "-f", name, check=False)
