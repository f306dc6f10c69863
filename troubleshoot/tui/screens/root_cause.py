"""The root cause, written from the evidence, shown at export for the engineer to confirm or edit (`e` in the
walkthrough): Save records it and writes the RCA; Cancel (Esc) writes nothing."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea


class RootCauseScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save")]

    def __init__(self, container: str, cause: str) -> None:
        super().__init__()
        self.container = container
        self.cause = cause

    def compose(self) -> ComposeResult:
        with Vertical(id="rootcause-box"):
            yield Static(Text(f"Root cause of the incident on {self.container}", style="bold"))
            yield Static(Text("Written from the evidence. Confirm it or correct it: it goes into the RCA as the "
                              "root cause. Ctrl+S or Save writes the RCA, Esc cancels.", style="dim"))
            yield TextArea(self.cause, id="rootcause-text", soft_wrap=True, show_line_numbers=False)
            with Horizontal(id="rootcause-buttons"):
                yield Button("Save and export (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#rootcause-text", TextArea))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def action_save(self) -> None:
        self.dismiss(self.query_one("#rootcause-text", TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)
