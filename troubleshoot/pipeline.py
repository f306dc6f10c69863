"""Many GET requests at once on a few keep-alive unix-socket connections (HTTP/1.1 pipelining), in one thread.

A scan reads hundreds of small answers (every inspect, each image and its history, log tails). One after the other,
each costs a round trip and http.client's own overhead (~0.8 ms an inspect here); written back to back on two or
three connections, the daemon answers them while we parse, and 300 inspects take ~30 ms instead of ~240 ms. The
daemon (Go's net/http) answers each connection's requests in order. No threads: one selector loop, so nothing here
runs C extensions concurrently.

Bounds are the same as one request's: each answer at most `limit` bytes (an answer past it is refused, or, with
`cut=True`, marked so that the caller can read that one another way); each answer whole within `budget` seconds of
the one before it on its connection (a daemon that trickles one byte a second never holds a scan); headers at most
64 KB. A connection the daemon closes early (an idle keep-alive timeout, `Connection: close`) is replaced and what
was not answered on it is asked again, once. Only the adapter (daemon.py) uses this; it decodes the bodies.
"""
from __future__ import annotations

import selectors
import socket
import time
import msgspec
from typing import Callable, Sequence

MAX_HEAD = 64 << 10


class PipelineError(Exception):
    """`kind` is "deadline" (the daemon stopped answering), "too_big" (an answer past the limit) or "protocol";
    `path` the request it happened on."""

    def __init__(self, kind: str, path: str, detail: str = ""):
        super().__init__(f"{kind}: {path}{': ' + detail if detail else ''}")
        self.kind, self.path, self.detail = kind, path, detail


class Answer(msgspec.Struct):
    status: int
    headers: dict[str, str]
    body: bytes
    cut: bool = False  # the answer was longer than the limit (only with cut=True): `body` is empty, read it another way


class _Conn(msgspec.Struct):
    sock: socket.socket
    queue: list[int]  # request indexes written (or to write) on this connection, answered in this order
    out: bytearray
    buf: bytearray = msgspec.field(default_factory=bytearray)
    phase: str = "head"  # head | length | chunk_size | chunk_data | chunk_end | trailer | to_eof | skip
    status: int = 0
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    body: bytearray = msgspec.field(default_factory=bytearray)
    remaining: int = 0
    closing: bool = False  # the current answer said Connection: close
    answered: int = 0
    deadline: float = 0.0


class Get(msgspec.Struct, frozen=True):
    """One request of a batch: `target` is path + query, already prefixed; an answer longer than `limit` is refused
    (PipelineError "too_big"), or with `cut`, marked cut."""
    target: str
    limit: int
    cut: bool = False


class Batch:
    """GETs written at once on a few connections to the unix socket `path` (sent now, before `answers` is asked:
    the daemon works on them meanwhile). `on_socket` is told of each socket opened (the owner's abort list: it may
    raise to refuse). `answers()` reads them all, in order, once."""

    def __init__(self, path: str, gets: Sequence[Get], *, connections: int = 3, budget: float,
                 on_socket: Callable[[socket.socket], None] | None = None):
        self.path, self.gets, self.budget, self.on_socket = path, list(gets), budget, on_socket
        self._answers: list[Answer | None] = [None] * len(self.gets)
        self._failed = [0] * len(self.gets)  # connections closed on this request before any answer
        self._sel = selectors.DefaultSelector()
        self._conns: list[_Conn] = []
        self._done = not self.gets
        self._on_answer: Callable[[int, Answer], None] | None = None
        self._ended: BaseException | None = None  # what ended the batch early (poll, answer), said again for its answers
        try:
            n = max(1, min(connections, len(self.gets)))
            for k in range(n if self.gets else 0):
                self._open(list(range(k, len(self.gets), n)))
        except BaseException:
            self.close()
            raise

    def _open(self, indexes: list[int]) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            if self.on_socket is not None:
                self.on_socket(sock)
            sock.settimeout(self.budget)
            sock.connect(self.path)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        out = b"".join(f"GET {self.gets[i].target} HTTP/1.1\r\nHost: docker\r\n\r\n".encode("latin-1") for i in indexes)
        conn = _Conn(sock, list(indexes), bytearray(out), deadline=time.monotonic() + self.budget)
        try:
            sent = sock.send(conn.out)  # now: the daemon starts on them while the caller does something else
            del conn.out[:sent]
        except (BlockingIOError, InterruptedError):
            pass
        except (BrokenPipeError, ConnectionResetError):
            pass  # found when reading: the connection is then replaced
        self._conns.append(conn)
        self._sel.register(sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.out else 0), conn)

    def _close(self, conn: _Conn) -> None:
        try:
            self._sel.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        conn.sock.close()
        self._conns.remove(conn)

    def close(self) -> None:
        for conn in list(self._conns):
            self._close(conn)
        self._sel.close()
        self._done = True

    def _reopen(self, conn: _Conn) -> None:
        """The daemon closed `conn` with requests unanswered: once more on a new connection."""
        pending = conn.queue
        self._close(conn)
        if not pending:
            return
        if not conn.answered:
            self._failed[pending[0]] += 1
            if self._failed[pending[0]] >= 2:
                raise PipelineError("protocol", self.gets[pending[0]].target, "the daemon closed the connection twice")
        self._open(pending)

    def _finish(self, conn: _Conn, cut: bool = False) -> None:
        i = conn.queue.pop(0)
        answer = Answer(conn.status, conn.headers, b"" if cut else bytes(conn.body), cut=cut)
        self._answers[i] = answer
        conn.answered += 1
        conn.body = bytearray()
        conn.phase = "skip" if cut else "head"
        conn.deadline = time.monotonic() + self.budget
        if cut:  # the rest of that answer is never read: what followed it is asked again on a new connection
            conn.closing = True
            conn.buf.clear()
        if self._on_answer is not None:
            self._on_answer(i, answer)

    def answer(self, i: int) -> Answer:
        """The answer to request `i`, reading only until it has come (the others go on arriving later). What ended
        the batch before it came (a `poll` whose caller let it go: too big, past the deadline, not HTTP) is raised
        again here, for the request whose answer it kept from coming."""
        try:
            while self._answers[i] is None and self._conns:
                self._step()
        except BaseException as exc:
            self._ended = exc
            self.close()
            raise
        got = self._answers[i]
        if got is None and isinstance(self._ended, PipelineError):
            raise self._ended
        return got if got is not None else Answer(0, {}, b"")

    def answers(self, on_answer: Callable[[int, Answer], None] | None = None) -> list[Answer]:
        """Every answer, in the order asked. `on_answer(i, answer)` is called as each arrives (decode while the
        daemon still works on the others); an exception it raises ends the batch."""
        self._on_answer = on_answer
        if on_answer is not None:  # those that came already (`answer(i)` read them)
            for i, got in enumerate(self._answers):
                if got is not None:
                    on_answer(i, got)
        try:
            while self._conns:
                self._step()
        finally:
            self._on_answer = None
            if self._conns:
                self.close()
        self._done = True
        return [a if a is not None else Answer(0, {}, b"") for a in self._answers]

    def sockets(self) -> list[socket.socket]:
        """The connections it holds now."""
        return [c.sock for c in self._conns]

    def poll(self) -> None:
        """Read what has arrived, without waiting; `has(i)` then tells whether answer `i` is in."""
        try:
            while self._conns and self._step(wait=False):
                pass
        except BaseException as exc:
            self._ended = exc
            self.close()
            raise

    def has(self, i: int) -> bool:
        return self._answers[i] is not None

    def _step(self, wait: bool = True) -> int:
        now = time.monotonic()
        late = min(self._conns, key=lambda c: c.deadline)
        if late.deadline <= now:
            raise PipelineError("deadline", self.gets[late.queue[0]].target if late.queue else "?")
        ready = self._sel.select(late.deadline - now if wait else 0)
        for key, events in ready:
            conn: _Conn = key.data
            if conn not in self._conns:
                continue
            if events & selectors.EVENT_WRITE and conn.out:
                try:
                    sent = conn.sock.send(conn.out)
                except (BlockingIOError, InterruptedError):
                    sent = 0
                except (BrokenPipeError, ConnectionResetError):
                    self._reopen(conn)
                    continue
                del conn.out[:sent]
                if not conn.out:
                    self._sel.modify(conn.sock, selectors.EVENT_READ, conn)
            if events & selectors.EVENT_READ:
                try:
                    data = conn.sock.recv(1 << 18)
                except (BlockingIOError, InterruptedError):
                    continue
                except ConnectionResetError:
                    data = b""
                if not data:
                    if conn.phase == "to_eof" and conn.queue:
                        self._finish(conn)
                    self._reopen(conn)
                    continue
                conn.buf += data
                _advance(self, conn)
                if not conn.queue:
                    self._close(conn)
                elif conn.closing and conn.phase in ("head", "skip"):
                    self._reopen(conn)
        return len(ready)


def get_many(path: str, targets: Sequence[str], *, connections: int = 3, limit: int, budget: float,
             cut: bool = False, on_socket: Callable[[socket.socket], None] | None = None) -> list[Answer]:
    """GET each of `targets` (path + query, already prefixed); the answers in `targets` order. Raises PipelineError
    or OSError."""
    return Batch(path, [Get(t, limit, cut) for t in targets], connections=connections, budget=budget,
                 on_socket=on_socket).answers()


def _advance(batch: Batch, conn: _Conn) -> None:
    """Consume what `conn.buf` holds: as many whole answers as it completes."""
    while conn.queue:
        buf = conn.buf
        get = batch.gets[conn.queue[0]]
        if conn.phase == "head":
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > MAX_HEAD:
                    raise PipelineError("protocol", get.target, "headers too long")
                return
            lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
            del buf[:end + 4]
            parts = lines[0].split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
                raise PipelineError("protocol", get.target, f"not an HTTP answer: {lines[0][:40]!r}")
            conn.status = int(parts[1])
            conn.headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                conn.headers[name.strip().lower()] = value.strip()
            conn.body = bytearray()
            conn.closing = conn.headers.get("connection", "").lower() == "close"
            if 100 <= conn.status < 200:
                continue  # an interim answer: the real one follows
            if conn.status in (204, 304):
                batch._finish(conn)
                continue
            length = conn.headers.get("content-length", "")
            if "chunked" in conn.headers.get("transfer-encoding", "").lower():
                conn.phase = "chunk_size"
            elif length.isdigit():
                conn.remaining = int(length)
                conn.phase = "length"
                if conn.remaining > get.limit:
                    if not get.cut:
                        raise PipelineError("too_big", get.target, f"{conn.remaining} bytes")
                    batch._finish(conn, cut=True)
                    return
            else:
                conn.phase = "to_eof"
                conn.closing = True
        elif conn.phase == "length":
            take = min(conn.remaining, len(buf))
            conn.body += buf[:take]
            del buf[:take]
            conn.remaining -= take
            if conn.remaining:
                return
            batch._finish(conn)
        elif conn.phase == "chunk_size":
            end = buf.find(b"\r\n")
            if end < 0:
                if len(buf) > 1024:
                    raise PipelineError("protocol", get.target, "bad chunk")
                return
            size_text = bytes(buf[:end]).split(b";")[0].strip()
            del buf[:end + 2]
            try:
                conn.remaining = int(size_text, 16)
            except ValueError:
                raise PipelineError("protocol", get.target, "bad chunk size") from None
            conn.phase = "chunk_data" if conn.remaining else "trailer"
        elif conn.phase == "chunk_data":
            take = min(conn.remaining, len(buf))
            conn.body += buf[:take]
            del buf[:take]
            conn.remaining -= take
            if len(conn.body) > get.limit:
                if not get.cut:
                    raise PipelineError("too_big", get.target, f"more than {get.limit} bytes")
                batch._finish(conn, cut=True)
                return
            if conn.remaining:
                return
            conn.phase = "chunk_end"
        elif conn.phase == "chunk_end":
            if len(buf) < 2:
                return
            del buf[:2]
            conn.phase = "chunk_size"
        elif conn.phase == "trailer":
            end = buf.find(b"\r\n")
            if end < 0:
                return
            del buf[:end + 2]
            if end == 0:  # the empty line after the (usually absent) trailer fields
                batch._finish(conn)
        elif conn.phase == "to_eof":
            conn.body += buf
            del buf[:]
            if len(conn.body) > get.limit:
                if not get.cut:
                    raise PipelineError("too_big", get.target, f"more than {get.limit} bytes")
                batch._finish(conn, cut=True)
            return
        else:  # skip: the rest of this connection is unusable
            return
