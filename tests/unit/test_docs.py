"""docs/playbooks.md stays true: its example loads and works, and every signal and operator is documented."""
import re
from pathlib import Path

from troubleshoot.core.diagnose import diagnose_container
from troubleshoot.core.match import OPS
from troubleshoot.core.playbooks import Catalog, load_text
from troubleshoot.core.signals import REGISTRY
from tests.unit.conftest import fixture, observe

DOC = (Path(__file__).resolve().parents[2] / "docs" / "playbooks.md").read_text()


def _example() -> str:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC, re.S)
    return next(b for b in blocks if b.startswith("id: order-code-mismatch"))


def test_worked_example_loads_and_ranks_first(catalog):
    pb, errors = load_text(_example(), "docs/playbooks.md")
    assert errors == [] and pb is not None
    team = Catalog(dict(catalog.playbooks))
    team.playbooks[pb.id] = pb

    def missing_method(rec):
        rec["logs"] = ["POST /orders -> 500", "Missing method error: OrderService.createV2"]
    obs, host = observe(fixture("crashed"), missing_method)
    found = diagnose_container(obs, host, team)
    assert found[0].playbook_id == "order-code-mismatch"
    assert "log: Missing method error: OrderService.createV2" in found[0].evidence
    assert "crashed" not in [f.playbook_id for f in found]


def test_every_signal_and_operator_is_documented():
    for name in REGISTRY:
        assert f"| `{name}` |" in DOC, f"signal {name} missing from docs/playbooks.md"
    for op in OPS:
        assert f"`{op}`" in DOC, f"operator {op} missing from docs/playbooks.md"


def test_the_fix_table_in_the_docs_is_the_tested_one(catalog):
    """docs/playbooks.md says, per lab scenario, whether the shipped fix closes it: the same table the integration
    test (tests/integration/test_fixes.py) proves, and every container playbook with a lab scenario is in it."""
    from tests.fix_table import CLOSES
    from troubleshoot.lab import SCENARIOS
    assert set(CLOSES) == set(SCENARIOS)
    for pid, row in CLOSES.items():
        line = next((ln for ln in DOC.splitlines() if ln.startswith(f"| `{pid}` |")), None)
        assert line is not None, f"{pid} missing from the fix table"
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[2] == ("yes" if row.fixes else "no"), line
        if not row.fixes:
            assert row.why_not and cells[3] == row.why_not, line
        for i in row.fixes:
            assert catalog.get(pid).fix[i].title.replace("|", "/") in cells[1]
