"""The data source: what every CLI command and the app read from. One interface, three kinds: a live daemon, a
snapshot file (`--from FILE`), the shipped demo (`--demo`). The App takes one as an argument (harlequin-style);
the CLI opens one with `open_source`. Every record it hands out went through the boundary (typed, bounded,
cleaned, masked). Blocking: the TUI calls these from thread workers only. No textual here."""
from __future__ import annotations

import re
import threading
import time
import msgspec
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from .clean import clean_text
from .core import schema
from .core.compose import Compose
from .core.compose import from_labels as compose_from_labels
from .core.secrets import SecretValues, mask_known

if TYPE_CHECKING:  # imported where used: a scan opens the daemon (and asks its first reads) before these load
    from .core.facts import Host, Observation
    from .core.playbooks import Catalog


class Row(msgspec.Struct, frozen=True):
    """One line of the sparse container list: enough to paint the board before any inspect."""
    id: str
    name: str
    state: str
    status: str
    image: str
    compose: Compose | None = None  # its Compose project and service, from the list's labels (None: loose)

    @property
    def project(self) -> str:
        return self.compose.project if self.compose is not None else ""


_EXITED = re.compile(r"^Exited \((\d+)\)")


def urgency(row: Row) -> int:
    """How soon a row must be inspected, from the sparse list alone (lower first): what is visibly broken (restarting,
    dead, unhealthy, exited non-zero), then what is not running (created, exited 0, paused) or still starting its
    probe, then what runs. The app inspects in this order: the worst container's finding is on screen first."""
    status = row.status or ""
    exited = _EXITED.match(status)
    if row.state in ("restarting", "dead") or "(unhealthy)" in status or (exited and exited.group(1) != "0"):
        return 0
    if row.state in ("created", "exited", "paused", "removing"):
        return 1
    if "health: starting" in status:
        return 2
    return 3


_CODE = re.compile(r"^(?:Exited|Restarting) \((\d+)\)")
KILLED = "137"  # SIGKILL: the kernel's OOM killer (oom-killed, the playbooks' top incident) or a kill
CRASHED = frozenset({"132", "133", "134", "135", "136", "139"})  # SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV


def hint(row: Row) -> int:
    """Within a level of urgency, what the list's Status already tells of how bad it is (lower first): killed (137:
    OOM-killed, the playbooks' top incident, or killed), then crashed on a signal (segfault, abort...), then the
    rest. Only an order to inspect in: the board ranks by the diagnosis, once the inspect is in."""
    code = _CODE.match(row.status or "")
    if code is None:
        return 2
    return 0 if code.group(1) == KILLED else 1 if code.group(1) in CRASHED else 2


def inspect_order(rows: Sequence[Row]) -> list[Row]:
    """The rows by urgency, then by what their Status tells (`hint`: killed, crashed...), the list's own order
    (newest first) kept within each."""
    return sorted(rows, key=lambda r: (urgency(r), hint(r)))


def load_order(rows: Sequence[Row], visible: int = 0) -> list[Row]:
    """The app's first load: what the list already shows as broken or stopped (urgency 0, then 1: restarting, dead,
    unhealthy, exited, created, paused), then the `visible` rows the board shows next (it lists the rows not
    inspected yet by name), then the rest by urgency."""
    ordered = inspect_order(rows)
    first = [r for r in ordered if urgency(r) <= 1]
    rest = ordered[len(first):]
    seen = sorted(rest, key=lambda r: r.name)[:visible]
    shown = {r.id for r in seen}
    return first + seen + [r for r in rest if r.id not in shown]


def batches(ids: Sequence[str], first: int = 25, most: int = 200) -> Iterator[list[str]]:
    """`ids` in batches of `first`, then twice as many each time, up to `most`: the first findings come quickly, and
    the rest in few reads (each batch's reads are pipelined; a batch also costs a few fixed reads: images, events)."""
    i, size = 0, first
    while i < len(ids):
        yield list(ids[i:i + size])
        i += size
        size = min(size * 2, most)


BROKEN_AT_ONCE = 1000  # the visibly broken after the first batch: in one read up to this many


def load_batches(rows: Sequence[Row], visible: int = 0, first: int = 25, most: int = 200) -> list[list[str]]:
    """The first load's inspects (load_order) in batches: `first` rows, then every other visibly broken one (urgency 0)
    at once, so that the worst finding is on screen after two reads however many are broken; then batches growing
    from 2 x `first` to `most`."""
    ordered = [r.id for r in load_order(rows, visible)]
    broken = sum(1 for r in rows if urgency(r) == 0)
    head = [ordered[:first]] if ordered else []
    end = max(first, min(broken, first + BROKEN_AT_ONCE))
    if end > first:
        head.append(ordered[first:end])
    return head + list(batches(ordered[end:], min(2 * first, most), most))


class StepOutput(msgspec.Struct, frozen=True):
    exit_code: int
    lines: tuple[str, ...]
    timed_out: bool = False


PROBE_TIMEOUT = 10  # seconds: a daemon that does not list its containers in this time is shown as unreachable


class BackendError(Exception):
    """The back end cannot answer now (daemon gone...); one line, with no terminal control in it (a URL, a context's
    endpoint or a daemon's text it quotes are cleaned here, before any screen or stream shows it)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(clean_text(a) if isinstance(a, str) else a for a in args))


class Backend:
    label = ""
    live = False

    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def connect(self) -> None: ...

    def prefetch(self, all: bool = True, asked: Any = None) -> None:
        """Ask now for what a scan reads first, so that the source answers while the caller does something else
        (a live daemon: its list, /info, its images). Nothing for recorded data."""

    def rows(self, all: bool = True) -> list[Row]:
        raise NotImplementedError

    def listed(self) -> tuple[list[Row], float, float]:
        """The sparse list of every container, and when it was asked for: (rows, time.time(), time.monotonic())."""
        since, asked = time.time(), time.monotonic()
        return self.rows(all=True), since, asked

    def records(self, ids: list[str], tail: int = 200, deep: bool = False,
                forked: bool = False) -> list[tuple[schema.ContainerRecord, SecretValues]]:
        """(record, its raw secret values) for each id that still exists."""
        raise NotImplementedError

    def probe_rows(self) -> list[Row]:
        """The sparse list of every container, with a short timeout: the periodic reconcile, which also tells that
        the daemon answers (or not) when nothing else asks it anything."""
        return self.rows(all=True)

    def host_record(self) -> schema.HostRecord:
        raise NotImplementedError

    def observe(self, ids: list[str]) -> list[Observation]:
        from .core.records import observation_from_record
        return [observation_from_record(r, secrets) for r, secrets in self.records(ids)]

    def select(self, names: Sequence[str] = (), running: bool = False, projects: Sequence[str] = ()) -> list[str]:
        """Ids of the containers a command names (a name part or an id prefix), all of them when none is named;
        with `projects`, only those of these Compose projects (NoSuchProject when one has no container here)."""
        rows = self.rows(all=not running)
        missing = sorted(set(projects) - {r.project for r in rows})
        if missing:
            raise NoSuchProject(missing, sorted({r.project for r in rows if r.project}))
        return _named(rows, names, projects)

    def ask_early(self, names: Sequence[str] = (), running: bool = False, projects: Sequence[str] = ()) -> None:
        """After `prefetch`: if the list has come, ask now for what `records(select(names, running))` will read
        first (a live daemon: the inspects), so that the source answers while the caller does something else."""

    def image(self, ref: str) -> schema.ImageInspect | None:
        raise BackendError("this source has no images to inspect")

    def reveal_env(self, cid: str) -> tuple[tuple[str, str], ...]:
        """The env with secret values unmasked, for the app's reveal action only (after confirming)."""
        return ()

    def host(self) -> Host:
        from .core.records import host_from_record
        return host_from_record(self.host_record())

    def events(self, stop: threading.Event, since: float | None = None) -> Iterator[schema.Event]:
        return iter(())

    def stop_events(self) -> None:
        """From any thread: end the event stream being read (`events`), so that its worker returns."""

    def run(self, argv: list[str], timeout: float = 30, cid: str | None = None) -> StepOutput:
        """Run a step's command; `cid`: the container it is a step for (several hosts: on that container's host)."""
        raise BackendError("this back end runs no commands (recorded data)")

    def refusal(self, argv: list[str], cid: str | None = None) -> str | None:
        """Why `argv` must not run here (before it is run, interactive steps included), or None."""
        return "recorded data: no daemon to run it on"

    def command_env(self, argv: list[str], cid: str | None = None) -> dict[str, str] | None:
        """The environment to run `argv` in (None: this process's own)."""
        return None

    def logs(self, cid: str, tail: int = 500, tty: bool = False, secrets: Iterable[str] = ()) -> tuple[str, ...]:
        return ()

    def image_layers(self, image_id: str) -> schema.ImageLayers | None:
        """What every layer holds (docker save, streamed): costly, only on request."""
        raise BackendError("this back end has no image layers")

    # -- fixes, after the engineer confirmed them (troubleshoot/fixes.py) ------------------------------------------
    def recreate(self, cid: str, changes: list[tuple[str, str]]):
        """Recreate the container with `changes`, keeping the old one (stopped, renamed): a fixes.FixResult."""
        raise BackendError("recorded data: nothing can be changed")

    def rollback(self, fix):
        raise BackendError("recorded data: nothing can be changed")

    def drop_old(self, fix):
        raise BackendError("recorded data: nothing can be changed")

    def rewrite_script(self, cid: str, path: str):
        raise BackendError("recorded data: nothing can be changed")

    def close(self) -> None: ...

    def abort(self) -> None:
        """From any thread: make every blocking call in flight fail now, and every later one (the app is quitting)."""


def _rows_from_list(items: list[schema.ListRow]) -> list[Row]:
    return [Row(r.Id, r.name, r.State, r.Status, r.Image, compose_from_labels(r.Labels)) for r in items]


def _named(rows: Sequence[Row], names: Sequence[str], projects: Sequence[str] = ()) -> list[str]:
    """Ids of the rows a name part or an id prefix names, all of them when none is named; with `projects`, only
    the rows of those Compose projects."""
    names = [n for n in names if n]
    return [r.id for r in rows if (not names or any(n in r.name or r.id.startswith(n) for n in names))
            and (not projects or r.project in projects)]


class NoSuchProject(Exception):
    """A Compose project named (`scan --project`) has no container on this source."""

    def __init__(self, missing: Sequence[str], known: Sequence[str]):
        self.missing, self.known = list(missing), list(known)
        super().__init__(", ".join(missing))


class Early:
    """The app's first reads, begun as the process starts (cli.cmd_tui, before textual is loaded: ~0.15 s of imports
    meanwhile). On a local daemon its first reads are asked at once, pipelined, each on its own connection
    (`Daemon.prefetch`, as the CLI's scan does): the sparse list, /version, /info and the images, so that the daemon
    works on all of them while the process imports. A thread then connects and reads the list; /info and the images
    stay with the daemon's connection for the app's first host record and inspects. The LiveBackend made with it
    hands the answers to the app's first calls instead of asking again. A failure is not kept: that call asks again,
    and fails in its own way (banner, offer of the demo)."""

    def __init__(self, host: str | None) -> None:
        from .daemon import Daemon
        self.host = host
        self.daemon = Daemon(host)  # DaemonError (a docker context that cannot be read): the caller goes without
        self.rows: list[Row] | None = None
        self.connected: bool | None = None
        self.since, self.asked = time.time(), time.monotonic()  # the list is asked now (events from then on)
        self.daemon.prefetch(all=True)  # nothing on a transport that cannot pipeline: the thread asks
        self._thread = threading.Thread(target=self._read, name="troubleshoot-early", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            self.daemon.connect()
            self.connected = True
            self.rows = _rows_from_list(self.daemon.containers(True))
        except Exception:  # noqa: BLE001 - whatever it is, the app's own call meets it again and says it
            pass

    def wait(self) -> "Early":
        self._thread.join()
        return self


def start_early(host: str | None) -> Early | None:
    """The app's first reads, begun now (see Early); None when the endpoint cannot even be resolved. The app starts
    next: the cyclic GC is paused until its first rows are on screen (startgc.pause)."""
    from . import startgc
    from .daemon import DaemonError
    startgc.pause()
    try:
        return Early(host)
    except DaemonError:
        return None


class LiveBackend(Backend):
    live = True

    def __init__(self, catalog: Catalog, host: str | None = None, early: Early | None = None):
        super().__init__(catalog)
        from .daemon import Daemon, DaemonError
        from .events import EventStream
        self._early = early if early is not None and early.host == host else None
        try:
            self.daemon = self._early.daemon if self._early is not None else Daemon(host)
            self.probe = Daemon(host, timeout=PROBE_TIMEOUT)  # own connections: never queued behind a slow inspect
        except DaemonError as exc:  # a docker context that cannot be read: said when connecting, in one line
            raise BackendError(str(exc)) from None
        self.event_stream = EventStream(self.daemon)
        self.label = clean_text(self.daemon.endpoint.url)  # shown: no terminal control (a hostile -H)

    def _guard(self, fn, *args, **kwargs):
        from .daemon import DaemonError
        try:
            return fn(*args, **kwargs)
        except DaemonError as exc:
            self.daemon.close()
            raise BackendError(str(exc)) from None

    def _take(self, what: str):
        """An early answer (`connected`, `rows`), once; None when there is none (any more)."""
        early = self._early
        if early is None:
            return None
        answer = getattr(early.wait(), what)
        setattr(early, what, None)
        if early.connected is None and early.rows is None:
            self._early = None
        return answer

    def connect(self) -> None:
        if self._take("connected"):
            return  # connected as the process started
        self._guard(self.daemon.connect)

    def prefetch(self, all: bool = True, asked: Any = None) -> None:
        self._guard(self.daemon.prefetch, all, asked)

    def ask_early(self, names: Sequence[str] = (), running: bool = False, projects: Sequence[str] = ()) -> None:
        self._guard(self.daemon.ask_inspects_early, not running,
                    lambda listed: _named(_rows_from_list(listed), names, projects))

    def rows(self, all: bool = True) -> list[Row]:
        return _rows_from_list(self._guard(self.daemon.containers, all))

    def listed(self) -> tuple[list[Row], float, float]:
        early = self._early
        rows = self._take("rows")
        if early is not None and rows is not None:
            return rows, early.since, early.asked
        return super().listed()

    def records(self, ids: list[str], tail: int = 200, deep: bool = False,
                forked: bool = False) -> list[tuple[schema.ContainerRecord, SecretValues]]:
        """`forked`: the per-container part on two processes (forkmap.py), for a caller with no other thread (the
        CLI's scan); a daemon on this machine only (a remote one is read through docker-py's threads)."""
        from . import scan
        each = None
        if forked and self.daemon.over_unix_socket:  # a local daemon, or ssh:// through its local forward
            from .forkmap import fork_map
            daemon = self.daemon

            def each(fn, indexes):
                return fork_map(fn, indexes, encode=lambda pair: (pair[0], list(pair[1])),
                                decode=lambda pair: (pair[0], SecretValues(pair[1])),
                                kind=tuple[schema.ContainerRecord, list[str]], child_init=daemon.after_fork)
        return self._guard(scan.observe_records, self.daemon, ids=ids, tail=tail, deep=deep, each=each)

    def probe_rows(self) -> list[Row]:
        from .daemon import DaemonError
        try:
            return _rows_from_list(self.probe.containers(True))
        except DaemonError as exc:
            self.probe.close()
            raise BackendError(str(exc)) from None

    def host_record(self) -> schema.HostRecord:
        from . import scan
        return self._guard(scan.host_record, self.daemon)

    def image(self, ref: str) -> schema.ImageInspect | None:
        return self._guard(self.daemon.image, ref)

    def reveal_env(self, cid: str) -> tuple[tuple[str, str], ...]:
        return self._guard(self.daemon.reveal_env, cid)

    def events(self, stop: threading.Event, since: float | None = None) -> Iterator[schema.Event]:
        """Live container events from `since` (events.py: over ssh:// in short windows). A daemon error while
        reading becomes BackendError (the app shows it and reconnects)."""
        from .daemon import DaemonError
        try:
            yield from self.event_stream.follow(stop, since)
        except DaemonError as exc:
            raise BackendError(str(exc)) from None

    def stop_events(self) -> None:
        self.event_stream.close()

    def run(self, argv: list[str], timeout: float = 30, cid: str | None = None) -> StepOutput:
        from .runner import run_command
        r = run_command(self.daemon.endpoint, argv, timeout)  # refuses what command_refusal refuses
        return StepOutput(r.exit_code, r.lines, r.timed_out)

    def refusal(self, argv: list[str], cid: str | None = None) -> str | None:
        from .runner import command_refusal
        return command_refusal(self.daemon.endpoint, argv)

    def command_env(self, argv: list[str], cid: str | None = None) -> dict[str, str] | None:
        from .runner import docker_env
        return docker_env(self.daemon.endpoint) if argv and argv[0] == "docker" else None

    def logs(self, cid: str, tail: int = 500, tty: bool = False, secrets: Iterable[str] = ()) -> tuple[str, ...]:
        lines, why = self._guard(self.daemon.read_logs, cid, tail, tty=tty)
        return tuple(mask_known(line, secrets) for line in lines) or ((f"({why})",) if why else ())

    def image_layers(self, image_id: str) -> schema.ImageLayers | None:
        return self._guard(self.daemon.image_layers, image_id)

    def recreate(self, cid: str, changes: list[tuple[str, str]]):
        from . import fixes
        return self._guard(fixes.recreate, self.daemon, cid, changes, self.now())

    def rollback(self, fix):
        from . import fixes
        return self._guard(fixes.rollback, self.daemon, fix)

    def drop_old(self, fix):
        from . import fixes
        return self._guard(fixes.drop_old, self.daemon, fix)

    def rewrite_script(self, cid: str, path: str):
        from . import fixes
        return self._guard(fixes.rewrite_script, self.daemon, cid, path)

    def close(self) -> None:
        self.daemon.close()
        self.probe.close()

    def abort(self) -> None:
        self.daemon.abort()
        self.probe.abort()
        if self.daemon.endpoint.is_ssh:  # quitting: its ssh process ended and reaped, its socket removed
            from . import sshtunnel
            tunnel = sshtunnel.existing(self.daemon.endpoint.url)
            if tunnel is not None:
                tunnel.close()


class RecordedBackend(Backend):
    """Records captured earlier (a snapshot file, the demo, test fixtures): no daemon, read-only, and a fixed `now`
    so that screens are reproducible. Records come from the boundary: typed, cleaned and masked."""

    def __init__(self, catalog: Catalog, records: list[tuple[schema.ContainerRecord, SecretValues]],
                 host_record: schema.HostRecord, now: datetime, label: str = "recorded"):
        super().__init__(catalog)
        self._records = {r.inspect.Id: (r, secrets) for r, secrets in records}
        self._host = host_record
        self._now = now
        self.label = label

    def now(self) -> datetime:
        return self._now

    def rows(self, all: bool = True) -> list[Row]:
        out = []
        for r, _ in self._records.values():
            d = r.inspect
            if all or d.State.Status == "running":
                out.append(Row(d.Id, d.Name.lstrip("/"), d.State.Status, d.State.Status, d.Config.Image,
                               compose_from_labels(d.Config.Labels)))
        return out

    def records(self, ids: list[str], tail: int = 200, deep: bool = False,
                forked: bool = False) -> list[tuple[schema.ContainerRecord, SecretValues]]:
        return [self._records[i] for i in ids if i in self._records]

    def host_record(self) -> schema.HostRecord:
        return self._host

    def image(self, ref: str) -> schema.ImageInspect | None:
        for r, _ in self._records.values():
            for img in (r.image, r.tag_image):
                if img is not None and (img.Id == ref or ref in (img.RepoTags or ())):
                    return img
        return None

    def logs(self, cid: str, tail: int = 500, tty: bool = False, secrets: Iterable[str] = ()) -> tuple[str, ...]:
        rec = self._records.get(cid)
        return tuple(rec[0].logs)[-tail:] if rec else ()

    def image_layers(self, image_id: str) -> schema.ImageLayers | None:
        for r, _ in self._records.values():
            if r.image is not None and image_id in (r.image.Id, *(r.image.RepoTags or ())) and r.layers is not None:
                return r.layers
        raise BackendError("recorded without the image's layers (snapshot of a `--deep` scan needed)")


DEMO_SNAPSHOT = Path(__file__).resolve().parent / "data" / "demo-snapshot.json"


def read_snapshot(path: str | Path) -> schema.Snapshot:
    """A snapshot file through the boundary (it is untrusted input like the daemon's answers): typed, checked,
    bounded, cleaned, masked. BoundaryError (one line naming the file and the field) when it cannot be used."""
    from .boundary import MAX_DOCUMENT, BoundaryError
    from .boundary import read_snapshot_bytes
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = f.read(MAX_DOCUMENT + 1)
    except OSError as exc:
        raise BoundaryError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_DOCUMENT:
        raise BoundaryError(f"{path}: larger than the {MAX_DOCUMENT:,} bytes troubleshoot reads")
    return read_snapshot_bytes(data, str(path))


def snapshot_backend(catalog: Catalog, path: str | Path, label: str | None = None) -> RecordedBackend:
    from .boundary import record_secrets
    from .core.snapshot import taken_at
    doc = read_snapshot(path)
    when = taken_at(doc)
    label = label or f"snapshot {Path(path).name}, taken {when:%Y-%m-%d %H:%M} UTC from {doc.source or '?'}"
    return RecordedBackend(catalog, [(r, record_secrets(r)) for r in doc.containers], doc.host, when, label)


def open_source(catalog: Catalog | None, host: Any = None, snapshot: str | Path | None = None,
                prefetch: bool | None = None, asked: Any = None, many: Sequence[Any] | None = None) -> Backend:
    """The data source a command asked for: a snapshot file (`--from`, `--demo`) or the daemon (`-H`, DOCKER_HOST,
    the docker context, the local socket), connected. BoundaryError for a bad file, BackendError for a daemon.
    `prefetch` (all containers or only running ones): a live daemon is asked for its list, /info and images before
    it is even connected to, so that it answers while the caller loads the rest (`Backend.prefetch`); `catalog` may
    then be None, and set on the source once loaded. `asked` (prefetch.ask_first): those reads, asked already as
    the process started. `many`: several hosts (contexts.HostSpec each): hosts.MultiBackend."""
    if snapshot is not None:
        if asked is not None:
            asked.batch.close()
        return snapshot_backend(catalog, snapshot)  # type: ignore[arg-type]
    if many:  # several hosts (contexts.HostSpec each): one source over them (hosts.py), connected once any answers
        from .hosts import MultiBackend
        if asked is not None:
            asked.batch.close()
        multi = MultiBackend(catalog, many)
        multi.connect()
        return multi
    backend = LiveBackend(catalog, host)  # type: ignore[arg-type]
    if prefetch is not None:
        backend.prefetch(all=prefetch, asked=asked)
    elif asked is not None:
        asked.batch.close()
    backend.connect()
    return backend
