from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[bool]):
    """Asks before anything that changes the system runs; shows exactly what will run. Enter does not confirm:
    a fix runs only on an explicit `y` or the Run button."""

    BINDINGS = [Binding("y", "answer(True)", "Run it"), Binding("n,escape", "answer(False)", "Cancel")]

    def __init__(self, title: str, command: str, warning: str = "This changes the system.") -> None:
        super().__init__()
        self.title_text = title
        self.command = command
        self.warning = warning

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Text(self.title_text, style="bold"), id="confirm-title")
            yield Static(Text(self.warning, style="bold red"))
            yield Static(Text("$ ") + Text(self.command, style="bold cyan"), id="confirm-command")
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel (n)", id="no", variant="primary")
                yield Button("Run it (y)", id="yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
