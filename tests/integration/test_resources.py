"""Resources on the real engine: each lab scenario's limit really reached, named in the scan's evidence (the signal,
the numbers, the process), and each playbook's own fix (rendered from its YAML, run as the walkthrough would) really
clears it."""
import subprocess

import pytest

from tests.engine import docker, wait_for
from tests.integration.conftest import scan_json
from tests.scenarios import create
from troubleshoot.core.commands import render
from troubleshoot.core.playbooks import load_catalog

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


@pytest.mark.parametrize("playbook", ["memory-near-limit", "cpu-throttled", "pids-limit", "fd-limit",
                                      "zombie-processes"])
def test_the_playbooks_fix_clears_it(engine, playbook):
    """The fix steps of the YAML, rendered with the container's values, run in order: the incident is gone."""
    name = create(playbook)
    try:
        pb = load_catalog().playbooks[playbook]
        values = {"container": name, "image": _image(name)}
        for step in pb.fix:
            if step.run:
                argv = render(step, values)
                proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
                assert proc.returncode == 0, (argv, proc.stderr)

        def cleared() -> bool:
            top = _top(name)
            return top is None or top["playbook"] != playbook
        wait_for(cleared, timeout=60, what=f"{playbook} to clear on {name} after its fix")
    finally:
        docker("rm", "-f", name, check=False)
