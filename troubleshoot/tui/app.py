"""The App: state (rows, observations, findings, host) fed by thread workers through messages.

It takes its back end as an argument (live daemon or recorded data), so tests and snapshots build it the way the
CLI does (`make_app`). Blocking calls never run on the UI thread; every worker has exit_on_error=False, so one
daemon error cannot end the app.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from functools import partial

from rich.text import Text
from textual.app import App, SuspendNotSupported
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.content import Content
from textual.worker import Worker, WorkerState, get_current_worker

from ..backend import Backend, BackendError, Row
from ..core.diagnose import Finding, diagnose_container, diagnose_host
from ..core.facts import Host, Observation
from .messages import ContainerEvent, DaemonBack, DaemonLost, HostLoaded, Observed, RowsLoaded, StateChanged
from .screens.board import BoardScreen
from .screens.help import HelpScreen

BATCH = 25  # inspects per message while the first screen fills in
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
        app = self.app
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

    def __init__(self, backend: Backend, read_only: bool = False, live_events: bool = True, clock=None) -> None:
        super().__init__()
        self.backend = backend
        self.clock = clock or (lambda: datetime.now(timezone.utc))  # incident record times (fixed in snapshot tests)
        self.read_only = read_only
        self.live_events = live_events and backend.live
        self.rows: dict[str, Row] = {}
        self.observations: dict[str, Observation] = {}
        self.findings: dict[str, list[Finding]] = {}
        self.host: Host | None = None
        self.host_findings: list[Finding] = []
        self.banner = ""
        self._stop = threading.Event()
        self._follow: str | None = None
        self._offered_demo = False
        self._loaded_once = False  # a daemon answered once: losing it later is a banner, not the demo offer

    @property
    def catalog(self):
        return self.backend.catalog

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
        self.push_screen(BoardScreen())
        self.load_all()

    def on_unmount(self) -> None:
        self._stop.set()
        stop = getattr(self.backend, "stop_events", None)
        if stop:
            stop()

    # -- workers (threads) -----------------------------------------------------------------------------------
    def _worker(self, fn, group: str = "default", exclusive: bool = False):
        return self.run_worker(fn, thread=True, exit_on_error=False, group=group, exclusive=exclusive)

    def load_all(self) -> None:
        self._worker(self._load_all, group="load", exclusive=True)

    def _load_all(self) -> None:
        """Paint the sparse list at once, then fill in inspects in batches."""
        try:
            self.backend.connect()
            since = time.time()  # events from before the list are covered by the list itself
            rows = self.backend.rows(all=True)
            self.post_message(RowsLoaded(rows))
            if self.live_events:  # open the stream now: a container dying during a slow first load is not missed
                self._worker(partial(self._follow_events, since), group="events", exclusive=True)
            host = self.backend.host()
            self.post_message(HostLoaded(host))
            for i in range(0, len(rows), BATCH):
                if get_current_worker().is_cancelled:
                    return
                ids = [r.id for r in rows[i:i + BATCH]]
                self.post_message(self._observed(self.backend.observe(ids), ids, host))
        except BackendError as exc:
            self.post_message(DaemonLost(str(exc)))

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
                rows = self.backend.rows(all=True)
            except BackendError as exc:
                self.post_message(DaemonLost(str(exc)))
                continue
            self.post_message(DaemonBack())
            self.post_message(RowsLoaded(rows))
            ids = [r.id for r in rows]
            try:
                host = self.backend.host()
                self.post_message(HostLoaded(host))
                for i in range(0, len(ids), BATCH):
                    self.post_message(self._observed(self.backend.observe(ids[i:i + BATCH]), ids[i:i + BATCH], host))
            except BackendError as exc:
                self.post_message(DaemonLost(str(exc)))
                continue
            return

    def recheck(self, cid: str) -> None:
        self._worker(partial(self._observe_one, cid), group=f"inspect-{cid}")

    def _observed(self, observations: list[Observation], ids: list[str], host: Host | None) -> Observed:
        """Diagnosis is pure and CPU-bound: it runs here, in the worker, not on the UI thread."""
        findings = None
        if host is not None:
            findings = {o.container.id: diagnose_container(o, host, self.catalog) for o in observations}
        return Observed(observations, ids, findings)

    def _observe_one(self, cid: str) -> None:
        try:
            self.post_message(self._observed(self.backend.observe([cid]), [cid], self.host))
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
            out = self.backend.run(argv)
            code, lines = out.exit_code, out.lines
        except BackendError as exc:
            code, failed = 1, str(exc)
            lines = (failed,)
        except Exception as exc:  # noqa: BLE001 - a bug or an unexpected fault must still reach the screen
            code, failed = 1, one_line(exc)
            lines = (f"troubleshoot could not run it: {failed}",)
        self.call_from_thread(screen.step_finished, item, code, lines, failed)

    def run_interactive(self, argv: list[str]) -> tuple[int, str]:
        """An interactive step (docker exec -it ... sh) gets the terminal; the app comes back after it.
        Returns the command's own exit code, and why it failed when troubleshoot could not run it at all."""
        import subprocess
        if not self.backend.live:
            return 1, "recorded data: nothing runs here"
        why = self.backend.refusal(argv)  # e.g. not a docker command, for a daemon on another machine
        if why:
            return 1, why
        env = self.backend.command_env(argv)  # the one builder of DOCKER_HOST (daemon.docker_env)
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
    def on_rows_loaded(self, message: RowsLoaded) -> None:
        self._loaded_once = True
        self.rows = {r.id: r for r in message.rows}
        for gone in set(self.observations) - set(self.rows):
            self.observations.pop(gone, None)
            self.findings.pop(gone, None)
        self._changed()

    def on_observed(self, message: Observed) -> None:
        seen = set()
        for obs in message.observations:
            cid = obs.container.id
            seen.add(cid)
            self.observations[cid] = obs
            row = self.rows.get(cid)
            c = obs.container
            self.rows[cid] = Row(cid, c.name, c.state, row.status if row else c.state, c.image_ref)
            if message.findings is not None and cid in message.findings:
                self.findings[cid] = message.findings[cid]
            elif self.host is not None:
                self.findings[cid] = diagnose_container(obs, self.host, self.catalog)
        for cid in set(message.ids) - seen:  # asked for and gone: removed meanwhile
            self.rows.pop(cid, None)
            self.observations.pop(cid, None)
            self.findings.pop(cid, None)
        self._changed(set(message.ids))

    def on_host_loaded(self, message: HostLoaded) -> None:
        self.host = message.host
        self.host_findings = diagnose_host(self.host, self.catalog)
        for cid, obs in self.observations.items():
            self.findings[cid] = diagnose_container(obs, self.host, self.catalog)
        self._changed()

    def on_container_event(self, message: ContainerEvent) -> None:
        """Re-inspect what an event names: event attributes can be forged with labels, the inspect cannot."""
        if message.action == "destroy":
            self.rows.pop(message.cid, None)
            self.observations.pop(message.cid, None)
            self.findings.pop(message.cid, None)
            self._changed({message.cid})
            return
        self.recheck(message.cid)

    def on_daemon_lost(self, message: DaemonLost) -> None:
        self.banner = f"⚠ daemon unreachable: {message.reason} — retrying every 2 s"
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
        from .screens.no_daemon import NoDaemonScreen
        if isinstance(self.screen, NoDaemonScreen):
            self.screen.dismiss("wait")
        self.banner = ""
        self.notify("daemon is back")
        self._changed()

    def _changed(self, ids: set[str] | None = None) -> None:
        for screen in self.screen_stack:
            screen.post_message(StateChanged(ids))

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
            self.notify(Text(self.rows[cid].name) + Text(": nothing found to walk through"))
            return
        pb = self.catalog.get(found[0].playbook_id)
        self.push_screen(WalkthroughScreen(cid, found[0], pb))

    def notify(self, message, *, title: str = "", severity="information", timeout: float | None = None,
               markup: bool = False) -> None:
        """Every toast in the app comes through here (screens' and widgets' notify call the app's): its text is
        literal, whatever it carries (a container name, a log line, an error), so markup in it can neither act
        (`[@click=app.quit]`) nor hide it (`bad[/]name`). `markup` is ignored on purpose."""
        super().notify(literal(message), title=str(title), severity=severity, timeout=timeout, markup=True)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that fails (not a daemon error: those are handled where they happen) says so in one line."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.notify(Text(f"{event.worker.group} failed: {one_line(event.worker.error)}"), severity="error")

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_refresh(self) -> None:
        self.load_all()
