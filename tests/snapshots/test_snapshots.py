"""Snapshots (pytest-textual-snapshot) of the board and the walkthrough at 80x24 and 120x40, on facts recorded from
the real engine (tests/fixtures), through the same factory the CLI uses. A fixed clock keeps ages stable.
Update after an intended change: `.venv/bin/python -m pytest tests/snapshots --snapshot-update`."""
import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from troubleshoot.backend import RecordedBackend
from troubleshoot.boundary import fixture_host, fixture_record
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.tui.factory import make_app

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


def recorded_app():
    docs = [json.loads(p.read_text()) for p in sorted(FIXTURES.glob("*.json"))]
    catalog = load_catalog(include_shipped=True)
    backend = RecordedBackend(catalog, [fixture_record(d["record"]) for d in docs], fixture_host(docs[0]["host"]), NOW,
                              label="recorded")
    return make_app(catalog, backend=backend, clock=lambda: NOW)


async def loaded(pilot):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if (len(pilot.app.observations) == len(list(FIXTURES.glob("*.json"))) and pilot.app.host is not None
                and pilot.app.loaded and not pilot.app.load_running and not pilot.app.screen.repaint_pending):
            await pilot.pause()
            return
        await pilot.pause(0.05)
    raise AssertionError("recorded facts did not load")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_board(snap_compare, size):
    assert snap_compare(recorded_app(), terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_walkthrough(snap_compare, size, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # a fresh incident record, whatever ran before
    async def open_oom(pilot):
        await loaded(pilot)
        await pilot.press("slash", *"tst-oom", "enter", "enter")
        await pilot.pause(0.2)
    assert snap_compare(recorded_app(), terminal_size=size, run_before=open_oom)
