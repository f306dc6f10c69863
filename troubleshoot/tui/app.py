"""The App: state (rows, observations, findings, host) fed by thread workers through messages.

It takes its back end as an argument (live daemon or recorded data), so tests and snapshots build it the way the
CLI does (`make_app`). Blocking calls never run on the UI thread; every worker has exit_on_error=False, so one
daemon error cannot end the app.
"""
from __future__ import annotations

import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, cast

from rich.text import Text
from textual import events
from textual.app import App, SuspendNotSupported
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.content import Content
from textual.worker import Worker, WorkerState, get_current_worker

from .. import startgc
from ..backend import Backend, BackendError, Row, batches, load_batches
from ..core.peers import build_peers, group, user_networks
from ..core.facts import Host, Observation
from .messages import (CatalogLoaded, ContainerEvent, DaemonBack, DaemonLost, HostLoaded, HostsChanged, Observed,
                       RowsLoaded, StateChanged)
from .screens.board import BoardScreen
from .screens.help import HelpScreen

if TYPE_CHECKING:
    from ..core.diagnose import Finding
    from ..core.playbooks import Catalog


# The diagnosis (core.diagnose and the detectors: ~0.02 s of imports) is first needed once the list is on screen:
# imported then, by the worker that diagnoses, not before the first frame.
def diagnose_container(*args, **kwargs) -> list[Finding]:
    from ..core.diagnose import diagnose_container as diagnose
    return diagnose(*args, **kwargs)


def diagnose_host(*args, **kwargs) -> list[Finding]:
    from ..core.diagnose import diagnose_host as diagnose
    return diagnose(*args, **kwargs)

BATCH = 25  # inspects in the first message while the first screen fills in (then twice as many each time, to 200)
MOST = 200
LOAD_FIRST = 10  # the first load's first batch: the worst ones (load_order), read and diagnosed alone, shown first
LOAD_MOST = 100  # the first load's batches at most: a batch's inspects are read and decoded with no pause for keys
HOLD_MAX = 0.15  # seconds a key holds the workers at most (until its effect is drawn: _yield_to_ui)
SWITCH_INTERVAL = 0.001  # seconds (sys.setswitchinterval)
FIRST_PAINT_WAIT = 5.0  # seconds the first load waits at most for the list to be on screen before it inspects
# (it is drawn in ~0.05 s; on a host loaded 9-fold it took over 0.5 s, and inspects then shared the CPU with it)
FIRST_INSPECTS_WAIT = 1.0  # seconds the first load waits at most for its first batch to be drawn before the next
AGAIN = 50  # at most this many known broken containers diagnosed again with a batch close to them
RECONCILE_EVERY = 5.0  # seconds: the sparse list and the host readings, so the board converges even if events are lost
EVENT_ACTIONS = {"create", "start", "die", "stop", "kill", "oom", "restart", "pause", "unpause", "destroy",
                 "rename", "update", "health_status"}


def one_line(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of what it says."""
    text = str(exc).strip().splitlines()
    return (f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__)[:300]


def literal(message: object) -> Content:
    """A toast's text exactly as given: a str is never read as markup (`[@click=app.quit]` stays those characters)."""
    if isinstance(message, Content):
        return message
    if isinstance(message, Text):
        return Content.from_rich_text(message)
    return Content(str(message))


class ContainerCommands(Provider):
    """Command palette: jump to any container's walkthrough, or run an app action."""

    async def search(self, query: str) -> Hits:
        app = cast("TroubleshootApp", self.app)  # a Provider's app is typed App[object]; this one is ours
        matcher = self.matcher(query)
        for cid, row in app.rows.items():
            found = app.findings.get(cid) or []
            label = f"walkthrough: {row.name}" + (f" ({found[0].playbook_id})" if found else "")
            score = matcher.match(label)
            if score > 0 and found:
                yield Hit(score, matcher.highlight(label), partial(app.open_walkthrough, cid), help=row.image)
        for label, action in (("refresh everything", app.action_refresh), ("help: keys", app.action_help)):
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), action)


class TroubleshootApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "troubleshoot"
    COMMANDS = App.COMMANDS | {ContainerCommands}
    BINDINGS = [Binding("ctrl+r", "refresh", "Refresh", show=False)]

    def __init__(self, backend: Backend, read_only: bool = False, live_events: bool = True, clock=None,
                 load_catalog: Callable[[], Catalog] | None = None) -> None:
        super().__init__()
        self.backend = backend
        # A backend made without its playbooks (cli.cmd_tui, a live daemon) gets them from `load_catalog` when a
        # worker first needs them: after the first frame (the list) is drawn, not before it (~0.07 s)
        self._load_catalog = load_catalog
        self._catalog_lock = threading.Lock()
        self._ui_free = threading.Event()  # cleared from a key until its effect is drawn: the workers wait
        self._ui_free.set()
        self.held = 0  # times a worker waited for a key's effect to be drawn (tests)
        self.clock = clock or (lambda: datetime.now(timezone.utc))  # incident record times (fixed in snapshot tests)
        self.read_only = read_only
        self.live_events = live_events and backend.live
        self.rows: dict[str, Row] = {}
        self.observations: dict[str, Observation] = {}
        self.findings: dict[str, list[Finding]] = {}
        self.host: Host | None = None
        self.host_findings: list[Finding] = []
        # Several hosts (hosts.MultiBackend: ids are ID@N): each container diagnosed against its own host's facts
        self.many = getattr(backend, "parts", None) is not None
        self.hosts: dict[int, Host] = {}  # host index -> its facts (several hosts only)
        self.hosts_findings: dict[int, list[Finding]] = {}
        self.banner = ""
        self._stop = threading.Event()
        self._follow: str | None = None
        self._offered_demo = False
        self._loaded_once = False  # a daemon answered once: losing it later is a banner, not the demo offer
        # Container ids are never reused: once an id is known removed, nothing that was asked before (an inspect in
        # flight, a batch of the first load, an older list) brings its row back.
        self._gone: set[str] = set()
        self._hosts_up: set[int] = set()  # several hosts: those that answered when last told (on_hosts_changed)
        self._hosts_lost: set[int] = set()  # ... and those that answered once and stopped since
        self._added_at: dict[str, float] = {}  # cid -> monotonic time it was known to exist (a list asked later
        self._observed_at: dict[str, float] = {}  # without it means removed); when its shown inspect was asked
        self._answered_at = 0.0  # monotonic: the daemon's latest answer ...
        self._lost_at: float | None = None  # ... and its latest failure, while the banner shows
        self._lost_since: datetime | None = None  # wall clock of the first failure since the last answer
        self.reconciles = 0  # periodic lists applied (tests wait for them)
        self.loading: set[str] = set()  # listed by the running load, not inspected since: "inspecting n/N"
        self.rows_painted = threading.Event()  # the board has drawn containers (set once)...
        self.inspects_painted = threading.Event()  # ... and a load's first inspects, with their findings, written
        self._after_frame: list[tuple[Callable[[], object], Callable[[], bool]]] = []  # (after_frame)
        self.load_size = 0
        self._load_asked = 0.0
        self._switch_interval = sys.getswitchinterval()
        self.loaded = False  # the first load is done: every container inspected and diagnosed with every peer
        self._load_open = False  # a load runs: from its list to its last diagnosis (HostLoaded.first_load)

    @property
    def catalog(self) -> Catalog:
        """The playbooks; loaded here, once, by whichever thread first needs them when the backend came without
        (the workers ask for them before they post anything that is diagnosed on the UI thread)."""
        if self.backend.catalog is None:
            with self._catalog_lock:
                if self.backend.catalog is None:
                    if self._load_catalog is None:
                        raise RuntimeError("no playbooks: a backend without its catalog needs load_catalog")
                    catalog = self._load_catalog()
                    self.backend.catalog = catalog
                    if catalog.errors:
                        self.post_message(CatalogLoaded(list(catalog.errors)))
        return self.backend.catalog

    @property
    def catalog_loaded(self) -> bool:
        return self.backend.catalog is not None

    def on_catalog_loaded(self, message: CatalogLoaded) -> None:
        for error in message.errors:
            self.notify(Text(f"playbook skipped: {error}"), severity="warning")

    # -- a crash: one line, the traceback in a private report (troubleshoot/crash.py) -----------------------------
    _crash_line: str | None = None
    _crash_said = False

    def _handle_exception(self, error: Exception) -> None:
        """Textual's handler prints a traceback with every frame's local variables, container env pairs included:
        instead, the traceback (no locals, secrets scrubbed) goes to a 0600 report and the terminal gets one line."""
        from ..crash import report_crash
        self._return_code = 1
        if self._exception is None:  # as Textual does: run_test() re-raises it
            self._exception = error
            self._exception_event.set()
        if self._crash_line is None:
            self._crash_line = report_crash(error, where="app")
        self._close_messages_no_wait()

    def _print_error_renderables(self) -> None:
        if self._crash_line is None:
            return super()._print_error_renderables()
        self._exit_renderables.clear()
        if not self._crash_said:  # Textual may call this twice (after a failed start, and on shutdown)
            self._crash_said = True
            self.error_console.print(self._crash_line, soft_wrap=True, markup=False, highlight=False, emoji=False)

    def on_mount(self) -> None:
        startgc.freeze_once()
        # Workers diagnose in threads, CPU-bound: with Python's default 5 ms switch interval, each of the many times
        # the UI thread waits for the interpreter while answering a key costs up to 5 ms. Keys first.
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        self.push_screen(BoardScreen())
        self._end_tunnels_on_signals()
        if self.many:  # a host connecting, answering or failing: its strip now, and its containers on the board
            cast("Any", self.backend).listeners.append(lambda: self.post_message(HostsChanged()))
        self.load_all()
        if self.live_events:
            self._worker(self._reconcile, group="reconcile", exclusive=True)

    def _end_tunnels_on_signals(self) -> None:
        """SIGTERM/SIGHUP (a closed terminal, a kill) end the app as `q` does, so that its ssh processes are ended
        and their private socket directories removed ($TMPDIR/troubleshoot-ssh-*: left behind, the default action
        runs no cleanup; sshtunnel's own handlers are set only from the main thread, and the app's tunnels are made
        in worker threads). Only for a signal left at its default, only with an ssh:// host."""
        urls = [self.backend.label] + [p.url for p in getattr(self.backend, "parts", ())]
        if not any("ssh://" in u for u in urls):
            return
        import asyncio
        import signal

        def ended(signum: int) -> None:
            from .. import sshtunnel
            sshtunnel.close_all()
            self.exit()  # as q: the terminal given back, the tunnels gone already
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            try:
                if signal.getsignal(sig) in (signal.SIG_DFL, None) or signal.getsignal(sig) is getattr(
                        sys.modules.get("troubleshoot.sshtunnel"), "_exit_on_signal", object()):
                    loop.add_signal_handler(sig, ended, int(sig))
            except (ValueError, RuntimeError, NotImplementedError):
                pass

    async def on_event(self, event: events.Event) -> None:
        """A key (or a click) holds the workers at their next pause (_yield_to_ui) until its effect is drawn: the
        interpreter is the UI thread's alone meanwhile, instead of shared with a diagnosing worker (the GIL: a
        worker took about half of it, and the key's effect came twice as late)."""
        if isinstance(event, (events.Key, events.MouseDown)):
            self._ui_free.clear()
            if not self.call_after_refresh(self._ui_free.set):
                self._ui_free.set()
        await super().on_event(event)

    def _yield_to_ui(self) -> None:
        """In a worker, between two pieces of work: wait while a key's effect is not drawn yet (at most HOLD_MAX)."""
        if not self._ui_free.is_set():
            self.held += 1
            if not self._ui_free.wait(HOLD_MAX):
                self._ui_free.set()  # a key that changed nothing on screen (no refresh): the next pause goes on

    def on_unmount(self) -> None:
        """Quit at once, even while the daemon hangs: the worker threads blocked on its sockets are woken with an
        error (their sockets are shut down) instead of being waited for (asyncio joins the executor's threads at
        exit: up to the 30 s socket timeout each, or forever for the event stream)."""
        self._stop.set()
        self._ui_free.set()
        self.backend.stop_events()
        self.backend.abort()
        startgc.resume()
        sys.setswitchinterval(self._switch_interval)

    # -- workers (threads) -----------------------------------------------------------------------------------
    def _worker(self, fn, group: str = "default", exclusive: bool = False):
        return self.run_worker(fn, thread=True, exit_on_error=False, group=group, exclusive=exclusive)

    def load_all(self) -> None:
        self._worker(self._load_all, group="load", exclusive=True)

    def _load_all(self) -> None:
        """Paint the sparse list at once, then fill in inspects in batches."""
        try:
            self.backend.connect()
            # events from before the list are covered by the list itself (it may have been asked for as the
            # process started: backend.Early)
            rows, since, asked = self.backend.listed()
            self.post_message(RowsLoaded(rows, asked, load=True))
            if self.live_events:  # open the stream now: a container dying during a slow first load is not missed
                self._worker(partial(self._follow_events, since), group="events", exclusive=True)
            if rows:  # the list on screen first: inspecting and diagnosing would share the CPU with that paint
                self.rows_painted.wait(FIRST_PAINT_WAIT)
            self._inspect_all(rows, self._host_meanwhile(), cancellable=True)
        except BackendError as exc:
            self.post_message(DaemonLost(str(exc)))

    def _host_meanwhile(self) -> Callable[[], Host]:
        """The host's readings and the playbooks (`_host`: ~0.05 s, mostly the playbooks' CPU) read in a thread of
        their own, begun now: the load's first batch (the worst) is read from the daemon meanwhile, mostly waiting
        on its socket. Posted (HostLoaded) as soon as they are read: the host strip shows them then. Returns the call
        that waits for them (and raises what reading them raised)."""
        out: list[Any] = []

        def read() -> None:
            try:
                host = self._host()
                self.post_message(HostLoaded(host))  # before the first batch's findings: that batch waits for it
                out.append(host)
            except BaseException as exc:  # noqa: BLE001 - raised again in the worker that waits for it
                out.append(exc)
        thread = threading.Thread(target=read, name="troubleshoot-host", daemon=True)
        thread.start()

        def result() -> Host:
            thread.join()
            if isinstance(out[0], BaseException):
                raise out[0]
            return out[0]
        return result

    def _inspect_all(self, rows: list[Row], host: Host | Callable[[], Host], cancellable: bool = False) -> None:
        """Every listed container inspected and diagnosed, the visibly broken or stopped first, then the rows the
        board shows next: the worst finding on screen first. Small batches first, then larger ones; then every one
        diagnosed again with every peer (the first load, a reload after the daemon came back). `host`: the host's
        facts (posted here first), or the call that waits for them (_host_meanwhile: read while the first batch is)."""
        loaded: dict[str, Observation] = {}
        if not callable(host):
            self.post_message(HostLoaded(host))
        for batch in load_batches(rows, visible=self.size.height, first=min(BATCH, LOAD_FIRST),
                                   most=min(MOST, LOAD_MOST)):
            if cancellable and get_current_worker().is_cancelled:
                return
            self._yield_to_ui()
            asked = time.monotonic()
            observations = self.backend.observe(batch)
            if callable(host):
                host = host()
            first = bool(observations) and not loaded
            if first:
                self.inspects_painted.clear()  # set once this batch's findings are written (BoardScreen.repaint)
            self.post_message(self._observed(observations, batch, host, asked, earlier=loaded, first=first))
            if first:  # the first batch (the worst first) drawn before the next is read:
                self.inspects_painted.wait(FIRST_INSPECTS_WAIT)  # it would share the interpreter with that paint
            loaded.update((o.container.id, o) for o in observations)
        if callable(host):  # nothing listed: the host's readings (posted by their thread) waited for
            host = host()
        # A batch is diagnosed against the board known so far, and the broken ones close to it again (_observed);
        # a peer further away (another network, no project) may still have come later. Once everything is in:
        # all again, with every peer (one pass, in this worker), instead of a wrong finding until the reconcile.
        basis = {**loaded, **dict(self.observations)}
        peers = build_peers(basis.values())
        findings = self._diagnose(basis, host, peers)
        self.post_message(HostLoaded(host, findings, basis, first_load=True))

    def _host(self) -> Host:
        """The host, read in a worker, with the playbooks loaded there too: what diagnoses it on the UI thread then
        finds them loaded. A key pressed meanwhile is answered first (each part is ~0.01-0.03 s of the interpreter,
        with no pause inside)."""
        self._yield_to_ui()
        if self.many:
            hosts = cast("Any", self.backend).hosts()  # each host's own facts, read at once
            self.hosts = hosts
            host = next(iter(hosts.values())) if hosts else self.backend.host()
        else:
            host = self.backend.host()
        if not self.catalog_loaded:
            self._yield_to_ui()
        self.catalog  # noqa: B018 - loaded now, in this worker
        return host

    def host_of(self, cid: str, host: Host | None) -> Host | None:
        """The facts of the host `cid` is on: `host` with one host; its own with several (hosts.py ids: ID@N)."""
        if not self.many:
            return host
        from ..hosts import split
        index = split(cid)[1]
        return self.hosts.get(index, host) if index is not None else host

    def _host_unlisted(self, cid: str, asked_at: float) -> bool:
        """Several hosts: `cid`'s host did not answer the list or inspect asked at `asked_at` (it does not answer
        now, or only since). Its rows are kept (shown as such), never forgotten for what that answer lacks."""
        return self.many and cast("Any", self.backend).host_unlisted(cid, asked_at)

    def on_hosts_changed(self, message: HostsChanged) -> None:
        """A host's state changed (hosts.MultiBackend): its strip now; its containers listed and inspected (every
        one of a host that answers again: what they are now, diagnosed again)."""
        up = cast("Any", self.backend).up_indexes()
        self._hosts_lost |= self._hosts_up - up  # answered, then stopped (a first answer: the list's new rows)
        back, self._hosts_up = up & self._hosts_lost, up
        self._hosts_lost -= back
        self._changed()
        self._worker(partial(self._list_hosts, back), group="hosts", exclusive=not back)

    def _list_hosts(self, back: frozenset[int] | set[int] = frozenset()) -> None:
        from ..hosts import split
        try:
            asked = time.monotonic()
            rows = self.backend.rows(all=True)
            self.post_message(RowsLoaded(rows, asked, reconcile=True))
            host = self._host()
            self.post_message(HostLoaded(host))
            if back:
                self._observe_many([r.id for r in rows if split(r.id)[1] in back])
        except BackendError:
            pass  # said on the hosts' strips; the reconcile goes on
    def _follow_events(self, since: float | None = None) -> None:
        while not self._stop.is_set():
            try:
                for event in self.backend.events(self._stop, since):
                    cid, action = event.container_id, event.action
                    if cid and action in EVENT_ACTIONS:
                        self.post_message(ContainerEvent(cid, action))
                    if self._stop.is_set():
                        return
                if self._stop.is_set():
                    return
            except BackendError as exc:
                if self._stop.is_set():
                    return
                self.post_message(DaemonLost(str(exc)))
            since = time.time()
            self._wait_for_daemon()

    def _wait_for_daemon(self) -> None:
        """Retry every 2 s until the daemon answers again; then reload everything."""
        while not self._stop.wait(2):
            try:
                self.backend.connect()
                asked = time.monotonic()
                rows = self.backend.rows(all=True)
            except BackendError as exc:
                self.post_message(DaemonLost(str(exc)))
                continue
            self.post_message(DaemonBack())
            self.post_message(RowsLoaded(rows, asked, load=True))
            try:
                self._inspect_all(rows, self._host())  # which posts HostLoaded first
            except BackendError as exc:
                self.post_message(DaemonLost(str(exc)))
                continue
            return

    def _reconcile(self) -> None:
        """Every RECONCILE_EVERY s: the sparse list (rows of removed containers leave, new ones come, changed ones
        are re-inspected: the board converges even when events are lost) and the host readings (the host strip),
        with every container re-diagnosed against them here, in the worker. Its answers, or its failure within
        the probe's short timeout, also tell whether the daemon answers when nothing else asks it anything."""
        while not self._stop.wait(RECONCILE_EVERY):
            try:
                asked = time.monotonic()
                rows = self.backend.probe_rows()
                self.post_message(RowsLoaded(rows, asked, reconcile=True))
                host = self._host()
            except BackendError as exc:
                if not self._stop.is_set():
                    self.post_message(DaemonLost(str(exc)))
                continue
            basis = dict(self.observations)  # a copy (atomic): the UI thread keeps changing its own
            peers = build_peers(basis.values())
            findings = self._diagnose(basis, host, peers)
            self.post_message(HostLoaded(host, findings, basis))

    def observed_at(self, cid: str) -> float:
        """When (time.monotonic) the inspect now shown for `cid` was asked for; -inf when never."""
        return self._observed_at.get(cid, float("-inf"))

    def recheck(self, cid: str) -> None:
        self._worker(partial(self._observe_one, cid), group=f"inspect-{cid}")

    def inspect(self, ids: list[str]) -> None:
        self._worker(partial(self._observe_many, ids), group="reconcile-inspect")

    def _observed(self, observations: list[Observation], ids: list[str], host: Host | None,
                  asked_at: float, earlier: dict[str, Observation] | None = None, first: bool = False) -> Observed:
        """Diagnosis is pure and CPU-bound: it runs here, in the worker, not on the UI thread. The visibly broken
        containers already known that are close to this batch (a user-defined network or a Compose project or lab
        instance in common: peers.distance) are diagnosed again with it: the broken are inspected first, so an app
        that dials its database is seen before the database is (at most AGAIN of them a batch; the end of the first
        load diagnoses everything again anyway). `earlier`: what the first load has inspected so far, the UI
        thread may not have taken the last batch in yet."""
        findings = None
        again: dict[str, Observation] = {}
        if host is not None:
            batch = {o.container.id: o for o in observations}
            known = {**(earlier or {}), **dict(self.observations), **batch}
            peers = build_peers(known.values())  # who answers to which name: what the board knows, with these
            findings = self._diagnose(batch, host, peers)
            nets = {n for o in observations for n in user_networks(o)}
            groups = {g for o in observations if (g := group(o))}
            for cid, o in known.items():
                if len(again) >= AGAIN:
                    break
                if cid not in batch and o.container.state != "running" and (
                        nets.intersection(user_networks(o)) or group(o) in groups):
                    again[cid] = o
            findings.update(self._diagnose(again, host, peers))
        return Observed(observations, ids, findings, asked_at, again, first=first)

    def _diagnose(self, observations: dict[str, Observation], host: Host, peers) -> dict[str, list[Finding]]:
        """Each container diagnosed (in a worker), pausing for keys between two (_yield_to_ui)."""
        catalog, out = self.catalog, {}
        for cid, obs in observations.items():
            self._yield_to_ui()
            out[cid] = diagnose_container(obs, self.host_of(cid, host), catalog, peers=peers)
        return out

    def _observe_one(self, cid: str) -> None:
        self._observe_many([cid])

    def _observe_many(self, ids: list[str]) -> None:
        try:
            for batch in batches(ids, BATCH, MOST):
                asked = time.monotonic()
                self.post_message(self._observed(self.backend.observe(batch), batch, self.host, asked))
        except BackendError as exc:
            self.post_message(DaemonLost(str(exc)))

    def load_logs(self, cid: str, search: str = "") -> None:
        self._worker(partial(self._logs, cid), group="logs", exclusive=True)

    def _logs(self, cid: str) -> None:
        obs = self.observations.get(cid)
        tty = obs.container.tty if obs is not None else False  # how the log stream is framed
        secrets = obs.secrets if obs is not None else ()  # its own secret values: masked in every line
        try:
            lines = self.backend.logs(cid, 500, tty=tty, secrets=secrets)
        except BackendError as exc:
            lines = (f"(logs unavailable: {exc})",)
        self.call_from_thread(self._show_logs, cid, lines)

    def _show_logs(self, cid: str, lines: tuple[str, ...]) -> None:
        board = self._board()
        if board is not None:
            board.show_logs(cid, lines)

    def load_forensics(self, image_id: str) -> None:
        self._worker(partial(self._forensics, image_id), group="forensics", exclusive=True)

    def _forensics(self, image_id: str) -> None:
        from ..core.forensics import analyze
        try:
            record = self.backend.image_layers(image_id)
            result = analyze(record) if record else "the image is gone"
        except BackendError as exc:
            result = str(exc)
        self.call_from_thread(self._show_forensics, image_id, result)

    def _show_forensics(self, image_id: str, result) -> None:
        board = self._board()
        if board is not None:
            board.show_forensics(image_id, result)

    def set_follow(self, cid: str | None) -> None:
        self._follow = cid
        if cid:
            self._worker(partial(self._follow_logs, cid), group="follow", exclusive=True)

    def _follow_logs(self, cid: str) -> None:
        while self._follow == cid and not self._stop.wait(1.0):
            self._logs(cid)

    def reveal(self, cid: str) -> None:
        """The env of `cid` with its secret values, read again from the source (facts only hold masked values);
        only after the engineer confirmed on the board."""
        self._worker(partial(self._reveal, cid), group="reveal", exclusive=True)

    def _reveal(self, cid: str) -> None:
        try:
            env = self.backend.reveal_env(cid)
        except BackendError as exc:
            env = ()
            self.call_from_thread(self.notify, Text(f"cannot reveal: {exc}"), severity="error")
        board = self._board()
        if board is not None:
            self.call_from_thread(board.show_revealed, cid, env)

    def run_step(self, screen, item, argv: list[str]) -> None:
        self._worker(partial(self._run_step, screen, item, argv), group="steps")

    def _run_step(self, screen, item, argv: list[str]) -> None:
        """Whatever goes wrong, the step ends: shown and recorded as failed, never left "running…"."""
        failed = ""
        try:
            out = self.backend.run(argv, cid=getattr(screen, "cid", None))  # on its container's host
            code, lines = out.exit_code, out.lines
        except BackendError as exc:
            code, failed = 1, str(exc)
            lines = (failed,)
        except Exception as exc:  # noqa: BLE001 - a bug or an unexpected fault must still reach the screen
            code, failed = 1, one_line(exc)
            lines = (f"troubleshoot could not run it: {failed}",)
        self.call_from_thread(screen.step_finished, item, code, lines, failed)

    def run_call(self, screen, item, kind: str, call) -> None:
        """A fix through the data source (recreate, rollback, rewrite a script, drop the old container): in a
        worker; whatever happens, `screen.call_finished` gets a result with exit_code and lines."""
        self._worker(partial(self._run_call, screen, item, kind, call), group="steps")

    def _run_call(self, screen, item, kind: str, call) -> None:
        from types import SimpleNamespace
        try:
            result = call()
        except BackendError as exc:
            result = SimpleNamespace(exit_code=1, lines=[str(exc)], new_id="", old_id="", old_name="", name="",
                                     was_running=False)
        except Exception as exc:  # noqa: BLE001 - a bug or an unexpected fault must still reach the screen
            result = SimpleNamespace(exit_code=1, lines=[f"troubleshoot could not do it: {one_line(exc)}"], new_id="",
                                     old_id="", old_name="", name="", was_running=False)
        self.call_from_thread(screen.call_finished, item, kind, result)

    def run_interactive(self, argv: list[str], cid: str | None = None) -> tuple[int, str]:
        """An interactive step (docker exec -it ... sh) gets the terminal; the app comes back after it.
        Returns the command's own exit code, and why it failed when troubleshoot could not run it at all."""
        import subprocess
        if not self.backend.live:
            return 1, "recorded data: nothing runs here"
        why = self.backend.refusal(argv, cid=cid)  # e.g. not a docker command, for a daemon on another machine
        if why:
            return 1, why
        env = self.backend.command_env(argv, cid=cid)  # the one builder of DOCKER_HOST (daemon.docker_env)
        if self.many:  # the host's own container id (ID@N -> ID), on the host that container is on (`cid`'s)
            argv = cast("Any", self.backend).step_argv(argv, cid=cid)
        try:
            with self.suspend():
                print(f"$ {' '.join(argv)}   (exit the command to return to troubleshoot)", flush=True)
                try:
                    code = subprocess.run(argv, env=env).returncode
                except OSError as exc:
                    print(f"cannot run {argv[0]}: {exc}", flush=True)
                    time.sleep(2)
                    return 127, f"cannot run {argv[0]}: {exc.strerror or exc}"
                if code != 0:  # keep the command's error on screen until it is read
                    print(f"(exit {code}) press Enter to return to troubleshoot", flush=True)
                    try:
                        input()
                    except (EOFError, OSError):
                        pass
                return code, ""
        except SuspendNotSupported:
            return 1, "this terminal cannot be handed over to an interactive command"

    # -- messages --------------------------------------------------------------------------------------------
    def _forget(self, cid: str) -> None:
        """The container is gone (destroy event, inspect 404, absent from a later list): for good."""
        self._gone.add(cid)
        for state in (self.rows, self.observations, self.findings, self._added_at, self._observed_at):
            state.pop(cid, None)
        self.loading.discard(cid)

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        """A sparse list, asked for at `asked_at`: a row it lacks that was known to exist before then is gone; a
        row known only since (an event's inspect that overtook the list) stays. The periodic list (reconcile)
        also has the app inspect what is new or changed."""
        self._loaded_once = True
        self._answered(message.at)
        self.reconciles += message.reconcile
        listed = {r.id: r for r in message.rows if r.id not in self._gone}
        for cid in [cid for cid in self.rows if cid not in listed]:
            if self._added_at.get(cid, 0.0) < message.asked_at and not self._host_unlisted(cid, message.asked_at):
                self._forget(cid)
        inspect = []
        for cid, row in listed.items():
            obs = self.observations.get(cid)
            if cid not in self.rows:
                self._added_at[cid] = message.asked_at
                inspect.append(cid)
            elif obs is not None:
                if obs.container.state != row.state or obs.container.name != row.name:
                    inspect.append(cid)  # changed without an event reaching us: inspect again
                continue  # the inspect is newer and richer than the list: keep its row
            self.rows[cid] = row
        if message.load:
            self.loading = set(listed)
            self.load_size, self._load_asked, self._load_open = len(listed), message.asked_at, True
        self._changed()
        if message.reconcile and inspect:
            self.inspect(inspect)

    def on_observed(self, message: Observed) -> None:
        self._answered(message.at)
        seen = set()
        for obs in message.observations:
            cid = obs.container.id
            seen.add(cid)
            if cid in self._gone or message.asked_at < self._observed_at.get(cid, float("-inf")):
                continue  # removed since it was asked for, or a newer inspect of it is already shown
            self._observed_at[cid] = message.asked_at
            if message.asked_at >= self._load_asked:
                self.loading.discard(cid)
            self._added_at.setdefault(cid, message.asked_at)
            self.observations[cid] = obs
            row = self.rows.get(cid)
            c = obs.container
            self.rows[cid] = Row(cid, c.name, c.state, row.status if row else c.state, c.image_ref, c.compose)
            if message.findings is not None and cid in message.findings:
                self.findings[cid] = message.findings[cid]
            elif self.host is not None:
                self.findings[cid] = diagnose_container(obs, self.host_of(cid, self.host), self.catalog,
                                                        peers=build_peers(self.observations.values()))
            else:
                self.findings.pop(cid, None)
        for cid, obs in message.again.items():  # diagnosed again with this batch as peers, if still what is shown
            if message.findings is not None and cid in message.findings and self.observations.get(cid) is obs:
                self.findings[cid] = message.findings[cid]
        for cid in set(message.ids) - seen:  # asked for and gone: removed meanwhile (not: its host does not answer)
            if not self._host_unlisted(cid, message.asked_at):
                self._forget(cid)
        self._changed(set(message.ids) | set(message.again), first=message.first)

    @property
    def load_running(self) -> bool:
        """A load is under way: rows not inspected yet, or their last diagnosis (with every peer) not back yet."""
        return self._load_open or bool(self.loading)

    def on_host_loaded(self, message: HostLoaded) -> None:
        self._answered(message.at)
        self.host = message.host
        self.host_findings = diagnose_host(self.host, self.catalog)
        if self.many:
            self.hosts_findings = {i: diagnose_host(h, self.catalog) for i, h in dict(self.hosts).items()}
        basis = message.basis or {}
        peers = build_peers(self.observations.values())
        for cid, obs in self.observations.items():
            if message.findings is not None and basis.get(cid) is obs:  # diagnosed in the worker, still current
                self.findings[cid] = message.findings[cid]
            else:
                self.findings[cid] = diagnose_container(obs, self.host_of(cid, self.host), self.catalog, peers=peers)
        if message.first_load:
            startgc.resume()  # (paused by cli.cmd_tui's start_early: back once the rows are written, or here at the latest)
        self.loaded = self.loaded or message.first_load
        self._load_open = self._load_open and not message.first_load
        self._changed()

    def on_container_event(self, message: ContainerEvent) -> None:
        """Re-inspect what an event names: event attributes can be forged with labels, the inspect cannot."""
        self._answered(message.at)
        if message.action == "destroy":
            self._forget(message.cid)
            self._changed({message.cid})
            return
        if message.cid not in self._gone:
            self.recheck(message.cid)

    def _answered(self, at: float) -> None:
        """The daemon answered (a load, the reconcile, a re-check, an event): an answer newer than the last
        failure clears the banner."""
        self._answered_at = max(self._answered_at, at)
        if self._lost_at is not None and at > self._lost_at:
            self._daemon_back()

    def on_daemon_lost(self, message: DaemonLost) -> None:
        if message.at < self._answered_at:
            return  # it failed, but the daemon has answered since
        if self._lost_at is None:  # since its last answer (or now, if it never answered)
            silent = time.monotonic() - self._answered_at if self._answered_at else 0.0
            self._lost_since = datetime.now().astimezone() - timedelta(seconds=silent)
        self._lost_at = max(self._lost_at or 0.0, message.at)
        self.loading.clear()  # that load stopped: the banner says why; the next one (when it answers) starts over
        self._load_open = False
        since = self._lost_since or datetime.now().astimezone()
        self.banner = f"⚠ daemon unreachable since {since:%H:%M:%S}: {message.reason} — retrying"
        self._changed()
        self._offer_demo(message.reason)
        if not self.live_events and self.backend.live:
            return
        if not any(w.group == "events" and w.is_running for w in self.workers):
            self._worker(self._reconnect_then_follow, group="events", exclusive=True)

    def _reconnect_then_follow(self) -> None:
        self._wait_for_daemon()
        if not self._stop.is_set() and self.live_events:
            self._follow_events()

    def _offer_demo(self, reason: str) -> None:
        """No daemon at start (nothing ever loaded): say why and offer the shipped demo instead of an empty board."""
        from .screens.no_daemon import NoDaemonScreen
        if not self.backend.live or self._loaded_once or self._offered_demo:
            for screen in self.screen_stack:
                if isinstance(screen, NoDaemonScreen):
                    screen.update_reason(reason)
            return
        self._offered_demo = True

        def chosen(what: str | None) -> None:
            if what in ("demo", "quit"):
                self.exit("demo" if what == "demo" else None)
        self.push_screen(NoDaemonScreen(reason), chosen)

    def on_daemon_back(self, message: DaemonBack) -> None:
        self._answered(message.at)

    def _daemon_back(self) -> None:
        from .screens.no_daemon import NoDaemonScreen
        if isinstance(self.screen, NoDaemonScreen):
            self.screen.dismiss("wait")
        self.banner = ""
        self._lost_at = self._lost_since = None
        self.notify("daemon is back")
        self._changed()

    def _changed(self, ids: set[str] | None = None, first: bool = False) -> None:
        for screen in self.screen_stack:
            screen.post_message(StateChanged(ids, first=first))

    def after_frame(self, callback: Callable[[], object], drawn: Callable[[], bool] = lambda: True) -> None:
        """`callback` (on the UI thread) once a frame was written to the terminal after which `drawn()` holds (e.g.
        the board's table rendered its new rows). `call_after_refresh` may run before that: when the screen's idle
        comes before a changed widget marked itself dirty, the frame with the change is composed and written later,
        and a worker let go then shares the interpreter with that frame."""
        self._after_frame.append((callback, drawn))

    def _display(self, screen, renderable) -> None:
        super()._display(screen, renderable)
        if self._after_frame and renderable is not None:
            waiting = []
            for callback, drawn in self._after_frame:
                if drawn():
                    callback()
                else:
                    waiting.append((callback, drawn))
            self._after_frame = waiting

    def _board(self) -> BoardScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, BoardScreen):
                return screen
        return None

    # -- actions ---------------------------------------------------------------------------------------------
    def open_walkthrough(self, cid: str | None) -> None:
        from .screens.walkthrough import WalkthroughScreen
        if not cid or cid not in self.observations:
            self.notify("not inspected yet", severity="warning")
            return
        found = self.findings.get(cid) or []
        if not found:
            name = self.rows[cid].name if cid in self.rows else self.observations[cid].container.name
            self.notify(Text(name) + Text(": nothing found to walk through"))
            return
        pb = self.catalog.get(found[0].playbook_id)
        if pb is None:  # a finding comes from a playbook of this catalog: never, but said rather than crashed
            self.notify(Text(f"no playbook {found[0].playbook_id}"), severity="error")
            return
        self.push_screen(WalkthroughScreen(cid, found[0], pb))

    def notify(self, message, *, title: str = "", severity="information", timeout: float | None = None,
               markup: bool = False) -> None:
        """Every toast in the app comes through here (screens' and widgets' notify call the app's): its text is
        literal, whatever it carries (a container name, a log line, an error), so markup in it can neither act
        (`[@click=app.quit]`) nor hide it (`bad[/]name`). `markup` is ignored on purpose."""
        # textual annotates `message: str`, yet takes a Content as it is (Toast: Content.from_markup returns a
        # Content unchanged): the literal text goes through without being read as markup.
        super().notify(literal(message), title=str(title), severity=severity, timeout=timeout,  # type: ignore[arg-type]
                       markup=True)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that fails (not a daemon error: those are handled where they happen) says so in one line."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.notify(Text(f"{event.worker.group} failed: {one_line(event.worker.error)}"), severity="error")

    def action_help_quit(self) -> None:
        """ctrl+c (textual's binding): how to quit, as Text (textual's own says it in markup, which every toast here
        shows literally: "Press [b]q[/b] to quit the app")."""
        for key, active in self.active_bindings.items():
            if active.binding.action in ("quit", "app.quit"):
                self.notify(Text.assemble("Press ", (key, "bold"), " to quit the app"), title="Do you want to quit?")
                return

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_refresh(self) -> None:
        self.load_all()
