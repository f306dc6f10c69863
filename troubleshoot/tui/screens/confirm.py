from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static


@dataclass(frozen=True)
class Field:
    """A value the engineer decides before a fix runs: its name, what it is, a suggestion and why."""
    name: str
    label: str
    value: str = ""
    why: str = ""
    secret: bool = False  # typed hidden; never shown back


class ConfirmScreen(ModalScreen[object]):
    """Asks before anything that changes the system runs; shows exactly what will run. Enter does not confirm:
    a fix runs only on an explicit `y` (outside a text field) or the Run button.

    With `fields`, the values the engineer decides are asked here, each filled with a suggestion from the evidence;
    `preview(values)` re-renders what will run as they are edited, and says why a value cannot be used (the Run
    button then refuses). Dismisses with the values (a dict) or True when there are none; None/False: cancelled."""

    BINDINGS = [Binding("y", "answer(True)", "Run it"), Binding("n,escape", "answer(False)", "Cancel")]

    def __init__(self, title: str, command: str, warning: str = "This changes the system.",
                 fields: tuple[Field, ...] = (), preview: Callable[[dict[str, str]], str] | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.command = command
        self.warning = warning
        self.fields = fields
        self.preview = preview
        self.problem = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Text(self.title_text, style="bold"), id="confirm-title")
            yield Static(Text(self.warning, style="bold red"))
            if self.fields:
                yield Static(Text("Check the values (suggested from the evidence), then Tab to the buttons: y runs, "
                                  "n cancels. Enter in a field does not run it.", style="dim"))
            with VerticalScroll(id="confirm-scroll"):
                for f in self.fields:
                    yield Static(Text(f.label, style="bold") + (Text(f"  suggested: {f.why}", style="dim") if f.why else
                                                                Text("  (no suggestion: type it)", style="yellow")),
                                 classes="confirm-label")
                    yield Input(value=f.value, password=f.secret, id=f"ask-{f.name}", classes="confirm-input")
                yield Static(self._command_text(), id="confirm-command")
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel (n)", id="no", variant="primary")
                yield Button("Run it (y)", id="yes", variant="error")

    def _command_text(self) -> Text:
        text = (Text("$ ") + Text(self.command, style="bold cyan") if self.command
                else Text("(what will run is shown once every value is valid)", style="dim"))
        if self.problem:
            text += Text(f"\n{self.problem}", style="bold yellow")
        return text

    def values(self) -> dict[str, str]:
        return {f.name: self.query_one(f"#ask-{f.name}", Input).value.strip() for f in self.fields}

    def _refresh_preview(self) -> None:
        if self.preview is None:
            return
        try:
            self.command, self.problem = self.preview(self.values()), ""
        except ValueError as exc:  # never the last good command beside a value that is not it
            self.command, self.problem = "", f"cannot run it: {exc}"
        self.query_one("#confirm-command", Static).update(self._command_text())

    def on_mount(self) -> None:
        self._refresh_preview()
        if self.fields:  # the values first: typed into the first field; Tab to the buttons, then y (or Run)
            self.query_one(f"#ask-{self.fields[0].name}", Input).focus()
        else:
            self.query_one("#no", Button).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._refresh_preview()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()  # Enter in a field never runs the fix
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_answer(event.button.id == "yes")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "answer" and parameters == (True,) and isinstance(self.focused, Input):
            return False  # `y` types into the field it is in
        return True

    def action_answer(self, yes: bool) -> None:
        if not yes:
            self.dismiss(None if self.fields else False)
            return
        if not self.fields:
            self.dismiss(True)
            return
        self._refresh_preview()
        values = self.values()
        empty = [f.label for f in self.fields if not values[f.name]]
        if empty or self.problem:
            self.problem = self.problem or f"needs a value: {empty[0]}"
            self.query_one("#confirm-command", Static).update(self._command_text())
            self.app.bell()
            return
        self.dismiss(values)
