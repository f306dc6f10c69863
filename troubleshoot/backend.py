"""What the TUI runs on. The App takes a back end as an argument (harlequin-style): a live daemon, or recorded
records (snapshot tests; later `--from FILE`). Blocking: the TUI calls these from thread workers only.
No textual here."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from .core.facts import Host, Observation
from .core.playbooks import Catalog
from .core.records import host_from_record, observation_from_record


@dataclass(frozen=True)
class Row:
    """One line of the sparse container list: enough to paint the board before any inspect."""
    id: str
    name: str
    state: str
    status: str
    image: str


@dataclass(frozen=True)
class StepOutput:
    exit_code: int
    lines: tuple[str, ...]
    timed_out: bool = False


PROBE_TIMEOUT = 10  # seconds: a daemon that does not list its containers in this time is shown as unreachable


class BackendError(Exception):
    """The back end cannot answer now (daemon gone...); one line."""


class Backend:
    label = ""
    live = False

    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def connect(self) -> None: ...

    def rows(self, all: bool = True) -> list[Row]:
        raise NotImplementedError

    def probe_rows(self) -> list[Row]:
        """The sparse list of every container, with a short timeout: the periodic reconcile, which also tells that
        the daemon answers (or not) when nothing else asks it anything."""
        return self.rows(all=True)

    def observe(self, ids: list[str]) -> list[Observation]:
        raise NotImplementedError

    def host(self) -> Host:
        raise NotImplementedError

    def events(self, stop: threading.Event, since: float | None = None) -> Iterator[dict]:
        return iter(())

    def run(self, argv: list[str], timeout: float = 30) -> StepOutput:
        raise BackendError("this back end runs no commands (recorded data)")

    def logs(self, cid: str, tail: int = 500, tty: bool = False) -> tuple[str, ...]:
        return ()

    def history(self, image_id: str) -> list[dict]:
        return []

    def image_layers(self, image_id: str) -> dict | None:
        """What every layer holds (docker save, streamed): costly, only on request."""
        raise BackendError("this back end has no image layers")

    def close(self) -> None: ...

    def abort(self) -> None:
        """From any thread: make every blocking call in flight fail now, and every later one (the app is quitting)."""


def _rows_from_list(items: list[dict]) -> list[Row]:
    return [Row(r.get("Id", ""), ((r.get("Names") or ["/?"])[0]).lstrip("/"), r.get("State", ""), r.get("Status", ""),
                r.get("Image", "")) for r in items]


class LiveBackend(Backend):
    live = True

    def __init__(self, catalog: Catalog, host: str | None = None):
        super().__init__(catalog)
        from .daemon import Daemon
        self.daemon = Daemon(host)
        self.probe = Daemon(host, timeout=PROBE_TIMEOUT)  # own connections: never queued behind a slow inspect
        self.label = self.daemon.endpoint.url

    def _guard(self, fn, *args, **kwargs):
        from .daemon import DaemonError
        try:
            return fn(*args, **kwargs)
        except DaemonError as exc:
            self.daemon.close()
            raise BackendError(str(exc)) from None

    def connect(self) -> None:
        self._guard(self.daemon.connect)

    def rows(self, all: bool = True) -> list[Row]:
        return _rows_from_list(self._guard(self.daemon.list_containers, all))

    def probe_rows(self) -> list[Row]:
        from .daemon import DaemonError
        try:
            return _rows_from_list(self.probe.list_containers(True))
        except DaemonError as exc:
            self.probe.close()
            raise BackendError(str(exc)) from None

    def observe(self, ids: list[str]) -> list[Observation]:
        return [observation_from_record(r) for r in self._guard(self.daemon.observe_records, ids=ids)]

    def host(self) -> Host:
        return self._guard(self.daemon.host)

    def events(self, stop: threading.Event, since: float | None = None) -> Iterator[dict]:
        """Live container events from `since`. Over ssh:// the stream cannot be closed from here, so it is read in
        2 s windows. A daemon error while reading becomes BackendError (the app shows it and reconnects)."""
        from .daemon import DaemonError
        since = time.time() if since is None else since
        try:
            if self.daemon.endpoint.is_ssh or not self.daemon.endpoint.is_local:
                while not stop.is_set():
                    until = time.time() + 2
                    yield from list(self.daemon.events(since, until))
                    since = until
                return
            yield from self.daemon.events(since, stop=stop)
        except DaemonError as exc:
            raise BackendError(str(exc)) from None

    def stop_events(self) -> None:
        self.daemon.close_events()

    def run(self, argv: list[str], timeout: float = 30) -> StepOutput:
        r = self.daemon.run_command(argv, timeout)
        return StepOutput(r.exit_code, r.lines, r.timed_out)

    def logs(self, cid: str, tail: int = 500, tty: bool = False) -> tuple[str, ...]:
        lines, why = self._guard(self.daemon.read_logs, cid, tail, tty=tty)
        return lines or ((f"({why})",) if why else ())

    def history(self, image_id: str) -> list[dict]:
        return self._guard(self.daemon.history, image_id)

    def image_layers(self, image_id: str) -> dict | None:
        return self._guard(self.daemon.image_layers, image_id)

    def close(self) -> None:
        self.daemon.close()
        self.probe.close()

    def abort(self) -> None:
        self.daemon.abort()
        self.probe.abort()


class RecordedBackend(Backend):
    """Records captured earlier: no daemon, read-only, and a fixed `now` so that screens are reproducible."""

    def __init__(self, catalog: Catalog, records: list[dict], host_record: dict, now: datetime, label: str = "recorded"):
        super().__init__(catalog)
        self.records = {r["inspect"]["Id"]: r for r in records}
        self.host_record = host_record
        self._now = now
        self.label = label

    def now(self) -> datetime:
        return self._now

    def rows(self, all: bool = True) -> list[Row]:
        out = []
        for r in self.records.values():
            d = r["inspect"]
            state = (d.get("State") or {}).get("Status", "")
            if all or state == "running":
                out.append(Row(d["Id"], d.get("Name", "").lstrip("/"), state, state, (d.get("Config") or {}).get("Image", "")))
        return out

    def observe(self, ids: list[str]) -> list[Observation]:
        return [observation_from_record(self.records[i]) for i in ids if i in self.records]

    def host(self) -> Host:
        return host_from_record(self.host_record)

    def logs(self, cid: str, tail: int = 500, tty: bool = False) -> tuple[str, ...]:
        return tuple((self.records.get(cid) or {}).get("logs") or ())[-tail:]

    def history(self, image_id: str) -> list[dict]:
        for r in self.records.values():
            if (r.get("image") or {}).get("Id") == image_id:
                return r.get("history") or []
        return []

    def image_layers(self, image_id: str) -> dict | None:
        for r in self.records.values():
            if (r.get("image") or {}).get("Id") == image_id and r.get("layers"):
                return r["layers"]
        raise BackendError("recorded without the image's layers (snapshot of a `--deep` scan needed)")


DEMO_SNAPSHOT = Path(__file__).resolve().parent / "data" / "demo-snapshot.json"


def read_snapshot(path: str | Path) -> dict:
    """A snapshot file, cleaned like the daemon's answers (it is untrusted input too) and checked; SnapshotError
    (one line naming the file) when it cannot be used."""
    from .clean import loads_clean
    from .core.snapshot import SnapshotError, parse
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse(data, str(path), loads=loads_clean)


def snapshot_backend(catalog: Catalog, path: str | Path, label: str | None = None) -> RecordedBackend:
    from .core.snapshot import taken_at
    doc = read_snapshot(path)
    when = taken_at(doc)
    label = label or f"snapshot {Path(path).name}, taken {when:%Y-%m-%d %H:%M} UTC from {doc.get('source', '?')}"
    return RecordedBackend(catalog, doc["containers"], doc["host"], when, label)
