"""The event stream of one daemon: container events, typed and cleaned, on a connection of their own (the main
one stays free for inspects). Over a unix socket (a local daemon, or ssh:// through its forward) the stream runs until
stopped, and `close()` ends it from any thread; over tcp:// a stream cannot be closed from here, so it is read in
short windows.
Blocking; no textual. DaemonError when the daemon cannot be read.
"""
from __future__ import annotations


import json
import socket
import threading
import time
from typing import Any, Iterator

from .core import schema
from .daemon import Daemon, DaemonError, explain

WINDOW = 2.0  # seconds: one window of the stream where it cannot be closed from our side


class EventStream:
    """The container events of `daemon`. `read` is one stream; `follow` what the app listens to."""

    def __init__(self, daemon: Daemon):
        self.daemon = daemon
        self._sock: socket.socket | None = None  # the current stream's socket (unix), for close() from any thread

    def read(self, since: float, until: float | None = None,
             stop: threading.Event | None = None) -> Iterator[schema.Event]:
        """Container events (typed, cleaned) from `since`. With `until` the daemon ends the stream there; without,
        it runs until `stop` is set or `close()` is called."""
        import http.client

        from .boundary import BoundaryError, decode
        daemon = self.daemon
        params: dict[str, Any] = {"since": f"{since:.3f}", "filters": json.dumps({"type": ["container"]})}
        if until is not None:
            params["until"] = f"{until:.3f}"
        side: Daemon | None = None
        try:
            side = daemon.side_connection(None if until is None else daemon.timeout)
            res = side.stream("/events", params)
            self._sock = side.current_socket
            buf = b""
            while True:
                chunk = res.read1(4096)  # what has arrived: read(n) would wait for n bytes
                if not chunk:
                    return
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.strip():
                        try:
                            yield decode(line, schema.Event, "an event", limit=1024 * 1024)
                        except BoundaryError:
                            continue  # one odd message never ends the stream
                if stop is not None and stop.is_set():
                    return
        except (OSError, ValueError, http.client.HTTPException) as exc:
            if stop is not None and stop.is_set():
                return
            raise DaemonError(explain(exc, daemon.endpoint)) from None
        finally:
            if side is not None:
                side.close()

    def follow(self, stop: threading.Event, since: float | None = None) -> Iterator[schema.Event]:
        """Live container events from `since` (now by default) until `stop` is set. Over ssh:// (and any endpoint
        not on this machine) in WINDOW-second windows: the stream there cannot be closed from our side."""
        since = time.time() if since is None else since
        if not self.daemon.over_unix_socket:  # (ssh:// goes through a local socket: sshtunnel.py)
            while not stop.is_set():
                until = time.time() + WINDOW
                yield from list(self.read(since, until))
                since = until
            return
        yield from self.read(since, stop=stop)

    def close(self) -> None:
        """From any thread: end the stream being read (unix socket), so that its reader returns."""
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
