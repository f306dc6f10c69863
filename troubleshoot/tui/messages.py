"""Messages from workers (threads) to the app: the only way daemon data reaches the UI.

Each message from the daemon carries `at` (time.monotonic() when the worker built it, i.e. when the daemon had just
answered, or just failed): the app clears the "daemon unreachable" banner only for an answer newer than the last
failure, and never lets an answer older than a container's removal bring the container back."""
from __future__ import annotations

import time

from textual.message import Message

from ..backend import Row
from ..core.facts import Host, Observation


class RowsLoaded(Message):
    def __init__(self, rows: list[Row], asked_at: float | None = None, reconcile: bool = False,
                 load: bool = False) -> None:
        super().__init__()
        self.rows = rows
        self.at = time.monotonic()
        self.asked_at = self.at if asked_at is None else asked_at  # when the list was asked for
        self.reconcile = reconcile  # the periodic list: new and changed containers are inspected by the app
        self.load = load  # a (first) load: its worker inspects every row listed, the board says how far it is


class Observed(Message):
    def __init__(self, observations: list[Observation], ids: list[str],
                 findings: dict[str, list] | None = None, asked_at: float | None = None,
                 again: dict[str, Observation] | None = None, first: bool = False) -> None:
        super().__init__()
        self.observations = observations
        self.first = first  # a load's first batch (the worst first): drawn at once, however busy the board is
        self.ids = ids  # asked for: an id asked for and not observed has vanished
        self.findings = findings  # diagnosed in the worker (None: the UI diagnoses, e.g. before the host is known)
        self.again = again or {}  # earlier observations diagnosed again with these as peers (their findings too)
        self.at = time.monotonic()
        self.asked_at = self.at if asked_at is None else asked_at  # when the inspects were asked for


class HostLoaded(Message):
    def __init__(self, host: Host, findings: dict[str, list] | None = None,
                 basis: dict[str, Observation] | None = None, first_load: bool = False) -> None:
        super().__init__()
        self.host = host
        self.findings = findings  # containers diagnosed with this host, in the worker ...
        self.basis = basis  # ... from these observations (the app keeps a finding only if its observation is current)
        self.first_load = first_load  # the end of a load (the first, or a reload after the daemon came back):
        # everything inspected, diagnosed with every peer
        self.at = time.monotonic()


class ContainerEvent(Message):
    def __init__(self, cid: str, action: str) -> None:
        super().__init__()
        self.cid = cid
        self.action = action
        self.at = time.monotonic()


class DaemonLost(Message):
    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason
        self.at = time.monotonic()


class DaemonBack(Message):
    def __init__(self) -> None:
        super().__init__()
        self.at = time.monotonic()


class StateChanged(Message):
    """App state (rows, observations, findings, host) changed; screens repaint what they show."""

    def __init__(self, ids: set[str] | None = None, first: bool = False) -> None:
        super().__init__()
        self.ids = ids  # None: everything
        self.first = first  # a load's first inspects (Observed.first): repainted at once, not throttled


class CatalogLoaded(Message):
    """The playbooks, loaded once the first frame was drawn (a live daemon): the files that were skipped, and why."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__()
        self.errors = errors


class HostsChanged(Message):
    """Several hosts (hosts.MultiBackend): one of them connected, answered or failed."""
