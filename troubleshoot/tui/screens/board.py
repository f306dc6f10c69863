from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Input, Log, Static, TabbedContent, TabPane

from ... import startgc
from ...core.regex import RegexError, compile_linear
from ...core.secrets import is_masked, is_secret_name, token_shape
from ...core.signals import human_bytes
from ..messages import StateChanged
from ..rows import project_summary
from ..widgets.container_table import ContainerTable
from ..widgets.findings_view import FindingsView
from ..widgets.host_strip import HostStrip
from ..widgets.key_bar import KeyBar

if TYPE_CHECKING:
    from textual import getters
    from textual.timer import Timer

    from ..app import TroubleshootApp


REPAINT_EVERY = 0.1  # seconds: at most ten board repaints a second (an event's change waits at most this)...
REPAINT_LOADING = 0.25  # ... and four while the first load pours batches in (the CPU is the load's meanwhile)
TABS_LATEST = 0.3  # seconds after the board mounts: its tabs are mounted then if no row was painted before


def _needs_tabs(method: Callable[..., None]) -> Callable[..., None]:
    """A board method that shows something in the tabs: run when they are mounted (BoardScreen._with_tabs)."""
    @functools.wraps(method)
    def run(self: BoardScreen, *args: Any, **kwargs: Any) -> None:
        self._with_tabs(lambda: method(self, *args, **kwargs))
    return run


class BoardScreen(Screen):
    # the table takes the focus as the board appears, not the first focusable widget (the filter box, hidden then):
    # keys typed during the launch went into that hidden box, and its filter left the board empty, unexplained
    AUTO_FOCUS = "#board"

    if TYPE_CHECKING:  # `self.app` as the TroubleshootApp it is (textual's own typed getter; no change at run time)
        app = getters.app(TroubleshootApp)

    BINDINGS = [
        # priority: runs in the app's loop before the next key is forwarded, so keys typed in the same burst as
        # '/' (a paste, or SSH latency) land in the filter box instead of the table
        Binding("slash", "filter", "Filter", priority=True),
        Binding("a", "toggle_all", "All/running"),
        Binding("v", "recheck", "Re-check"),
        Binding("z", "fold", "Fold project"),
        Binding("f", "follow", "Follow logs", show=False),
        # priority too: the search typed right after s (a paste, SSH latency) goes into the search box, not the table
        Binding("s", "search_logs", "Search logs", show=False, priority=True),
        Binding("x", "reveal", "Reveal secrets", show=False),
        Binding("i", "read_layers", "Read image layers", show=False),
        Binding("1", "tab('tab-findings')", "Findings", show=False),
        Binding("2", "tab('tab-logs')", "Logs", show=False),
        Binding("3", "tab('tab-inspect')", "Inspect", show=False),
        Binding("4", "tab('tab-image')", "Image", show=False),
        Binding("escape", "clear_filter", "Clear", show=False),
        Binding("question_mark", "app.help", "Help"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.text_filter = ""
        self.running_only = False
        self.follow = False
        self.revealed: dict[str, tuple[tuple[str, str], ...]] = {}  # cid -> env read unmasked after confirming
        self.log_search = ""
        self._last_repaint = 0.0
        self._forensics_for = ""  # the image whose layers the Image tab shows
        self._repaint_timer: Timer | None = None
        self._tabs_ready = self._tabs_begun = False  # the tabs mounted; their mounting begun (_mount_tabs)
        self._after_tabs: list[Callable[[], object]] = []  # what waits for them
        self._panes: set[str] = set()  # the hidden tabs' panes whose widgets are mounted (pane())
        self._painted_rows = False  # a repaint showed containers (the first does at once, unthrottled)...

    def compose(self) -> ComposeResult:
        parts = getattr(self.app.backend, "parts", None)  # several hosts (hosts.py): a strip each, a HOST column
        if parts is None:
            yield HostStrip(id="host")
        else:
            for part in parts:
                yield HostStrip(id=f"host-{part.index}", classes="host-strip")
        yield Static(id="banner")
        yield Input(placeholder="filter: name, project, service, image, state or finding (enter to keep, esc to clear)",
                    id="filter")
        table = ContainerTable(id="board")
        if parts is not None:
            table.host_of = self.app.backend.host_short_of  # type: ignore[attr-defined] # short: its URL on the strip
            table.host_down = self.app.backend.host_down  # type: ignore[attr-defined]
        yield table
        yield Container(id="tabs-slot")  # the tabs, mounted once the first rows are on screen (_mount_tabs)
        yield KeyBar()

    # -- the tabs, after the first paint ----------------------------------------------------------------------
    # The tabs (findings, logs, inspect, image: 19 of the board's 26 widgets) are not in the board's first frame:
    # it shows the list, and the tabs' place kept empty (#tabs-slot, its size). They are mounted right after that
    # frame is written (~30 ms: the first paint that much earlier), or TABS_LATEST after the board mounts when no
    # row comes (an empty daemon, a lost one), or at once when a key asks for them. What needs them waits for them.
    @property
    def tabs_ready(self) -> bool:
        return self._tabs_ready

    def _with_tabs(self, fn: Callable[[], object]) -> None:
        """`fn` now if the tabs are mounted, else as soon as they are (their mounting begun now if it was not)."""
        if self._tabs_ready:
            fn()
            return
        self._after_tabs.append(fn)
        self._mount_tabs_soon()

    async def _tabs_mounted(self) -> None:
        """Return once the tabs are mounted (their mounting begun now if it was not)."""
        mounted = asyncio.Event()
        self._with_tabs(mounted.set)
        await mounted.wait()

    def _tabs_written(self) -> None:
        self.app.rows_painted.set()
        startgc.resume()

    def _mount_tabs_soon(self) -> None:
        if not self._tabs_begun:
            self._tabs_begun = True
            self.call_later(self._mount_tabs)

    async def _mount_tabs(self) -> None:
        tabs = TabbedContent(id="tabs")
        for pane in (TabPane("Findings", VerticalScroll(FindingsView(id="findings")), id="tab-findings"),
                     TabPane("Logs", id="tab-logs"),  # its widgets are mounted when first needed (pane())
                     TabPane("Inspect", VerticalScroll(Static(id="inspect")), id="tab-inspect"),
                     TabPane("Image", id="tab-image")):  # the same
            tabs.compose_add_child(pane)  # as `with TabbedContent(): yield pane` does in a compose
        await self.query_one("#tabs-slot", Container).mount(tabs)
        if not self.query(FindingsView):  # the board went away meanwhile (the app closing: its widgets pruned):
            self.app.rows_painted.set()  # the first load waits no more (its worker, cancelled, stops at once)
            return
        self._tabs_ready = True
        self.show_selected()
        waiting, self._after_tabs = self._after_tabs, []
        for fn in waiting:
            fn()

    def pane(self, pane_id: str) -> TabPane:
        """A hidden tab's pane, its widgets mounted the first time it is needed (shown, or its widgets asked for):
        ~20 ms less in the board's first paint (5 widgets and their styles that a first look never shows). Mounted
        widgets are in the DOM at once (query_one finds them); their own on_mount runs after."""
        pane = self.query_one(f"#{pane_id}", TabPane)
        if pane_id in self._panes:
            return pane
        self._panes.add(pane_id)
        if pane_id == "tab-logs":
            search = Input(placeholder="search the logs (enter)", id="log-search")
            search.display = False
            pane.mount(search, Log(id="logs", max_lines=2000, highlight=False))
        elif pane_id == "tab-image":
            history: DataTable[Text] = DataTable(id="history", cursor_type="row")
            history.add_column("SIZE", key="size")
            history.add_column("CREATED BY", key="by")
            scroll = VerticalScroll()
            pane.mount(scroll)
            scroll.mount(Static(id="forensics"), history)  # not VerticalScroll(...): those mount with it, later
        return pane

    def on_mount(self) -> None:
        self.query_one("#filter").display = False
        self.query_one("#banner").display = False
        if self.focused is None:  # at once, not deferred like focus(): not after an s typed at launch (its box)
            self.set_focus(self.query_one(ContainerTable))
        self.set_timer(TABS_LATEST, self._mount_tabs_soon)
        self.repaint()

    # -- painting ---------------------------------------------------------------------------------------------
    def on_state_changed(self, message: StateChanged) -> None:
        """Repaint at once, unless the last repaint was under REPAINT_EVERY (REPAINT_LOADING during the first load)
        ago: then once, when that time is up. Changes pour in while 1,000 containers load, and every repaint takes
        the interpreter from the load (and from keys). A single event still shows at once, and so do the list's
        first paint and the first inspects' findings (the first load inspects the worst first), even when a
        throttled repaint is already scheduled (e.g. by the host's readings, which come just before them)."""
        # the list's first paint waits for nothing, nor do a load's first inspects (the worst's: an event's inspect
        # may have come before them)
        first = bool(not self._painted_rows and self.app.rows) or message.first
        if self._repaint_timer is not None and not first:
            return  # the scheduled repaint will show this change too
        every = REPAINT_LOADING if self.app.load_running else REPAINT_EVERY
        wait = self._last_repaint + every - time.monotonic()
        if wait <= 0 or first:
            if self._repaint_timer is not None:  # this repaint shows what it was scheduled for
                self._repaint_timer.stop()
                self._repaint_timer = None
            self.repaint(first=message.first)
        else:
            self._repaint_timer = self.set_timer(wait, self._timed_repaint)

    @property
    def repaint_scheduled(self) -> bool:
        """A change is waiting for its (throttled) repaint."""
        return self._repaint_timer is not None

    @property
    def repaint_pending(self) -> bool:
        """A change is waiting for its repaint, or the tabs for their mounting (what they show too)."""
        return self.repaint_scheduled or not self._tabs_ready

    def _timed_repaint(self) -> None:
        self._repaint_timer = None
        self.repaint()

    def repaint(self, first: bool = False) -> None:
        """`first`: a load's first inspects are in this repaint: the load reads its next batch once they are
        written (app.inspects_painted)."""
        self._last_repaint = time.monotonic()
        app = self.app
        table = self.query_one(ContainerTable)
        first_rows = bool(app.rows) and not self._painted_rows
        self._painted_rows = self._painted_rows or first_rows
        loading = (app.load_size - len(app.loading), app.load_size) if app.load_running else None
        if app.many:
            for state, strip in zip(app.backend.states(), self.query(HostStrip)):  # type: ignore[attr-defined]
                index = int((strip.id or "host-0").rpartition("-")[2])
                strip.show_state(state, app.hosts_findings.get(index, []))
        else:
            self.query_one(HostStrip).show(app.host, app.host_findings, app.backend.label,
                                           recorded=not app.backend.live, loading=loading)
        banner = self.query_one("#banner", Static)
        banner.display = bool(app.banner)
        banner.update(Text(app.banner or ""))
        table.show(app.rows, app.observations, app.findings, app.backend.now(), self.text_filter, self.running_only)
        self.show_selected()
        shown = table.shown

        def drawn() -> bool:  # another screen on top (the help, a walkthrough): no frame may render the board
            return table.rendered >= shown or not self.is_current
        if first_rows:  # written (the table's new rows rendered in a frame): the tabs are mounted, and once they
            # are written too, the first load may start inspecting and the cyclic GC (paused for the app's start)
            # runs again: the tabs' mounting alone on the interpreter, not shared with the load's first batch (a key
            # pressed as the list appears waits for it: ~15 ms alone, ~40 ms shared)
            app.after_frame(lambda: self._with_tabs(lambda: app.after_frame(self._tabs_written)), drawn)
        if first:  # ... and read its next batch, once these findings are
            app.after_frame(app.inspects_painted.set, drawn)

    @property
    def selected(self) -> str | None:
        return self.query_one(ContainerTable).selected_id

    def show_selected(self) -> None:
        if not self._tabs_ready:
            return  # shown when they are (_mount_tabs)
        cid = self.selected
        app = self.app
        project = self.query_one(ContainerTable).selected_project
        if project is not None:  # a Compose project's line: its members and their top findings
            members = [(app.rows[m], app.observations.get(m), app.findings.get(m, []))
                       for m in self.query_one(ContainerTable).projects.get(project, []) if m in app.rows]
            self.query_one(FindingsView).update(Group(*project_summary(project, members)))
            self.query_one("#inspect", Static).update(Text(""))
            return
        obs = app.observations.get(cid) if cid else None
        self.query_one(FindingsView).show(obs, app.findings.get(cid, []) if cid else [])
        self.query_one("#inspect", Static).update(self._inspect_text(obs))
        active = self.query_one(TabbedContent).active
        if active == "tab-logs":
            self.load_logs()
        elif active == "tab-image":
            self.load_history()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "board":
            self.show_selected()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "board":
            project = self.query_one(ContainerTable).selected_project
            if project is not None:  # enter on a project's line folds or unfolds it
                self.query_one(ContainerTable).toggle_project(project)
                self.show_selected()
                return
            self.app.open_walkthrough(self.selected)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id in ("tab-logs", "tab-image"):
            self.pane(event.pane.id)
        self.show_selected()

    # -- tabs -------------------------------------------------------------------------------------------------
    def _inspect_text(self, obs):
        if obs is None:
            return Text("")
        c = obs.container
        t = Table(show_header=False, box=None, padding=(0, 1))
        t.add_column(style="bold", no_wrap=True)
        t.add_column()
        rows = [("Id", c.id), ("Image", f"{c.image_ref} → {c.image_id.removeprefix('sha256:')[:12]}"),
                ("Command", " ".join(c.command)), ("State", f"{c.state} exit={c.exit_code} oom={c.oom_killed}"),
                ("Error", c.error), ("Restart", f"{c.restart_policy} ×{c.restart_count}"),
                ("Memory", human_bytes(c.memory_limit) if c.memory_limit else "no limit"),
                ("Healthcheck", " ".join(c.healthcheck) or "none"),
                ("Ports", ", ".join(f"{p.host_ip or '0.0.0.0'}:{p.host_port}->{p.container_port}" for p in c.ports))]
        for k, v in rows:
            if v:
                t.add_row(Text(k), Text(v))
        for k, v in c.labels:
            t.add_row(Text("label"), Text(f"{k}={v}"))
        hidden = 0
        revealed = self.revealed.get(c.id)
        for k, v in revealed if revealed is not None else c.env:  # facts hold masked values only
            secret = is_secret_name(k) or bool(token_shape(v)) or is_masked(v)
            hidden += secret and revealed is None
            t.add_row(Text("env"), Text(f"{k}={v}", style="bold red" if secret else ""))
        note = Text(f"{hidden} secret value(s) masked: x to reveal", style="dim italic") if hidden else Text("")
        if revealed is not None:
            note = Text("secret values revealed: x to hide them again", style="bold red")
        return Group(t, note)

    @_needs_tabs
    def show_revealed(self, cid: str, env: tuple[tuple[str, str], ...]) -> None:
        if not env:
            return
        self.revealed[cid] = env
        self.action_tab("tab-inspect")
        self.show_selected()

    def load_logs(self) -> None:
        cid = self.selected
        if cid:
            self.app.load_logs(cid, self.log_search)

    @_needs_tabs
    def show_logs(self, cid: str, lines: tuple[str, ...]) -> None:
        if cid != self.selected:
            return
        log = self.pane("tab-logs").query_one("#logs", Log)
        log.clear()
        if self.log_search:
            how = "matching"
            try:  # RE2: linear in the line, whatever the pattern
                pattern = compile_linear(self.log_search, ignore_case=True)
                lines = tuple(l for l in lines if pattern.search(l))
            except RegexError as exc:  # backreferences, lookarounds, unbalanced brackets: plain text, and say so
                needle = self.log_search.lower()
                lines = tuple(l for l in lines if needle in l.lower())
                how = f"containing the text (not a regex RE2 can run: {exc})"
            log.write_line(f"-- {len(lines)} line(s) {how} {self.log_search!r} (s to change, empty to clear) --")
        log.write_lines(lines)

    def load_history(self) -> None:
        cid = self.selected
        obs = self.app.observations.get(cid) if cid else None
        table = self.pane("tab-image").query_one("#history", DataTable)
        table.clear()
        box = self.pane("tab-image").query_one("#forensics", Static)
        if obs is None or obs.image is None:
            box.update("")
            return
        if self._forensics_for != obs.image.id:
            box.update(Text("i: read the image's layers (docker save, streamed; reads the whole image): wasted bytes, "
                            "build tools, secret files even if deleted later", style="dim"))
        for layer in obs.image.history:
            by = layer.created_by.replace("/bin/sh -c #(nop) ", "").replace("/bin/sh -c ", "RUN ")
            table.add_row(Text(human_bytes(layer.size) if layer.size else "0"), Text(by[:200]))

    @_needs_tabs
    def action_read_layers(self) -> None:
        cid = self.selected
        obs = self.app.observations.get(cid) if cid else None
        if obs is None or obs.image is None:
            self.notify("no image to read", severity="warning")
            return
        self.query_one(TabbedContent).active = "tab-image"
        self._forensics_for = obs.image.id
        box = self.pane("tab-image").query_one("#forensics", Static)
        box.update(Text(f"reading the layers of {obs.image.short_id} …", style="italic"))
        self.app.load_forensics(obs.image.id)

    @_needs_tabs
    def show_forensics(self, image_id: str, result) -> None:
        cid = self.selected
        obs = self.app.observations.get(cid) if cid else None
        if obs is None or obs.image is None or obs.image.id != image_id:
            return  # the selection moved on meanwhile
        from ...render import forensics_renderables
        box = self.pane("tab-image").query_one("#forensics", Static)
        if isinstance(result, str):
            box.update(Text(f"cannot read the layers: {result}", style="yellow"))
        else:
            box.update(Group(*forensics_renderables(obs.image, result)))

    # -- actions ----------------------------------------------------------------------------------------------
    @_needs_tabs
    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_filter(self) -> None:
        if isinstance(self.focused, Input):  # typing a '/' into the filter or the log search
            self.focused.insert_text_at_cursor("/")
            return
        box = self.query_one("#filter", Input)
        box.display = True
        self.set_focus(box)  # at once, not deferred like focus(): keys typed right after '/' must land here

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.text_filter = ""
        self.set_focus(self.query_one(ContainerTable))
        self.repaint()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.text_filter = event.value
            self.query_one(ContainerTable).show(self.app.rows, self.app.observations, self.app.findings,
                                                self.app.backend.now(), self.text_filter, self.running_only)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            event.input.display = bool(event.value)
            self.set_focus(self.query_one(ContainerTable))
        elif event.input.id == "log-search":
            self.log_search = event.value.strip()
            event.input.display = False
            self.set_focus(self.pane("tab-logs").query_one("#logs", Log))
            self.load_logs()

    def action_fold(self) -> None:
        """Fold the selected Compose project (from its line or a member's row) to its line, or unfold it."""
        table = self.query_one(ContainerTable)
        project = table.selected_project
        if project is None:
            cid = table.selected_id
            row = self.app.rows.get(cid) if cid else None
            project = table.group_of(cid, row) if cid and row is not None else ""
        if not project:
            self.notify("not a Compose container: nothing to fold")
            return
        table.toggle_project(project)
        self.show_selected()

    def action_toggle_all(self) -> None:
        self.running_only = not self.running_only
        self.notify("showing running containers only" if self.running_only else "showing all containers")
        self.repaint()

    def action_recheck(self) -> None:
        if self.selected:
            self.app.recheck(self.selected)

    def action_follow(self) -> None:
        self.follow = not self.follow
        self.action_tab("tab-logs")
        self.app.set_follow(self.selected if self.follow else None)
        self.notify("following logs" if self.follow else "stopped following")

    async def action_search_logs(self) -> None:
        """A priority binding (as /): the app runs it, tabs mounted if they were not, before it hands on the next key,
        so the keys typed right after s land in the search box."""
        if isinstance(self.focused, Input):  # typing an 's' into the filter or the log search
            self.focused.insert_text_at_cursor("s")
            return
        await self._tabs_mounted()
        self.action_tab("tab-logs")
        box = self.pane("tab-logs").query_one("#log-search", Input)
        box.display = True
        box.value = self.log_search
        self.set_focus(box)

    def action_reveal(self) -> None:
        cid = self.selected
        if not cid:
            return
        if cid in self.revealed:
            self.revealed.pop(cid, None)
            self.show_selected()
            return
        from .confirm import ConfirmScreen

        def done(yes: object) -> None:
            if yes:
                self.app.reveal(cid)  # read in a worker; show_revealed paints it
            self.show_selected()
        name = self.app.rows[cid].name if cid in self.app.rows else cid[:12]
        self.app.push_screen(ConfirmScreen(f"Reveal secret values of {name}?", f"show env of {name} unmasked",
                                           "Secret values will be visible on this screen (and to anyone watching it)."),
                             done)
