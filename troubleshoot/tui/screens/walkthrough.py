"""The playbook walkthrough: symptom, root cause, evidence, then the steps as a checklist that runs for real."""
from __future__ import annotations

import dataclasses
from functools import partial

import shlex
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ListView, Static

from ...core.commands import UnsafeValue, missing_values, placeholder_values, render, render_changes
from ...core.fixform import (ComposeFix, compose_fix, compose_prevention, missing_in_file, recreate_text, step_changes,
                              successor)
from ...core.fixplan import PlanError, before_fix_name, change_lines, check_changes, kept_summary
from ...core.playbooks import ASKABLE, PLACEHOLDERS
from ...core.secrets import is_secret_name, mask_env_value
from ...core.suggest import Suggestion, suggestions
from ...core.verdict import Verdict, verdict
from ...core.peers import build_peers, with_peers
from ...core.diagnose import Finding
from ...hostflag import with_host
from ...core.incident import (describe, evidence_values, known_secrets, note_event, opened_event, render_rca,
                              root_cause_event, stamp, step_event, written_cause)
from ...core.secrets import SecretValues, mask_known
from ...core.match import All, AnyOf, Condition, Not
from ...core.playbooks import Playbook
from ...core.readonly import change_reason
from ...core.regex import AnyOf as AnyOfPatterns, Linear, compile_linear
from ...core.signals import container_signals
from ..messages import StateChanged
from ..rows import badge
from ..widgets.step_item import StepItem
from ..widgets.key_bar import KeyBar

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


def root_cause_text(pb: Playbook, cause: str) -> Text:
    """What the walkthrough shows under "Root cause:": this incident's, written from its evidence (`cause:`), then
    what else the playbook knows to cause it (the 80x24 tmux test reads it back from the screen)."""
    text = Text(f"  {cause}") if cause else Text("")
    others = [rc for rc in pb.root_cause if rc != cause]
    if others:
        if cause:
            text.append("\n  In general:", style="dim")
        text.append("\n" + "\n".join(f"  - {rc}" for rc in others), style="dim" if cause else "")
    return text


def screen_values(app, cid: str) -> tuple[dict[str, str], dict[str, str], dict[str, Suggestion]]:
    """(placeholder values, evidence values, suggestions) of a container as the walkthrough computes them: with the
    board's index of who answers to which name."""
    obs = app.observations[cid]
    if obs.peers is None:  # the dependency placeholders ({peer}, {peer_network}...) read the board's index
        obs = with_peers([obs], build_peers(app.observations.values()))[0]
    if app.host is None:
        return {}, {}, {}
    signals = container_signals(obs, app.host)
    return (placeholder_values(obs, app.host, signals), evidence_values(obs, app.host, signals),
            suggestions(obs, app.host, signals))


class WalkthroughScreen(Screen):
    if TYPE_CHECKING:  # `self.app` as the TroubleshootApp it is (textual's own typed getter; no change at run time)
        app = getters.app(TroubleshootApp)

    BINDINGS = [
        Binding("r", "run_step", "Run step"),
        Binding("c", "copy", "Copy command"),
        Binding("v", "recheck", "Re-check"),
        Binding("u", "rollback", "Roll back"),
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
        self.values: dict[str, str] = {}  # the placeholders' values from the evidence
        self.suggested: dict[str, Suggestion] = {}  # what the fix dialogs suggest for the values the engineer decides
        self.pending = None  # a recreate fix (fixes.FixResult) whose old container is kept until verify passes
        self.compose_fixes: dict[int, ComposeFix] = {}  # step number -> its fix in Compose terms (a Compose container)
        self.compose_seen: dict[str, float] = {}  # the project's files' mtimes when the walkthrough opened
        # an `up -d SERVICE` that ran: (its step, the container it was run for, when it started): once it ended, the
        # walkthrough follows the service's new container (fixform.successor) and verifies that one
        self._compose_run: tuple[StepItem, str, datetime] | None = None
        self._following = False  # looking for the service's new container: the old one being gone is expected
        self._verify_since: datetime | None = None  # when the last fix was applied: verify is being decided
        self._last_verdict = ""
        self._verify_timer: Timer | None = None
        self._verify_asked = 0.0  # time.monotonic() of the last fix or `v`: older observations decide nothing
        self.evidence: dict[str, str] = {}  # the evidence values when the screen opened (core/incident.evidence_values)
        self._read_intro = True  # the first highlight (step 1, on mount) does not scroll the intro away

    @property
    def host_flag(self) -> tuple[str, ...]:
        """Several hosts: `-H URL` / `--context NAME` of its container's host, in every docker command shown or
        copied (pasted, it reaches that host, not the local daemon); () with one host."""
        if not getattr(self.app, "many", False):
            return ()
        return self.app.backend.host_flag(self.cid)  # type: ignore[attr-defined]

    @property
    def on_host(self) -> str:
        """` (host NAME)` when several hosts are shown: which daemon a step or fix will change; else ""."""
        if not getattr(self.app, "many", False):
            return ""
        short = self.app.backend.host_short_of(self.cid)  # type: ignore[attr-defined]
        return f" (host {short})" if short else ""

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
        values, self.evidence, self.suggested = screen_values(app, self.cid)
        self.values = values
        head = badge(pb.severity) + Text(f" {pb.title}", style="bold")
        head.append(f"  {obs.container.name} · {pb.id}", style="dim")
        intro: list = [head, Text("Evidence:", style="bold")]
        intro += [Text("  • ") + Text(e) for e in self.finding.evidence]
        intro += [Text("Symptom: ", style="bold") + Text(pb.symptom), Text("Root cause:", style="bold")]
        intro.append(root_cause_text(pb, written_cause(pb, self.evidence)))
        pattern = highlight_pattern(pb)
        items = []
        number = 0
        for section, steps in (("diagnose", pb.diagnose), ("fix", pb.fix), ("verify", pb.verify)):
            for step in steps:
                number += 1
                command, why, reason = None, "", step.change_reason
                shown = {**values, **{n: s.value for n, s in self.suggested.items() if n in step.ask}}
                missing = missing_values(step, values)
                # a Compose fix is written in the file by the engineer: an env value stays a placeholder there (or
                # `${VAR}` from the project's .env), the suggestion only a comment; other asked values are suggested
                cfix = self.compose_fix_for(step, {k: v for k, v in shown.items() if k != "env_value" or k in values}) \
                    if section == "fix" else None
                if cfix is not None:  # a Compose container: the fragment and `up -d SERVICE`, never a docker run
                    self.compose_fixes[number] = cfix
                    command = cfix.text()
                    reason = f"it recreates {cfix.target.service} from its edited Compose file"
                    if not app.backend.live:
                        why = "recorded data: no daemon to run it on"
                    elif app.read_only:
                        why = f"--read-only: shown, not runnable (it changes something: {reason})"
                elif step.recreate or step.action:
                    try:
                        command = self.plan_text(step, shown)
                    except (UnsafeValue, PlanError):
                        command = None
                    if missing:
                        why = (f"cannot be made concrete here: nothing in the evidence gives {{{missing[0]}}}; copy "
                               "the steps (c) and do them by hand")
                    elif not app.backend.live:
                        why = "recorded data: no daemon to run it on"
                    elif app.read_only:
                        why = f"--read-only: shown, not runnable (it changes something: {reason})"
                elif step.run:
                    try:
                        argv = render(step, shown)
                        command = shlex.join(with_host(argv, self.host_flag))  # several hosts: its host's -H
                        reason = reason or change_reason(argv)  # the filled-in command must pass the rule too
                    except UnsafeValue as exc:
                        if [m for m in missing if m not in step.ask]:
                            why = f"cannot fill this command: {exc}"
                    if step.needs_input:
                        why = "fill in the <...> values yourself: copy it (c), it is never run as is"
                    elif not app.backend.live:
                        why = "recorded data: no daemon to run it on"
                    elif reason and app.read_only:
                        why = f"--read-only: shown, not runnable (it may change something: {reason})"
                    full = self.loose_run_text(step, shown) if section == "fix" else None
                    if full:  # `docker run ... IMAGE` would drop its ports, mounts, networks, limits: the whole one
                        command = full
                        why = why or (f"copy it (c) and run it once {obs.container.name} is stopped and renamed "
                                      "(it takes its name); or use the recreate step, which does both and rolls back")
                expect = AnyOfPatterns([compile_linear(step.expect)]) if step.expect else None
                items.append(StepItem(step, section, number, command, why, expect or pattern, reason))
        yield Static(id="wt-status")
        with VerticalScroll(id="wt-body"):  # everything scrolls: at 80x24 the intro alone can fill the screen
            yield Static(Group(*intro), id="wt-intro")
            yield ListView(*items, id="steps")
            tail: list = []
            compose_rule = compose_prevention(dict(obs.container.labels))
            if pb.prevent or compose_rule:
                tail.append(Text("Prevent", style="bold underline"))
                tail += [Text(f"  - {p}") for p in ((compose_rule,) if compose_rule else ()) + pb.prevent]
            if pb.lesson:
                tail.append(Text("Lesson: ", style="bold") + Text(pb.lesson, style="italic"))
            yield Static(Group(*tail), id="wt-lesson")
            yield Static(id="wt-timeline")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#steps", ListView).focus(scroll_visible=False)  # opened at the top: the intro first
        self._open_record()

    # -- the incident record ---------------------------------------------------------------------------------
    def _open_record(self) -> None:
        from ...incidents import open_for
        app = self.app
        obs = app.observations[self.cid]
        self.secrets = known_secrets(obs)
        source, host = app.backend.label, {}
        if getattr(app, "many", False):  # its own host's URL (as `-H URL report` finds it), the daemon's own id
            part = app.backend.part_of(self.cid)  # type: ignore[attr-defined]
            source, host = part.url, {"host": part.name, "host_url": part.url}
        try:
            self.incident_log, resumed = open_for(obs.container.name, self._real(obs.container.id),
                                                  now=self.app.clock(), source=source)
            if not resumed:
                opened = opened_event(obs, self.finding, app.findings.get(self.cid) or [], self.app.clock(), source,
                                      self.evidence, written_cause(self.playbook, self.evidence))
                self.incident_log.append({**self._real_ids(opened), **host})
        except OSError as exc:
            self.incident_log = None
            self.app.notify(Text(f"the incident record cannot be written: {exc}"), severity="error")
        self._show_timeline()

    def _real(self, cid: str) -> str:
        """The daemon's own id of `cid` (several hosts: ID@N -> ID), as recorded."""
        if not getattr(self.app, "many", False):
            return cid
        from ...hosts import real_id
        return real_id(cid)

    def _real_ids(self, event: dict) -> dict:
        return {k: self._real(v) if k in ("container_id", "old_id", "new_id", "restored_id", "removed_id")
                and isinstance(v, str) else v for k, v in event.items()}

    def record(self, event: dict) -> None:
        if self.incident_log is None:
            return
        try:
            self.incident_log.append(self._real_ids(event))
        except OSError as exc:
            self.app.notify(Text(f"the incident record cannot be written: {exc}"), severity="error")
        self._show_timeline()

    def record_step(self, item: StepItem, exit_code: int | None, lines: tuple[str, ...], failed: str = "") -> None:
        event = step_event(self.app.clock(), item.section, item.number, item.step.title,
                           item.recorded_command or item.command or item.step.run_text, exit_code, lines, self.secrets,
                           confirmed=item.is_change)  # every change ran only after the dialog
        if failed:
            event["failed"] = mask_known(failed, self.secrets)
        if item.step.expect and exit_code is not None:
            event["expect"] = item.step.expect
            event["matched"] = item.matched
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
        """The root cause first, for the engineer to confirm or edit (recorded), then the RCA written."""
        from .root_cause import RootCauseScreen
        if self.incident_log is None:
            self.notify("no incident record to export", severity="error")
            return
        cause = self.incident_log.read().root_cause or written_cause(self.playbook, self.evidence)

        def answered(text: str | None) -> None:
            if text is None:
                self.notify("not exported")
                return
            event = root_cause_event(self.app.clock(), text, self.secrets)
            if event["text"]:
                self.record(event)
            self._write_rca()
        self.app.push_screen(RootCauseScreen(self.container_name, cause), answered)

    def _write_rca(self) -> None:
        from ...files import write_private
        from ...incidents import private_data_dir, reports_dir
        if self.incident_log is None:
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
            if self.query_one("#steps", ListView).index in (0, None):
                return  # step 1 highlighted on mount (once or more): the intro stays in view
            self._read_intro = False
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
        dialog = item is not None and bool(item.step.ask or item.step.recreate or item.step.action)
        if item is None or not (item.step.run or dialog):
            self.notify("this step has no command to run", severity="warning")
            return
        if item.why_not or (item.command is None and not dialog):
            self.app.notify(Text(item.why_not or "this command cannot be rendered"), severity="warning")
            return
        if not app.backend.live:  # recorded data (a snapshot, the demo): nothing ever runs
            self.notify("recorded data: no daemon to run it on", severity="warning")
            return
        cfix = self.compose_fixes.get(item.number) if item.section == "fix" else None
        if cfix is not None:
            if app.read_only:
                self.app.notify(Text(f"--read-only: not run (it changes something: {item.change_reason})"),
                                severity="error")
                return
            self._confirm_compose(item, cfix)
            return
        if item.step.ask or item.step.recreate or item.step.action:
            if app.read_only:
                self.app.notify(Text(f"--read-only: not run (it changes something: {item.change_reason})"),
                                severity="error")
                return
            self._confirm_fix(item)
            return
        argv = shlex.split(item.command or "")
        if item.is_change:  # one rule (Step.change_reason + the filled-in command): a change asks first
            if app.read_only:
                self.app.notify(Text(f"--read-only: not run (it may change something: {item.change_reason})"),
                            severity="error")
                return
            from .confirm import ConfirmScreen

            def answered(yes: object) -> None:
                if yes:
                    self._run(item, argv)
                else:
                    self.notify("not run")
            what = "fix" if item.section == "fix" else f"{item.section} step"
            warning = ("This changes the system." if item.step.changes
                       else f"This may change the system: {item.change_reason}.")
            app.push_screen(ConfirmScreen(f"Run this {what} on {self.container_name}{self.on_host}?", item.command or "", warning),
                            answered)
            return
        self._run(item, argv)

    def _confirm_compose(self, item: StepItem, cfix: ComposeFix) -> None:
        """A Compose container's fix: the engineer edits the file; `up -d SERVICE` runs only after that, confirmed."""
        from ...compose_tools import read_service, unedited
        from .confirm import ConfirmScreen
        obs = self.app.observations.get(self.cid)
        # the service as its files say now (bounded reader, never run): the fragment's keys and values there?
        missing = missing_in_file(read_service(obs.inspect if obs is not None else None, self.secrets),
                                  cfix.changes)
        if missing:
            self.app.notify(Text(f"not run: {missing} (the fragment: c copies it), then run this step again."),
                            severity="warning")
            return
        stale = unedited(self.compose_seen, cfix.target.files) if missing is None else []
        if stale:  # a change this cannot check in the file: at least a file must have been edited
            self.app.notify(Text(f"not run: {stale[-1]} has not changed since this walkthrough opened. Add the "
                                 f"fragment to service {cfix.target.service} first, then run this step again."),
                            severity="warning")
            return
        argv = list(cfix.argv)

        def answered(yes: object) -> None:
            if yes:
                item.recorded_command = shlex.join(argv)
                self._compose_run = (item, self.cid, datetime.now(timezone.utc))  # the daemon's clock: real time
                self._run(item, argv)
            else:
                self.notify("not run")
        app = self.app
        app.push_screen(ConfirmScreen(f"Apply the edited Compose file to {cfix.target.service}{self.on_host}?",
                                      shlex.join(argv) + "\n\n" + cfix.text(),
                                      f"This changes the system: {item.change_reason}. Run it only once "
                                      f"{cfix.target.file} holds the fragment."), answered)

    # -- fixes that ask, recreate or rewrite ------------------------------------------------------------------
    def _secret(self, name: str, value: str) -> str:
        return mask_known(mask_env_value(name, value), self.secrets)

    def compose_fix_for(self, step, values: dict[str, str]) -> ComposeFix | None:
        """The step in Compose terms when the container is a Compose service's (core/fixform.py decides)."""
        obs = self.app.observations.get(self.cid)
        if obs is None:
            return None
        from ...compose_tools import installed, mtimes
        v2, v1 = installed()
        dotenv = tuple(obs.compose_env.values) if obs.compose_env is not None and not obs.compose_env.why else ()
        where = obs.compose_service.where if obs.compose_service is not None else {}
        suggested = self.suggested.get("env_value")
        hints = {self.values["missing_env"]: suggested.value} if suggested and self.values.get("missing_env") else {}
        cfix = compose_fix(dict(obs.container.labels), step_changes(step, values), self._secret, obs.inspect,
                           have_v2=v2, have_v1=v1, dotenv=dotenv, set_in=where, hints=hints)
        if cfix is not None and not self.compose_seen:
            self.compose_seen = mtimes(cfix.target.files) or {"": 0.0}
        return cfix

    def loose_run_text(self, step, values: dict[str, str]) -> str | None:
        """A loose container's `docker run ... IMAGE` fix step as the full equivalent docker run of it (fixform)."""
        obs = self.app.observations.get(self.cid)
        if obs is None or obs.inspect is None or not step.run or step.run[:2] != ("docker", "run"):
            return None
        changes = step_changes(step, values)
        if not changes:
            return None
        return recreate_text(obs.inspect, changes, obs.image_config)

    def plan_text(self, step, values: dict[str, str]) -> str:
        """What a fix will do, exactly, with these values (raises UnsafeValue / PlanError when it cannot)."""
        if step.run:
            return shlex.join(with_host(render(step, values), self.host_flag))
        obs = self.app.observations.get(self.cid)
        name = self.container_name
        if step.action == "fix-script":
            path = values.get("entrypoint")
            if not path:
                raise UnsafeValue("no value for {entrypoint} (the script it execs was not read)")
            return (f"rewrite {path} in {name}: CRLF line ends to LF; a #! interpreter the image lacks to /bin/sh "
                    "(nothing else in the file changes)")
        changes = render_changes(step, values)
        check_changes(changes)  # what the daemon would refuse, said before asking
        running = obs is not None and obs.container.state in ("running", "restarting")
        lines = ([f"docker stop {name}"] if running else []) + [
            f"docker rename {name} {before_fix_name(name, self.app.clock())}   (kept until verify passes; u rolls back)",
            f"recreate {name} with everything it had, changed:"]
        lines += [f"    {line}" for line in change_lines(changes, obs, self._secret)]
        if obs is not None:
            lines.append(f"    ({kept_summary(obs)})")
        lines.append(f"docker start {name}")
        if obs is not None and obs.inspect is not None:  # the same, as a docker run the engineer can read and keep
            lines += ["the equivalent docker run:", *(f"    {line}" for line in
                                                      recreate_text(obs.inspect, changes, obs.image_config)
                                                      .splitlines())]
        return "\n".join(lines)

    def _confirm_fix(self, item: StepItem) -> None:
        from .confirm import ConfirmScreen, Field
        step = item.step
        fields = []
        for name in step.ask:
            s = self.suggested.get(name)
            if s is None and self.values.get(name):  # a value from the evidence the engineer may correct
                s = Suggestion(self.values[name], "from the evidence")
            secret = name == "env_value" and is_secret_name(self.values.get("missing_env", ""))
            label = (ASKABLE.get(name) or PLACEHOLDERS[name]) + (
                f" ({self.values['missing_env']})" if name == "env_value" and self.values.get("missing_env") else "")
            fields.append(Field(name, label, s.value if s else "", s.why if s else "", secret))

        def preview(asked: dict[str, str]) -> str:
            port = asked.get("free_port")
            holder = next((o.container.name for o in self.app.observations.values() if o.container.id != self.cid
                           and any(p.host_port == port for p in o.container.ports)), None) if port else None
            if holder:
                raise ValueError(f"host port {port} is published by {holder}")
            try:
                return self.plan_text(step, {**self.values, **{k: v for k, v in asked.items() if v}})
            except (UnsafeValue, PlanError) as exc:
                raise ValueError(str(exc)) from None

        try:
            first = preview({f.name: f.value for f in fields})
        except ValueError as exc:
            first = item.command or step.run_text or ""
            if not fields:
                self.app.notify(Text(f"cannot run it: {exc}"), severity="error")
                return

        def answered(result: object) -> None:
            if not result:
                self.notify("not run")
                return
            asked = result if isinstance(result, dict) else {}
            for name, value in asked.items():
                if name == "env_value" and any(f.secret for f in fields if f.name == name):
                    self.secrets = self.secrets + [value]
            self._apply_fix(item, {**self.values, **asked})
        what = "fix" if item.section == "fix" else f"{item.section} step"
        self.app.push_screen(ConfirmScreen(f"Run this {what} on {self.container_name}{self.on_host}?", first,
                                           f"This changes the system: {item.change_reason}.", tuple(fields), preview),
                             answered)

    def _apply_fix(self, item: StepItem, values: dict[str, str]) -> None:
        step = item.step
        try:
            text = self.plan_text(step, values)
            if step.run:
                argv = render(step, values)
            elif step.recreate:
                changes = render_changes(step, values)
        except (UnsafeValue, PlanError) as exc:
            self.app.notify(Text(f"not run: {exc}"), severity="error")
            return
        item.command = mask_known(text, self.secrets)
        if step.recreate:  # one line in the record and the RCA: what changed
            flags = change_lines(changes, self.app.observations.get(self.cid), self._secret)
            item.recorded_command = mask_known(f"recreate {self.container_name} with " + "; ".join(
                f.split("  (")[0] for f in flags), self.secrets)
        elif step.action:
            item.recorded_command = f"rewrite {values.get('entrypoint', '?')} in {self.container_name}"
        if step.run:
            self._run(item, argv)
            return
        item.set_running()
        cid = self.cid
        if step.recreate:
            self.app.run_call(self, item, "recreate", partial(self.app.backend.recreate, cid, changes))
        else:
            self.app.run_call(self, item, "script", partial(self.app.backend.rewrite_script, cid, values["entrypoint"]))

    def call_finished(self, item: StepItem | None, kind: str, result) -> None:
        """A fix, a rollback or the removal of the old container ended (app.run_call)."""
        lines = tuple(mask_known(line, self.secrets) for line in result.lines)
        ok = result.exit_code == 0
        if kind in ("recreate", "script") and item is not None:
            item.set_output(result.exit_code, lines, "" if ok else "the fix failed")
            event = step_event(self.app.clock(), item.section, item.number, item.step.title,
                               item.recorded_command or item.command or "", result.exit_code, lines, self.secrets,
                               confirmed=True)
            if kind == "recreate":
                event.update(action="recreate", old_id=result.old_id, new_id=result.new_id)
            if not ok:
                event["failed"] = lines[-1] if lines else "the fix failed"
            self.record(event)
            if not ok:
                self.app.notify(Text(f"step {item.number} failed: {lines[-1] if lines else ''}"), severity="error")
                return
            if kind == "recreate":
                previous = self.pending
                if previous is not None and previous.new_id == result.old_id:
                    # a second try on the first try's container: that one goes now, the original stays the one
                    # `u` restores and the one removed when verify passes
                    self.app.run_call(self, None, "drop", partial(self.app.backend.drop_old, result))
                    result = dataclasses.replace(result, old_id=previous.old_id, old_name=previous.old_name,
                                                 was_running=previous.was_running)
                self.pending = result
                self.cid = result.new_id
            self._start_verify()
        elif kind == "rollback":
            pending, self.pending = self.pending, None
            self.record({"at": stamp(self.app.clock()), "kind": "rollback", "restored_id": pending.old_id if pending else "",
                         "removed_id": pending.new_id if pending else "", "exit_code": result.exit_code,
                         "lines": list(lines)})
            if pending is not None:
                self.cid = pending.old_id
            self._verify_since = None
            self.query_one("#wt-status", Static).update(
                Text("rolled back: " + "; ".join(lines), style="bold yellow" if ok else "bold red"))
            self.app.recheck(self.cid)
        elif kind == "drop":
            self.record({"at": stamp(self.app.clock()), "kind": "old-removed", "exit_code": result.exit_code,
                         "lines": list(lines)})
            self.app.notify(Text("; ".join(lines)), severity="information" if ok else "warning")

    def action_rollback(self) -> None:
        pending = self.pending
        if pending is None:
            self.notify("nothing to roll back: no recreated container is waiting for verify", severity="warning")
            return
        from .confirm import ConfirmScreen

        def answered(yes: object) -> None:
            if yes and self.pending is pending:
                self.app.run_call(self, None, "rollback", partial(self.app.backend.rollback, pending))
        self.app.push_screen(ConfirmScreen(
            f"Roll back {pending.name}?", f"remove the new {pending.name} ({pending.new_id[:12]}); rename "
            f"{pending.old_name} back to {pending.name}" + ("; start it" if pending.was_running else ""),
            "This changes the system: the fix is undone."), answered)

    # -- verify: a verdict on fresh facts ----------------------------------------------------------------------
    def _start_verify(self) -> None:
        self._verify_since = self.app.clock()
        self._verify_asked = time.monotonic()  # a verdict is made only on facts observed after this
        self._last_verdict = ""
        self.query_one("#wt-status", Static).update(Text("verifying: re-checking…", style="italic"))
        self._schedule(1.0)

    def _schedule(self, seconds: float) -> None:
        if self._verify_timer is not None:
            self._verify_timer.stop()
        self._verify_timer = self.set_timer(seconds, lambda: self.app.recheck(self.cid))

    def _run(self, item: StepItem, argv: list[str]) -> None:
        if item.step.interactive:
            code, failed = self.app.run_interactive(argv, cid=self.cid)  # the command's own exit code
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
        compose_run, self._compose_run = (self._compose_run, None) if self._compose_run and \
            self._compose_run[0] is item else (None, self._compose_run)
        if item.section == "fix" and exit_code == 0 and not failed:
            if compose_run is not None:
                self._follow_service(compose_run[1], compose_run[2])
                return
            self._start_verify()

    # -- after `up -d SERVICE`: the service's new container ------------------------------------------------------
    def _follow_service(self, old_id: str, since: datetime) -> None:
        """`up -d SERVICE` ended: find the service's container now (same project, service and number, created since
        the command started), in a worker; then verify that one (`_followed`)."""
        obs = self.app.observations.get(old_id)
        old = obs.container.compose if obs is not None else None
        self._verify_since = self.app.clock()
        self._verify_asked = time.monotonic()
        self._last_verdict = ""
        self._following = True
        service = old.service if old is not None else "the service"
        self.query_one("#wt-status", Static).update(Text(f"verifying: finding {service}'s container after up -d…",
                                                         style="italic"))
        backend = self.app.backend

        def find() -> None:
            new_id = None
            for _ in range(3):
                try:
                    rows = [r for r in backend.rows(all=True) if r.compose is not None and old is not None
                            and (r.compose.project, r.compose.service) == (old.project, old.service)]
                    seen = backend.observe([r.id for r in rows]) if rows else []
                except Exception:  # noqa: BLE001 - a daemon error: said as "not found", the walkthrough goes on
                    seen = []
                new_id = successor(old, old_id, [(o.container.id, o.container.compose, o.container.created_at)
                                                 for o in seen], since)
                if new_id is not None:
                    break
                time.sleep(1.0)
            self.app.call_from_thread(self._followed, old_id, new_id, service)
        self.run_worker(find, thread=True, group="follow-service", exclusive=True, exit_on_error=False)

    def _followed(self, old_id: str, new_id: str | None, service: str) -> None:
        if new_id is None:
            self._following = False
            self._verify_since = None
            self.query_one("#wt-status", Static).update(Text(
                f"after up -d: no container of {service} was found (none created since, the old one gone): "
                "nothing to verify", style="bold yellow"))
            return
        self.record({"at": stamp(self.app.clock()), "kind": "followed", "service": service, "old_id": old_id,
                     "new_id": new_id})
        self.cid = new_id
        if new_id != old_id:
            self.app.recheck(old_id)  # gone: off the board (no event may tell it, with live events off)
        self._verify_asked = time.monotonic()  # a verdict only on the new container observed from now on
        self.query_one("#wt-status", Static).update(Text("verifying: re-checking…", style="italic"))
        self._schedule(0.5)

    def action_recheck(self) -> None:
        self._rechecking = True
        self._verify_asked = time.monotonic()
        self.app.recheck(self.cid)
        self.query_one("#wt-status", Static).update(Text("re-checking…", style="italic"))

    def on_state_changed(self, message: StateChanged) -> None:
        if message.ids is not None and self.cid not in message.ids:
            return
        app = self.app
        status = self.query_one("#wt-status", Static)
        obs = app.observations.get(self.cid)
        found = app.findings.get(self.cid)
        if self.cid not in app.rows:
            if self._verify_since is not None and (self.pending is not None or self._following):
                return  # the recreated container (or the service's new one after `up -d`): not observed yet
            status.update(Text("the container is gone", style="bold yellow"))
            return
        self._following = False  # the service's new container is on the board: verified as any other
        if found is None or obs is None:
            return
        deciding = self._verify_since is not None or self._rechecking
        if deciding and app.observed_at(self.cid) < self._verify_asked:
            return  # observed before the last fix (a re-check asked before it, answered after): not its verdict
        if not deciding and not self._last_verdict:
            return  # nothing applied, no re-check asked: no verdict to show yet
        v = verdict(self.playbook, obs, found, app.clock(), self._verify_since)
        self._show_verdict(v, found)
        if not deciding:
            return
        rechecked, self._rechecking = self._rechecking, False
        if rechecked or v.status != self._last_verdict:
            self.record({"at": stamp(app.clock()), "kind": "verdict", **v.to_json(self.playbook.id)})
        self._last_verdict = v.status
        if v.status == "settling" and self._verify_since is not None:
            self._schedule(min(max(v.wait, 0.5), 3.0))
            return
        self._verify_since = None if v.status != "settling" else self._verify_since
        if v.status == "pass" and self.pending is not None:
            pending, self.pending = self.pending, None
            app.run_call(self, None, "drop", partial(app.backend.drop_old, pending))

    def _show_verdict(self, v: Verdict, found) -> None:
        style = {"pass": "bold green", "fail": "bold red", "settling": "bold yellow"}[v.status]
        text = Text(v.line, style=style)
        rest = [f.playbook_id for f in found if f.playbook_id != self.playbook.id]
        if rest:
            text += Text(f"   (also found now: {', '.join(rest)})", style="dim")
        if v.status == "fail" and self.pending is not None:
            text += Text(f"\n  u: roll back to {self.pending.old_name} (the container before the fix)", style="bold")
        self.query_one("#wt-status", Static).update(text)
