"""Per-container work on two processes: `fork_map(fn, items)` is `[fn(x) for x in items]`, with part of the items
computed by a forked child on the second CPU (chunks of 8, taken in turn by whichever process is free).

A scan is CPU-bound in Python once the daemon has answered (~0.3 ms a container: decoding, masking, detectors,
playbooks); one process uses one of the machine's cores while the daemon has finished its part. The child is
forked after everything it needs is in memory (modules, playbooks, the daemon's answers: shared copy-on-write, no
start-up, no second read), computes the chunks it takes, sends the results back through a pipe as msgpack (`encode` makes
plain data of one result, `decode` the result again), and ends with os._exit (no atexit, no buffered output
flushed twice). The order of the results is the order of `items`, as the serial loop gives it.

Used only where nothing else runs in the process (the CLI's scan: no threads, whose locks a fork would copy
held) and never for few items (a fork costs ~2 ms). Any failure of the child (an exception, a signal, an answer
that does not decode, more than MAX_ANSWER bytes, far slower than the parent's own half) is not an error: the
parent computes that half itself, so the result is the serial loop's, or its exception, either way.
"""
from __future__ import annotations

import gc
import os
import struct
import time
from typing import Any, Callable, Iterator, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS = 120  # below this, one process is as fast (the fork, the copy-on-write faults, the pipe)
CHUNK = 8  # items per chunk of work taken from the queue
MAX_CHUNKS = 16_384  # chunk numbers in the queue: 32 KB, within a pipe's buffer
MAX_ANSWER = 256 << 20
MIN_PATIENCE = 5.0  # seconds the parent waits for the child at least, after its own half


def cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def fork_map(fn: Callable[[T], R], items: Sequence[T], encode: Callable[[R], Any], decode: Callable[[Any], R],
             min_items: int | None = None, kind: Any = Any,
             child_init: Callable[[], None] | None = None) -> list[R]:
    """`kind`: the type of one encoded result, for msgspec's typed decoding (validated as it is decoded);
    `child_init`: run first in the child (e.g. a daemon client dropping the connections it shares with the
    parent, so that the child opens its own)."""
    n = len(items)
    if (n < (MIN_ITEMS if min_items is None else min_items) or not hasattr(os, "fork") or cpus() < 2
            or os.environ.get("TROUBLESHOOT_ONE_PROCESS")):  # (set: one process, to compare or to rule it out)
        return [fn(x) for x in items]
    # The work in chunks, taken in turn by whichever process is free (a fixed half each was uneven: a running
    # container costs more than a stopped one, and lists come in patterns): each chunk's number, 2 bytes, in a
    # pipe written whole before the fork; a read of 2 bytes from a pipe is atomic, so each chunk is taken once.
    size = max(CHUNK, -(-n // MAX_CHUNKS))
    bounds = [(i, min(i + size, n)) for i in range(0, n, size)]
    try:
        qr, qw = os.pipe()
        try:
            os.write(qw, struct.pack(f">{len(bounds)}H", *range(len(bounds))))  # < 64 KB: one write, never blocks
        finally:
            os.close(qw)  # no writer left: an empty queue reads as its end
        r, w = os.pipe()
    except OSError:
        return [fn(x) for x in items]
    # Every object made so far moved out of the collector's reach (gc.freeze): a collection in the child would
    # otherwise write to every object's header, copying the whole heap page by page; the child does not collect
    # at all (it lives ~0.1 s)
    gc.freeze()
    try:
        pid = os.fork()
    except OSError:
        gc.unfreeze()
        for fd in (qr, r, w):
            os.close(fd)
        return [fn(x) for x in items]
    if pid == 0:  # the child: the chunks it takes, written back, and gone
        gc.disable()
        code = 1
        try:
            import msgspec
            os.close(r)
            if child_init is not None:
                child_init()
            done = [(k, [encode(fn(x)) for x in items[bounds[k][0]:bounds[k][1]]]) for k in _take(qr)]
            view = memoryview(msgspec.msgpack.encode(done))
            while view:
                view = view[os.write(w, view):]
            code = 0
        except BaseException:  # noqa: BLE001  (the parent computes those chunks itself)
            pass
        finally:
            os._exit(code)
    gc.unfreeze()
    os.close(w)
    started = time.monotonic()
    results: dict[int, list[R]] = {}
    try:
        for k in _take(qr):
            results[k] = [fn(x) for x in items[bounds[k][0]:bounds[k][1]]]
    except BaseException:
        os.close(qr)
        _reap(pid, r, kill=True)
        raise
    os.close(qr)
    # the child has at most one chunk left when the queue is empty; one far slower than this process (stopped, or
    # stuck on a lock some thread held when it was forked) is killed, and its chunks computed here
    patience = max(MIN_PATIENCE, 3 * (time.monotonic() - started))
    theirs = _collect(pid, r, kind, time.monotonic() + patience)
    for k, encoded in theirs or ():
        if 0 <= k < len(bounds) and k not in results and len(encoded) == bounds[k][1] - bounds[k][0]:
            try:
                results[k] = [decode(e) for e in encoded]
            except (TypeError, ValueError, IndexError, KeyError):
                pass
    out: list[R] = []
    for k, (lo, hi) in enumerate(bounds):
        out.extend(results[k] if k in results else [fn(x) for x in items[lo:hi]])
    return out


def _take(queue: int) -> Iterator[int]:
    """The chunk numbers this process takes from the queue, until it is empty."""
    while True:
        got = os.read(queue, 2)
        if len(got) < 2:
            return
        yield struct.unpack(">H", got)[0]


def _collect(pid: int, r: int, kind: Any, deadline: float) -> list[tuple[int, list[Any]]] | None:
    """The child's (chunk, encoded results), or None (it failed, was too slow, or wrote something else)."""
    import select

    import msgspec
    chunks, size = [], 0
    try:
        while True:
            ready, _, _ = select.select([r], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                _reap(pid, r, kill=True)
                return None
            chunk = os.read(r, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_ANSWER:
                _reap(pid, r, kill=True)
                return None
            chunks.append(chunk)
    except OSError:
        _reap(pid, r, kill=True)
        return None
    if not _reap(pid, r):
        return None
    try:
        return msgspec.msgpack.decode(b"".join(chunks), type=list[tuple[int, list[kind]]])
    except (msgspec.DecodeError, msgspec.ValidationError, TypeError, ValueError):
        return None


def _reap(pid: int, r: int, kill: bool = False) -> bool:
    """Close our end, wait for the child; True when it ended well."""
    import signal
    try:
        os.close(r)
    except OSError:
        pass
    if kill:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return False
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
