"""Per-container work on two processes: `fork_map(fn, items)` is `[fn(x) for x in items]`, with every other item
computed by a forked child on the second CPU.

A scan is CPU-bound in Python once the daemon has answered (~0.3 ms a container: decoding, masking, detectors,
playbooks); one process uses one of the machine's cores while the daemon has finished its part. The child is
forked after everything it needs is in memory (modules, playbooks, the daemon's answers: shared copy-on-write, no
start-up, no second read), computes its half, sends the results back through a pipe as msgpack (`encode` makes
plain data of one result, `decode` the result again), and ends with os._exit (no atexit, no buffered output
flushed twice). The order of the results is the order of `items`, as the serial loop gives it.

Used only where nothing else runs in the process (the CLI's scan: no threads, whose locks a fork would copy
held) and never for few items (a fork costs ~2 ms). Any failure of the child (an exception, a signal, an answer
that does not decode, more than MAX_ANSWER bytes, far slower than the parent's own half) is not an error: the
parent computes that half itself, so the result is the serial loop's, or its exception, either way.
"""
from __future__ import annotations

import os
import time
from typing import Any, Callable, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS = 120  # below this, one process is as fast (the fork, the copy-on-write faults, the pipe)
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
    if len(items) < (MIN_ITEMS if min_items is None else min_items) or not hasattr(os, "fork") or cpus() < 2:
        return [fn(x) for x in items]
    import msgspec
    try:
        r, w = os.pipe()
    except OSError:
        return [fn(x) for x in items]
    try:
        pid = os.fork()
    except OSError:
        os.close(r)
        os.close(w)
        return [fn(x) for x in items]
    if pid == 0:  # the child: its half, written back, and gone
        code = 1
        try:
            os.close(r)
            if child_init is not None:
                child_init()
            view = memoryview(msgspec.msgpack.encode([encode(fn(x)) for x in items[1::2]]))
            while view:
                view = view[os.write(w, view):]
            code = 0
        except BaseException:  # noqa: BLE001  (the parent computes this half itself)
            pass
        finally:
            os._exit(code)
    os.close(w)
    started = time.monotonic()
    try:
        mine = [fn(x) for x in items[0::2]]
    except BaseException:
        _reap(pid, r, kill=True)
        raise
    # the child does as much as this process did: a child far slower than that (stopped, or stuck on a lock some
    # thread held when it was forked) is killed, and its half computed here
    patience = max(MIN_PATIENCE, 3 * (time.monotonic() - started))
    theirs = _collect(pid, r, len(items) // 2, decode, kind, time.monotonic() + patience)
    if theirs is None:
        theirs = [fn(x) for x in items[1::2]]
    out: list[R] = []
    for i in range(len(items)):
        out.append(mine[i // 2] if i % 2 == 0 else theirs[i // 2])
    return out


def _collect(pid: int, r: int, expected: int, decode: Callable[[Any], R], kind: Any,
             deadline: float) -> list[R] | None:
    import msgspec
    import select
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
        data = msgspec.msgpack.decode(b"".join(chunks), type=list[kind])
        if not isinstance(data, list) or len(data) != expected:
            return None
        return [decode(x) for x in data]
    except (msgspec.DecodeError, msgspec.ValidationError, TypeError, ValueError, IndexError, KeyError):
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
