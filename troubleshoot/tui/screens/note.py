"""A free-text note for the incident record (`n` in the walkthrough): Enter saves, Escape cancels."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class NoteScreen(ModalScreen[str]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, container: str) -> None:
        super().__init__()
        self.container = container

    def compose(self) -> ComposeResult:
        with Vertical(id="note-box"):
            yield Static(Text(f"Note for the incident on {self.container}", style="bold"))
            yield Static(Text("Saved to the incident record at once; it goes into the RCA. Enter saves, Esc cancels.",
                              style="dim"))
            yield Input(placeholder="what you saw, decided or told someone", id="note-input")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#note-input", Input))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss("")
