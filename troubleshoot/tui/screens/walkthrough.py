"""The playbook walkthrough: symptom, root cause, evidence, then the steps as a checklist that runs for real."""
from __future__ import annotations

import dataclasses

import shlex
from typing import TYPE_CHECKING

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, ListView, Static

from ...core.commands import UnsafeValue, placeholder_values, render
from ...core.peers import build_peers
from ...core.diagnose import Finding
from ...core.incident import stamp, describe, known_secrets, note_event, opened_event, recheck_event, render_rca, step_event
from ...core.secrets import SecretValues, mask_known
from ...core.match import All, AnyOf, Condition, Not
from ...core.playbooks import Playbook
from ...core.readonly import change_reason
from ...core.regex import AnyOf as AnyOfPatterns, Linear, compile_linear
from ...core.signals import container_signals
from ..messages import StateChanged
from ..rows import badge
from ..widgets.step_item import StepItem

if TYPE_CHECKING:
    from textual import getters

    from ...incidents import IncidentLog
    from ..app import TroubleshootApp

_TROUBLE = r"error|fail|fatal|panic|refused|denied|killed|oomkilled=true|not found|no such|unhealthy|exit(ed)? [1-9]"


def highlight_pattern(pb: Playbook) -> AnyOfPatterns:
    """Output lines that matter: what the playbook's own `matches` conditions look for, and common trouble words.
    Each pattern is compiled on its own with RE2 (linear in the line): joined into one, a valid `(?i)` in the middle
    would be an error, and one pattern's flags would leak into the next."""
    found: list[Linear] = []

    def walk(expr) -> None:
        if isinstance(expr, Condition) and expr.op == "matches" and expr.regex is not None:
            found.append(compile_linear(expr.value, ignore_case=True))  # compiled at load: RE2 takes it
        elif isinstance(expr, (All, AnyOf)):
            for item in expr.items:
                walk(item)
        elif isinstance(expr, Not):
            pass  # what must NOT be there does not matter in output
    walk(pb.match)
    if pb.likely is not None:
        walk(pb.likely)
    return AnyOfPatterns([*found, compile_linear(_TROUBLE, ignore_case=True)])


def root_cause_text(finding: Finding, pb: Playbook) -> Text:
    """What the walkthrough shows under "Root cause:" (the 80x24 tmux test reads it back from the screen)."""
    return Text("\n").join(Text(f"  - {rc}") for rc in pb.root_cause)


class WalkthroughScreen(Screen):
    if TYPE_CHECKING:  # `self.app` as the TroubleshootApp it is (textual's own typed getter; no change at run time)
        app = getters.app(TroubleshootApp)

    BINDINGS = [
        Binding("r", "run_step", "Run step"),
        Binding("c", "copy", "Copy command"),
        Binding("v", "recheck", "Re-check"),
        Binding("n", "note", "Note"),
        Binding("e", "export", "Export RCA"),
        Binding("escape", "app.pop_screen", "Back"),
        Binding("question_mark", "app.help", "Help"),
        # The whole walkthrough (intro, steps, lesson, record) scrolls; up/down move between the steps, and up at the
        # first step (down at the last) goes on to the very top (bottom). Priority: the focused step list takes
        # these keys otherwise.
        Binding("pagedown", "scroll_body('scroll_page_down')", "Scroll", key_display="PgUp/PgDn", priority=True),
        Binding("pageup", "scroll_body('scroll_page_up')", "Page up", show=False, priority=True),
        Binding("home", "scroll_body('scroll_home')", "Top", show=False, priority=True),
        Binding("end", "scroll_body('scroll_end')", "Bottom", show=False, priority=True),
        Binding("ctrl+down,shift+down", "scroll_body('scroll_down')", "Scroll down a line", show=False,
                priority=True),
        Binding("ctrl+up,shift+up", "scroll_body('scroll_up')", "Scroll up a line", show=False, priority=True),
        Binding("up", "step(-1)", "Previous step", show=False, priority=True),
        Binding("down", "step(1)", "Next step", show=False, priority=True),
    ]

    def __init__(self, cid: str, finding: Finding, playbook: Playbook) -> None:
        super().__init__()
        self.cid = cid
        self.finding = finding
        self.playbook = playbook
        self.incident_log: IncidentLog | None = None  # the incident record (incidents.py), opened on mount
        self.secrets = SecretValues()
        self._rechecking = False
        self._read_intro = True  # the first highlight (step 1, on mount) does not scroll the intro away

    @property
    def container_name(self) -> str:
        """The container's name, also once it is gone (a fix that removes and recreates it): the row may be."""
        row = self.app.rows.get(self.cid)
        if row is not None:
            return row.name
        obs = self.app.observations.get(self.cid)
        return obs.container.name if obs is not None else self.finding.container or self.cid[:12]

    def compose(self) -> ComposeResult:
        app = self.app
        obs = app.observations[self.cid]
        pb = self.playbook
        if obs.peers is None:  # the dependency placeholders ({peer}, {peer_network}...) read the board's index
            obs = dataclasses.replace(obs, peers=build_peers(app.observations.values()))
        values = placeholder_values(obs, app.host, container_signals(obs, app.host)) if app.host else {}
        head = badge(pb.severity) + Text(f" {pb.title}", style="bold")
        head.append(f"  {obs.container.name} · {pb.id}", style="dim")
        intro: list = [head, Text("Evidence:", style="bold")]
        intro += [Text("  • ") + Text(e) for e in self.finding.evidence]
        intro += [Text("Symptom: ", style="bold") + Text(pb.symptom), Text("Root cause:", style="bold")]
        intro.append(root_cause_text(self.finding, pb))
        pattern = highlight_pattern(pb)
        items = []
        number = 0
        for section, steps in (("diagnose", pb.diagnose), ("fix", pb.fix), ("verify", pb.verify)):
            for step in steps:
                number += 1
                command, why, reason = None, "", step.change_reason
                if step.run:
                    try:
                        argv = render(step, values)
                        command = shlex.join(argv)
                        reason = reason or change_reason(argv)  # the filled-in command must pass the rule too
                    except UnsafeValue as exc:
                        why = f"cannot fill this command: {exc}"
                    if step.needs_input:
                        why = "fill in the <...> values yourself: copy it (c), it is never run as is"
                    elif not app.backend.live:
                        why = "recorded data: no daemon to run it on"
                    elif reason and app.read_only:
                        why = f"--read-only: shown, not runnable (it may change something: {reason})"
                items.append(StepItem(step, section, number, command, why, pattern, reason))
        yield Static(id="wt-status")
        with VerticalScroll(id="wt-body"):  # everything scrolls: at 80x24 the intro alone can fill the screen
            yield Static(Group(*intro), id="wt-intro")
            yield ListView(*items, id="steps")
            tail: list = []
            if pb.prevent:
                tail.append(Text("Prevent", style="bold underline"))
                tail += [Text(f"  - {p}") for p in pb.prevent]
            if pb.lesson:
                tail.append(Text("Lesson: ", style="bold") + Text(pb.lesson, style="italic"))
            yield Static(Group(*tail), id="wt-lesson")
            yield Static(id="wt-timeline")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#steps", ListView).focus(scroll_visible=False)  # opened at the top: the intro first
        self._open_record()

    # -- the incident record ---------------------------------------------------------------------------------
    def _open_record(self) -> None:
        from ...incidents import open_for
        app = self.app
        obs = app.observations[self.cid]
        self.secrets = known_secrets(obs)
        try:
            self.incident_log, resumed = open_for(obs.container.name, obs.container.id, now=self.app.clock())
            if not resumed:
                self.incident_log.append(opened_event(obs, self.finding, app.findings.get(self.cid) or [],
                                             self.app.clock(), app.backend.label))
        except OSError as exc:
            self.incident_log = None
            self.app.notify(Text(f"the incident record cannot be written: {exc}"), severity="error")
        self._show_timeline()

    def record(self, event: dict) -> None:
        if self.incident_log is None:
            return
        try:
            self.incident_log.append(event)
        except OSError as exc:
            self.app.notify(Text(f"the incident record cannot be written: {exc}"), severity="error")
        self._show_timeline()

    def record_step(self, item: StepItem, exit_code: int | None, lines: tuple[str, ...], failed: str = "") -> None:
        event = step_event(self.app.clock(), item.section, item.number, item.step.title,
                           item.command or item.step.run_text, exit_code, lines, self.secrets,
                           confirmed=item.is_change)  # every change ran only after the dialog
        if failed:
            event["failed"] = mask_known(failed, self.secrets)
        self.record(event)

    def _show_timeline(self) -> None:
        box = self.query_one("#wt-timeline", Static)
        if self.incident_log is None:
            box.update(Text("(no incident record)", style="dim"))
            return
        events = self.incident_log.read().events
        parts: list = [Text("Incident record ", style="bold") + Text(self.incident_log.id)
                       + Text(" (saved as you go)", style="dim")
                       + Text("   n: note · e: export RCA", style="dim")]
        if len(events) > 12:
            parts.append(Text(f"  … {len(events) - 12} earlier events", style="dim"))
        for e in events[-12:]:
            parts.append(Text(f"  {str(e.get('at', ''))[11:19]}  ", style="dim") + Text(describe(e)))
        box.update(Group(*parts))

    def action_note(self) -> None:
        from .note import NoteScreen

        def saved(text: str | None) -> None:
            if text:
                self.record(note_event(self.app.clock(), text, self.secrets))
                self.notify("note saved")
        self.app.push_screen(NoteScreen(self.container_name), saved)

    def action_export(self) -> None:
        from ...files import write_private
        from ...incidents import private_data_dir, reports_dir
        if self.incident_log is None:
            self.notify("no incident record to export", severity="error")
            return
        path = reports_dir() / f"{self.incident_log.id}.md"
        try:
            private_data_dir(path.parent)
            write_private(path, render_rca(self.incident_log.read(), self.app.catalog))
        except OSError as exc:
            self.app.notify(Text(f"cannot write the RCA: {exc}"), severity="error")
            return
        self.record({"at": stamp(self.app.clock()), "kind": "exported",
                     "path": str(path)})
        self.app.notify(Text(f"RCA written to {path}"), timeout=8)

    def on_list_view_highlighted(self, event: ListView.Highlighted) -> None:
        if event.item is not None and self._read_intro:  # opened: the intro is shown first, from the top
            self._read_intro = False
            return
        if event.item is not None:
            self.query_one("#wt-body", VerticalScroll).scroll_to_widget(event.item, animate=False)

    def on_resize(self) -> None:
        """A new size (or the terminal back after an interactive step): the selected step stays in view."""
        self.call_after_refresh(self._keep_current_in_view)

    def _keep_current_in_view(self) -> None:
        item = self.current
        if item is not None and not self._read_intro:
            self.query_one("#wt-body", VerticalScroll).scroll_to_widget(item, animate=False)

    def action_scroll_body(self, how: str) -> None:
        """Scroll the whole walkthrough (intro, steps, lesson, record) by a page, a line, or to its top or end."""
        if how not in ("scroll_page_down", "scroll_page_up", "scroll_home", "scroll_end", "scroll_down", "scroll_up"):
            raise ValueError(how)
        getattr(self.query_one("#wt-body", VerticalScroll), how)(animate=False)

    def action_step(self, delta: int) -> None:
        """Up/down: the previous/next step; before the first, the top of the walkthrough (the intro); after the
        last, its bottom (prevent, lesson, the incident record)."""
        view = self.query_one("#steps", ListView)
        body = self.query_one("#wt-body", VerticalScroll)
        last = len(view.children) - 1
        if view.index is None or (delta < 0 and view.index <= 0):
            body.scroll_home(animate=False)
        elif delta > 0 and view.index >= last:
            body.scroll_end(animate=False)
        elif delta < 0:
            view.action_cursor_up()
        else:
            view.action_cursor_down()

    @property
    def current(self) -> StepItem | None:
        view = self.query_one("#steps", ListView)
        item = view.highlighted_child
        return item if isinstance(item, StepItem) else None

    def action_copy(self) -> None:
        item = self.current
        if item is None:
            return
        text = item.command or item.step.run_text or item.step.dockerfile
        if not text:
            return
        self.app.copy_to_clipboard(text)
        self.app.notify(Text(f"copied: {text[:60]}"))

    def action_run_step(self) -> None:
        item = self.current
        app = self.app
        if item is None or not item.step.run:
            self.notify("this step has no command to run", severity="warning")
            return
        if item.why_not or item.command is None:
            self.app.notify(Text(item.why_not or "this command cannot be rendered"), severity="warning")
            return
        if not app.backend.live:  # recorded data (a snapshot, the demo): nothing ever runs
            self.notify("recorded data: no daemon to run it on", severity="warning")
            return
        argv = shlex.split(item.command)
        if item.is_change:  # one rule (Step.change_reason + the filled-in command): a change asks first
            if app.read_only:
                self.app.notify(Text(f"--read-only: not run (it may change something: {item.change_reason})"),
                            severity="error")
                return
            from .confirm import ConfirmScreen

            def answered(yes: bool | None) -> None:
                if yes:
                    self._run(item, argv)
                else:
                    self.notify("not run")
            what = "fix" if item.section == "fix" else f"{item.section} step"
            warning = ("This changes the system." if item.step.changes
                       else f"This may change the system: {item.change_reason}.")
            app.push_screen(ConfirmScreen(f"Run this {what} on {self.container_name}?", item.command, warning),
                            answered)
            return
        self._run(item, argv)

    def _run(self, item: StepItem, argv: list[str]) -> None:
        if item.step.interactive:
            code, failed = self.app.run_interactive(argv)  # the command's own exit code
            item.set_output(code, ("(ran in the terminal)",), failed)
            self.call_after_refresh(self.query_one("#wt-body", VerticalScroll).scroll_to_widget, item, animate=False)
            self.record_step(item, code, ("(ran interactively in the terminal; its output is not recorded)",)
                             + ((f"failed: {failed}",) if failed else ()), failed)
            if failed:
                self.app.notify(Text(f"step {item.number} failed: {failed}"), severity="error")
            return
        item.set_running()
        self.app.run_step(self, item, argv)

    def step_finished(self, item: StepItem, exit_code: int, lines: tuple[str, ...], failed: str = "") -> None:
        lines = tuple(mask_known(line, self.secrets) for line in lines)  # its own secrets, never on screen
        failed = mask_known(failed, self.secrets)
        item.set_output(exit_code, lines, failed)
        if failed:
            self.app.notify(Text(f"step {item.number} failed: {failed}"), severity="error")
        self.call_after_refresh(self.query_one("#wt-body", VerticalScroll).scroll_to_widget, item, animate=False)
        self.record_step(item, exit_code, lines, failed)

    def action_recheck(self) -> None:
        self._rechecking = True
        self.app.recheck(self.cid)
        self.query_one("#wt-status", Static).update(Text("re-checking…", style="italic"))

    def on_state_changed(self, message: StateChanged) -> None:
        if message.ids is not None and self.cid not in message.ids:
            return
        found = self.app.findings.get(self.cid)
        status = self.query_one("#wt-status", Static)
        if self.cid not in self.app.rows:
            status.update(Text("the container is gone", style="bold yellow"))
        elif found is None:
            return
        else:
            still = any(f.playbook_id == self.playbook.id for f in found)
            if still:
                status.update(Text(f"re-checked: {self.playbook.id} is still present", style="bold red"))
            else:
                rest = ", ".join(f.playbook_id for f in found) or "nothing"
                status.update(Text(f"re-checked: {self.playbook.id} is gone (now: {rest})", style="bold green"))
            if self._rechecking:
                self._rechecking = False
                self.record(recheck_event(self.app.clock(), self.playbook.id, still,
                                          [f.playbook_id for f in found]))
