"""Reading what a program writes to a pseudo-terminal, for the tests that drive the real binary under a pty."""
from __future__ import annotations

import os
import select
import time


def read_until(fd: int, needles: list[bytes], timeout: float) -> bytes:
    """What the program writes until every one of `needles` has been seen (none: for `timeout` seconds), at most
    `timeout` seconds: tests wait for what the screen shows, never for a fixed time when they can help it."""
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not (needles and all(n in out for n in needles)):
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                out += os.read(fd, 65536)
            except OSError:  # the program ended
                break
    return out


def read_for(fd: int, seconds: float) -> bytes:
    """Everything the program writes in the next `seconds`."""
    return read_until(fd, [], seconds)
