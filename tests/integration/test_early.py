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
    name, kept = f"{PREFIX}early-list", f"{PREFIX}early-kept"
    cid = docker("create", "--name", name, BASE, "true").stdout.decode().strip()
    # one of its own that stays: on a fresh daemon the other workers' containers come and go (the list can be empty)
    kept_id = docker("create", "--name", kept, BASE, "true").stdout.decode().strip()
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
        assert kept_id in {r.id for r in backend.rows()}
        backend.close()
    finally:
        docker("rm", "-f", name, kept, check=False)


def test_an_early_list_for_another_daemon_is_not_used(engine):
    early = start_early(None)
    backend = LiveBackend(load_catalog(), "unix:///nonexistent/docker.sock", early)
    assert backend.daemon is not early.daemon


def test_the_scans_inspects_asked_early_are_the_inspects_and_asked_once(engine, monkeypatch):
    """The CLI's scan: once the list asked by prefetch is in, the inspects of the containers it names are asked
    before the playbooks load (Backend.ask_early); the scan's list and inspects then take those answers, equal to
    reads made one at a time, with no second request for either."""
    import time

    from troubleshoot.backend import open_source
    from troubleshoot.daemon import Daemon
    ensure_base()
    names = [f"{PREFIX}early-scan-{i}" for i in range(3)]
    ids = [docker("create", "--name", n, BASE, "true").stdout.decode().strip() for n in names]
    try:
        source = open_source(None, None, prefetch=True)
        daemon = source.daemon
        deadline = time.monotonic() + 30
        while not daemon.ask_inspects_early(True, lambda listed: [r.Id for r in listed if r.Id in ids]):
            assert time.monotonic() < deadline, "the list never came"
            time.sleep(0.01)
        asked: list[str] = []
        real_batch = Daemon._batch

        def batch(self, gets, budget, connections=3):
            asked.extend(g.target for g in gets)
            return real_batch(self, gets, budget, connections)
        monkeypatch.setattr(Daemon, "_batch", batch)
        monkeypatch.setattr(Daemon, "_get_typed", lambda *a, **k: pytest.fail(f"asked again: {a[1]}"))
        selected = source.select([f"{PREFIX}early-scan-"])
        assert sorted(selected) == sorted(ids)
        early = daemon.inspect_many(selected)
        assert asked == [], "the inspects were asked only once, early"
        monkeypatch.undo()
        one_by_one = [daemon.inspect(c) for c in selected]
        assert early == one_by_one and all(e is not None for e in early)
        # other ids than those asked early: read anew, still right
        assert daemon.inspect_many(list(reversed(selected))) == list(reversed(one_by_one))
        source.close()
    finally:
        docker("rm", "-f", *names, check=False)


def test_the_early_answers_taken_from_several_threads_at_once_are_whole(engine):
    """The app takes the answers asked at start from several threads (its early thread the list, a worker the host
    record and images, the event stream's connection the API version): one thread at a time reads the batch (it
    is not thread-safe), each gets its own answer."""
    from troubleshoot.daemon import Daemon
    ensure_base()
    name = f"{PREFIX}early-threads"  # its own container, in every list (the other workers' come and go)
    docker("rm", "-f", name, check=False)
    cid = docker("create", "--name", name, BASE, "true").stdout.decode().strip()
    reference = Daemon().connect()
    want = (True, reference.info().DockerRootDir, reference.version().ApiVersion)
    reference.close()
    try:
        _take_early_answers_from_threads(want, cid)
    finally:
        docker("rm", "-f", name, check=False)


def _take_early_answers_from_threads(want, cid):
    import threading

    from troubleshoot.daemon import Daemon
    for _ in range(30):  # (without the lock: 1 run in 3 failed or hung)
        daemon = Daemon()
        daemon.prefetch(all=True)
        daemon.connect()
        got: dict[str, object] = {}
        errors: list[BaseException] = []

        def run(name, fn, got=got, errors=errors):
            try:
                got[name] = fn()
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
        threads = [threading.Thread(target=run, args=a) for a in (
            ("rows", lambda: cid in {r.Id for r in daemon.containers(True)}),  # noqa: B023
            ("info", lambda: daemon.info().DockerRootDir),  # noqa: B023
            ("api", lambda: daemon.side_connection(5).version().ApiVersion), ("images", daemon.images))]  # noqa: B023
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        daemon.close()
        assert not errors, errors
        assert (got["rows"], got["info"], got["api"]) == want and isinstance(got["images"], list)


def test_the_playbooks_load_after_the_list_is_drawn(engine, tmp_path):
    """cli.cmd_tui: the list asked as the process started is drawn, the playbooks are loaded by the app once it is
    drawn (not before it), a playbook skipped is said in a toast, and the board's findings are the scan's."""
    import asyncio
    import gc

    from tests.integration.conftest import until
    from troubleshoot.core.diagnose import diagnose
    from troubleshoot.tui.factory import make_app
    from troubleshoot.tui.widgets.container_table import ContainerTable

    ensure_base()
    name = f"{PREFIX}early-frame"
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, BASE, "sh", "-c", "exit 3")
    (tmp_path / "broken.yaml").write_text("id: broken\nmatch: {signal: nope, is: true}\n")
    loaded_when: list[tuple[bool, int]] = []
    try:
        early = start_early(None).wait()  # answered before the app starts (it has ~0.15 s of imports meanwhile)
        assert not gc.isenabled()  # the cyclic GC paused for the app's start (startgc.pause) ...
        listed = len(early.rows or ())
        # the board's lines: a line per container, and one per Compose project above its members (other runs on
        # this daemon may have projects up)
        lines = listed + len({row.project for row in early.rows or () if row.project})

        def load():
            loaded_when.append((app.rows_painted.is_set(), app.screen.query_one(ContainerTable).row_count))
            return load_catalog([tmp_path])
        app = make_app(None, early=early, live_events=False, load_catalog=load)

        async def go():
            async with app.run_test(size=(120, 40)) as pilot:
                await until(pilot, lambda: app.loaded and not app.load_running, what="the first load's end")
                assert gc.isenabled()  # ... and on again once the list was drawn
                assert listed > 0 and len(loaded_when) == 1
                assert loaded_when[0] == (True, lines)  # once the list was drawn
                await until(pilot, lambda: any("playbook skipped" in str(n.message) for n in app._notifications),
                            what="the skipped playbook's toast")
                report = diagnose(app.observations.values(), app.host, app.catalog)
                cid = next(c for c, r in app.rows.items() if r.name == name)
                assert app.findings[cid] and [f.playbook_id for f in app.findings[cid]] == \
                    [f.playbook_id for f in report.for_container(cid)]
        asyncio.run(go())
    finally:
        docker("rm", "-f", name, check=False)


def test_the_reads_asked_as_the_scan_starts_are_taken_over(engine, monkeypatch):
    """cmd_scan asks its first reads before the rest of the program is imported (prefetch.ask_first); the data
    source takes that batch over (no second request), and asks anew when it was asked for another list."""
    from troubleshoot import prefetch
    from troubleshoot.backend import open_source
    from troubleshoot.daemon import Daemon
    ensure_base()
    name = f"{PREFIX}early-taken"  # its own, in the list (the other workers' come and go)
    docker("rm", "-f", name, check=False)
    cid = docker("create", "--name", name, BASE, "true").stdout.decode().strip()
    try:
        _taken_over(cid, monkeypatch, prefetch, open_source, Daemon)
    finally:
        docker("rm", "-f", name, check=False)


def _taken_over(cid, monkeypatch, prefetch, open_source, Daemon):
    asked = prefetch.ask_first(None, all=True)
    assert asked is not None and asked.index["/containers/json?all=1"] == 1
    source = open_source(None, None, prefetch=True, asked=asked)
    daemon = source.daemon
    assert daemon._early[0] is asked.batch
    monkeypatch.setattr(Daemon, "_get_typed", lambda *a, **k: pytest.fail(f"asked again: {a[1]}"))
    rows = source.rows(all=True)
    info = daemon.info()
    monkeypatch.undo()
    assert cid in {r.id for r in rows} and info.DockerRootDir
    source.close()
    other = prefetch.ask_first(None, all=False)  # the running ones only: not the list this source wants
    source = open_source(None, None, prefetch=True, asked=other)
    assert source.daemon._early[0] is not other.batch and not other.batch.sockets()
    assert cid in {r.id for r in source.rows(all=True)}
    source.close()
