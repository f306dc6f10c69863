"""The board's table with 1,000 rows and more, no engine (the shipped demo plus rows not inspected yet): after every
repaint, what DataTable answers (rows, cells, cursor, size) and what it draws are the board's order, through
reorders, removals and filters. ContainerTable replaces its rows in one pass (DataTable's row tables rebuilt at once
instead of clear() and add_row() per row): this is what says they stay whole."""
import asyncio
import time

from textual.coordinate import Coordinate

from tests.integration.conftest import until
from tests.integration.test_tui_80x24 import demo_app, loaded
from troubleshoot.backend import Row
from troubleshoot.tui.rows import order
from troubleshoot.tui.widgets.container_table import ContainerTable

FILLERS = 1000


def keys_in_order(table: ContainerTable) -> list[str]:
    return [table.coordinate_to_cell_key(Coordinate(i, 0)).row_key.value for i in range(table.row_count)]


def drawn_names(table: ContainerTable) -> list[str]:
    """The name cell of each line drawn on screen (below the header)."""
    return [table.render_line(y).text.split()[0] for y in range(1, table.size.height)
            if table.render_line(y).text.strip()]


def assert_shows(table: ContainerTable, rows, observations, findings) -> list[str]:
    want = order(rows, findings, set(observations))
    assert keys_in_order(table) == want and table.row_count == len(want)
    assert set(k.value for k in table.rows) == set(want)
    assert table.virtual_size.height == len(want) + 1  # the header
    names = [str(table.get_row_at(i)[0]).split()[0] for i in range(len(want))]
    assert [rows[cid].name for cid in want] == [n.removesuffix(" [lab]") for n in names]
    top = table.scroll_offset.y
    drawn = drawn_names(table)
    assert drawn and drawn == names[top:top + len(drawn)]
    return want


def test_a_thousand_rows_reordered_removed_and_filtered():
    async def go():
        app = demo_app()
        async with app.run_test(size=(140, 40)) as pilot:
            await loaded(pilot)
            # from here this test alone drives the table: a board repaint still queued (under load, a StateChanged
            # handled after `loaded` saw none pending: fresh27 beside stress-ng) would draw the app's rows over it
            app.screen.repaint = lambda: None
            table = app.screen.query_one(ContainerTable)
            now = app.backend.now()
            rows = dict(app.rows)
            rows.update({f"{i:064x}": Row(f"{i:064x}", f"zz-filler-{i:04d}", "running", "Up 1 hour", "img:1")
                         for i in range(FILLERS)})
            observations, findings = dict(app.observations), dict(app.findings)
            table.show(rows, observations, findings, now)
            await pilot.pause()
            want = assert_shows(table, rows, observations, findings)
            assert all("…" in str(table.get_row(cid)[3]) for cid in want if cid not in observations)

            # the worst loses its finding: it moves below every container that has one
            worst = want[0]
            del findings[worst]
            table.show(rows, observations, findings, now)
            await pilot.pause()
            want = assert_shows(table, rows, observations, findings)
            assert want.index(worst) >= sum(1 for f in findings.values() if f)

            # the cursor moved by the user follows its container when the order changes
            await pilot.press("down", "down", "down")
            chosen = table.selected_id
            assert chosen == want[3]
            ahead = next(cid for cid in want[:3] if findings.get(cid))
            del findings[ahead]
            table.show(rows, observations, findings, now)
            await pilot.pause()
            want = assert_shows(table, rows, observations, findings)
            assert table.selected_id == chosen and table.cursor_row == want.index(chosen)

            # half the fillers and a demo container removed: their rows are gone, nothing else
            gone = ([cid for cid in rows if rows[cid].name.startswith("zz-filler-")][::2]
                    + [next(cid for cid in reversed(want) if cid in observations)])
            for cid in gone:
                del rows[cid]
                observations.pop(cid, None)
                findings.pop(cid, None)
            table.show(rows, observations, findings, now)
            await pilot.pause()
            assert_shows(table, rows, observations, findings)
            assert not set(gone) & {k.value for k in table.rows}

            # the whole board scrolled to its end still draws its own rows
            table.move_cursor(row=table.row_count - 1)
            await until(pilot, lambda: table.scroll_offset.y > 0, what="the table to scroll")
            assert_shows(table, rows, observations, findings)

            # a filter: one row; then the whole board again
            table.show(rows, observations, findings, now, text_filter="zz-filler-0999")
            await pilot.pause()
            assert [str(table.get_row_at(0)[0])] == ["zz-filler-0999"] and table.row_count == 1
            assert drawn_names(table) == ["zz-filler-0999"]
            table.show(rows, observations, findings, now)
            await pilot.pause()
            assert_shows(table, rows, observations, findings)
    asyncio.run(go())


def test_the_list_is_on_screen_before_inspects_start_and_the_strip_counts_them():
    """The first load draws the sparse list, then inspects (they would share the interpreter with that paint); the
    host strip says "inspecting n/N" until every row is diagnosed, and not after."""
    import threading

    from troubleshoot.tui.widgets.host_strip import HostStrip

    async def go():
        app = demo_app()
        release = threading.Event()
        drawn: list[int] = []
        observe = app.backend.observe

        def held(ids):
            drawn.append(app.screen.query_one(ContainerTable).row_count)
            release.wait(10)
            return observe(ids)
        app.backend.observe = held
        async with app.run_test(size=(140, 40)) as pilot:
            strip = app.screen.query_one(HostStrip)
            await until(pilot, lambda: drawn and "inspecting 0/" in str(strip.render()), what="the first batch asked")
            assert drawn[0] == len(app.rows) > 0 and not app.observations
            release.set()
            await loaded(pilot)
            await until(pilot, lambda: "inspecting" not in str(strip.render()), what="the count gone")
            assert not app.load_running and app.loaded and len(app.findings) == len(app.rows)
    asyncio.run(go())


def test_a_loads_first_findings_are_drawn_at_once_though_a_throttled_repaint_is_pending(monkeypatch):
    """The host's readings come in just before the load's first batch (the worst first): their change schedules a
    throttled repaint. The first batch's findings are drawn at once all the same, not when that repaint is due
    (here never: the throttle is an hour)."""
    import threading

    from troubleshoot.tui.screens import board as board_module

    monkeypatch.setattr(board_module, "REPAINT_LOADING", 3600.0)
    monkeypatch.setattr(board_module, "REPAINT_EVERY", 3600.0)

    async def go():
        app = demo_app()
        release = threading.Event()
        observe = app.backend.observe

        def held(ids):
            release.wait(10)
            return observe(ids)
        app.backend.observe = held
        async with app.run_test(size=(140, 40)) as pilot:
            board = app.screen
            table = board.query_one(ContainerTable)
            await until(pilot, lambda: app.host is not None and board.repaint_scheduled and not app.observations,
                        what="the host's readings in, their repaint scheduled, nothing inspected yet")

            def top_inspected() -> bool:  # a row not inspected yet shows a lone "…" in its age and finding cells
                return table.row_count > 0 and not any(str(cell) == "…" for cell in table.get_row_at(0))
            assert not top_inspected()
            release.set()
            await until(pilot, top_inspected, timeout=10, what="the first batch drawn")
            assert app.findings.get(keys_in_order(table)[0])  # the worst, with its finding
            await until(pilot, lambda: app.inspects_painted.is_set(), timeout=10, what="the first batch written")
    asyncio.run(go())


def test_after_a_load_in_many_batches_the_board_shows_the_scans_own_findings(monkeypatch):
    """Batch by batch, a container is diagnosed knowing only the containers inspected before it (and those close to
    it again); a finding that depends on another container (a database it waits for) can differ. The strip's count
    goes only when every finding is the one `troubleshoot scan` gives (core.diagnose over all of them at once). The
    shipped demo, one container per batch."""
    from troubleshoot.core.diagnose import diagnose
    from troubleshoot.tui import app as app_module
    from troubleshoot.tui.widgets.host_strip import HostStrip

    monkeypatch.setattr(app_module, "BATCH", 1)
    monkeypatch.setattr(app_module, "MOST", 1)
    diagnose_one = app_module.diagnose_container

    def slow(*args, **kwargs):  # as on a loaded host with 1,000 containers: the last pass takes its time
        time.sleep(0.005)
        return diagnose_one(*args, **kwargs)
    monkeypatch.setattr(app_module, "diagnose_container", slow)
    shown: list[tuple[bool, dict]] = []  # each time the strip is drawn: the count on it?, the board's findings then
    strip_show = HostStrip.show

    def show(self, host, findings, label, recorded=False, loading=None):
        board = {cid: [f.playbook_id for f in found] for cid, found in self.app.findings.items()}
        shown.append((loading is not None, board))
        return strip_show(self, host, findings, label, recorded, loading)
    monkeypatch.setattr(HostStrip, "show", show)

    async def go():
        app = demo_app()
        async with app.run_test(size=(140, 40)) as pilot:
            def drawn_without_count() -> bool:  # the strip drawn with the count, then once without it
                counted = next((i for i, (count, _) in enumerate(shown) if count), None)
                return counted is not None and any(not count for count, _ in shown[counted:])
            # the load's end, then its drawing (under stress-ng the state was final before the strip was drawn)
            await until(pilot, lambda: app.loaded and not app.load_running and not app.screen.repaint_pending
                        and drawn_without_count(), what="the load's end on the strip")
            report = diagnose(app.observations.values(), app.host, app.catalog)
            scan = {o.container.id: [f.playbook_id for f in report.for_container(o.container.id)]
                    for o in report.observations}
            counted = next(i for i, (count, _) in enumerate(shown) if count)
            gone = next(board for count, board in shown[counted:] if not count)  # the first drawing without it
            assert gone == scan
    asyncio.run(go())


def test_the_first_inspects_findings_are_drawn_at_once_while_the_load_throttles_repaints(monkeypatch):
    """The first load's repaints are throttled (REPAINT_LOADING: the load has the CPU meanwhile), but not the list's
    first paint nor the first inspects: the worst container, inspected first, is drawn with its finding as soon as it
    is diagnosed, not when the throttle's time is up."""
    from troubleshoot.tui import app as app_module
    from troubleshoot.tui.screens import board

    monkeypatch.setattr(board, "REPAINT_LOADING", 600.0)
    monkeypatch.setattr(board, "REPAINT_EVERY", 600.0)
    monkeypatch.setattr(app_module, "BATCH", 1)

    async def go():
        app = demo_app()
        async with app.run_test(size=(140, 40)) as pilot:
            table = app.screen.query_one(ContainerTable)

            def first_drawn() -> bool:
                found = [cid for cid in app.observations if app.findings.get(cid)]
                return bool(found) and app.findings[found[0]][0].playbook_id in str(table.get_row(found[0])[4])
            await until(pilot, first_drawn, what="the first inspected container's finding on the board")
    asyncio.run(go())


def test_a_key_holds_the_workers_until_its_effect_is_drawn(monkeypatch):
    """A key pressed during the first load: from its arrival until the screen shows its effect, the workers wait at
    their next pause (TroubleshootApp._yield_to_ui, between two diagnoses or two batches) instead of sharing the
    interpreter with the UI thread; then they go on, and the load ends with every row diagnosed."""
    import threading

    from troubleshoot.tui import app as app_module
    from troubleshoot.tui.screens.board import BoardScreen

    monkeypatch.setattr(app_module, "BATCH", 1)
    monkeypatch.setattr(app_module, "LOAD_MOST", 1)
    diagnose_one = app_module.diagnose_container

    def slow(*args, **kwargs):  # a load that lasts while the key is pressed
        time.sleep(0.002)
        return diagnose_one(*args, **kwargs)
    monkeypatch.setattr(app_module, "diagnose_container", slow)
    during: list[tuple[bool, bool]] = []  # at the key's action: workers free to run?, the load over?
    action = BoardScreen.action_filter

    def spied(self):
        during.append((self.app._ui_free.is_set(), self.app.loaded))
        return action(self)
    monkeypatch.setattr(BoardScreen, "action_filter", spied)

    async def go():
        app = demo_app()
        async with app.run_test(size=(140, 40)) as pilot:
            await until(pilot, lambda: app.observations, what="the load under way")
            await pilot.press("slash")
            await until(pilot, lambda: during and app._ui_free.is_set(), what="the key's effect drawn")
            assert during == [(False, False)] and app.screen.query_one("#filter").display
            app._ui_free.clear()  # a worker at its pause waits while it is cleared, at most HOLD_MAX
            waited = threading.Thread(target=app._yield_to_ui)
            waited.start()
            waited.join(app_module.HOLD_MAX / 3)
            assert waited.is_alive()
            app._ui_free.set()
            waited.join(1)
            assert not waited.is_alive()
            app._ui_free.clear()  # never set again (a key that drew nothing): one pause waits HOLD_MAX, not each
            began = time.monotonic()
            app._yield_to_ui()
            app._yield_to_ui()
            assert time.monotonic() - began < 1.5 * app_module.HOLD_MAX and app._ui_free.is_set()
            await loaded(pilot)
            assert len(app.findings) == len(app.rows)
    asyncio.run(go())


def test_the_first_batch_is_drawn_before_the_next_is_read(monkeypatch):
    """The first load's first batch (the worst first) is on the board, with its findings, before the worker reads
    the next one: reading and decoding it would share the interpreter with that paint."""
    from troubleshoot.tui import app as app_module

    monkeypatch.setattr(app_module, "BATCH", 2)
    monkeypatch.setattr(app_module, "LOAD_MOST", 2)

    async def go():
        app = demo_app()
        table_rows: list[dict[str, str]] = []  # at each read after the first: the first batch's finding cells
        first: list[str] = []
        observe = app.backend.observe

        def spied(ids):
            if not first:
                first.extend(ids)
            else:
                table = app.screen.query_one(ContainerTable)
                table_rows.append({cid: str(table.get_row(cid)[4]) for cid in first if cid in table.rows})
            return observe(ids)
        app.backend.observe = spied
        async with app.run_test(size=(140, 40)) as pilot:
            await loaded(pilot)
            assert table_rows, "more than one batch"
            shown = table_rows[0]
            assert set(shown) == set(first)
            assert all(app.findings[cid][0].playbook_id in cell if app.findings[cid] else cell == "ok"
                       for cid, cell in shown.items())
    asyncio.run(go())
