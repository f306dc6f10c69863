"""Resources on the real engine: each lab scenario's limit really reached, named in the scan's evidence (the signal,
the numbers, the process), and each playbook's own fix (rendered from its YAML, run as the walkthrough would) really
clears it."""
import json

import pytest

from tests.engine import docker
from tests.integration.conftest import scan_json
from tests.scenarios import create

pytestmark = pytest.mark.engine

EVIDENCE = {
    "unbounded-logs": ["no max-size (never rotated)=true", "LogPath size=", "HostConfig.LogConfig.Type=json-file"],
    "memory-near-limit": ["memory usage / limit=", "memory usage=", "HostConfig.Memory=41.9 MB", "resources read from=cgroup"],
    "cpu-throttled": ["nr_throttled/nr_periods=", "cpu.stat nr_periods=", "cpu.stat nr_throttled=", "CPU limit=0.10"],
    "fd-limit": ["Too many open files", "open fds=32", "Max open files=32", "process=pid "],
    "pids-limit": ["pids.events max=", "pids.current=", "pids.max=8", "can't fork"],
    "zombie-processes": ["zombies=10", "PID 1 is an init=false", "PID 1=sleep", "zombies: pid "],
}


def _top(name: str) -> dict | None:
    doc, _code = scan_json(name)
    mine = [f for f in doc["findings"] if f["container"] == name]
    return mine[0] if mine else None


@pytest.mark.parametrize("playbook", sorted(EVIDENCE))
def test_resource_incident_names_its_evidence(engine, playbook):
    name = create(playbook)
    try:
        top = _top(name)
        assert top is not None and top["playbook"] == playbook, top
        assert top["confidence"] == "certain"
        for part in EVIDENCE[playbook]:
            assert any(part in line for line in top["evidence"]), (part, top["evidence"])
    finally:
        docker("rm", "-f", name, check=False)


def _image(name: str) -> str:
    return docker("inspect", "--format", "{{.Config.Image}}", name).stdout.decode().strip()


# Each playbook's fix, applied through the app with the suggested values until verify passes:
# tests/integration/test_fixes.py (memory-near-limit, cpu-throttled, pids-limit, fd-limit, zombie-processes).


def test_the_one_shot_stats_api_reads_what_the_cgroup_says(engine):
    """The remote path (API >= 1.41), asked of this engine: the same limits and pids as the local cgroup, one sample,
    and what it cannot read said, not guessed."""
    from troubleshoot.boundary import convert
    from troubleshoot.core import schema
    from troubleshoot.daemon import Daemon
    from troubleshoot.probes import resources as probe
    name = create("pids-limit")
    d = Daemon().connect()
    try:
        data = d.inspect(name)
        local = convert(probe.probe_local(data), schema.Resources, "local")
        remote = convert(probe.probe_stats(d, data, d.version().ApiVersion), schema.Resources, "remote")
        assert remote.source == "stats API (one-shot)"
        assert (remote.pids_max, remote.memory_limit) == (local.pids_max, local.memory_limit) == (8, 64 * 2 ** 20)
        assert remote.pids_current is not None and remote.memory_usage is not None
        assert remote.processes == [] and remote.fd_count is None
        assert any("need the daemon on this machine" in u for u in remote.unavailable)
        old = convert(probe.probe_stats(d, data, "1.40"), schema.Resources, "old")
        assert old.memory_usage is None and any("older than 1.41" in u for u in old.unavailable)
    finally:
        d.close()
        docker("rm", "-f", name, check=False)


def test_a_snapshot_diagnoses_the_same_without_the_daemon(engine, tmp_path, cli):
    name = create("zombie-processes")
    try:
        out = tmp_path / "snap.json"
        proc = cli("snapshot", "-o", str(out), name)
        assert proc.returncode == 0, proc.stderr
    finally:
        docker("rm", "-f", name, check=False)
    proc = cli("scan", "--from", str(out), "--json")
    doc = json.loads(proc.stdout)
    top = [f for f in doc["findings"] if f["container"] == name][0]
    assert top["playbook"] == "zombie-processes" and "zombies=10" in top["evidence"]
