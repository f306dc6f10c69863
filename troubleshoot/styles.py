"""The colours of a severity badge and of a container state: shared by the command line's tables (render.py) and the
board's rows (tui/rows.py). Light on purpose: the board draws its first rows before the rest of render.py (rich's
tables, the playbooks, the diagnosis) is imported."""
from __future__ import annotations

from rich.text import Text

SEVERITY_STYLE = {"critical": "bold white on red", "warning": "bold black on yellow", "info": "white on blue"}
SEVERITY_SHORT = {"critical": "CRIT", "warning": "WARN", "info": "INFO"}
STATE_STYLE = {"running": "green", "exited": "red", "restarting": "yellow", "created": "magenta", "dead": "red",
               "paused": "cyan"}


def badge(severity: str, short: bool = False) -> Text:
    label = SEVERITY_SHORT.get(severity, severity) if short else severity.upper()
    return Text(f" {label} ", style=SEVERITY_STYLE.get(severity, ""))
