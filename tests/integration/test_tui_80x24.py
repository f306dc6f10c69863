"""The app at 80x24 (a laptop's SSH window) on the shipped demo (no engine needed): the walkthrough scrolls as a
whole with the keyboard, the selected step is marked in plain text, and the board keeps container names readable."""
import asyncio

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import ListView

from tests.integration.conftest import until
from troubleshoot.backend import DEMO_SNAPSHOT, snapshot_backend
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.lab import SCENARIOS
from troubleshoot.tui.factory import make_app
from troubleshoot.tui.rows import middle_ellipsis
from troubleshoot.tui.screens.walkthrough import WalkthroughScreen
from troubleshoot.tui.widgets.container_table import ContainerTable
from troubleshoot.tui.widgets.step_item import StepItem


def demo_app():
    catalog = load_catalog()
    return make_app(catalog, backend=snapshot_backend(catalog, DEMO_SNAPSHOT), read_only=True)


async def loaded(pilot):
    app = pilot.app
    # app.loaded: the first load's last message too (everything diagnosed again with every peer), whose repaint
    # would otherwise come after this, over what a test drew itself (test_board_table, on a loaded host); and the
    # board's table showing every container from its inspect: `loaded` is set, and the board told, a message before
    # the board repaints (a window that a loaded machine widened: a row still drawn from the sparse list)
    await until(pilot, lambda: app.loaded and len(app.findings) >= len(SCENARIOS) and not app.screen.repaint_pending
                and _table_current(app), what="the demo to load and show")


def _table_current(app) -> bool:
    table = app.screen.query_one(ContainerTable)
    shown = table._shown
    return all(cid in shown and shown[cid].obs is app.observations.get(cid) for cid in app.rows)


def test_middle_ellipsis_keeps_the_end_and_the_badge():
    name = Text("lab-entrypoint-interpreter [lab]")
    assert middle_ellipsis(name, 40) is name
    cut = middle_ellipsis(name, 25).plain
    assert len(cut) == 25 and cut.endswith("nterpreter [lab]") and cut.startswith("lab-") and "…" in cut
    assert middle_ellipsis(Text("日本語のコンテナ名前"), 9).cell_len <= 9
    assert middle_ellipsis(Text(" CRIT  entrypoint-interpreter"), 17, keep=7).plain == " CRIT  ent…preter"
    assert [middle_ellipsis(name, w).plain for w in (1, 0)] == ["…", ""]


def test_walkthrough_scrolls_as_a_whole_at_80x24(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))

    async def go():
        app = demo_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await loaded(pilot)
            await pilot.press("slash", *"lab-port-conflict", "enter", "enter")  # the victim: worst first
            await until(pilot, lambda: isinstance(app.screen, WalkthroughScreen), what="the walkthrough")
            screen = app.screen
            body = screen.query_one("#wt-body", VerticalScroll)
            view = screen.query_one("#steps", ListView)
            await pilot.pause()
            assert screen.query_one("#wt-intro").parent is body  # the intro scrolls with the steps
            assert body.max_scroll_y > 0 and body.scroll_y == 0  # opened at the top: the intro first
            assert app.focused is view and view.index == 0
            items = list(view.query(StepItem))
            marked = lambda: [i.number for i in items if i._body().renderables[0].plain.startswith("▶ ")]  # noqa: E731
            assert marked() == [1]

            await pilot.press("pagedown")
            assert body.scroll_y > 0 and view.index == 0  # the page moved, the selection did not
            first_page = body.scroll_y
            await pilot.press("ctrl+up")
            assert body.scroll_y == first_page - 1
            await pilot.press("end")
            assert body.scroll_y == body.max_scroll_y
            await pilot.press("home")
            assert body.scroll_y == 0

            await pilot.press("down", "down")  # up/down still move between the steps, and keep them in view
            assert view.index == 2 and marked() == [3]
            step = items[2]
            top, bottom = body.scroll_y, body.scroll_y + body.scrollable_content_region.height
            assert top <= step.region.y - body.region.y + body.scroll_y < bottom
            await pilot.press("up", "up")
            assert view.index == 0 and marked() == [1]
            await pilot.press("pagedown", "up")  # up at the first step: back to the very top (the intro)
            assert body.scroll_y == 0 and view.index == 0
            for _ in items:
                await pilot.press("down")
            assert view.index == len(items) - 1 and body.scroll_y == body.max_scroll_y  # down at the last: the end
    asyncio.run(go())


def test_board_names_are_readable_at_80_columns():
    async def go():
        app = demo_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await loaded(pilot)
            table = app.screen.query_one(ContainerTable)
            names = {str(table.get_row(cid)[0]): app.rows[cid].name for cid in app.rows}
            for shown, name in names.items():
                assert shown.endswith(" [lab]")
                bare = shown.removesuffix(" [lab]")
                assert bare == name or ("…" in bare and name.endswith(bare.split("…")[1])
                                        and name.startswith(bare.split("…")[0]) and len(bare.split("…")[1]) >= 8)
            assert table.ordered_columns[0].width >= 24 and table.ordered_columns[0].key.value == "name"
            assert sum(1 for s, n in names.items() if s.removesuffix(" [lab]") == n) >= len(names) * 2 // 3
            await pilot.resize_terminal(140, 30)  # wider: every name whole
            await until(pilot, lambda: all(str(table.get_row(cid)[0]) == f"{app.rows[cid].name} [lab]"
                                           for cid in app.rows), what="the names to show whole at 140 columns")
    asyncio.run(go())
