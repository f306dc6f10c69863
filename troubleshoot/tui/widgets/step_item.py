from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.widgets import ListItem, Static

from ...core.playbooks import Step
from ...core.regex import AnyOf


class StepItem(ListItem):
    """One playbook step in the walkthrough: checkbox, title, the exact command, what to look for, its output."""

    def __init__(self, step: Step, section: str, number: int, command: str | None, why_not: str = "",
                 highlight: AnyOf | None = None, change_reason: str | None = None) -> None:
        super().__init__(classes=f"step -{section}")
        self.step = step
        self.section = section
        self.number = number
        self.command = command  # rendered (placeholders filled) or None when it cannot be
        self.recorded_command = ""  # what the record says ran, when not `command` (a recreate: its changes, one line)
        self.why_not = why_not  # why it cannot run here (read-only mode, needs input, bad value...)
        # why it may change something ("" when read-only): the step's rule, and the rendered command's
        self.change_reason = step.change_reason if change_reason is None else change_reason
        self.failed = ""  # troubleshoot itself failed to run it (not the command's own exit code)
        self.highlight = highlight
        self.done = False
        self.output: tuple[str, ...] = ()
        self.exit_code: int | None = None
        self.matched: bool | None = None  # verify: its output matched the step's `expect` (None: no expectation)

    def compose(self):
        yield Static(self._body(), classes="step-body")

    def _body(self) -> Group:
        s = self.step
        mark = "[x]" if self.done and self.ok else "[!]" if self.done else "[ ]"
        kind = s.kind
        if kind == "read-only" and self.is_change:  # the rendered command is not read-only
            kind = "may change"
        head = Text("▶ " if self.highlighted else "  ", style="bold")  # the selection, also without colours
        head += Text(f"{mark} {self.number}. ", style="bold") + Text(s.title, style="bold")
        head.append(f"  ({kind})", style="red" if self.is_change else "dim")
        parts: list = [head]
        if self.command:
            parts.append(Text("    $ ", style="dim") + Text(self.command, style="cyan"))
        elif s.run:
            parts.append(Text("    $ ", style="dim") + Text(s.run_text, style="cyan"))
        if s.dockerfile:
            parts.append(Text("    " + s.dockerfile.rstrip().replace("\n", "\n    "), style="green"))
        if s.look_for:
            parts.append(Text("    look for: ", style="dim") + Text(s.look_for, style="italic"))
        if self.why_not:
            parts.append(Text(f"    {self.why_not}", style="yellow"))
        if self.exit_code is not None:
            status = f"    exit {self.exit_code}" + (f" (failed: {self.failed})" if self.failed else "")
            parts.append(Text(status, style="green" if self.exit_code == 0 and not self.failed else "red"))
            if not self.output and not self.failed:
                parts.append(Text("    (it printed nothing)", style="yellow" if self.step.expect else "dim"))
            for line in self.output:
                hit = bool(self.highlight and self.highlight.search(line))
                parts.append(Text("    │ ", style="dim") + Text(line, style="bold yellow" if hit else ""))
            if self.matched is not None:
                parts.append(Text(f"    ✓ the output matches {self.step.expect}", style="bold green") if self.matched
                             else Text(f"    ✗ no line matches {self.step.expect}", style="bold red"))
        return Group(*parts)

    def watch_highlighted(self, value: bool) -> None:
        super().watch_highlighted(value)
        if self.is_mounted and self.query(".step-body"):
            self.query_one(".step-body", Static).update(self._body())

    @property
    def is_change(self) -> bool:
        return bool(self.change_reason)

    @property
    def ok(self) -> bool:
        """It ran, exited 0, and printed what it had to (a verify step's `expect`)."""
        return self.exit_code == 0 and not self.failed and self.matched is not False

    def set_output(self, exit_code: int, lines: tuple[str, ...], failed: str = "") -> None:
        self.done = True
        self.failed = failed
        self.exit_code = exit_code
        self.output = lines
        self.matched = None
        if self.step.expect and self.highlight is not None and exit_code is not None and not failed:
            self.matched = any(self.highlight.search(line) for line in lines)
        self.query_one(".step-body", Static).update(self._body())

    def set_running(self) -> None:
        self.why_not = "running…"
        self.query_one(".step-body", Static).update(self._body())
        self.why_not = ""
