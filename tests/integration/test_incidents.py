"""Every container playbook, reproduced for real on the engine, must be ranked first by `troubleshoot scan --json`."""
import pytest

from tests.engine import docker
from tests.integration.conftest import scan_json
from tests.scenarios import SCENARIOS, create

pytestmark = pytest.mark.engine


@pytest.mark.parametrize("playbook", sorted(SCENARIOS))
def test_incident_ranked_first(engine, playbook):
    name = create(playbook)
    try:
        doc, code = scan_json(name)
        assert doc["schema"] == 1
        mine = [f for f in doc["findings"] if f["container"] == name]
        assert mine, f"no finding for {name}; scan said: {doc['findings']}"
        assert mine[0]["playbook"] == playbook, f"{name}: ranked {[f['playbook'] for f in mine]}"
        assert mine[0]["evidence"], "a finding must quote its evidence"
        assert code == 1, "a critical or warning finding makes scan exit 1"
        container = next(c for c in doc["containers"] if c["name"] == name)
        assert container["top_finding"] == playbook
    finally:
        docker("rm", "-f", name, f"{name}-holder", check=False)


def test_healthy_control_raises_nothing(engine):
    name = create("control")
    try:
        doc, _code = scan_json(name)
        bad = [f for f in doc["findings"] if f["container"] == name and f["severity"] in ("critical", "warning")]
        assert bad == []
        assert [c["name"] for c in doc["containers"]] == [name]
    finally:
        docker("rm", "-f", name, check=False)
