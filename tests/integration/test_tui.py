"""The app driven with Textual's pilot against real containers on the engine (built by the CLI's own factory)."""
import asyncio

import pytest

from tests.integration.conftest import press_run, until
from tests.engine import BASE, docker, ensure_base, wait_state, PREFIX
from tests.scenarios import create
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.tui.factory import make_app
from textual.widgets import TextArea

from troubleshoot.tui.screens.confirm import ConfirmScreen
from troubleshoot.tui.screens.root_cause import RootCauseScreen
from troubleshoot.tui.screens.walkthrough import WalkthroughScreen
from troubleshoot.tui.widgets.container_table import ContainerTable
from troubleshoot.tui.widgets.step_item import StepItem

pytestmark = pytest.mark.engine


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
            table = app.screen.query_one(ContainerTable)

            def drawn() -> bool:  # its findings known, and its row drawn with them (a load draws in batches)
                cid = cid_of(app, oom_container)
                return bool(cid and app.findings.get(cid) and not app.screen.repaint_pending
                            and cid in table.rows and "…" != str(table.get_row(cid)[4]))
            await until(pilot, drawn, what="the OOM container's findings on the board")
            cid = cid_of(app, oom_container)
            assert app.findings[cid][0].playbook_id == "oom-killed"
            names = [str(table.get_row(k)[0]).removesuffix(" [lab]") for k in table.rows]  # test containers are lab-made
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
            real = docker("inspect", "--format", "OOMKilled={{.State.OOMKilled}} ExitCode={{.State.ExitCode}} "
                          "Memory={{.HostConfig.Memory}}", oom_container).stdout.decode().strip()
            assert first.output == (real,) and "ExitCode=137" in real  # the daemon's own answer, run for real
            fix = next(i for i, s in enumerate(steps(screen)) if s.step.changes)
            await select_step(pilot, screen, fix)
            await pilot.press("r")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
            assert "docker update --memory 256m --memory-swap 256m" in app.screen.command  # suggested from the evidence
            assert app.screen.query_one("#ask-memory").value == "256m"
            await pilot.press("n")  # typed into the focused field: a value, not an answer
            assert isinstance(app.screen, ConfirmScreen) and app.screen.query_one("#ask-memory").value == "n"
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, WalkthroughScreen), what="back")
            assert steps(screen)[fix].exit_code is None  # refused: nothing ran
            memory = docker("inspect", "-f", "{{.HostConfig.Memory}}", oom_container).stdout.decode().strip()
            assert memory == str(24 * 1024 * 1024)
    asyncio.run(go())


def test_a_confirmed_fix_is_in_the_incident_record_and_the_rca(oom_container):
    """Run the fix for real (after `y`), re-check, export: the record and the RCA say which fix ran and whether it
    was verified."""
    from troubleshoot.incidents import reports_dir

    async def go():
        app = make_app(load_catalog(), live_events=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: (cid := cid_of(app, oom_container)) and app.findings.get(cid), what="load")
            screen = await open_walkthrough(pilot, app, oom_container)
            fix = next(i for i, s in enumerate(steps(screen)) if s.step.changes and s.command)
            await select_step(pilot, screen, fix)
            await pilot.press("r")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
            await press_run(pilot, app)
            await until(pilot, lambda: steps(screen)[fix].exit_code is not None, what="the fix to run")
            assert steps(screen)[fix].exit_code == 0
            memory = docker("inspect", "-f", "{{.HostConfig.Memory}}", oom_container).stdout.decode().strip()
            assert memory == str(256 * 1024 * 1024)  # it really ran, with the suggested value
            await pilot.press("v")
            await until(pilot, lambda: any(e["kind"] == "verdict" and e["status"] == "fail"
                                           for e in screen.incident_log.read().events),
                        what="the verdict recorded (still down: it has not been started again)")
            await pilot.press("e")
            await until(pilot, lambda: isinstance(app.screen, RootCauseScreen), what="the root cause to confirm")
            area = app.screen.query_one(TextArea)
            assert f"{oom_container} was killed by the kernel at its 25.2 MB memory limit" in area.text  # its own
            area.move_cursor(area.document.end)
            area.insert(" Confirmed with the team: the cache load needs 120 MB.")
            await pilot.press("ctrl+s")
            report = reports_dir() / f"{screen.incident_log.id}.md"
            await until(pilot, report.exists, what="the RCA file")
            events = screen.incident_log.read().events
            assert events[0]["cause"].startswith(f"{oom_container} was killed by the kernel at its 25.2 MB")
            assert [e["text"] for e in events if e["kind"] == "root_cause"] == [
                area.text.strip()]  # recorded as the engineer left it
            step = next(e for e in events if e["kind"] == "step" and e["phase"] == "fix")
            assert step["confirmed"] and "docker update --memory 256m" in step["command"]
            rca = report.read_text()
            fixed = rca.split("## Fix Applied", 1)[1].split("## Preventive Actions", 1)[0]
            assert "docker update --memory 256m --memory-swap 256m " + oom_container in fixed
            assert "Not verified" in fixed  # the container is still the OOM-killed one until it runs again
            assert "## Fix Applied: none" in rca and "Tried (not verified)" in fixed  # no pass: nothing claimed
            rca_part = rca.split("## Root Cause Analysis (RCA)", 1)[1].split("## Fix Applied", 1)[0]
            assert "the cache load needs 120 MB. (confirmed by the engineer)" in rca_part
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


@pytest.mark.reads_events  # the kill's die event, in time
def test_live_event_updates_the_board(engine):
    """A container dies while the app runs: the die event makes the app re-inspect it and the row changes."""
    ensure_base()
    name = PREFIX + "tui-live"
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
            table = app.screen.query_one(ContainerTable)
            # the row, not only the state: the board repaints at most four times a second, so wait for the screen
            await until(pilot, lambda: str(table.get_row(cid)[1]) == "exited 137", timeout=10,
                        what="the row to show exited 137")
            docker("rm", "-f", name)
            await until(pilot, lambda: cid not in app.rows, timeout=10, what="the row to go")
    try:
        asyncio.run(go())
    finally:
        docker("rm", "-f", name, check=False)


def plain(static) -> str:
    from rich.console import Console
    console = Console(width=200, record=True, file=open("/dev/null", "w"))
    console.print(static.content)
    return console.export_text()


def test_tabs_logs_search_masked_env_reveal_and_copy(engine):
    from textual.widgets import Log
    ensure_base()
    name = PREFIX + "tui-tabs"
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, "-e", "DB_PASSWORD=hunter2-prod", "-e", "APP_PORT=3000", BASE, "sh", "-c",
           "echo 'INFO starting'; echo 'ERROR cannot reach ledger'; echo 'INFO retrying'; exit 3")
    wait_state(name, "exited")

    async def go():
        app = make_app(load_catalog(), live_events=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: (cid := cid_of(app, name)) and app.findings.get(cid), what="load")
            await pilot.press("slash", *name, "enter")
            await until(pilot, lambda: app.screen.query_one(ContainerTable).row_count == 1, what="filter")
            board = app.screen
            await pilot.press("3")  # inspect: the secret is masked
            inspect = plain(board.query_one("#inspect"))
            assert "hunter2-prod" not in inspect and "DB_PASSWORD=hu****(12 chars)" in inspect
            assert "APP_PORT=3000" in inspect
            await pilot.press("x")  # reveal asks first
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
            await pilot.press("n")
            await pilot.pause(0.2)
            assert "hunter2-prod" not in plain(board.query_one("#inspect"))
            await pilot.press("x")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
            await pilot.press("y")
            await until(pilot, lambda: "hunter2-prod" in plain(board.query_one("#inspect")), what="revealed")
            await pilot.press("2")  # logs: the real tail, then a search
            log = board.query_one("#logs", Log)
            await until(pilot, lambda: any("ERROR cannot reach ledger" in l for l in log.lines), what="logs")
            await pilot.press("s", *"ERROR", "enter")
            await until(pilot, lambda: any("matching 'ERROR'" in l for l in log.lines), what="search")
            assert [l for l in log.lines if "INFO" in l] == []
            await pilot.press("1")
            board.query_one(ContainerTable).focus()  # the filter still shows only this container
            await pilot.press("enter")  # walkthrough of the generic crash; copy its first command
            await until(pilot, lambda: isinstance(app.screen, WalkthroughScreen), what="walkthrough")
            await pilot.press("c")
            assert app._clipboard == f"docker logs --tail 200 {name}"
    try:
        asyncio.run(go())
    finally:
        docker("rm", "-f", name, check=False)
