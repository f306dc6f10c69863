"""Many hosts in one view: a data source over several daemons (`-H A -H B`, `--context a,b`, `--all-contexts`) that
is one Backend to the app and the CLI. Each host connects in its own thread with a timeout, and keeps its own state
(connecting, up with N containers, unreachable and why): one slow or dead host never blocks the others.

Container ids can collide across hosts (the same daemon reached twice, a copied data root): the ids this source hands
out are qualified, `ID@N` (N: the host's index), so that every row, observation and finding is keyed by (host, id);
every per-container call (logs, inspect, reveal, fixes, steps) goes to the host its container came from, with the
daemon's own id. No textual here; blocking: the app calls it from thread workers only."""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence, TypeVar

import msgspec

from .backend import Backend, BackendError, LiveBackend, Row, StepOutput
from .clean import clean_text
from .hostflag import with_host, without_host  # noqa: F401 - with_host: for callers that have a MultiBackend
from .contexts import HostSpec
from .core import schema
from .core.secrets import SecretValues

if TYPE_CHECKING:
    from .core.facts import Host
    from .core.playbooks import Catalog

CONNECT_TIMEOUT = 5.0  # seconds: a host that has not answered /version by then is shown unreachable
RETRY_EVERY = 10.0  # seconds: an unreachable host is tried again (the app's periodic list) this often
SEP = "@"
T = TypeVar("T")


def qualify(cid: str, index: int) -> str:
    return f"{cid}{SEP}{index}"


def split(qid: str) -> tuple[str, int | None]:
    """(the daemon's id, the host's index) of a qualified id; (qid, None) when it is not one."""
    cid, sep, index = qid.rpartition(SEP)
    if sep and index.isdigit():
        return cid, int(index)
    return qid, None


def real_id(qid: str) -> str:
    return split(qid)[0]


def short_name(name: str, url: str, parts: int = 1) -> str:
    """A host's name where room is short (the board's HOST column, a dialog): a context's name as it is; for a URL,
    the socket file's name (unix://…/d2.sock: d2.sock; `parts` path components), the ssh host or alias, the tcp
    host (with its port when `parts` > 1)."""
    if not url or name != url:
        return name
    if url.startswith("unix://") or url.startswith("/"):
        path = url.removeprefix("unix://").rstrip("/")
        return "/".join(path.split("/")[-parts:]) or url
    from .endpoint import netloc_parts
    user, host, port = netloc_parts(url)
    if parts > 1:
        return (f"{user}@" if user and parts > 2 else "") + host + (f":{port}" if port else "") or url
    return host or url


def short_names(hosts: Sequence[tuple[str, str]]) -> list[str]:
    """short_name of each (name, url), longer where two would read the same (/var/run/docker.sock and
    /tmp/d2/docker.sock: run/docker.sock, d2/docker.sock)."""
    out = [short_name(n, u) for n, u in hosts]
    for parts in range(2, 8):
        same = {s for s in out if out.count(s) > 1}
        if not same:
            break
        out = [short_name(n, u, parts) if s in same else s for s, (n, u) in zip(out, hosts)]
    return out


@dataclass
class HostState:
    """What a host strip says of one host: `state` connecting | up | unreachable; `why` one line; `count` listed."""
    name: str
    url: str
    state: str
    why: str = ""
    count: int | None = None
    host: Host | None = None


class Part:
    """One host of the view: its own LiveBackend, connected in its own thread."""

    def __init__(self, index: int, spec: HostSpec, catalog: Catalog | None, timeout: float):
        # what is shown of it (strip, HOST column, scan's lines and JSON): its name and URL as given, with no
        # terminal control (a hostile -H or context endpoint); the endpoint itself is used as it is
        self.index, self.spec, self.catalog, self.timeout = index, spec, catalog, timeout
        self.name = clean_text(spec.name)
        self.url = clean_text(spec.endpoint.url) if spec.endpoint is not None else ""
        self.backend: LiveBackend | None = None
        self.state = "unreachable" if spec.endpoint is None else "connecting"
        self.why = clean_text(spec.error)
        self.count: int | None = None
        self.host: Host | None = None
        self.short = self.name  # short_names: the HOST column's
        self.tried = 0.0
        self.up_since = float("inf")  # time.monotonic() of its last answer after not answering
        self.done = threading.Event()
        self.lock = threading.Lock()
        if spec.endpoint is None:
            self.done.set()

    def start(self, changed: Callable[[], None]) -> None:
        """Connect in a thread of its own; unreachable if it has not answered within `timeout`."""
        if self.spec.endpoint is None:
            return
        with self.lock:
            self.state, self.tried, self.done = "connecting", time.monotonic(), threading.Event()
            done = self.done
        threading.Thread(target=self._connect, args=(done, changed), name=f"troubleshoot-host-{self.index}",
                         daemon=True).start()
        threading.Thread(target=self._deadline, args=(done, changed), daemon=True).start()

    def _connect(self, done: threading.Event, changed: Callable[[], None]) -> None:
        try:
            backend = LiveBackend(self.catalog, self.spec.endpoint)  # type: ignore[arg-type]
            self.backend = backend
            backend.connect()
        except BackendError as exc:
            self._set(done, "unreachable", str(exc))
        except Exception as exc:  # noqa: BLE001 - whatever it is, that host's state says it in one line
            self._set(done, "unreachable", f"{type(exc).__name__}: {exc}")
        else:
            self._set(done, "up", "")
        changed()

    def _deadline(self, done: threading.Event, changed: Callable[[], None]) -> None:
        if not done.wait(self.timeout):
            self._set(done, "unreachable", f"no answer in {self.timeout:g} s")
            if self.backend is not None:
                self.backend.abort()  # its connect in flight fails now (and is not waited for)
            changed()

    def _set(self, done: threading.Event, state: str, why: str) -> None:
        with self.lock:
            if done is not self.done or done.is_set():
                return  # a later attempt, or the deadline, has spoken
            self.state, self.why = state, " ".join(clean_text(why).split())
            if state == "up":
                self.up_since = time.monotonic()
            done.set()

    def fail(self, why: str) -> None:
        with self.lock:
            self.state, self.why = "unreachable", " ".join(clean_text(why).split())

    @property
    def up(self) -> bool:
        return self.state == "up" and self.backend is not None

    def live(self) -> LiveBackend:
        if not self.up:
            raise BackendError(f"{self.name}: {self.why or self.state}")
        assert self.backend is not None
        return self.backend

    def flag(self) -> tuple[str, ...]:
        """See MultiBackend.host_flag."""
        endpoint = self.spec.endpoint
        if endpoint is None:
            return ()
        if endpoint.context and endpoint.context != "default":
            return ("--context", clean_text(endpoint.context))
        return ("-H", self.url)

    def snapshot(self) -> HostState:
        return HostState(self.name, self.url, self.state, self.why, self.count, self.host)


def _each(parts: Sequence[Part], fn: Callable[[Part], T]) -> list[tuple[Part, T | BaseException]]:
    """`fn` on every part at once, each in its own thread: one slow host delays only its own answer."""
    out: list[Any] = [None] * len(parts)

    def one(i: int, part: Part) -> None:
        try:
            out[i] = fn(part)
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller, which says it for that host
            out[i] = exc
    threads = [threading.Thread(target=one, args=(i, p), daemon=True) for i, p in enumerate(parts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return list(zip(parts, out))


def _qualified_record(record: schema.ContainerRecord, index: int) -> schema.ContainerRecord:
    inspect = msgspec.structs.replace(record.inspect, Id=qualify(record.inspect.Id, index))
    return msgspec.structs.replace(record, inspect=inspect)


class MultiBackend(Backend):
    """Several live daemons as one source (see the module's doc)."""
    live = True

    def __init__(self, catalog: Catalog | None, specs: Sequence[HostSpec], timeout: float = CONNECT_TIMEOUT):
        super().__init__(catalog)  # type: ignore[arg-type]
        self.parts = [Part(i, s, catalog, timeout) for i, s in enumerate(specs)]
        self.label = ", ".join(p.name for p in self.parts)  # cleaned (Part)
        for part, short in zip(self.parts, short_names([(p.name, p.url) for p in self.parts])):
            part.short = short
        self._started = False
        self._changed = threading.Condition()
        self._stops: list[threading.Event] = []
        self.listeners: list[Callable[[], None]] = []  # told (from any thread) when a host's state changes

    # -- hosts ----------------------------------------------------------------------------------------------
    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()
        for listener in list(self.listeners):
            listener()

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        for p in self.parts:
            if p.catalog is None:
                p.catalog = self.catalog
            p.start(self._notify)

    def states(self) -> list[HostState]:
        return [p.snapshot() for p in self.parts]

    def part_of(self, qid: str) -> Part:
        cid, index = split(qid)
        if index is None or not 0 <= index < len(self.parts):
            raise BackendError(f"{qid}: not a container of one of the hosts shown")
        return self.parts[index]

    def host_name_of(self, qid: str) -> str:
        return self.part_of(qid).name

    def host_flag(self, qid: str) -> tuple[str, ...]:
        """What a docker command shown or copied for `qid` carries to reach its host when pasted: `--context NAME`
        for a context's host (not `default`: DOCKER_HOST may differ where it is pasted), else `-H URL`."""
        try:
            return self.part_of(qid).flag()
        except BackendError:
            return ()

    def host_down(self, qid: str) -> bool:
        """`qid`'s host is known and does not answer now (its rows are kept, shown as such)."""
        index = split(qid)[1]
        return index is not None and 0 <= index < len(self.parts) and self.parts[index].state == "unreachable"

    def host_unlisted(self, qid: str, asked_at: float) -> bool:
        """A list or inspect asked at `asked_at` (time.monotonic) could not have covered `qid`'s host: it does not
        answer now, or answers only since. What such an answer lacks of that host says nothing of it."""
        index = split(qid)[1]
        if index is None or not 0 <= index < len(self.parts):
            return False
        part = self.parts[index]
        return not part.up or part.up_since > asked_at

    def up_indexes(self) -> set[int]:
        return {p.index for p in self.parts if p.up}

    def host_short_of(self, qid: str) -> str:
        """The short name of `qid`'s host (short_name), or "" when it is not a container of one of the hosts."""
        try:
            return self.part_of(qid).short
        except BackendError:
            return ""

    def wait_all(self) -> None:
        """Until every host has answered or failed (each within its own timeout)."""
        self.start()
        for p in self.parts:
            p.done.wait()

    def connect(self) -> None:
        """Once any host answers (the others go on connecting in their threads); BackendError if none does. Hosts
        that were unreachable are tried again (every RETRY_EVERY s at most): a caller waiting for one comes back."""
        if self._started:
            self._retry()
        self.start()
        with self._changed:
            self._changed.wait_for(lambda: any(p.up for p in self.parts) or all(p.done.is_set() for p in self.parts))
        if not any(p.up for p in self.parts):
            raise BackendError("no host answered: " + "; ".join(f"{p.name}: {p.why}" for p in self.parts))

    def _retry(self) -> None:
        now = time.monotonic()
        for p in self.parts:
            if p.spec.endpoint is not None and p.state == "unreachable" and now - p.tried >= RETRY_EVERY:
                p.start(self._notify)

    def _up(self) -> list[Part]:
        return [p for p in self.parts if p.up]

    def _gather(self, fn: Callable[[Part], T]) -> list[tuple[Part, T]]:
        """`fn` on every host that is up; a host that fails is marked unreachable (its strip says why) and left out;
        BackendError only when no host answers at all."""
        parts = self._up()
        answers = []
        for part, out in _each(parts, fn):
            if isinstance(out, BackendError):
                part.fail(str(out))
                self._notify()
            elif isinstance(out, BaseException):
                raise out
            else:
                answers.append((part, out))
        if not answers and not any(p.state == "connecting" for p in self.parts) and parts:
            raise BackendError("no host answers: " + "; ".join(f"{p.name}: {p.why}" for p in self.parts))
        return answers

    # -- the Backend interface -------------------------------------------------------------------------------
    def _rows(self, fn: Callable[[LiveBackend], list[Row]]) -> list[Row]:
        out = []
        for part, rows in self._gather(lambda p: fn(p.live())):
            part.count = len(rows)
            out += [Row(qualify(r.id, part.index), r.name, r.state, r.status, r.image) for r in rows]
        return out

    def rows(self, all: bool = True) -> list[Row]:
        return self._rows(lambda b: b.rows(all))

    def probe_rows(self) -> list[Row]:
        self._retry()
        return self._rows(lambda b: b.probe_rows())

    def records(self, ids: list[str], tail: int = 200, deep: bool = False,
                forked: bool = False) -> list[tuple[schema.ContainerRecord, SecretValues]]:
        wanted: dict[int, list[str]] = {}
        for qid in ids:
            cid, index = split(qid)
            if index is not None:
                wanted.setdefault(index, []).append(cid)
        parts = [p for p in self._up() if p.index in wanted]
        out = []
        for part, pairs in _each(parts, lambda p: p.live().records(wanted[p.index], tail, deep)):
            if isinstance(pairs, BackendError):
                part.fail(str(pairs))
                self._notify()
                continue
            if isinstance(pairs, BaseException):
                raise pairs
            out += [(_qualified_record(r, part.index), s) for r, s in pairs]
        return out

    def host_record(self) -> schema.HostRecord:
        for part in self._up():
            try:
                return part.live().host_record()
            except BackendError as exc:
                part.fail(str(exc))
        raise BackendError("no host answers")

    def host(self) -> Host:
        """The first host that answers (for a caller that knows one host); `hosts()` gives each its own."""
        from .core.records import host_from_record
        return host_from_record(self.host_record())

    def hosts(self) -> dict[int, Host]:
        """Each host that answers, read at once: index -> its facts (kept on its state for the strips)."""
        out = {}
        for part, host in self._gather(lambda p: p.live().host()):
            part.host = host
            out[part.index] = host
        return out

    def image(self, ref: str) -> schema.ImageInspect | None:
        for part in self._up():
            found = part.live().image(ref)
            if found is not None:
                return found
        return None

    def image_layers(self, image_id: str) -> schema.ImageLayers | None:
        for part in self._up():
            if part.live().image(image_id) is not None:
                return part.live().image_layers(image_id)
        raise BackendError(f"no host shown has the image {image_id}")

    def reveal_env(self, cid: str) -> tuple[tuple[str, str], ...]:
        return self.part_of(cid).live().reveal_env(real_id(cid))

    def logs(self, cid: str, tail: int = 500, tty: bool = False, secrets: Iterable[str] = ()) -> tuple[str, ...]:
        return self.part_of(cid).live().logs(real_id(cid), tail, tty=tty, secrets=secrets)

    def events(self, stop: threading.Event, since: float | None = None) -> Iterator[schema.Event]:
        """Every host's events, each read in its own thread, ids qualified. A host whose stream fails is marked
        unreachable (its strip says it) and the others go on; a host that answers again (or later) is followed from
        then on. BackendError only when no host is left."""
        q: queue.Queue[tuple[int, Any]] = queue.Queue()
        mine = threading.Event()
        self._stops.append(mine)
        if not self._up():
            raise BackendError("no host answers")
        followed: set[int] = set()

        def follow(part: Part, since: float | None) -> None:
            try:
                for event in part.live().events(stop, since):
                    q.put((part.index, event))
                    if stop.is_set() or mine.is_set():
                        break
                q.put((part.index, None))
            except BackendError as exc:
                q.put((part.index, exc))

        def follow_new(since: float | None) -> None:
            for p in self._up():
                if p.index not in followed:
                    followed.add(p.index)
                    threading.Thread(target=follow, args=(p, since), daemon=True).start()
        follow_new(since)
        while followed and not stop.is_set() and not mine.is_set():
            try:
                index, item = q.get(timeout=0.5)
            except queue.Empty:
                follow_new(time.time())  # a host back since: its list (HostsChanged) covers what came before
                continue
            if isinstance(item, schema.Event):
                cid = item.container_id
                if cid:
                    actor = msgspec.structs.replace(item.Actor or schema.EventActor(), ID=qualify(cid, index))
                    item = msgspec.structs.replace(item, id=qualify(cid, index) if item.id else "", Actor=actor)
                yield item
                continue
            followed.discard(index)
            if isinstance(item, BackendError):
                self.parts[index].fail(str(item))
                self._notify()
            follow_new(time.time())
        if not followed and not stop.is_set() and not mine.is_set():
            raise BackendError("every host's event stream ended")

    def stop_events(self) -> None:
        for e in self._stops:
            e.set()
        for p in self.parts:
            if p.backend is not None:
                p.backend.stop_events()

    # -- steps and fixes: on the host of the container they are for ------------------------------------------
    def _step_part(self, argv: list[str], cid: str | None = None) -> tuple[Part | None, list[str]]:
        """The host a step's command is for, and the command with the daemon's own ids. `cid`: the container whose
        walkthrough runs it (`ID@N`): its host, whatever the command names (a step names its container by name,
        which several hosts may share). Without it, the one host whose qualified ids the command carries."""
        found: set[int] = set()
        out = []
        for arg in argv:
            real, index = split(arg)
            if index is not None and 0 <= index < len(self.parts):
                found.add(index)
                arg = real
            out.append(arg)
        if cid is not None:  # the -H/--context it was shown with (host_flag): that host's environment instead
            index = split(cid)[1]
            return ((self.parts[index] if index is not None and index < len(self.parts) else None),
                    without_host(out, self.host_flag(cid)))
        return (self.parts[found.pop()] if len(found) == 1 else None), out

    def run(self, argv: list[str], timeout: float = 30, cid: str | None = None) -> StepOutput:
        part, argv = self._step_part(argv, cid)
        if part is None:
            return StepOutput(126, (self._ambiguous(),))
        return part.live().run(argv, timeout)

    def refusal(self, argv: list[str], cid: str | None = None) -> str | None:
        part, argv = self._step_part(argv, cid)
        if part is None:
            return self._ambiguous()
        return part.live().refusal(argv)

    def command_env(self, argv: list[str], cid: str | None = None) -> dict[str, str] | None:
        part, argv = self._step_part(argv, cid)
        return part.live().command_env(argv) if part is not None else None

    def step_argv(self, argv: list[str], cid: str | None = None) -> list[str]:
        """The command as it runs (the daemon's own ids)."""
        return self._step_part(argv, cid)[1]

    def _ambiguous(self) -> str:
        return f"several hosts are shown ({self.label}): this command names no container of one of them"

    def recreate(self, cid: str, changes: list[tuple[str, str]]):
        part = self.part_of(cid)
        return _qualified_fix(part.live().recreate(real_id(cid), changes), part.index)

    def rollback(self, fix):
        part = self.part_of(fix.new_id or fix.old_id)
        return _qualified_fix(part.live().rollback(_real_fix(fix)), part.index)

    def drop_old(self, fix):
        part = self.part_of(fix.new_id or fix.old_id)
        return _qualified_fix(part.live().drop_old(_real_fix(fix)), part.index)

    def rewrite_script(self, cid: str, path: str):
        part = self.part_of(cid)
        return _qualified_fix(part.live().rewrite_script(real_id(cid), path), part.index)

    def close(self) -> None:
        for p in self.parts:
            if p.backend is not None:
                p.backend.close()

    def abort(self) -> None:
        for p in self.parts:
            if p.backend is not None:
                p.backend.abort()


def _qualified_fix(fix, index: int):
    from dataclasses import fields, replace
    if fix is None or not hasattr(fix, "__dataclass_fields__"):
        return fix
    names = {f.name for f in fields(fix)}
    return replace(fix, **{k: qualify(getattr(fix, k), index) for k in ("new_id", "old_id")
                           if k in names and getattr(fix, k)})


def _real_fix(fix):
    from dataclasses import fields, replace
    names = {f.name for f in fields(fix)}
    return replace(fix, **{k: real_id(getattr(fix, k)) for k in ("new_id", "old_id") if k in names and getattr(fix, k)})
