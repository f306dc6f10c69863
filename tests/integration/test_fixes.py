"""Every shipped container playbook with a lab scenario, closed through the app: the scenario made for real, the
walkthrough opened from the board, the shipped fix applied through the confirmation dialog with the suggested
values, the verdict awaited (pass: the finding gone, the container up and healthy or done), and the RCA exported
and read for the evidence. The playbooks whose fix cannot close the lab incident are listed with why (CLOSES), and
docs/playbooks.md carries the same table (tests/unit/test_docs.py keeps them equal)."""
import asyncio
import time

import pytest

from tests.engine import docker
from tests.integration.conftest import press_run, until
from tests.integration.test_tui import cid_of, steps
from tests.fix_table import CLOSES, VARIANT_CLOSES
from troubleshoot.lab import VARIANTS
from tests.scenarios import create
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.tui.factory import make_app
from troubleshoot.tui.screens.confirm import ConfirmScreen
from troubleshoot.tui.screens.walkthrough import WalkthroughScreen

pytestmark = pytest.mark.engine


def at_most_every(seconds: float, predicate):
    """`predicate`, asked again only `seconds` after it last was (False meanwhile): a docker CLI call on each of
    `until`'s 0.1 s polls, through a 60 s wait, spent ~10 s of CPU the other workers wait for."""
    last = [float("-inf")]

    def check() -> bool:
        if time.monotonic() - last[0] < seconds:
            return False
        last[0] = time.monotonic()
        return predicate()
    return check


def _cleanup(name: str) -> None:
    found = docker("ps", "-aq", "--filter", f"name=^{name}", check=False).stdout.decode().split()
    if found:  # the scenario's own and what it made beside it (NAME-db, NAME-holder, NAME-before-fix-...)
        docker("rm", "-f", "-v", *found, check=False)
    docker("volume", "rm", f"{name}-data", check=False)


async def walkthrough_of(pilot, app, name: str):
    """The container diagnosed, and the containers beside it (NAME-db, NAME-holder) inspected: a batch diagnoses
    again the broken containers close to it, so its findings then have them as peers. Then its walkthrough."""
    def ready():
        cid = cid_of(app, name)
        beside = [k for k, r in app.rows.items() if r.name.startswith(f"{name}-")]
        return cid and app.findings.get(cid) and all(k in app.observations for k in beside)
    await until(pilot, ready, timeout=30, what="the board")
    return await open_walkthrough(pilot, app, name)


async def fix_dialog(pilot, app, screen, recreate_only: bool = False) -> tuple[list, int]:
    """The first fix step (the first that recreates, with `recreate_only`) selected and run: its dialog open."""
    items = steps(screen)
    fix = [i for i, s in enumerate(items) if s.section == "fix" and (s.step.recreate or not recreate_only)][0]
    screen.query_one("#steps").index = fix
    await pilot.pause()
    items[fix].exit_code = None
    await pilot.press("r")
    await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the dialog")
    return items, fix


async def open_walkthrough(pilot, app, name: str):
    """The board filtered to the name (pasted into the filter box: a key at a time is tested in test_tui and the
    tmux tests), the cursor on that very container (a `-db` or `-holder` beside it matches the filter too), Enter."""
    from textual import events
    from textual.widgets import Input
    from troubleshoot.tui.widgets.container_table import ContainerTable
    await pilot.press("slash")
    box = app.screen.query_one("#filter", Input)
    await until(pilot, lambda: app.focused is box, what="the filter box")
    box.post_message(events.Paste(name))
    await until(pilot, lambda: box.value == name, what="the pasted filter")
    await pilot.press("enter")
    table = app.screen.query_one(ContainerTable)
    await until(pilot, lambda: cid_of(app, name) in {k.value for k in table.rows}, what="the filtered board")
    table.move_cursor(row=table.get_row_index(cid_of(app, name)))
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, WalkthroughScreen), what="the walkthrough")
    return app.screen


async def _modal_answer(pilot, app, key: str = "y") -> None:
    await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation dialog")
    dialog = app.screen
    if key == "y":
        await press_run(pilot, app)
    else:
        await pilot.press(key)
    try:
        await until(pilot, lambda: isinstance(app.screen, WalkthroughScreen), what="back to the walkthrough")
    except AssertionError:
        raise AssertionError(f"the dialog stayed: {dialog.problem} ({dialog.values()})") from None


async def apply_fix(pilot, app, screen, number: int) -> None:
    """Select fix step `number` (0-based, in the playbook's fix list), run it, confirm with the suggested values."""
    items = steps(screen)
    fix = [i for i, s in enumerate(items) if s.section == "fix"][number]
    screen.query_one("#steps").index = fix
    await pilot.pause()
    await pilot.press("r")
    assert not items[fix].why_not, (items[fix].step.title, items[fix].why_not, screen.values)
    try:
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), timeout=10, what="the dialog")
    except AssertionError:
        raise AssertionError((app.screen, screen.current and screen.current.step.title,
                              [str(n.message) for n in app._notifications])) from None
    await _modal_answer(pilot, app)
    await until(pilot, lambda: items[fix].exit_code is not None, timeout=90, what=f"fix step {number} to end")
    assert items[fix].exit_code == 0, (items[fix].step.title, "\n".join(items[fix].output))


async def export_rca(pilot, app, screen) -> str:
    from troubleshoot.incidents import reports_dir
    await pilot.press("e")
    await until(pilot, lambda: app.screen is not screen, what="the root cause dialog")
    await pilot.press("ctrl+s")
    report = reports_dir() / f"{screen.incident_log.id}.md"
    await until(pilot, report.exists, what="the RCA file")
    return report.read_text()


@pytest.mark.parametrize("scenario", sorted(p for p, row in {**CLOSES, **VARIANT_CLOSES}.items() if row.fixes))
def test_the_shipped_fix_closes_the_lab_incident(engine, scenario):
    row = {**CLOSES, **VARIANT_CLOSES}[scenario]
    playbook = VARIANTS[scenario].id if scenario in VARIANTS else scenario
    name = create(scenario)
    try:
        async def go():
            app = make_app(load_catalog(), live_events=False)
            async with app.run_test(size=(120, 40)) as pilot:
                screen = await walkthrough_of(pilot, app, name)
                assert app.findings[cid_of(app, name)][0].playbook_id == playbook
                assert screen.playbook.id == playbook
                if row.wait:
                    await until(pilot, at_most_every(1.0, lambda: docker(
                        "inspect", "-f", "{{.State.Health.Status}}", f"{name}-db", check=False).stdout.decode().strip()
                        == "healthy"), timeout=120, what="its database to be ready")
                for number in row.fixes:
                    await apply_fix(pilot, app, screen, number)
                await until(pilot, lambda: screen._last_verdict in ("pass", "fail"), timeout=90, what="a verdict")
                verdicts = [e for e in screen.incident_log.read().events if e["kind"] == "verdict"]
                assert verdicts[-1]["status"] == "pass", verdicts
                state = docker("inspect", "-f", "{{.State.Status}}", name).stdout.decode().strip()
                assert state == "running", state
                found = [f.playbook_id for f in app.findings.get(screen.cid) or []]
                assert playbook not in found, found
                rca = await export_rca(pilot, app, screen)
                applied = rca.split("## Fix Applied", 1)[1].split("## Preventive Actions", 1)[0]
                assert "none" not in applied.splitlines()[0], applied
                for word in row.evidence:
                    assert word in rca, (word, rca.split("## Root Cause Analysis", 1)[1][:800])
        asyncio.run(go())
    finally:
        _cleanup(name)


def test_a_fix_that_fails_is_shown_keeps_the_old_container_and_rolls_back(engine):
    """shm-exhausted recreated with a /dev/shm still too small (2m for 4 MB): the new container fails, verify says
    so, the old one is kept (stopped, renamed), and `u` + `y` puts it back under its name."""
    name = create("shm-exhausted")
    old_id = docker("inspect", "-f", "{{.Id}}", name).stdout.decode().strip()
    try:
        async def go():
            app = make_app(load_catalog(), live_events=False)
            async with app.run_test(size=(120, 40)) as pilot:
                screen = await walkthrough_of(pilot, app, name)
                items, fix = await fix_dialog(pilot, app, screen)
                field = app.screen.query_one("#ask-shm_size")
                assert field.value == "64m"  # the suggestion
                field.value = "2m"  # the bad value
                await pilot.pause()
                await press_run(pilot, app)
                await until(pilot, lambda: items[fix].exit_code is not None, timeout=60, what="the fix")
                assert items[fix].exit_code == 0  # recreated and started: the failure shows in the verdict
                await until(pilot, lambda: screen._last_verdict == "fail", timeout=60, what="the failing verdict")
                kept = docker("ps", "-a", "--filter", f"id={old_id}", "--format", "{{.Names}}").stdout.decode().strip()
                assert kept.startswith(f"{name}-before-fix-"), kept
                assert "roll back" in str(screen.query_one("#wt-status").render())
                new_id = screen.cid
                await pilot.press("u")
                await _modal_answer(pilot, app)
                await until(pilot, lambda: any(e["kind"] == "rollback" for e in screen.incident_log.read().events),
                            timeout=60, what="the rollback")
                back = docker("inspect", "-f", "{{.Id}}", name).stdout.decode().strip()
                assert back == old_id  # the old container has its name again
                gone = docker("ps", "-a", "-q", "--no-trunc", "--filter", f"id={new_id}").stdout.decode().strip()
                assert gone == ""
                rca = await export_rca(pilot, app, screen)
                assert "## Fix Applied: none" in rca
        asyncio.run(go())
    finally:
        _cleanup(name)


def test_a_fix_the_daemon_refuses_rolls_back_by_itself(engine):
    """port-conflict recreated on the port its holder has: the start fails; the old container keeps its name."""
    name = create("port-conflict")
    old_id = docker("inspect", "-f", "{{.Id}}", name).stdout.decode().strip()
    port = docker("inspect", "-f", '{{(index (index .HostConfig.PortBindings "80/tcp") 0).HostPort}}',
                  name).stdout.decode().strip()
    try:
        async def go():
            app = make_app(load_catalog(), live_events=False)
            async with app.run_test(size=(120, 40)) as pilot:
                screen = await walkthrough_of(pilot, app, name)
                items, fix = await fix_dialog(pilot, app, screen, recreate_only=True)
                dialog = app.screen
                dialog.query_one("#ask-free_port").value = port  # taken by the holder
                await pilot.pause()
                await press_run(pilot, app)
                assert isinstance(app.screen, ConfirmScreen) and f"host port {port} is published by" in dialog.problem
                dialog.query_one("#ask-free_port").value = "70000"  # not a port
                await pilot.pause()
                await press_run(pilot, app)
                assert isinstance(app.screen, ConfirmScreen) and "not a port" in dialog.problem
                dialog.query_one("#ask-free_port").value = port  # the check in the dialog aside: the daemon refuses
                dialog.preview = None
                dialog.problem = ""
                await press_run(pilot, app)
                await until(pilot, lambda: items[fix].exit_code is not None, timeout=60, what="the fix")
                assert items[fix].exit_code == 1 and any("rolled back" in line for line in items[fix].output)
                assert docker("inspect", "-f", "{{.Id}}", name).stdout.decode().strip() == old_id
        asyncio.run(go())
    finally:
        _cleanup(name)


def test_a_second_try_after_a_failed_verdict_keeps_the_original_and_leaves_nothing_behind(engine):
    """From a trial: shm 2m (verify fails), then 64m (verify passes). The first try's container is removed at the
    second try, the original when verify passes: nothing named NAME-before-fix-* is left; the RCA lists only the
    64m fix as applied."""
    name = create("shm-exhausted")
    try:
        async def go():
            app = make_app(load_catalog(), live_events=False)
            async with app.run_test(size=(120, 40)) as pilot:
                screen = await walkthrough_of(pilot, app, name)
                for size, verdict in (("2m", "fail"), ("64m", "pass")):
                    items, fix = await fix_dialog(pilot, app, screen)
                    app.screen.query_one("#ask-shm_size").value = size
                    await pilot.pause()
                    await press_run(pilot, app)
                    await until(pilot, lambda items=items, fix=fix: items[fix].exit_code is not None, timeout=60, what="the fix")
                    assert items[fix].exit_code == 0, items[fix].output
                    await until(pilot, lambda v=verdict: screen._last_verdict == v, timeout=60, what=verdict)
                await until(pilot, lambda: not docker("ps", "-aq", "--filter", f"name=^{name}-before-fix",
                                                      check=False).stdout.strip(), timeout=30,
                            what="the containers before the fix removed")
                assert docker("inspect", "-f", "{{.HostConfig.ShmSize}}", name).stdout.decode().strip() == str(64 << 20)
                rca = await export_rca(pilot, app, screen)
                applied = rca.split("## Fix Applied", 1)[1].split("**Tried", 1)[0]
                assert "--shm-size 64m" in applied and "--shm-size 2m" not in applied, applied
        asyncio.run(go())
    finally:
        _cleanup(name)
