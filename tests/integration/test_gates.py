"""The gates between a key press and a change, driven with the pilot on real containers: a hostile playbook's steps
(`docker rm -f`, `read_only: false`, a fix with `changes: false`, `sh -c` with shell syntax inside one token, an
interactive exec) run nothing under --read-only and ask first otherwise; Enter never confirms; toasts never render
markup; a worker that fails ends its step as failed."""
import asyncio
import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.engine import BASE, PREFIX, docker, ensure_base, wait_state
from tests.integration.conftest import until
from troubleshoot.backend import LiveBackend, RecordedBackend
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.tui.factory import make_app
from troubleshoot.tui.screens.confirm import ConfirmScreen
from troubleshoot.tui.screens.walkthrough import WalkthroughScreen
from troubleshoot.tui.widgets.step_item import StepItem

pytestmark = pytest.mark.engine

MARK = "TROUBLESHOOT_GATES_TEST"  # the hostile playbook matches only containers that carry this env key
TARGET = PREFIX + "gates-target"
VICTIM = PREFIX + "gates-victim"

HOSTILE = """
id: gates-hostile
title: Hostile steps
severity: critical
priority: 100
symptom: a playbook from someone else
root_cause: untrusted playbook
match: {{signal: env_keys, contains: {mark}}}
diagnose:
  - docker rm -f {victim}
  - title: labelled read_only false
    run: docker rm -f {victim}
    read_only: false
  - title: shell syntax inside one argument
    run: sh -c "id > {pwned}; echo ran | cat"
  - title: a shell inside the container
    run: docker exec -it {{container}} sh
    interactive: true
  - title: is the victim there
    run: docker ps -a --filter name=^/{victim}$ --format "{{{{.Names}}}}"
fix:
  - title: labelled changes false
    run: docker rm -f {victim}
    changes: false
"""
HOSTILE_STEPS = (0, 1, 2, 3, 5)  # every step but the read-only check (4)
CHECK = 4


@pytest.fixture
def hostile(engine, tmp_path):
    """A playbook dir with the hostile playbook, the container it matches, and a victim container to remove."""
    ensure_base()
    pwned = tmp_path / "pwned"
    book = tmp_path / "playbooks"
    book.mkdir()
    (book / "hostile.yaml").write_text(HOSTILE.format(mark=MARK, victim=VICTIM, pwned=pwned))
    for name in (TARGET, VICTIM):
        docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", VICTIM, BASE, "sleep", "600")
    docker("run", "-d", "--name", TARGET, "-e", f"{MARK}=1", BASE, "sh", "-c", "exit 3")
    wait_state(TARGET, "exited")
    wait_state(VICTIM, "running")
    catalog = load_catalog(extra_dirs=[book])
    assert not catalog.errors and catalog.get("gates-hostile") is not None
    yield catalog, pwned
    for name in (TARGET, VICTIM):
        docker("rm", "-f", name, check=False)


def victim_exists() -> bool:
    return docker("inspect", VICTIM, check=False).returncode == 0


def cid_of(app, name: str) -> str | None:
    return next((cid for cid, row in app.rows.items() if row.name == name), None)


async def open_target(pilot, app) -> WalkthroughScreen:
    await until(pilot, lambda: (cid := cid_of(app, TARGET)) and app.findings.get(cid), what="the target's findings")
    cid = cid_of(app, TARGET)
    assert app.findings[cid][0].playbook_id == "gates-hostile"
    app.call_later(app.open_walkthrough, cid)
    await until(pilot, lambda: isinstance(app.screen, WalkthroughScreen), what="walkthrough")
    return app.screen


def items(screen) -> list[StepItem]:
    return list(screen.query(StepItem))


async def select(pilot, screen, index: int) -> StepItem:
    screen.query_one("#steps").index = index
    await pilot.pause()
    return items(screen)[index]


def label(item: StepItem) -> str:
    return item._body().renderables[0].plain


async def victim_seen_by_the_check_step(pilot, screen) -> str:
    """Run the read-only check step (at once, no dialog) and return what the daemon says: the victim's name."""
    item = await select(pilot, screen, CHECK)
    assert not item.is_change and "(read-only)" in label(item)
    await pilot.press("r")
    assert not isinstance(screen.app.screen, ConfirmScreen)
    await until(pilot, lambda: item.exit_code is not None, what="the check step's output")
    return "\n".join(item.output)


def test_hostile_steps_run_nothing_under_read_only(hostile):
    catalog, pwned = hostile

    async def go():
        app = make_app(catalog, read_only=True, live_events=False)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_target(pilot, app)
            for index in HOSTILE_STEPS:
                item = await select(pilot, screen, index)
                assert item.is_change, item.step.run_text
                assert "(read-only)" not in label(item)  # the label tells the truth, whatever the playbook says
                assert "--read-only: shown, not runnable" in item.why_not
                await pilot.press("r")
                assert not isinstance(app.screen, ConfirmScreen)  # refused outright, not even asked
                assert item.exit_code is None
                assert not [w for w in app.workers if w.group == "steps"]  # no step worker was started
            assert await victim_seen_by_the_check_step(pilot, screen) == VICTIM
    asyncio.run(go())
    assert victim_exists() and not pwned.exists()


def test_hostile_steps_ask_first_and_only_y_runs_them(hostile):
    catalog, pwned = hostile

    async def go():
        app = make_app(catalog, live_events=False)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_target(pilot, app)
            for index in HOSTILE_STEPS:
                item = await select(pilot, screen, index)
                assert "(read-only)" not in label(item) and not item.why_not
                await pilot.press("r")
                await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what=f"the dialog for {index}")
                assert app.screen.command == item.command  # the exact command
                await pilot.press("n")
                await until(pilot, lambda: app.screen is screen, what="back")
                assert item.exit_code is None
            assert await victim_seen_by_the_check_step(pilot, screen) == VICTIM
            assert not pwned.exists()
            # ... and the dialog really is what stands between the key and the effect: `y` runs the shell step
            item = await select(pilot, screen, 2)
            await pilot.press("r")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the dialog")
            await pilot.press("y")
            await until(pilot, lambda: item.exit_code is not None, what="the confirmed step")
            assert item.exit_code == 0 and item.output == ("ran",)
            assert pwned.exists()
            events = screen.incident_log.read().events
            assert [e["confirmed"] for e in events if e["kind"] == "step"] == [False, True]
    asyncio.run(go())
    assert victim_exists()


def test_enter_does_not_confirm_the_dialog(hostile):
    catalog, _ = hostile

    async def go():
        app = make_app(catalog, live_events=False)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_target(pilot, app)
            item = await select(pilot, screen, 5)  # the fix: docker rm -f victim
            await pilot.press("r")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the dialog")
            await pilot.press("enter")
            await until(pilot, lambda: app.screen is screen, what="the dialog to close")  # Enter = Cancel
            assert item.exit_code is None
            assert not [w for w in app.workers if w.group == "steps"]
            assert await victim_seen_by_the_check_step(pilot, screen) == VICTIM
    asyncio.run(go())
    assert victim_exists()


class FailingBackend(LiveBackend):
    """The real back end, whose step runner has a bug."""

    def run(self, argv, timeout=30, cid=None):
        raise RuntimeError("boom [b]not markup[/b]\nsecond line")


def test_a_failing_step_worker_ends_the_step_as_failed(hostile):
    catalog, _ = hostile

    async def go():
        app = make_app(catalog, backend=FailingBackend(catalog), live_events=False)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_target(pilot, app)
            item = await select(pilot, screen, CHECK)
            await pilot.press("r")
            await until(pilot, lambda: item.exit_code is not None, what="the step to end")  # not "running…" forever
            assert item.exit_code == 1 and item.failed == "RuntimeError: boom [b]not markup[/b]"
            assert "running" not in item.why_not
            assert "exit 1 (failed: RuntimeError: boom [b]not markup[/b])" in "\n".join(
                t.plain for t in item._body().renderables)
            toasts = [n.message.plain for n in app._notifications]
            assert f"step {item.number} failed: RuntimeError: boom [b]not markup[/b]" in toasts  # one line, literal
            step = [e for e in screen.incident_log.read().events if e["kind"] == "step"][-1]
            assert step["exit_code"] == 1 and step["failed"] == "RuntimeError: boom [b]not markup[/b]"
    asyncio.run(go())


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HOSTILE_NAMES = ("[@click=app.quit]x[/]", "bad[/]name", "[@click=app.screenshot('x','{dir}')]y[/]")


def test_toasts_never_render_markup(tmp_path):
    """Container names that are markup (from a snapshot someone hands you): every toast shows them as they are,
    clicking it does nothing, and the app is still there."""
    from textual.widgets._toast import Toast
    doc = json.loads((FIXTURES / "control.json").read_text())
    records = []
    for i, name in enumerate(HOSTILE_NAMES):
        record = copy.deepcopy(doc["record"])
        record["inspect"]["Id"] = f"{i:064x}"
        record["inspect"]["Name"] = "/" + name.format(dir=tmp_path)
        records.append(record)
    catalog = load_catalog(include_shipped=False)  # no playbook: nothing is found for any container
    from troubleshoot.boundary import fixture_host, fixture_record
    backend = RecordedBackend(catalog, [fixture_record(r) for r in records], fixture_host(doc["host"]),
                              datetime(2026, 1, 1, tzinfo=timezone.utc))

    async def go():
        app = make_app(catalog, backend=backend, read_only=True)
        async with app.run_test(size=(160, 50), notifications=True) as pilot:
            await until(pilot, lambda: len(app.observations) == len(records) and app.host is not None, what="load")
            for record in records:
                cid, name = record["inspect"]["Id"], record["inspect"]["Name"][1:]
                app.call_later(app.open_walkthrough, cid)
                expected = f"{name}: nothing found to walk through"
                await until(pilot, lambda expected=expected: any(t.render().plain == expected
                                                                 for t in app.screen.query(Toast)),
                            what=f"the toast for {name!r}, literal")
            for toast in list(app.screen.query(Toast)):
                await pilot.click(toast, offset=(2, 1))  # on the name: a link there would act
                await pilot.pause()
            assert app.is_running and app.return_value is None
            assert list(tmp_path.iterdir()) == []  # no screenshot written
    asyncio.run(go())


def test_a_snapshot_runs_nothing_even_without_read_only():
    """Recorded data (the demo): no step runs, not even after asking, and no terminal is handed over, even if the
    app was (wrongly) built without read_only."""
    from troubleshoot.backend import DEMO_SNAPSHOT, snapshot_backend
    catalog = load_catalog()
    called = []

    async def go():
        app = make_app(catalog, backend=snapshot_backend(catalog, DEMO_SNAPSHOT), read_only=False)
        app.run_interactive = lambda argv: called.append(argv) or (0, "")
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: (cid := cid_of(app, "lab-unhealthy")) and app.findings.get(cid), what="load")
            app.call_later(app.open_walkthrough, cid_of(app, "lab-unhealthy"))
            await until(pilot, lambda: isinstance(app.screen, WalkthroughScreen), what="walkthrough")
            screen = app.screen
            runnable = [i for i, item in enumerate(items(screen)) if item.step.run and not item.step.needs_input]
            assert any(items(screen)[i].step.interactive for i in runnable)
            for index in runnable:
                item = await select(pilot, screen, index)
                assert "recorded data" in item.why_not
                await pilot.press("r")
                assert not isinstance(app.screen, ConfirmScreen) and item.exit_code is None
            assert not [w for w in app.workers if w.group == "steps"] and called == []
    asyncio.run(go())


def test_the_walkthrough_survives_a_fix_that_removes_its_container(engine):
    """A fix that removes the container (to recreate it) leaves the walkthrough open on a container the board no
    longer has: the next step still asks first, naming the container (a trial found a KeyError crash here)."""
    ensure_base()
    name = PREFIX + "gates-removed"
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, BASE, "sh", "-c", "echo 'unexpected reply from ledger service' >&2; exit 3")
    wait_state(name, "exited")

    async def go():
        app = make_app(load_catalog(), live_events=True)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: any(r.name == name and app.findings.get(c) for c, r in app.rows.items()),
                        what="load")
            cid = next(c for c, r in app.rows.items() if r.name == name)
            app.open_walkthrough(cid)
            await until(pilot, lambda: isinstance(app.screen, WalkthroughScreen), what="walkthrough")
            screen = app.screen
            docker("rm", "-f", name)
            await until(pilot, lambda: cid not in app.rows, timeout=20, what="the row to go")
            steps = list(screen.query(StepItem))
            fix = next(i for i, s in enumerate(steps) if s.section == "fix")
            screen.query_one("#steps").index = fix
            await pilot.press("r")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
            assert name in app.screen.title_text, app.screen.title_text
            await pilot.press("n")
            assert app.is_running
    try:
        asyncio.run(go())
    finally:
        docker("rm", "-f", name, check=False)
