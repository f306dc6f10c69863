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

