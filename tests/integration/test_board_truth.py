"""The board must not lie (issue 10): a removed container leaves the board without ctrl+r and nothing brings it back;
the board converges even when events are lost; the "daemon unreachable" banner goes as soon as the daemon answers
again; the host strip keeps being read; and `q` quits at once even while the daemon hangs.

Real engine throughout; the hung daemon is a second dockerd this test starts itself (SIGSTOP / SIGCONT)."""
import asyncio
import fcntl
import os
import pty
import shutil
import signal
import struct
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

import pytest

from tests.engine import BASE, PREFIX, SecondDaemon, docker, ensure_base, on_connections, wait_oom_killed, wait_state
from tests.integration.conftest import until
from tests.pty_io import read_until
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.tui.factory import make_app
from troubleshoot.tui.widgets.container_table import ContainerTable
from troubleshoot.tui.widgets.host_strip import HostStrip

pytestmark = pytest.mark.engine
NAME = f"{PREFIX}board-"
BIN = Path(sys.executable).parent / "troubleshoot"


def existing_ids() -> set[str]:
    return set(docker("ps", "-aq", "--no-trunc").stdout.decode().split())


def mine(app) -> dict[str, str]:
    """cid -> name of this test's containers on the board."""
    return {cid: r.name for cid, r in app.rows.items() if r.name.startswith(NAME)}


def assert_board_is_true(app, removed: set[str]) -> None:
    """No row, observation or finding of a removed container; no name twice; every finding is its row's own."""
    left = removed & (set(app.rows) | set(app.observations) | set(app.findings))
    assert not left, f"removed containers still on the board: {[app.rows[c].name for c in left if c in app.rows]}"
    names = [r.name for r in app.rows.values()]
    twice = {n for n in names if names.count(n) > 1}
    assert not twice, f"rows shown twice: {twice}"
    assert set(app.findings) <= set(app.rows) and set(app.observations) <= set(app.rows)
    for cid, obs in app.observations.items():
        assert obs.container.id == cid and app.rows[cid].name == obs.container.name
        for f in app.findings.get(cid, []):
            assert (f.container_id, f.container) == (cid, obs.container.name), \
                f"{obs.container.name} shows a finding of {f.container}"
    table = app.screen.query_one(ContainerTable)
    if not app.screen.repaint_pending:
        shown = [k.value for k in table.rows]
        assert len(shown) == len(set(shown)) and not (set(shown) & removed), "the table shows a removed row"


def rm(*names: str) -> None:
    docker("rm", "-f", *names, check=False)


@pytest.fixture
def cleanup(engine):
    ensure_base()
    yield
    ids = docker("ps", "-aq", "--filter", f"name=^/{NAME}").stdout.decode().split()
    if ids:
        docker("rm", "-f", *ids, check=False)


class Gate:
    """Holds a real inspect's answer that names a `held` container until `release` is set: a worker descheduled on
    a loaded machine, i.e. an inspect in flight while the container is removed. The answer itself is the daemon's."""

    def __init__(self, observe, held: set[str]):
        self.observe, self.held, self.hits, self.release = observe, held, set(), threading.Event()

    def __call__(self, ids):
        out = self.observe(ids)
        caught = {o.container.id for o in out} & self.held
        if caught:
            self.hits |= caught
            self.release.wait(30)
        return out


@pytest.mark.reads_events  # the app follows the removals by their events
def test_removed_containers_leave_the_board_and_never_come_back(cleanup):
    """A batch of the first load that arrives after its containers' `destroy`; then crashing containers removed with
    `docker rm -f`: right after creation (the `die` re-inspect races the `destroy`), after they are on the board,
    and a name reused at once (the old row must not stay beside the new)."""
    early = [f"{NAME}early-{i}" for i in range(3)]
    early_ids = {docker("run", "-d", "--name", n, BASE, "sh", "-c", "exit 3").stdout.decode().strip() for n in early}
    for n in early:  # exited when listed: all three in the first batch (one still running is inspected last)
        wait_state(n, "exited")

    async def go():
        app = make_app(load_catalog())
        gate = app.backend.observe = Gate(app.backend.observe, set(early_ids))
        async with app.run_test(size=(140, 40)) as pilot:
            # the first batch naming any of them is held (others' containers on a shared daemon can put them in two
            # batches: the later one is asked after the removal, which the product must handle as well)
            await until(pilot, lambda: gate.hits and any(w.group == "events" and w.is_running for w in app.workers),
                        what="the first load's inspect of the early containers, in hand")
            rm(*early)
            await until(pilot, lambda: not (early_ids & set(app.rows)), what="their destroy events")
            gate.release.set()  # the first load's batch arrives now, after the destroys
            await until(pilot, lambda: app.host is not None and not any(w.group == "load" and w.is_running
                                                                        for w in app.workers), what="the first load")
            await pilot.pause()
            await pilot.pause()
            assert not (early_ids & (set(app.rows) | set(app.observations) | set(app.findings))), \
                "the first load's late batch brought removed containers back"
            removed: set[str] = set(early_ids)

            def churn():
                for round_ in range(3):
                    names = [f"{NAME}{round_}-{i}" for i in range(6)]
                    for n in names:
                        cid = docker("run", "-d", "--name", n, BASE, "sh", "-c", "echo boom; exit 3").stdout.decode()
                        removed.add(cid.strip())
                    rm(*names[:3])  # at once: die, then destroy, while the re-inspects are in flight
                    for n in names[3:]:
                        wait_state(n, "exited")
                    rm(*names[3:])
                # a reused name: the second container must be the only row with it
                docker("run", "-d", "--name", f"{NAME}reused", BASE, "sh", "-c", "exit 3")
                first = docker("inspect", "-f", "{{.Id}}", f"{NAME}reused").stdout.decode().strip()
                rm(f"{NAME}reused")
                removed.add(first)
                docker("run", "-d", "--name", f"{NAME}reused", BASE, "sh", "-c", "sleep 300")

            worker = threading.Thread(target=churn)
            worker.start()
            while worker.is_alive():
                await pilot.pause(0.1)
            worker.join()
            assert not (removed & existing_ids())
            survivor = docker("inspect", "-f", "{{.Id}}", f"{NAME}reused").stdout.decode().strip()
            await until(pilot, lambda: not (removed & (set(app.rows) | set(app.observations) | set(app.findings)))
                        and set(mine(app)) == {survivor} and survivor in app.observations
                        and not app.screen.repaint_pending, timeout=15,
                        what="only the surviving container left on the board, with no ctrl+r")
            assert_board_is_true(app, removed)
            # and nothing brings them back: two more reconciles (each lists, inspects what changed, re-reads the host)
            seen = app.reconciles
            await until(pilot, lambda: app.reconciles >= seen + 2 and not app.screen.repaint_pending, timeout=30,
                        what="two more reconciles")
            assert set(mine(app)) == {survivor}
            assert_board_is_true(app, removed)
            assert app.is_running and app.return_value is None
    asyncio.run(go())


def test_the_board_converges_when_events_are_lost(cleanup):
    """The event stream delivers nothing (as if every event were lost): the periodic list still adds a new
    container and removes a removed one, with no key pressed."""
    async def go():
        app = make_app(load_catalog())

        def no_events(stop, since=None):
            stop.wait()  # a stream that never delivers
            return iter(())
        app.backend.events = no_events
        async with app.run_test(size=(140, 40)) as pilot:
            await until(pilot, lambda: app.host is not None, what="the first load")
            name = f"{NAME}unannounced"
            cid = docker("run", "-d", "--name", name, BASE, "sh", "-c", "exit 3").stdout.decode().strip()
            await until(pilot, lambda: cid in app.observations and app.findings.get(cid), timeout=20,
                        what="the new container inspected and diagnosed without its events")
            assert app.observations[cid].container.state == "exited"
            rm(name)
            await until(pilot, lambda: cid not in app.rows and cid not in app.observations and cid not in app.findings,
                        timeout=20, what="the removed container to leave without its destroy event")
    asyncio.run(go())


def test_the_host_strip_is_read_again_after_launch(cleanup):
    """A real kernel OOM kill after launch: the strip's OOM-kill count goes up, with no key pressed."""
    async def go():
        app = make_app(load_catalog())
        async with app.run_test(size=(160, 40)) as pilot:
            strip = app.screen.query_one(HostStrip)
            await until(pilot, lambda: app.host is not None and app.host.oom_kills is not None
                        and f"OOM kills {app.host.oom_kills}" in str(strip.render()), what="the host strip")
            before = app.host.oom_kills
            name = f"{NAME}oom"
            docker("run", "-d", "--name", name, "-m", "24m", "--memory-swap", "24m", BASE,
                   "sh", "-c", "dd if=/dev/zero of=/dev/null bs=120M count=1")
            assert wait_oom_killed(name)["State"]["OOMKilled"], "the kernel did not OOM-kill the container"

            def shown() -> int:
                text = str(strip.render())
                return int(text.split("OOM kills ")[1].split()[0]) if "OOM kills " in text else -1
            await until(pilot, lambda: shown() > before, timeout=20, what="the strip's OOM-kill count to go up")
    asyncio.run(go())


# -- a hung daemon (SIGSTOP) -----------------------------------------------------------------------------------------
@pytest.fixture
def hung_daemon(engine):
    """A second dockerd (own socket, data root, network namespace) the test may SIGSTOP; always SIGCONT-ed after."""
    if shutil.which("dockerd") is None:
        pytest.fail("dockerd is needed (make test installs docker.io)")
    root = Path(tempfile.mkdtemp(prefix=PREFIX + "hung-", dir="/tmp"))
    daemon = SecondDaemon(root).start()
    yield daemon
    if daemon.proc is not None and daemon.proc.poll() is None:
        os.kill(daemon.proc.pid, signal.SIGCONT)
    daemon.stop()
    shutil.rmtree(root, ignore_errors=True)


def test_banner_clears_by_itself_when_a_hung_daemon_resumes(hung_daemon):
    async def go():
        app = make_app(load_catalog(), host=hung_daemon.url)
        async with app.run_test(size=(120, 30)) as pilot:
            await until(pilot, lambda: app.host is not None and any(w.group == "events" and w.is_running
                                                                    for w in app.workers), what="the first load")
            os.kill(hung_daemon.proc.pid, signal.SIGSTOP)
            try:
                await pilot.press("ctrl+r")  # a load in flight while it hangs (the reconcile would also notice)
                # the app's banner text first, the screen's widget on its next refresh: wait for both
                await until(pilot, lambda: "daemon unreachable" in app.banner and app.screen.query_one("#banner").display,
                            timeout=45, what="the banner on screen")
                shown = app.banner
            finally:
                os.kill(hung_daemon.proc.pid, signal.SIGCONT)
            resumed = time.monotonic()
            await until(pilot, lambda: app.banner == "" and not app.screen.query_one("#banner").display, timeout=10,
                        what="the banner to clear with no key pressed")
            print(f"banner cleared {time.monotonic() - resumed:.2f} s after SIGCONT")
            assert "unreachable since " in shown and str(hung_daemon.sock) in shown  # since when, and where
    asyncio.run(go())


_read = read_until


def test_q_quits_at_once_while_the_daemon_hangs(hung_daemon, tmp_path):
    """The real command line under a pseudo-terminal: the daemon SIGSTOPped with a load in flight, `q` ends the
    process within 3 s (the unix socket timeout is 30 s; the event stream has none)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.execv(str(BIN), [str(BIN), "--no-user-playbooks", "-H", hung_daemon.url])
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
        out = _read(fd, [b"mem ", b"OOM kills"], 30)
        assert b"OOM kills" in out, f"the board did not show: {out[-2000:]!r}"
        os.kill(hung_daemon.proc.pid, signal.SIGSTOP)
        os.write(fd, b"\x12a")  # ctrl+r: a load, blocked on the hung daemon; `a` says something once both are taken
        out = _read(fd, [b"running containers only"], 15)
        assert b"running containers only" in out, "the keys were not taken"
        start = time.monotonic()
        os.write(fd, b"q")
        done = status = 0
        while time.monotonic() - start < 10:
            _read(fd, [], 0.05)  # keep draining the terminal
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
        took = time.monotonic() - start
        print(f"quit took {took:.2f} s while the daemon was SIGSTOPped")
        assert done, f"still running {took:.1f} s after q"
        assert took < 3, f"q took {took:.1f} s while the daemon hangs"
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        pid = 0
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)


def test_the_broken_container_is_inspected_first_among_many(engine):
    """80 created containers, newer than an OOM-killed one (the list is newest first): the OOM-killed one is in the
    app's first batch of inspects, its finding on the board before most of the others are inspected."""
    from tests.integration.test_tui import cid_of
    from tests.scenarios import create
    from troubleshoot.tui.app import BATCH
    broken = create("oom-killed")
    filler = [f"{PREFIX}filler-{i:03d}" for i in range(80)]
    on_connections(lambda d, n: d.create_container(n, {"Image": BASE, "Cmd": ["true"],
                                                       "Labels": {"troubleshoot.test": "1"}}), filler)
    try:
        async def go():
            app = make_app(load_catalog(), live_events=False)
            asked: list[list[str]] = []  # the ids of each inspect batch, in the order the app asked for them
            observe = app.backend.observe
            app.backend.observe = lambda ids: (asked.append(list(ids)), observe(ids))[1]
            async with app.run_test(size=(120, 40)) as pilot:
                await until(pilot, lambda: (cid := cid_of(app, broken)) and app.findings.get(cid), timeout=60,
                            what="the OOM-killed container's finding")
                first = next(i for i, batch in enumerate(asked) if cid_of(app, broken) in batch)
                before = sum(len(b) for b in asked[:first])
                assert first == 0 or before < BATCH, f"{before} containers were inspected before the broken one"
                assert app.findings[cid_of(app, broken)][0].playbook_id == "oom-killed"
        asyncio.run(go())
    finally:
        docker("rm", "-f", broken, *filler, check=False)


def test_a_broken_container_is_diagnosed_again_when_the_one_it_dials_comes_in_a_later_batch(engine):
    """The broken are inspected first: localhost-dependency's app (exited) is in the first batch, its database
    (running) behind 25 created containers, in a later one. The batch that brings the database diagnoses the app again
    with it as a peer: the finding names its database from then on, not from the next reconcile or the load's end."""
    from tests.integration.test_tui import cid_of
    from tests.scenarios import create
    from troubleshoot.tui.app import BATCH
    name = create("localhost-dependency")
    filler = [f"{PREFIX}filler2-{i:03d}" for i in range(BATCH)]
    on_connections(lambda d, n: d.create_container(n, {"Image": BASE, "Cmd": ["true"]}), filler)
    try:
        async def go():
            app = make_app(load_catalog(), live_events=False)
            made: list[tuple[set[str], dict]] = []  # each message of the first load: the ids asked, the findings
            observed = app._observed

            def spy(observations, ids, *args, **kwargs):
                out = observed(observations, ids, *args, **kwargs)
                made.append((set(ids), out.findings or {}))
                return out
            app._observed = spy
            async with app.run_test(size=(120, 40)) as pilot:
                await until(pilot, lambda: app.loaded, timeout=60, what="the first load")
                mine, db = cid_of(app, name), cid_of(app, f"{name}-db")
                said = lambda findings: " ".join(e for f in findings for e in f.evidence)  # noqa: E731
                own = next(f[mine] for ids, f in made if mine in ids)
                assert f"container {name}-db " not in said(own)  # its own batch: its database not known yet
                later = next(f for ids, f in made if db in ids)
                assert mine in later, "the batch that brought its database did not diagnose it again"
                assert later[mine][0].playbook_id == "localhost-dependency" and f"container {name}-db " in \
                    said(later[mine]), [(f.playbook_id, f.evidence) for f in later[mine]]
        asyncio.run(go())
    finally:
        docker("rm", "-f", name, f"{name}-db", *filler, check=False)
