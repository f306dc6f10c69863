"""The training lab as a newcomer uses it: `lab up` makes a real broken container per scenario, `scan` ranks each
one's own playbook first, a snapshot of it diagnoses identically with no daemon, and `lab down` leaves nothing."""
import json

import pytest

from tests.engine import docker
from tests.integration.conftest import run_cli
from troubleshoot.lab import SCENARIOS

pytestmark = pytest.mark.engine


def everything() -> tuple[set[str], set[str]]:
    """Every container and every image (intermediate ones included) on the daemon."""
    containers = set(docker("ps", "-aq", "--no-trunc").stdout.decode().split())
    images = set(docker("images", "-aq", "--no-trunc").stdout.decode().split())
    return containers, images


def findings_by_container(doc: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in doc["findings"]:
        if f["container"]:
            out.setdefault(f["container"], []).append(f["playbook"])
    return out


def test_lab_up_scan_snapshot_down(engine, tmp_path):
    run_cli("lab", "down")  # a lab left by an interrupted run
    before = everything()
    up = run_cli("lab", "up", timeout=600)  # no --base-image: no registry here, so the base is built from busybox
    try:
        assert up.returncode == 0, up.stderr
        assert "static busybox" in up.stdout or "pulled" in up.stdout or "busybox:latest" not in up.stdout
        labelled = docker("ps", "-a", "--filter", "label=troubleshoot.lab", "--format", "{{.Names}}").stdout.decode().split()
        assert {f"lab-{s}" for s in SCENARIOS} <= set(labelled)

        live = run_cli("scan", "--json", "lab-")
        assert live.returncode == 1, live.stderr
        live_doc = json.loads(live.stdout)
        ranked = findings_by_container(live_doc)
        wrong = {f"lab-{s}": ranked.get(f"lab-{s}") for s in SCENARIOS if (ranked.get(f"lab-{s}") or [None])[0] != s}
        assert wrong == {}, f"lab containers whose own playbook is not ranked first: {wrong}"
        assert all(c["training"] for c in live_doc["containers"]), "lab containers are marked as training"

        snap = tmp_path / "lab.json"
        made = run_cli("snapshot", "-o", str(snap), "lab-")
        assert made.returncode == 0, made.stderr
        text = snap.read_text()
        for secret in ("tok_live_7f3a9c2b1e", "hunter2-prod"):  # the secrets-in-image scenario's values
            assert secret not in text
        recorded = run_cli("scan", "--json", "--from", str(snap), "-H", "unix:///nonexistent.sock")
        assert recorded.returncode == 1, recorded.stderr
        rec_doc = json.loads(recorded.stdout)
        # The same findings, ranked the same. Evidence is compared where the container cannot change between the
        # two reads: a running container's health streak and a restart loop's count go on moving.
        key = ("container", "playbook", "severity", "kind", "confidence")
        assert [tuple(f[k] for k in key) for f in rec_doc["findings"]] == \
               [tuple(f[k] for k in key) for f in live_doc["findings"]]
        frozen = {c["name"] for c in live_doc["containers"] if c["state"] in ("exited", "created")}
        assert len(frozen) >= 8
        assert [f for f in rec_doc["findings"] if f["container"] in frozen] == \
               [f for f in live_doc["findings"] if f["container"] in frozen]
        assert [c["name"] for c in rec_doc["containers"]] == [c["name"] for c in live_doc["containers"]]
    finally:
        down = run_cli("lab", "down")
    assert down.returncode == 0, down.stderr
    assert "removed" in down.stdout
    assert everything() == before, "lab down must remove exactly what lab up made"
