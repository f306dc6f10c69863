from __future__ import annotations

import re

from rich.console import Group
from rich.text import Text
from textual.widgets import ListItem, Static

from ...core.playbooks import Step


class StepItem(ListItem):
    """One playbook step in the walkthrough: checkbox, title, the exact command, what to look for, its output."""

    def __init__(self, step: Step, section: str, number: int, command: str | None, why_not: str = "",
                 highlight: re.Pattern[str] | None = None) -> None:
        super().__init__(classes=f"step -{section}")
        self.step = step
        self.section = section
        self.number = number
        self.command = command  # rendered (placeholders filled) or None when it cannot be
        self.why_not = why_not  # why it cannot run here (read-only mode, needs input, bad value...)
        self.highlight = highlight
        self.done = False
        self.output: tuple[str, ...] = ()
        self.exit_code: int | None = None

    def compose(self):
        yield Static(self._body(), classes="step-body")

    def _body(self):
        s = self.step
        mark = "[x]" if self.done else "[ ]"
        kind = "changes" if s.changes else ("interactive" if s.interactive else ("read-only" if s.run else "guide"))
        head = Text(f"{mark} {self.number}. ", style="bold") + Text(s.title, style="bold")
        head.append(f"  ({kind})", style="red" if s.changes else "dim")
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
            parts.append(Text(f"    exit {self.exit_code}", style="green" if self.exit_code == 0 else "red"))
            for line in self.output:
                hit = bool(self.highlight and self.highlight.search(line))
                parts.append(Text("    │ ", style="dim") + Text(line, style="bold yellow" if hit else ""))
        return Group(*parts)

    def set_output(self, exit_code: int, lines: tuple[str, ...]) -> None:
        self.done = True
        self.exit_code = exit_code
        self.output = lines
        self.query_one(".step-body", Static).update(self._body())

    def set_running(self) -> None:
        self.why_not = "running…"
        self.query_one(".step-body", Static).update(self._body())
        self.why_not = ""
