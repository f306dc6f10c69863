"""`troubleshoot report NAME` on the live daemon (issue 12): it resolves the name to the container's current id
through the daemon, and uses only a record of the live daemon for that id; never the demo's record, nor the record
of a removed container that had the same name."""
import re
from datetime import datetime, timezone

import pytest

from tests.engine import docker
from tests.scenarios import create
from tests.unit.test_files import run_cli
from troubleshoot.backend import open_source
from troubleshoot.core.incident import note_event
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.incidents import IncidentLog, incidents_dir

pytestmark = pytest.mark.engine


def plant(name: str, cid: str, source: str, marker: str) -> IncidentLog:
    log = IncidentLog(incidents_dir() / f"{marker}.jsonl")
    log.append({"at": "2099-01-01T00:00:00Z", "kind": "opened", "container": name, "container_id": cid,
                "source": source, "finding": {"playbook": "oom-killed", "title": "t", "evidence": []},
                "cause": f"the {marker} cause"})
    return log


def test_report_on_a_live_container_uses_only_its_live_record(engine):
    name = create("oom-killed")
    try:
        cid = docker("inspect", "-f", "{{.Id}}", name).stdout.decode().strip()
        live = open_source(load_catalog())
        label = live.label
        live.close()
        plant(name, cid, "snapshot demo-snapshot.json, taken 2026-11-23 09:00 UTC from lab", "demo-record")
        plant(name, "f" * 64, label, "removed-container-record")  # an older container of the same name
        proc = run_cli("report", name)
        assert proc.returncode == 0, proc.stderr
        assert "RCA from a scan just now" in proc.stderr
        rca = proc.stdout
        assert "demo-record" not in rca and "removed-container-record" not in rca
        assert f"1. {name} was killed by the kernel at its 25.2 MB memory limit (exit 137, OOMKilled)" in rca
        assert "(from a scan now: no incident record" in rca
        assert not re.search(r"(?<!\{)\{[a-z_][a-z0-9_]*\}(?!\})", rca), "an unfilled placeholder"
        mine = plant(name, cid, label, "live-record")
        mine.append(note_event(datetime(2099, 1, 1, 0, 5, tzinfo=timezone.utc), "paged the owner", ()))
        proc = run_cli("report", name)
        assert proc.returncode == 0 and f"RCA from incident record {mine.path}" in proc.stderr, proc.stderr
        assert "the live-record cause" in proc.stdout and "paged the owner" in proc.stdout
        assert "demo-record" not in proc.stdout
        proc = run_cli("report", "--demo", "lab-oom-killed")
        assert proc.returncode == 0 and "live-record" not in proc.stdout and "RCA from a scan just now" in proc.stderr
    finally:
        docker("rm", "-f", name, check=False)
