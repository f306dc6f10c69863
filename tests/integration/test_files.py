"""`snapshot -o` and the walkthrough's RCA export write owner-only files, whole or not at all, never through a planted
link (troubleshoot/files.py; `report -o` and the helper itself: tests/unit/test_files.py)."""
import asyncio
import os
import stat

import pytest

from tests.engine import PREFIX
from tests.integration.conftest import until
from tests.unit.test_files import run_cli
from troubleshoot.backend import DEMO_SNAPSHOT, snapshot_backend
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.incidents import data_dir, incidents_dir, reports_dir
from troubleshoot.tui.factory import make_app
from troubleshoot.tui.screens.root_cause import RootCauseScreen
from troubleshoot.tui.screens.walkthrough import WalkthroughScreen

NOTHING = f"{PREFIX}no-such-container-"  # a snapshot of no container: quick, and still a whole file


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.mark.engine
def test_snapshot_o_never_writes_through_a_planted_link(engine, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    victim = tmp_path / "victim"
    victim.write_text("root's precious file\n")
    (shared / ".out.json.tmp").symlink_to(victim)  # the predictable temp name of the old writer
    proc = run_cli("snapshot", "-o", str(shared / "out.json"), NOTHING)
    assert proc.returncode == 0, proc.stderr
    assert victim.read_text() == "root's precious file\n"
    assert mode(shared / "out.json") == 0o600
    assert '"containers": []' in (shared / "out.json").read_text()


@pytest.mark.engine
def test_snapshot_o_that_fails_midway_leaves_the_old_snapshot_and_no_temp(engine, tmp_path):
    target = tmp_path / "host1.json"
    target.write_text("yesterday's snapshot\n")
    proc = run_cli("snapshot", "-o", str(target), NOTHING, fsize=512)  # a write past 512 bytes fails: "disk full"
    assert proc.returncode != 0
    assert "cannot write" in proc.stderr and "Traceback" not in proc.stderr
    assert target.read_text() == "yesterday's snapshot\n"
    assert [p.name for p in tmp_path.iterdir()] == ["host1.json"]


def test_the_rca_export_and_the_incident_record_are_owner_only():
    """The walkthrough's `e` on the demo: the RCA is 0600, and the data, incidents and reports dirs 0700."""
    async def go():
        catalog = load_catalog()
        app = make_app(catalog, backend=snapshot_backend(catalog, DEMO_SNAPSHOT), read_only=True)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: any(r.name == "lab-crashed" and app.findings.get(cid)
                                           for cid, r in app.rows.items()), what="the demo")
            app.open_walkthrough(next(cid for cid, r in app.rows.items() if r.name == "lab-crashed"))
            await until(pilot, lambda: isinstance(app.screen, WalkthroughScreen) and app.screen.incident_log,
                        what="the walkthrough")
            screen = app.screen
            await pilot.press("e")
            await until(pilot, lambda: isinstance(app.screen, RootCauseScreen), what="the root cause to confirm")
            await pilot.press("ctrl+s")
            report = reports_dir() / f"{screen.incident_log.id}.md"
            await until(pilot, report.exists, what="the RCA file")
            assert mode(report) == 0o600
            assert mode(screen.incident_log.path) == 0o600
            assert mode(data_dir()) == mode(incidents_dir()) == mode(reports_dir()) == 0o700
    old = os.umask(0o022)
    try:
        asyncio.run(go())
    finally:
        os.umask(old)
