from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.text import Text
from textual.widgets import Static

from ...core.facts import Observation
from ..rows import badge

if TYPE_CHECKING:
    from ...core.diagnose import Finding


class FindingsView(Static):
    """The selected container's ranked findings with their evidence (untrusted text as Text, never markup)."""

    def show(self, obs: Observation | None, found: list[Finding]) -> None:
        if obs is None:
            self.update(Text("Select a container.", style="dim"))
            return
        parts: list = []
        if not found:
            parts.append(Text(f"{obs.container.name}: nothing found.", style="green"))
        for i, f in enumerate(found):
            head = badge(f.severity) + Text(f" {f.title}", style="bold")
            head.append(f"  {f.playbook_id}{' (likely)' if f.confidence == 'likely' else ''}", style="dim")
            parts.append(head)
            for line in f.evidence:
                parts.append(Text("   • ") + Text(line))
            if i == 0:
                parts.append(Text("   enter: walkthrough", style="italic dim"))
        self.update(Group(*parts))
