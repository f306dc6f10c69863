from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = [
    ("Board", ""),
    ("↑ ↓", "select a container"), ("enter", "open the walkthrough of its top finding"),
    ("/", "filter by text (name, Compose project or service, image, state, finding)"),
    ("z, enter on a project", "fold / unfold a Compose project (its line: worst finding, container count)"),
    ("a", "all containers / running only"), ("tab", "move between the board and the tabs"),
    ("1 2 3 4", "tabs: findings, logs, inspect, image"), ("v", "re-check the selected container"),
    ("f", "logs: follow on/off"), ("s", "logs: search (show matching lines)"), ("x", "inspect: reveal secret values"),
    ("i", "image: read its layers (wasted bytes, build tools, secret files)"),
    ("ctrl+p", "command palette"), ("q", "quit"),
    ("Walkthrough", ""),
    ("↑ ↓", "select a step (the selected one is marked ▶); ↑ at the first step: back to the top"),
    ("PgUp PgDn", "scroll the walkthrough a page"), ("home end", "its top (symptom, root cause) / its end"),
    ("ctrl+↑ ctrl+↓", "scroll a line (also shift+↑ shift+↓)"),
    ("r", "run the step (read-only: at once; anything else, interactive ones "
          "included: after confirmation, never with --read-only)"),
    ("", "a fix asks its values in the dialog (suggested from the evidence): Tab to the buttons, y runs it"),
    ("c", "copy the step's command (terminal clipboard, works over SSH)"),
    ("v", "re-check: verify's verdict (pass / fail / settling) on fresh facts, recorded"),
    ("u", "roll back a fix that recreated the container (kept, stopped, until verify passes)"),
    ("n", "add a note to the incident record"),
    ("e", "export the RCA: confirm or edit the root cause written from the evidence, then the Markdown"),
    ("escape", "back to the board"),
]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "app.pop_screen", "Close")]

    def compose(self) -> ComposeResult:
        table = Table(show_header=False, box=None, padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for key, what in KEYS:
            if not what:
                table.add_row(Text(key, style="bold underline"), "")
            else:
                table.add_row(key, what)
        with VerticalScroll(id="help-box"):
            yield Static(Text("troubleshoot — keys", style="bold"))
            yield Static(table)
            yield Static(Text("Read-only steps run at once; a step that changes anything always asks first, and "
                              "never runs with --read-only.", style="italic"))
