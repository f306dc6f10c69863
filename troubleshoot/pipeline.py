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
from dataclasses import dataclass, field
from typing import Callable, Sequence

MAX_HEAD = 64 << 10


class PipelineError(Exception):
    """`kind` is "deadline" (the daemon stopped answering), "too_big" (an answer past the limit) or "protocol";
    `path` the request it happened on."""

    def __init__(self, kind: str, path: str, detail: str = ""):
        super().__init__(f"{kind}: {path}{': ' + detail if detail else ''}")
        self.kind, self.path, self.detail = kind, path, detail


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    cut: bool = False  # the answer was longer than the limit (only with cut=True): `body` is empty, read it another way


@dataclass
class _Conn:
    sock: socket.socket
    queue: list[int]  # request indexes written (or to write) on this connection, answered in this order
    out: bytearray
    buf: bytearray = field(default_factory=bytearray)
    phase: str = "head"  # head | length | chunk_size | chunk_data | chunk_end | trailer | to_eof | skip
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)
    remaining: int = 0
    closing: bool = False  # the current answer said Connection: close
    answered: int = 0
    deadline: float = 0.0


def get_many(path: str, targets: Sequence[str], *, connections: int = 3, limit: int, budget: float,
             cut: bool = False, on_socket: Callable[[socket.socket], None] | None = None) -> list[Answer]:
    """GET each of `targets` (path + query, already prefixed) on the unix socket `path`; the answers in `targets`
    order. `on_socket` is told of each socket opened (the owner's abort list: it may raise to refuse). Raises
    PipelineError or OSError."""
    answers: list[Answer | None] = [None] * len(targets)
    failed = [0] * len(targets)  # connections closed on this request before any answer
    if not targets:
        return []
    sel = selectors.DefaultSelector()
    conns: list[_Conn] = []

    def request(i: int) -> bytes:
        return f"GET {targets[i]} HTTP/1.1\r\nHost: docker\r\n\r\n".encode("latin-1")

    def open_conn(indexes: list[int]) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            if on_socket is not None:
                on_socket(sock)
            sock.settimeout(budget)
            sock.connect(path)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        conn = _Conn(sock, list(indexes), bytearray(b"".join(request(i) for i in indexes)),
                     deadline=time.monotonic() + budget)
        conns.append(conn)
        sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, conn)

    def close(conn: _Conn) -> None:
        try:
            sel.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        conn.sock.close()
        conns.remove(conn)

    def reopen(conn: _Conn) -> None:
        """The daemon closed `conn` with requests unanswered: once more on a new connection."""
        pending = conn.queue
        close(conn)
        if not pending:
            return
        if not conn.answered:
            failed[pending[0]] += 1
            if failed[pending[0]] >= 2:
                raise PipelineError("protocol", targets[pending[0]], "the daemon closed the connection twice")
        open_conn(pending)

    try:
        n = max(1, min(connections, len(targets)))
        for k in range(n):
            open_conn(list(range(k, len(targets), n)))
        while conns:
            now = time.monotonic()
            late = min(conns, key=lambda c: c.deadline)
            if late.deadline <= now:
                raise PipelineError("deadline", targets[late.queue[0]] if late.queue else "?")
            for key, events in sel.select(late.deadline - now):
                conn: _Conn = key.data
                if conn not in conns:
                    continue
                if events & selectors.EVENT_WRITE and conn.out:
                    try:
                        sent = conn.sock.send(conn.out)
                    except (BlockingIOError, InterruptedError):
                        sent = 0
                    except (BrokenPipeError, ConnectionResetError):
                        reopen(conn)
                        continue
                    del conn.out[:sent]
                    if not conn.out:
                        sel.modify(conn.sock, selectors.EVENT_READ, conn)
                if events & selectors.EVENT_READ:
                    try:
                        data = conn.sock.recv(1 << 18)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except ConnectionResetError:
                        data = b""
                    if not data:
                        if conn.phase == "to_eof" and conn.queue:
                            _finish(conn, answers, limit)
                        reopen(conn)
                        continue
                    conn.buf += data
                    _advance(conn, answers, targets, limit, cut, budget)
                    if not conn.queue:
                        close(conn)
                    elif conn.closing and conn.phase in ("head", "skip"):
                        reopen(conn)
    finally:
        for conn in list(conns):
            close(conn)
        sel.close()
    return [a if a is not None else Answer(0, {}, b"") for a in answers]


def _advance(conn: _Conn, answers: list, targets: Sequence[str], limit: int, cut: bool, budget: float) -> None:
    """Consume what `conn.buf` holds: as many whole answers as it completes."""
    while conn.queue:
        buf = conn.buf
        if conn.phase == "head":
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > MAX_HEAD:
                    raise PipelineError("protocol", targets[conn.queue[0]], "headers too long")
                return
            lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
            del buf[:end + 4]
            parts = lines[0].split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
                raise PipelineError("protocol", targets[conn.queue[0]], f"not an HTTP answer: {lines[0][:40]!r}")
            conn.status = int(parts[1])
            conn.headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                conn.headers[name.strip().lower()] = value.strip()
            conn.body = bytearray()
            conn.closing = conn.headers.get("connection", "").lower() == "close"
            if conn.status in (204, 304) or 100 <= conn.status < 200:
                if conn.status < 200:
                    continue  # an interim answer: the real one follows
                _finish(conn, answers, limit)
                conn.deadline = time.monotonic() + budget
                continue
            length = conn.headers.get("content-length", "")
            if "chunked" in conn.headers.get("transfer-encoding", "").lower():
                conn.phase = "chunk_size"
            elif length.isdigit():
                conn.remaining = int(length)
                conn.phase = "length"
                if conn.remaining > limit:
                    if not cut:
                        raise PipelineError("too_big", targets[conn.queue[0]], f"{conn.remaining} bytes")
                    _mark_cut(conn, answers)
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
            _finish(conn, answers, limit)
            conn.deadline = time.monotonic() + budget
        elif conn.phase == "chunk_size":
            end = buf.find(b"\r\n")
            if end < 0:
                if len(buf) > 1024:
                    raise PipelineError("protocol", targets[conn.queue[0]], "bad chunk")
                return
            size_text = bytes(buf[:end]).split(b";")[0].strip()
            del buf[:end + 2]
            try:
                conn.remaining = int(size_text, 16)
            except ValueError:
                raise PipelineError("protocol", targets[conn.queue[0]], "bad chunk size") from None
            conn.phase = "chunk_data" if conn.remaining else "trailer"
        elif conn.phase == "chunk_data":
            take = min(conn.remaining, len(buf))
            conn.body += buf[:take]
            del buf[:take]
            conn.remaining -= take
            if len(conn.body) > limit:
                if not cut:
                    raise PipelineError("too_big", targets[conn.queue[0]], f"more than {limit} bytes")
                _mark_cut(conn, answers)
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
                _finish(conn, answers, limit)
                conn.deadline = time.monotonic() + budget
        elif conn.phase == "to_eof":
            conn.body += buf
            del buf[:]
            if len(conn.body) > limit:
                if not cut:
                    raise PipelineError("too_big", targets[conn.queue[0]], f"more than {limit} bytes")
                _mark_cut(conn, answers)
            return
        else:  # skip: the rest of this connection is unusable
            return


def _finish(conn: _Conn, answers: list, limit: int) -> None:
    i = conn.queue.pop(0)
    answers[i] = Answer(conn.status, conn.headers, bytes(conn.body))
    conn.answered += 1
    conn.body = bytearray()
    conn.phase = "head"


def _mark_cut(conn: _Conn, answers: list) -> None:
    """An answer past the limit (with cut=True): marked cut, and the connection is given up (the rest of that answer
    is never read): what followed it on the connection is asked again on a new one."""
    i = conn.queue.pop(0)
    answers[i] = Answer(conn.status, conn.headers, b"", cut=True)
    conn.answered += 1
    conn.phase = "skip"
    conn.closing = True
    conn.buf.clear()
