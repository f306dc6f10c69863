"""Shown when no daemon answers at start: says why, keeps retrying, and offers the shipped demo instead of failing."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class NoDaemonScreen(ModalScreen[str]):
    BINDINGS = [Binding("d", "choose('demo')", "Open the demo"), Binding("q", "choose('quit')", "Quit"),
                Binding("escape", "choose('wait')", "Keep waiting")]

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(id="nodaemon-box"):
            yield Static(Text("No Docker daemon answers", style="bold red"))
            yield Static(Text(self.reason), id="nodaemon-reason")
            yield Static(Text("troubleshoot keeps retrying every 2 s and closes this when the daemon is back.\n"
                              "Meanwhile you can open the demo: recorded real incidents (the training lab), "
                              "read-only, no daemon needed.", style="dim"))
            with Horizontal(id="nodaemon-buttons"):
                yield Button("Open the demo (d)", id="demo", variant="primary")
                yield Button("Keep waiting (esc)", id="wait")
                yield Button("Quit (q)", id="quit", variant="error")

    def on_mount(self) -> None:
        self.query_one("#demo", Button).focus()

    def update_reason(self, reason: str) -> None:
        self.reason = reason
        self.query_one("#nodaemon-reason", Static).update(Text(reason))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "wait")

    def action_choose(self, what: str) -> None:
        self.dismiss(what)
