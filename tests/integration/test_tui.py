"""The app driven with Textual's pilot against real containers on the engine (built by the CLI's own factory)."""
import asyncio
import time

import pytest

from tests.engine import BASE, docker, ensure_base, wait_state
from tests.scenarios import create
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.tui.factory import make_app
from troubleshoot.tui.screens.board import BoardScreen
from troubleshoot.tui.screens.confirm import ConfirmScreen
from troubleshoot.tui.screens.walkthrough import WalkthroughScreen
from troubleshoot.tui.widgets.container_table import ContainerTable
from troubleshoot.tui.widgets.step_item import StepItem

pytestmark = pytest.mark.engine


async def until(pilot, predicate, timeout: float = 20, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await pilot.pause(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def cid_of(app, name: str) -> str | None:
    return next((cid for cid, row in app.rows.items() if row.name == name), None)


async def open_walkthrough(pilot, app, name: str):
    await pilot.press("slash", *name, "enter")  # filter to that container, back to the table
    await until(pilot, lambda: app.screen.query_one(ContainerTable).row_count == 1, what="filtered board")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, WalkthroughScreen), what="walkthrough")
    return app.screen


def steps(screen) -> list[StepItem]:
    return list(screen.query(StepItem))


async def select_step(pilot, screen, index: int):
    view = screen.query_one("#steps")
    view.index = index
    await pilot.pause()


@pytest.fixture(scope="module")
def oom_container(engine):
    name = create("oom-killed")
    yield name
    docker("rm", "-f", name, check=False)


def test_board_lists_containers_and_ranks_oom_first(oom_container):
    async def go():
        app = make_app(load_catalog(), live_events=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: (cid := cid_of(app, oom_container)) and app.findings.get(cid),
                        what="the OOM container's findings")
            cid = cid_of(app, oom_container)
            assert app.findings[cid][0].playbook_id == "oom-killed"
            table = app.screen.query_one(ContainerTable)
            names = [str(table.get_row(k)[0]) for k in table.rows]
            assert oom_container in names
            row = [str(c) for c in table.get_row(cid)]
            assert "oom-killed" in row[4] and row[1] == "exited 137"
    asyncio.run(go())


def test_walkthrough_runs_a_diagnose_step_for_real_and_asks_before_a_fix(oom_container):
    async def go():
        app = make_app(load_catalog(), live_events=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: (cid := cid_of(app, oom_container)) and app.findings.get(cid), what="load")
            screen = await open_walkthrough(pilot, app, oom_container)
            assert screen.playbook.id == "oom-killed"
            first = steps(screen)[0]
            await pilot.press("r")
            await until(pilot, lambda: first.exit_code is not None, what="the step's output")
            assert first.exit_code == 0
            assert any("OOMKilled=true" in line and "ExitCode=137" in line for line in first.output), first.output
            fix = next(i for i, s in enumerate(steps(screen)) if s.step.changes)
            await select_step(pilot, screen, fix)
            await pilot.press("r")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
            assert "docker update --memory=512m" in app.screen.command
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, WalkthroughScreen), what="back")
            assert steps(screen)[fix].exit_code is None  # refused: nothing ran
            memory = docker("inspect", "-f", "{{.HostConfig.Memory}}", oom_container).stdout.decode().strip()
            assert memory == str(24 * 1024 * 1024)
    asyncio.run(go())


def test_read_only_refuses_fix_steps(oom_container):
    async def go():
        app = make_app(load_catalog(), read_only=True, live_events=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: (cid := cid_of(app, oom_container)) and app.findings.get(cid), what="load")
            screen = await open_walkthrough(pilot, app, oom_container)
            fix = next(i for i, s in enumerate(steps(screen)) if s.step.changes)
            assert "--read-only" in steps(screen)[fix].why_not
            await select_step(pilot, screen, fix)
            await pilot.press("r")
            await pilot.pause(0.3)
            assert isinstance(app.screen, WalkthroughScreen)  # no confirmation: refused outright
            assert steps(screen)[fix].exit_code is None
    asyncio.run(go())


def test_live_event_updates_the_board(engine):
    """A container dies while the app runs: the die event makes the app re-inspect it and the row changes."""
    ensure_base()
    name = "tst-tui-live"
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, BASE, "sleep", "600")
    wait_state(name, "running")

    async def go():
        app = make_app(load_catalog())
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: (cid := cid_of(app, name)) and cid in app.observations, what="load")
            cid = cid_of(app, name)
            await until(pilot, lambda: any(w.group == "events" and w.is_running for w in app.workers),
                        what="the event stream")
            await pilot.pause(0.3)
            docker("kill", name)
            await until(pilot, lambda: app.observations[cid].container.state == "exited", timeout=10,
                        what="the exited state")
            table = app.screen.query_one(ContainerTable)
            assert str(table.get_row(cid)[1]) == "exited 137"
            docker("rm", "-f", name)
            await until(pilot, lambda: cid not in app.rows, timeout=10, what="the row to go")
    try:
        asyncio.run(go())
    finally:
        docker("rm", "-f", name, check=False)
