"""The app with no daemon at all: it says why and offers the shipped demo; the demo opens read-only, marked as
recorded, with every lab incident on the board. (No engine needed: that is the point.)"""
import asyncio

from tests.integration.conftest import until
from troubleshoot.backend import DEMO_SNAPSHOT, LiveBackend, snapshot_backend
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.lab import SCENARIOS
from troubleshoot.tui.factory import make_app
from troubleshoot.tui.screens.no_daemon import NoDaemonScreen
from troubleshoot.tui.widgets.container_table import ContainerTable
from troubleshoot.tui.widgets.host_strip import HostStrip


def demo_app():
    catalog = load_catalog()
    return make_app(catalog, backend=snapshot_backend(catalog, DEMO_SNAPSHOT), read_only=True)


async def demo_shown(pilot) -> None:
    """The demo's every incident diagnosed, and shown (no repaint pending, the tabs mounted)."""
    app = pilot.app
    await until(pilot, lambda: len(app.findings) >= len(SCENARIOS) and not app.screen.repaint_pending,
                what="the demo to load and show")


def test_no_daemon_offers_the_demo_and_d_takes_it(tmp_path):
    async def go():
        catalog = load_catalog()
        app = make_app(catalog, backend=LiveBackend(catalog, f"unix://{tmp_path}/no.sock"))
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, NoDaemonScreen), what="the no-daemon offer")
            assert "does not exist" in str(app.screen.query_one("#nodaemon-reason").render())
            await pilot.press("d")
            await until(pilot, lambda: app.return_value == "demo", what="the app to hand over to the demo")
    asyncio.run(go())


def test_the_demo_board_is_marked_recorded_and_lists_every_lab_incident():
    async def go():
        app = demo_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await demo_shown(pilot)
            strip = str(app.screen.query_one(HostStrip).render())
            assert strip.startswith("RECORDED (read-only): snapshot demo-snapshot.json")
            tops = {app.rows[cid].name: found[0].playbook_id for cid, found in app.findings.items() if found}
            assert all(tops[f"lab-{sid}"] == sid for sid in SCENARIOS)
    asyncio.run(go())


def test_the_hidden_tabs_mount_their_widgets_when_first_opened():
    """The Logs and Image tabs' widgets (~20 ms of the first paint's path: widgets and their styles a first look never
    shows) are mounted the first time their tab opens, not with the board, and they work once opened."""
    from textual.widgets import DataTable, Log

    async def go():
        app = demo_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await demo_shown(pilot)
            board = app.screen
            assert not board.query(Log) and not board.query("#history") and not board.query("#log-search")
            await pilot.press("2")
            await until(pilot, lambda: bool(board.query(Log)) and board.query_one(Log).is_mounted,
                        what="the Logs tab's log")
            assert not board.query_one("#log-search").display  # hidden until s
            await pilot.press("s")
            assert board.query_one("#log-search").display and board.focused is board.query_one("#log-search")
            await pilot.press("escape", "4")
            await until(pilot, lambda: board.query("#history") and board.query_one("#history", DataTable).row_count,
                        what="the Image tab's layers of the selected container's image")
            assert [c.label.plain for c in board.query_one("#history", DataTable).columns.values()] == [
                "SIZE", "CREATED BY"]
    asyncio.run(go())


def test_the_key_bar_shows_the_focused_keys_and_a_click_presses_one():
    """The key bar (one widget, not Textual's Footer of one widget per key): the keys of what has the focus, drawn
    again when the focus changes; a click on a key presses it."""
    from textual.widgets import Footer

    from troubleshoot.tui.screens.help import HelpScreen
    from troubleshoot.tui.widgets.key_bar import KeyBar

    def bar(app) -> str:
        return app.screen.query_one(KeyBar).render().plain

    async def go():
        app = demo_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: len(app.findings) >= len(SCENARIOS), what="the demo to load")
            assert not app.screen.query(Footer)
            shown = bar(app)
            assert shown.startswith(" / Filter  a All/running  v Re-check  z Fold project  ? Help  q Quit ")
            assert shown.rstrip().endswith("▏^p palette") and len(shown) == 120
            await pilot.press("slash")  # the filter box has the focus: its keys only
            await until(pilot, lambda: "All/running" not in bar(app), what="the key bar redrawn for the filter")
            assert bar(app).startswith(" / Filter ")
            await pilot.press("escape")
            await until(pilot, lambda: "? Help" in bar(app), what="the board's keys again")
            x = bar(app).index("? Help") + 1
            await pilot.click(KeyBar, offset=(x, 0))
            await until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help, from a click on '? Help'")
    asyncio.run(go())


def test_keys_typed_as_the_board_appears_are_the_boards_not_a_hidden_filters():
    """Keys typed during the launch (queued before the board's table took the focus) went into the filter box, hidden
    then: the board stayed empty (a filter nobody can see) until escape. They are the board's keys."""
    from textual import events

    from troubleshoot.tui.screens.board import BoardScreen

    async def go():
        app = demo_app()
        push = app.push_screen

        def push_screen(screen, *args, **kwargs):  # the keys reach the app as the board is pushed, before it mounts
            done = push(screen, *args, **kwargs)
            if isinstance(screen, BoardScreen):
                for key in "4i":
                    app.post_message(events.Key(key, key))
            return done
        app.push_screen = push_screen  # type: ignore[method-assign]
        async with app.run_test(size=(120, 40)) as pilot:
            await demo_shown(pilot)
            board = app.screen
            assert isinstance(board, BoardScreen)
            assert board.text_filter == "" and board.query_one("#filter").value == ""
            assert board.query_one(ContainerTable).row_count >= len(SCENARIOS)
            assert board.query_one("#tabs").active == "tab-image"  # 4 was the board's key
    asyncio.run(go())


def test_the_first_frame_shows_the_list_and_the_tabs_come_right_after():
    """The tabs (19 of the board's 26 widgets) are not in the frame that first shows the list: they are mounted once
    it is written, in the place kept for them; then they show the selected (worst) container's findings."""
    import io

    from rich.console import Console

    from troubleshoot.tui.screens.board import BoardScreen
    from troubleshoot.tui.widgets.findings_view import FindingsView

    seen: list[tuple[int, bool]] = []
    mount = BoardScreen._mount_tabs

    async def _mount_tabs(self):
        table = self.query_one(ContainerTable)
        seen.append((table.row_count, table.rendered >= table.shown))  # the list on screen already?
        await mount(self)

    async def go():
        app = demo_app()
        BoardScreen._mount_tabs = _mount_tabs  # type: ignore[method-assign]
        try:
            async with app.run_test(size=(120, 40)) as pilot:
                await demo_shown(pilot)
                board = app.screen
                assert board.tabs_ready and board.query("#tabs-slot > #tabs")
                assert seen and seen[0][0] >= len(SCENARIOS) and seen[0][1], seen  # after a frame with the rows
                console = Console(width=120, record=True, file=io.StringIO())
                console.print(board.query_one(FindingsView).content)
                top = app.findings[board.selected][0].playbook_id  # the tabs show the selected one's, once there
                assert top in console.export_text()
        finally:
            BoardScreen._mount_tabs = mount  # type: ignore[method-assign]
    asyncio.run(go())


def test_the_tabs_come_without_any_container_too():
    """No row to paint (an empty daemon): the tabs are mounted all the same (TABS_LATEST after the board)."""
    import json
    from datetime import datetime, timezone
    from pathlib import Path

    from troubleshoot.backend import RecordedBackend
    from troubleshoot.boundary import fixture_host

    host = json.loads(next((Path(__file__).resolve().parent.parent / "fixtures").glob("*.json")).read_text())["host"]

    async def go():
        catalog = load_catalog()
        backend = RecordedBackend(catalog, [], fixture_host(host), datetime(2026, 11, 23, tzinfo=timezone.utc))
        app = make_app(catalog, backend=backend)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.loaded and not app.screen.repaint_pending, what="the empty board")
            assert app.screen.tabs_ready and not app.rows
    asyncio.run(go())


def test_text_typed_in_the_same_burst_as_s_is_the_log_search():
    """`s` and the search right after it in one burst (a paste, SSH latency, a fast typist; tmux: send-keys s format
    Enter): the text went to the table before the search box took the focus, its letters the board's keys (f followed
    the logs, a showed the running containers only) and the enter searched nothing. As the board appears (the tabs,
    where the search box is, not mounted yet) and once it is up."""
    from textual import events

    from troubleshoot.tui.screens.board import BoardScreen

    def burst(app, text: str) -> None:
        for key in ("s", *text):
            app.post_message(events.Key(key, key))
        app.post_message(events.Key("enter", "\r"))

    async def go():
        catalog = load_catalog()
        app = make_app(catalog, backend=snapshot_backend(catalog, DEMO_SNAPSHOT), read_only=True)
        push = app.push_screen

        def push_screen(screen, *args, **kwargs):  # the keys reach the app as the board is pushed, before it mounts
            done = push(screen, *args, **kwargs)
            if isinstance(screen, BoardScreen):
                burst(app, "format")
            return done
        app.push_screen = push_screen  # type: ignore[method-assign]
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: len(app.findings) >= len(SCENARIOS) and not app.screen.repaint_pending,
                        what="the demo to load and show")
            board = app.screen
            assert isinstance(board, BoardScreen)
            await until(pilot, lambda: board.log_search == "format", what="the search typed at launch")
            assert not board.follow and not board.running_only and board.text_filter == ""
            assert board.query_one("#tabs").active == "tab-logs"
            burst(app, "after")
            await until(pilot, lambda: board.log_search == "after", what="the search typed on the board")
            assert not board.follow and not board.running_only
            await pilot.press("/", "s", "a")  # an s typed into the filter box is text, not a search
            await until(pilot, lambda: board.text_filter == "sa", what="the filter typed")
    asyncio.run(go())


def test_the_app_closing_while_the_tabs_mount_is_no_crash():
    """The tabs were still mounting when the app closed (a test's board gone at once, a quit at launch): their
    widgets pruned, the board's first look at them raised NoMatches (seen once in the suite under load)."""
    from troubleshoot.tui.screens.board import BoardScreen

    async def go():
        app = demo_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, BoardScreen), what="the board")
            app.screen._mount_tabs_soon()  # and the app closes at once
    asyncio.run(go())
