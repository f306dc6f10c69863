"""Messages from workers (threads) to the app: the only way daemon data reaches the UI."""
from __future__ import annotations

from textual.message import Message

from ..backend import Row
from ..core.facts import Host, Observation


class RowsLoaded(Message):
    def __init__(self, rows: list[Row]) -> None:
        super().__init__()
        self.rows = rows


class Observed(Message):
    def __init__(self, observations: list[Observation], ids: list[str],
                 findings: dict[str, list] | None = None) -> None:
        super().__init__()
        self.observations = observations
        self.ids = ids  # asked for: an id asked for and not observed has vanished
        self.findings = findings  # diagnosed in the worker (None: the UI diagnoses, e.g. before the host is known)


class HostLoaded(Message):
    def __init__(self, host: Host) -> None:
        super().__init__()
        self.host = host


class ContainerEvent(Message):
    def __init__(self, cid: str, action: str) -> None:
        super().__init__()
        self.cid = cid
        self.action = action


class DaemonLost(Message):
    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class DaemonBack(Message):
    pass


class StateChanged(Message):
    """App state (rows, observations, findings, host) changed; screens repaint what they show."""

    def __init__(self, ids: set[str] | None = None) -> None:
        super().__init__()
        self.ids = ids  # None: everything
