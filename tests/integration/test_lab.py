"""The training lab as a newcomer uses it: `lab up` makes a real broken container per scenario, `scan` ranks each
one's own playbook first, a snapshot of it diagnoses identically with no daemon, and `lab down` leaves nothing.

The daemon is shared (a user's own lab, other test runs): every test here works in this run's own lab instance
(LAB_INSTANCE), and a user's lab must survive its `lab down`."""
import io
import json
import re
import tarfile
import time

import pytest

from tests.engine import BASE, LAB_INSTANCE, PREFIX, docker, ensure_base
from tests.integration.conftest import run_cli
from troubleshoot.lab import INSTANCE_LABEL, SCENARIOS

pytestmark = pytest.mark.engine
LAB = f"lab-{LAB_INSTANCE}-"  # the names `lab up --instance LAB_INSTANCE` gives
USER = f"{LAB_INSTANCE}-user"  # "a user's" lab, on the same daemon


def instance_objects(instance: str) -> tuple[set[str], set[str]]:
    """Every container and image (dangling and intermediate ones included) of a lab instance."""
    label = f"label={INSTANCE_LABEL}={instance}"
    return (set(docker("ps", "-aq", "--no-trunc", "--filter", label).stdout.decode().split()),
            set(docker("images", "-aq", "--no-trunc", "--filter", label).stdout.decode().split()))


def lab(*args: str, instance: str = LAB_INSTANCE, timeout: int = 600):
    return run_cli("lab", *args, "--instance", instance, timeout=timeout)


def findings_by_container(doc: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in doc["findings"]:
        if f["container"]:
            out.setdefault(f["container"], []).append(f["playbook"])
    return out


@pytest.mark.floods_events  # a whole lab: ~35 containers, many with 1 s health checks (3 events a probe)
def test_lab_up_scan_snapshot_down(engine, tmp_path):
    lab("down")  # a lab left by an interrupted run
    up = lab("up")  # no --base-image: no registry here, so the base is built from busybox
    try:
        assert up.returncode == 0, up.stderr
        assert "static busybox" in up.stdout or "pulled" in up.stdout or "busybox:latest" not in up.stdout
        labelled = docker("ps", "-a", "--filter", "label=troubleshoot.lab", "--format", "{{.Names}}").stdout.decode().split()
        assert {f"{LAB}{s}" for s in SCENARIOS} <= set(labelled)

        live = run_cli("scan", "--json", LAB)
        assert live.returncode == 1, live.stderr
        live_doc = json.loads(live.stdout)
        ranked = findings_by_container(live_doc)
        wrong = {f"{LAB}{s}": ranked.get(f"{LAB}{s}") for s in SCENARIOS if (ranked.get(f"{LAB}{s}") or [None])[0] != s}
        assert wrong == {}, f"lab containers whose own playbook is not ranked first: {wrong}"
        assert all(c["training"] for c in live_doc["containers"]), "lab containers are marked as training"

        snap = tmp_path / "lab.json"
        made = run_cli("snapshot", "-o", str(snap), LAB)
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
        # ... and the host's own readings quoted as evidence (Docker root free=29.3%) move too: other runs write
        # images and logs on this disk between the two reads
        # (and `host`, where each finding was read: the daemon's URL live, the snapshot's file read back)
        def still(doc):
            return [{**f, "host": None, "evidence": [re.sub(r"^(Docker root free=)[\d.]+(%| \S+)$", r"\1N\2", e) for e in f["evidence"]]}
                    for f in doc["findings"] if f["container"] in frozen]
        assert still(rec_doc) == still(live_doc)
        assert [c["name"] for c in rec_doc["containers"]] == [c["name"] for c in live_doc["containers"]]
    finally:
        down = lab("down")
    assert down.returncode == 0, down.stderr
    assert "removed" in down.stdout
    assert instance_objects(LAB_INSTANCE) == (set(), set()), "lab down must remove every container and image it made"


def test_a_users_lab_survives_the_test_instances_lab_down(engine):
    """A test run's `lab down` once removed a user's lab mid-walkthrough: now each lab is an instance."""
    ensure_base()
    try:
        user = lab("up", "--base-image", BASE, "crashed", instance=USER)
        assert user.returncode == 0, user.stderr
        users = instance_objects(USER)
        ours = lab("up", "--base-image", BASE, "crashed", "image-drift")  # image-drift leaves a dangling image
        assert ours.returncode == 0, ours.stderr
        assert len(instance_objects(LAB_INSTANCE)[1]) >= 2  # the rebuilt tag and the one the container still runs
        down = lab("down")
        assert down.returncode == 0, down.stderr
        assert instance_objects(LAB_INSTANCE) == (set(), set())
        assert instance_objects(USER) == users, "the user's lab must survive another instance's `lab down`"
        name = docker("inspect", "-f", "{{.Name}}", *users[0]).stdout.decode().split()
        assert name == [f"/lab-{USER}-crashed"]
    finally:
        lab("down", instance=USER)
    assert instance_objects(USER) == (set(), set())


def test_a_scenario_the_daemon_cannot_start_fails_at_once_with_its_reason(engine):
    """A base image with no shell: the daemon refuses to start `sh -c ...`. `lab up` says so in one line naming the
    scenario and the daemon's reason, at once (it used to wait 60 s, then say it timed out)."""
    image = f"{PREFIX}no-shell:1"
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        info = tarfile.TarInfo("README")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"hi\n"))
    docker("import", "-", image, input=layer.getvalue())
    start = time.monotonic()
    up = lab("up", "--base-image", image, "oom-killed", timeout=120)
    took = time.monotonic() - start
    try:
        assert up.returncode == 1, up.stdout + up.stderr
        lines = up.stderr.strip().splitlines()
        assert len(lines) == 1, up.stderr
        assert lines[0].startswith(f"troubleshoot: oom-killed: the daemon cannot start {LAB}oom-killed: ")
        assert "executable file not found" in lines[0] or "no such file" in lines[0], lines[0]
        assert took < 30, f"took {took:.0f}s: a refusal must not wait for a timeout"
    finally:
        lab("down")
