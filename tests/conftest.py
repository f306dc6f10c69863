import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.engine import daemon_events, engine_answers, remove_all  # noqa: E402


@pytest.fixture(scope="session")
def engine():
    """A real Docker engine. In CI a missing engine is a failure, never a skip."""
    if not engine_answers():
        message = "no Docker engine answers (make test starts one: scripts/ensure-engine.sh)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    remove_all()
    yield
    remove_all()


@pytest.fixture(autouse=True)
def _isolated_user_config(tmp_path_factory, monkeypatch):
    """Tests never read the developer's own ~/.config/troubleshoot, nor write into their incident records."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.getbasetemp() / "xdg-data"))


@pytest.fixture(autouse=True)
def _daemon_events_lock(request):
    """Markers reads_events / floods_events (pyproject.toml): the lock of tests/engine.py daemon_events."""
    marks = {m.name for m in request.node.iter_markers()}
    if not marks & {"reads_events", "floods_events"}:
        yield
        return
    with daemon_events(flood="floods_events" in marks):
        yield


# `make test` runs on several workers (pytest-xdist, worksteal), which take tests in collection order: the longest
# first packs them best, and the floods of events (floods_events) first keep the readers (reads_events), later,
# from waiting for them. Measured with --durations; the rest keeps its order, unit tests (CPU only) fill in at the end.
FIRST = ("test_fixes.py::test_the_shipped_fix_closes_the_lab_incident[dependency-not-ready]",  # its db: 60 s
         "integration/test_lab.py", "integration/test_scale.py", "integration/test_big_logs.py",
         "e2e/test_tmux_80x24.py", "integration/test_image_forensics.py", "integration/test_fixes.py",
         "e2e/test_tmux.py")
LAST = ("integration/test_board_truth.py", "integration/test_churn.py", "integration/test_events.py",
        "integration/test_controls.py",
        # the unit tests fill the tail, their long ones first (17.8 s, 6.3 s, 3.0 s): one at the very end idles the rest
        "unit/test_boundary_fuzz.py", "unit/test_loader_properties.py", "unit/test_bounds.py", "unit/")


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        nodeid = item.nodeid
        for i, part in enumerate(FIRST):
            if part in nodeid:
                return i - len(FIRST)
        for i, part in enumerate(LAST):
            if part in nodeid:
                return 1 + i
        return 0
    items.sort(key=rank)
