"""The app's first list is asked for as the process starts (backend.Early, from cli.cmd_tui), while the playbooks
and textual load: the app's first load takes that answer, with the time it was asked for (events from then on are
replayed, removals are judged against it), once; later loads ask again."""
import pytest

from tests.engine import BASE, PREFIX, docker, ensure_base
from troubleshoot.backend import LiveBackend, start_early
from troubleshoot.core.playbooks import load_catalog

pytestmark = pytest.mark.engine


def test_the_first_load_takes_the_list_asked_for_at_start_once(engine):
    ensure_base()
    name = f"{PREFIX}early-list"
    cid = docker("create", "--name", name, BASE, "true").stdout.decode().strip()
    try:
        early = start_early(None)
        backend = LiveBackend(load_catalog(), None, early)
        backend.connect()
        rows, since, asked = backend.listed()
        assert (since, asked) == (early.since, early.asked) and asked > 0
        assert cid in {r.id for r in rows}
        docker("rm", "-f", name)
        again, since2, asked2 = backend.listed()  # asked again: the removal shows
        assert asked2 > asked and since2 >= since and cid not in {r.id for r in again}
        backend.connect()  # a later connect connects (after a daemon loss the transport is gone)
        assert backend.rows()
        backend.close()
    finally:
        docker("rm", "-f", name, check=False)


def test_an_early_list_for_another_daemon_is_not_used(engine):
    early = start_early(None)
    backend = LiveBackend(load_catalog(), "unix:///nonexistent/docker.sock", early)
    assert backend.daemon is not early.daemon


def test_the_first_frame_shows_the_early_list_and_the_playbooks_load_after_it(engine, tmp_path, monkeypatch):
    """cli.cmd_tui: the list asked as the process started is on the board in the app's first frame (its first
    repaint, not an empty board then the list; the table's rows made once, when it is laid out), the playbooks are
    loaded by the app once that frame is drawn (not before it), a playbook skipped is said in a toast, and the board's findings are the scan's."""
    import asyncio

    from tests.integration.conftest import until
    from troubleshoot.core.diagnose import diagnose
    from troubleshoot.tui.factory import make_app
    from troubleshoot.tui.screens.board import BoardScreen
    from troubleshoot.tui.widgets.container_table import ContainerTable

    ensure_base()
    name = f"{PREFIX}early-frame"
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, BASE, "sh", "-c", "exit 3")
    (tmp_path / "broken.yaml").write_text("id: broken\nmatch: {signal: nope, is: true}\n")
    first_repaint: list[int] = []
    loaded_when: list[tuple[bool, int]] = []
    repaint = BoardScreen.repaint

    def recorded(self):
        first_repaint.append(len(self.app.rows))
        return repaint(self)
    monkeypatch.setattr(BoardScreen, "repaint", recorded)
    built: list[int] = []  # the table's rows made, until the first frame is drawn: once (each clears its lines)
    replace = ContainerTable._replace_rows

    def counted(self, ids, data, widths):
        if not app.rows_painted.is_set():
            built.append(len(ids))
        return replace(self, ids, data, widths)
    monkeypatch.setattr(ContainerTable, "_replace_rows", counted)
    try:
        early = start_early(None).wait()  # answered before the app starts (it has ~0.15 s of imports meanwhile)
        listed = len(early.rows or ())

        def load():
            loaded_when.append((app.rows_painted.is_set(), app.screen.query_one(ContainerTable).row_count))
            return load_catalog([tmp_path])
        app = make_app(None, early=early, live_events=False, load_catalog=load)

        async def go():
            async with app.run_test(size=(120, 40)) as pilot:
                await until(pilot, lambda: app.loaded and not app.load_running, what="the first load's end")
                assert listed > 0 and first_repaint[0] == listed  # the first repaint: the whole list
                assert built == [listed]  # its rows made once, in the table's width (not before it is laid out)
                assert len(loaded_when) == 1 and loaded_when[0][0] and loaded_when[0][1] == listed  # after the frame
                await until(pilot, lambda: any("playbook skipped" in str(n.message) for n in app._notifications),
                            what="the skipped playbook's toast")
                report = diagnose(app.observations.values(), app.host, app.catalog)
                cid = next(c for c, r in app.rows.items() if r.name == name)
                assert app.findings[cid] and [f.playbook_id for f in app.findings[cid]] == \
                    [f.playbook_id for f in report.for_container(cid)]
        asyncio.run(go())
    finally:
        docker("rm", "-f", name, check=False)
