"""The adapter: the one module that talks to the Docker daemon.

Every docker SDK call, every error mapping and the cleaning of every untrusted string happens here, once.
`Daemon` is the connection, its typed reads (every answer decoded by the boundary into a typed record) and the
changes the training lab makes. What a scan reads is decided in scan.py, the event stream is events.py, and the
commands a playbook runs are runner.py.

Endpoint, as the docker CLI resolves it: `--host`, then DOCKER_HOST, then DOCKER_CONTEXT, then the current context of
~/.docker/config.json, then the local socket; a tcp:// one uses TLS as DOCKER_TLS_VERIFY and DOCKER_CERT_PATH say.
ssh:// endpoints go through one system ssh process per host forwarding a private local socket (sshtunnel.py), and so
your ~/.ssh/config (an alias's HostName, Port, User...) applies: no
option it would override is passed unless the URL itself says it.
"""
from __future__ import annotations

import base64
import functools
import io
import json
import os
import re
import socket
import struct
import threading
import time
from collections import deque

from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence
from urllib.parse import urlencode

from .clean import MAX_LINE, clean_line, clean_text, loads_clean
from .prefetch import MAX_LIST_JSON, MAX_ONE_JSON
from .endpoint import (DEFAULT_SOCKET, DaemonError, Endpoint, _current_context_name, _tls_from_env,  # noqa: F401
                       netloc_parts, resolve_endpoint)
from .core import schema

if TYPE_CHECKING:  # imported where a request is made one at a time: a pipelined scan never needs it
    import http.client

LOG_TAIL = 200
MAX_ERROR_BODY = 64 << 10
MAX_TAR_HEADER = 1 << 20  # a pax or GNU long-name header of a `docker save` member: a few hundred bytes in practice

def _ssh():
    """sshtunnel.py, imported only for an ssh:// endpoint (its subprocess, threading and tempfile imports are
    ~3 ms of every local scan's start)."""
    from . import sshtunnel
    return sshtunnel


def ssh_argv(url: str, remote: Sequence[str], options: Sequence[str] = ()) -> list[str]:
    """sshtunnel.ssh_argv (the one definition; tests use it from here)."""
    return _ssh().ssh_argv(url, remote, options)

EARLY_CONNECTIONS = 6  # inspects asked before they are read: each connection buffers ~200 KB of answers (the
# daemon's socket send buffer), so more of them are ready when the reading starts
MIN_API = "1.24"  # Docker 1.12 (2016): every field the facts read is there
STREAM_SILENCE = 600.0  # seconds a build, import or load may say nothing between two messages


class _DeadlineExceeded(TimeoutError):
    """A request's total time ran out (whatever the daemon kept sending meanwhile)."""


class _DeadlineSocket(socket.socket):
    """A unix socket whose every receive waits at most until `deadline` (time.monotonic()): a socket timeout alone
    restarts with each byte, so a daemon that sends one byte a second would hold a request forever."""
    deadline: float | None = None
    base_timeout: float | None = None

    def _arm(self) -> None:
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise _DeadlineExceeded("deadline")
            super().settimeout(left if self.base_timeout is None else min(left, self.base_timeout))

    def recv_into(self, *args, **kwargs):
        self._arm()
        try:
            return super().recv_into(*args, **kwargs)
        except socket.timeout:
            if self.deadline is not None and time.monotonic() >= self.deadline:
                raise _DeadlineExceeded("deadline") from None
            raise

    def recv(self, *args, **kwargs):
        self._arm()
        return super().recv(*args, **kwargs)


class NotFound(Exception):
    """The daemon answered 404: the container or image does not exist (any more)."""


class ApiError(Exception):
    """The daemon answered with an error status; `str()` is its message, cleaned."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def explain(exc: BaseException, endpoint: Endpoint) -> str:
    """One line: what went wrong reaching the daemon and what to try."""
    text = clean_text(str(exc))
    where = f"{endpoint.url} (from {endpoint.source})"
    sock = endpoint.url.removeprefix("unix://")
    podman = endpoint.source == "CONTAINER_HOST" or endpoint.source.startswith("Podman")
    if endpoint.url.startswith("unix://") and podman:
        return (f"cannot use Podman's API at {where}: {text[:200] or type(exc).__name__}. Is `podman system service` "
                f"running there? (`systemctl start podman.socket`, or `systemctl --user start podman.socket`)")
    if endpoint.url.startswith("unix://"):
        if "No such file or directory" in text or "FileNotFoundError" in text or not os.path.exists(sock):
            return (f"cannot reach the Docker daemon: socket {sock} does not exist. Is dockerd running? "
                    f"Try `sudo systemctl start docker`, or point --host / DOCKER_HOST at your daemon "
                    f"(Podman: `systemctl start podman.socket` and it is found by itself, or CONTAINER_HOST).")
        if "Permission denied" in text or "PermissionError" in text:
            return (f"permission denied on {sock}: add your user to the docker group "
                    f"(`sudo usermod -aG docker $USER`, then log in again) or run with sudo.")
        if "Connection refused" in text or "ConnectionRefusedError" in text:
            return f"nothing answers on {sock} (connection refused): dockerd is not running; start it and retry."
    if endpoint.is_ssh:
        for needle, why in (("Could not resolve hostname", "the host name does not resolve"),
                            ("Connection refused", "ssh connection refused"),
                            ("timed out", "the ssh connection timed out"),
                            ("Permission denied", "ssh authentication failed"),
                            ("No route to host", "no route to the host"),
                            ("Host key verification failed", "the host key is not trusted")):
            if needle in text:
                return (f"ssh host unreachable: {endpoint.url}: {why}. Check `ssh {endpoint.url.removeprefix('ssh://')}` "
                        f"works on its own, and that the remote user may run docker.")
        if isinstance(exc, FileNotFoundError) or "No such file" in text:
            return "ssh:// needs the ssh client on this machine (`apt-get install openssh-client`)."
        return f"ssh host unreachable: {endpoint.url}: {text.splitlines()[0][:300] if text else type(exc).__name__}"
    if isinstance(exc, (socket.timeout, TimeoutError)) or "timed out" in text or "Timeout" in type(exc).__name__:
        return f"the Docker daemon at {where} did not answer in time; it may be overloaded or hung."
    if "Connection refused" in text:
        return f"nothing answers at {where} (connection refused). Is dockerd listening there?"
    return f"cannot use the Docker daemon at {where}: {text[:300] or type(exc).__name__}"


class _UnixTransport:
    """The Engine API over a unix socket: keep-alive HTTP/1.1 connections, no third-party client. The scan makes
    hundreds of small requests; this is several times cheaper per request than requests + docker-py (which also
    opens a new connection for each), and it spares the ~140 ms import of docker-py and paramiko.
    http.client connections are not thread-safe: each thread (the TUI's workers) gets its own."""

    def __init__(self, path: str, timeout: float | None, sockets: "_Sockets | None" = None):
        self.path = path
        self.timeout = timeout
        self._local = threading.local()
        self._sockets = sockets  # the owner's: abort() shuts every one of them from any thread

    def _connection(self) -> tuple[http.client.HTTPConnection, _DeadlineSocket]:
        """This thread's connection and its socket. One http.client let go of (it sets `sock` to None after an
        answer with `Connection: close`, and would reconnect by TCP to localhost) is replaced by a new one."""
        import http.client
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        sock: _DeadlineSocket | None = getattr(self._local, "sock", None)
        if conn is not None and sock is not None and conn.sock is sock:
            return conn, sock
        if conn is not None:
            conn.close()
        conn = http.client.HTTPConnection("localhost", timeout=self.timeout)
        sock = _DeadlineSocket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.base_timeout = self.timeout
        if self._sockets is not None:
            self._sockets.add(sock)  # raises once aborted: no new connection to a daemon we are leaving
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except OSError:
            sock.close()
            raise
        conn.sock = sock
        self._local.conn, self._local.sock = conn, sock
        return conn, sock

    @property
    def current(self) -> http.client.HTTPConnection | None:
        return getattr(self._local, "conn", None)

    def request(self, path: str, method: str = "GET", body: bytes | None = None,
                headers: dict[str, str] | None = None, deadline: float | None = None) -> http.client.HTTPResponse:
        """`deadline` (time.monotonic()) bounds the whole exchange: headers and every read of the body after."""
        import http.client
        for attempt in (0, 1):
            conn, sock = self._connection()
            sock.deadline = deadline
            if deadline is None:
                sock.settimeout(self.timeout)  # as it was before a deadline shortened it
            try:
                conn.request(method, path, body=body, headers={"Host": "docker", **(headers or {})})
                return conn.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()  # the daemon closed an idle keep-alive connection: once more on a new one
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = self._local.sock = None


class _Sockets:
    """Every unix socket a Daemon opened, in any thread. `abort()` shuts them down: a thread blocked reading from a
    hung daemon (SIGSTOP: up to the 30 s socket timeout, or forever on the event stream) wakes at once with an
    error, and no new connection is opened afterwards. Used when the app quits: its worker threads must not hold
    the process."""

    def __init__(self) -> None:
        import weakref
        self._lock = threading.Lock()
        self._set: "weakref.WeakSet[socket.socket]" = weakref.WeakSet()
        self.aborted = False

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            if self.aborted:
                sock.close()
                raise ConnectionAbortedError("the connection to the daemon was closed (quitting)")
            self._set.add(sock)

    def abort(self) -> None:
        with self._lock:
            self.aborted = True
            socks = list(self._set)
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _DockerPyTransport:
    """tcp://, TLS and ssh:// endpoints: docker-py's HTTP session (only imported when such an endpoint is used)."""

    def __init__(self, api):
        self.api = api

    def request(self, path: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None,
                deadline: float | None = None):
        """The deadline is checked between reads only (requests' timeout bounds each read)."""
        res = _ResponseAdapter(self.api.request(method, self.api.base_url + path, data=body, headers=headers,
                                                stream=True, timeout=self.api.timeout))
        res.deadline = deadline
        return res

    def close(self) -> None:
        self.api.close()


class _ResponseAdapter:
    """A requests.Response seen through http.client's interface (status, read)."""

    deadline: float | None = None

    def __init__(self, res):
        self.res = res
        self.status = res.status_code
        self._raw = res.raw

    def getheader(self, name: str, default=None):
        return self.res.headers.get(name, default)

    def read(self, n: int = -1) -> bytes:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise _DeadlineExceeded("deadline")
        return self._raw.read(None if n < 0 else n, decode_content=True) or b""

    def read1(self, n: int = -1) -> bytes:
        return self.read(n)


class Daemon:
    """A connection to one daemon. Reads return typed records (through the boundary); errors become DaemonError."""

    def __init__(self, host: str | Endpoint | None = None, timeout: float = 30):
        self.endpoint = host if isinstance(host, Endpoint) else resolve_endpoint(host)
        self.timeout: float | None = timeout  # each JSON request, whole (a total deadline); each read of a stream
        self._transport: _UnixTransport | _DockerPyTransport | None = None
        self._api_prefix = ""  # "/v1.41" once the daemon's version is known ("": unversioned, its newest)
        self._version: schema.Version | None = None  # this connection's /version, read once
        self._version_pending = False  # connected, its /version asked early (prefetch) and not taken yet
        self._version_error: str | None = None  # ... and what was wrong with it (too old: nothing else is read)
        self._sockets = _Sockets()
        self._early: Any = None  # prefetch(): (batch, {target: index}) of answers asked before they are needed
        self._early_lock = threading.RLock()  # one thread at a time reads the early batch (the app: its early thread,
        # then workers; a batch is read by one thread) and takes the early /version
        self._early_rows: Any = None  # ask_inspects_early(): (all, the sparse list it took from the early batch)
        self._early_inspects: Any = None  # ... and (ids, batch) of their inspects, asked then

    # -- connection -------------------------------------------------------------------------------------------
    def connect(self) -> "Daemon":
        if self._sockets.aborted:
            raise DaemonError(f"the connection to the daemon at {self.endpoint.url} was closed (quitting)")
        try:
            path = self._unix_path()
            if path is not None:
                self._transport = _UnixTransport(path, self.timeout, self._sockets)
            else:
                self._transport = _DockerPyTransport(self._docker_py_client())
            self._api_prefix, self._version, self._version_error = "", None, None
            if self._early is not None and self._early_asked("/version"):
                # asked by prefetch(): checked when a request first needs the API version (the sparse list, /info
                # and the images were asked unversioned), so that the caller loads its playbooks meanwhile instead
                # of waiting here (/version runs `runc --version` on the daemon's side: ~10 ms)
                self._version_pending = True
                return self
            self._use_version(self._get_typed("/version", schema.Version))
        except DaemonError:
            raise
        except Exception as exc:  # every way of failing to connect becomes one line
            raise DaemonError(self._gone(exc)) from None
        return self

    def _unix_path(self) -> str | None:
        """The unix socket this daemon is read through: its own (unix://), or for ssh:// the local end of the
        endpoint's ssh forward (sshtunnel.py, started here when needed); None for docker-py (tcp://, TLS)."""
        url = self.endpoint.url
        if url.startswith("unix://") or url.startswith("/"):
            return url.removeprefix("unix://")
        if self.endpoint.is_ssh and _ssh().enabled():
            return _ssh().tunnel_for(url).socket_path()
        return None

    @property
    def over_unix_socket(self) -> bool:
        """Read through a unix socket on this machine (a local daemon, or ssh:// through its forward): pipelined,
        and a stream can be closed from our side."""
        url = self.endpoint.url
        return url.startswith("unix://") or url.startswith("/") or (self.endpoint.is_ssh and _ssh().enabled())

    def _gone(self, exc: BaseException) -> str:
        """One line for a request that failed: the ssh connection's end when that is why, else `explain`."""
        if self.endpoint.is_ssh:
            tunnel = _ssh().existing(self.endpoint.url)
            why = tunnel.gone() if tunnel is not None else None
            if why:
                return why
        return explain(exc, self.endpoint)

    def _use_version(self, version: schema.Version) -> None:
        api = version.ApiVersion or MIN_API
        if _version_tuple(api) < _version_tuple(MIN_API):
            raise DaemonError(f"the Docker daemon at {self.endpoint.url} is too old: API {api} (Docker "
                              f"{version.Version or '?'}); troubleshoot needs API {MIN_API} (Docker 1.12) or later.")
        self._version, self._api_prefix = version, f"/v{api}"

    @property
    def _prefix(self) -> str:
        """The API version prefix of every request; the early /version answer is taken and checked here, once."""
        if self._version_pending:
            with self._early_lock:
                if self._version_pending:
                    self._take_version()
        if self._version_error is not None:  # said again to every request of this connection, never read past
            raise DaemonError(self._version_error)
        return self._api_prefix

    def _take_version(self) -> None:
        self._version_pending = False
        try:
            early = self._early_answer("/version", None)
            if early is not None and early.status == 200:
                self._use_version(self._typed_answer("/version", early, schema.Version, None))
            else:
                self._use_version(self._get_typed("/version", schema.Version))
        except DaemonError as exc:
            self._version_error = str(exc)
        except Exception as exc:
            self._version_error = self._gone(exc)

    def _early_asked(self, path: str) -> bool:
        early = self._early
        return early is not None and self._query(path, None, prefix=False) in early[1]

    def _docker_py_client(self) -> Any:
        import docker  # only for tcp/TLS/ssh endpoints
        kwargs: dict[str, Any] = {"base_url": self.endpoint.url, "timeout": self.timeout, "version": MIN_API}
        if self.endpoint.tls is not None:
            kwargs["tls"] = self.endpoint.tls
        if self.endpoint.is_ssh:
            import shutil  # (not on a local scan's path: it imports zlib, bz2 and lzma)
            kwargs["use_ssh_client"] = shutil.which("ssh") is not None
            if kwargs["use_ssh_client"]:
                _ssh_preflight(self.endpoint)
        client = docker.APIClient(**kwargs)
        adapter = getattr(client, "_custom_adapter", None)
        if self.endpoint.is_ssh and kwargs["use_ssh_client"] and adapter is not None and hasattr(adapter, "ssh_host"):
            # docker-py's parse_host adds ":22" to a URL without a port, and its ssh command then passes `-p 22`,
            # overriding an alias's Port in ~/.ssh/config. Give it the URL's own user@host[:port] back.
            user, host, port = netloc_parts(self.endpoint.url)
            adapter.ssh_host = (f"{user}@" if user else "") + host + (f":{port}" if port else "")
        return client

    def close(self) -> None:
        early, self._early = self._early, None
        inspects, self._early_inspects, self._early_rows = self._early_inspects, None, None
        self._version_pending = False
        if early is not None:
            early[0].close()
        if inspects is not None:
            inspects[1].close()
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def after_fork(self) -> None:
        """In a forked child (forkmap.py): forget the connections shared with the parent, never closing or shutting
        them down here (the parent still reads them); the next request opens a connection of its own."""
        self._transport, self._early, self._version_pending = None, None, False
        self._early_rows = self._early_inspects = None
        self._early_lock = threading.RLock()  # (one another thread of the parent held would stay held here)
        self._sockets = _Sockets()

    def side_connection(self, timeout: float | None) -> "Daemon":
        """Another connection to the same (connected) daemon: same endpoint, API version and sockets (`abort()`
        reaches it), a transport of its own, with `timeout` for each read. For a stream (events) that must not hold
        the main connection; close it when done."""
        side = Daemon.__new__(Daemon)
        side.endpoint, side.timeout, side._api_prefix, side._sockets = self.endpoint, timeout, self._prefix, self._sockets
        side._version, side._version_pending, side._version_error = self._version, False, None
        side._transport = None
        side._early = side._early_rows = side._early_inspects = None
        side._early_lock = threading.RLock()
        try:
            path = self._unix_path()
        except DaemonError:
            raise
        except Exception as exc:
            raise DaemonError(self._gone(exc)) from None
        side._transport = (_UnixTransport(path, timeout, self._sockets)
                           if path is not None else _DockerPyTransport(side._docker_py_client()))
        return side

    def stream(self, path: str, params: dict[str, Any] | None = None):
        """GET a stream (events): the response, read as it arrives; only the socket timeout bounds each read."""
        return self._open(path, params)

    @property
    def current_socket(self) -> socket.socket | None:
        """This thread's unix socket to the daemon (None over docker-py): shutting it down ends a stream in flight
        from any thread."""
        conn = self._transport.current if isinstance(self._transport, _UnixTransport) else None
        return conn.sock if conn is not None else None

    @property
    def logs_budget(self) -> float:
        """A log tail (at most LOG_TAIL lines, the daemon reads them from the end): whole within this."""
        return max(120.0, 4.0 * (self.timeout or 30))

    def _open(self, path: str, params: dict[str, Any] | None = None, method: str = "GET", body: bytes | None = None,
              headers: dict[str, str] | None = None, budget: float | None = None):
        """METHOD prefix+path; returns the response (status 2xx) or raises NotFound / ApiError / DaemonError.
        A list value in `params` repeats the parameter (`changes=...&changes=...`). `budget`: seconds the whole
        request may take, reading its answer included (None: streams, which only have the socket timeout)."""
        if self._transport is None:
            self.connect()
        transport = self._transport
        if transport is None:  # closed meanwhile by another thread, after an error of its own
            raise DaemonError(f"the connection to the daemon at {self.endpoint.url} was closed; retry")
        query = ""
        if params:
            query = "?" + urlencode([(k, _param(x)) for k, v in params.items()
                                     for x in (v if isinstance(v, (list, tuple)) else [v])])
        deadline = time.monotonic() + budget if budget is not None else None
        try:
            res = transport.request(f"{self._prefix}{path}{query}", method, body, headers, deadline=deadline)
        except DaemonError:
            raise
        except _DeadlineExceeded:
            self.close()
            raise DaemonError(self._too_slow(path, budget)) from None
        except Exception as exc:  # socket, http.client and requests errors alike
            self.close()
            raise DaemonError(self._gone(exc)) from None
        if res.status >= 400:
            message = _api_message(res.status, self._read_bounded(res, path, MAX_ERROR_BODY, budget, cut=True))
            if res.status == 404:
                raise NotFound(message)
            raise ApiError(res.status, message)
        return res

    def _too_slow(self, path: str, budget: float | None) -> str:
        return f"the daemon at {self.endpoint.url} did not answer {path} within {budget or 0:.0f} s"

    def _read_bounded(self, res, path: str, limit: int, budget: float | None, cut: bool = False) -> bytes:
        """The whole answer, read in chunks, under the request's deadline; more than `limit` bytes is a DaemonError
        (or, with `cut`, the first `limit` bytes: an error message). A refused answer is never read to its end."""
        import http.client
        length = res.getheader("Content-Length") if hasattr(res, "getheader") else None
        if not cut and length and length.strip().isdigit() and int(length) > limit:
            self.close()
            raise DaemonError(f"the daemon at {self.endpoint.url} answered {path} with {int(length) >> 20} MB: "
                              f"more than the {limit >> 20} MB a sane answer takes; refused")
        buf = bytearray()
        try:
            while True:
                chunk = res.read(min(65536, limit + 1 - len(buf)))
                if not chunk:
                    return bytes(buf)
                buf += chunk
                if len(buf) > limit:
                    self.close()  # the rest is never read: this connection cannot be reused
                    if cut:
                        return bytes(buf[:limit])
                    raise DaemonError(f"the daemon at {self.endpoint.url} sent more than {limit >> 20} MB for {path}: "
                                      f"refused")
        except _DeadlineExceeded:
            self.close()
            raise DaemonError(self._too_slow(path, budget)) from None
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise DaemonError(self._gone(exc)) from None

    def _get_typed(self, path: str, kind: Any, params: dict[str, Any] | None = None, limit: int = MAX_ONE_JSON) -> Any:
        """GET path: at most `limit` bytes, all of it within the timeout (a total deadline), decoded into a typed
        record by the boundary (validated, bounded, cleaned)."""
        from .boundary import BoundaryError, decode
        if isinstance(self._transport, _UnixTransport):  # the pipeline's reader: no http.client for a scan
            from .pipeline import Get
            answer = self._answers(self._batch([Get(self._query(path, params), limit)], self.timeout))[0]
            if answer.status == 404:
                raise NotFound(_api_message(404, answer.body[:MAX_ERROR_BODY]))
            if answer.status >= 400 or answer.status < 200:
                raise ApiError(answer.status, _api_message(answer.status, answer.body[:MAX_ERROR_BODY]))
            raw = answer.body
        else:
            res = self._open(path, params, budget=self.timeout)
            raw = self._read_bounded(res, path, limit, self.timeout)
        try:
            return decode(raw, kind, f"the daemon's answer to {path}", limit=limit)
        except BoundaryError as exc:
            raise DaemonError(f"{exc} (daemon at {self.endpoint.url})") from None

    def _typed(self, path: str, kind: Any, params: dict[str, Any] | None = None, limit: int = MAX_ONE_JSON) -> Any:
        early = self._early_answer(path, params) if self._early is not None else None
        if early is not None:
            if early.status == 404:
                raise NotFound(_api_message(404, early.body[:MAX_ERROR_BODY]))
            return self._typed_answer(path, early, kind, None, limit)
        try:
            return self._get_typed(path, kind, params, limit)
        except ApiError as exc:
            raise DaemonError(f"the daemon refused {path}: {exc}") from None

    # -- many reads at once (pipeline.py): the same answers, bounds and errors as one read each ----------------
    def _query(self, path: str, params: dict[str, Any] | None, prefix: bool = True) -> str:
        query = ""
        if params:
            query = "?" + urlencode([(k, _param(x)) for k, v in params.items()
                                     for x in (v if isinstance(v, (list, tuple)) else [v])])
        return f"{self._prefix if prefix else ''}{path}{query}"

    def _batch(self, gets: Sequence[Any], budget: float | None, connections: int = 3, stats: bool = False) -> Any:
        """A pipeline.Batch of `gets` (already sent), or None when this transport cannot (docker-py: tcp, TLS,
        ssh): the caller then reads one at a time."""
        from . import pipeline
        if self._transport is None:
            self.connect()
        if not isinstance(self._transport, _UnixTransport) or not gets:
            return None
        if self.endpoint.is_ssh:
            connections = min(connections, _ssh().connection_cap(self.endpoint.url, stats) or connections)
        try:
            return pipeline.Batch(self._transport.path, gets, budget=budget or 30.0, connections=connections,
                                  on_socket=self._sockets.add)
        except OSError as exc:
            raise DaemonError(self._gone(exc)) from None

    def _answers(self, batch: Any, on_answer: Any = None, wait_for: int | None = None) -> Any:
        """batch.answers() (or, with `wait_for`, that one answer), its errors as DaemonError (as one read's are)."""
        from . import pipeline
        try:
            return batch.answers(on_answer) if wait_for is None else batch.answer(wait_for)
        except pipeline.PipelineError as exc:
            where = exc.path.removeprefix(self._api_prefix).split("?")[0]
            if exc.kind == "deadline":
                raise DaemonError(self._too_slow(where, batch.budget)) from None
            if exc.kind == "too_big":
                limit = next((g.limit for g in batch.gets if g.target == exc.path), MAX_ONE_JSON)
                raise DaemonError(f"the daemon at {self.endpoint.url} sent more than {limit >> 20} MB for {where}: "
                                  f"refused") from None
            gone = self._gone(exc) if self.endpoint.is_ssh else ""
            if gone.startswith("the ssh connection"):
                raise DaemonError(gone) from None
            raise DaemonError(f"the daemon at {self.endpoint.url} answered {where} with something that is not "
                              f"HTTP ({clean_text(exc.detail)[:80]})") from None
        except OSError as exc:
            raise DaemonError(self._gone(exc)) from None

    def _many(self, paths: Sequence[str], params: dict[str, Any] | None, limit: int, budget: float | None,
              cut: bool = False) -> "list[Any] | None":
        """Pipelined GETs of `paths`: their answers, or None when this transport cannot pipeline."""
        from .pipeline import Get
        if len(paths) < 2:
            return None
        batch = self._batch([Get(self._query(p, params), limit, cut) for p in paths], budget)
        return None if batch is None else self._answers(batch)

    def _typed_answer(self, path: str, answer: Any, kind: Any, missing: Any, limit: int = MAX_ONE_JSON) -> Any:
        """One pipelined answer as a `kind` record, as `_typed` makes it; `missing` for a 404."""
        from .boundary import BoundaryError, decode
        if answer.status == 404:
            return missing
        if answer.status == 0:  # pipeline.py: no answer at all, its connection ended before it (not a refusal)
            raise DaemonError(f"no answer to {path} from the daemon at {self.endpoint.url} (its connection ended "
                              "before it)")
        if answer.status >= 400 or answer.status < 200:
            raise DaemonError(f"the daemon refused {path}: {_api_message(answer.status, answer.body[:MAX_ERROR_BODY])}")
        try:
            return decode(answer.body, kind, f"the daemon's answer to {path}", limit=limit)
        except BoundaryError as exc:
            raise DaemonError(f"{exc} (daemon at {self.endpoint.url})") from None

    def _typed_many(self, paths: Sequence[str], kind: Any, missing: Any) -> list[Any]:
        """Each path's answer as a `kind` record; `missing` for a 404 (gone meanwhile). Pipelined, each decoded as
        it arrives, while the daemon still answers the next ones."""
        from .pipeline import Get
        batch = self._batch([Get(self._query(p, None), MAX_ONE_JSON) for p in paths], self.timeout) \
            if len(paths) > 1 else None
        if batch is None:
            return [self._typed_or(p, kind, missing) for p in paths]
        out: list[Any] = [missing] * len(paths)

        def decoded(i: int, answer: Any) -> None:
            out[i] = self._typed_answer(paths[i], answer, kind, missing)
        self._answers(batch, decoded)
        return out

    # -- what a scan reads at its start, asked before it is needed ---------------------------------------------
    def prefetch(self, all: bool = True, asked: Any = None) -> None:
        """Ask now, each on its own connection, what a scan reads first (/version, the sparse list, /info, the image
        list): the daemon answers while the caller loads the rest of the program and its playbooks. Called before
        `connect`, the paths carry no API version: the daemon then answers in its own (newest) version, the one
        `connect` would choose. `connect()`, `containers(all)`, `info()` and `images()` take the answer already
        asked for (once; later calls ask again). Nothing on a transport that cannot pipeline (docker-py).
        `asked` (prefetch.ask_first): the same reads asked as the process started, taken over when they were asked
        of this daemon, for the same list."""
        from . import prefetch
        url = self.endpoint.url
        if self._early is not None:
            return
        path = None
        if self.endpoint.is_ssh and self.over_unix_socket:
            try:
                path = self._unix_path()
            except DaemonError:
                return  # said by connect(), which tries the same
            if _ssh().connection_cap(url):
                return  # dial-stdio sessions: few at once (read one at a time as asked)
        if asked is not None and asked.url == url and asked.all == all:
            for sock in asked.batch.sockets():
                self._sockets.add(sock)  # (abort() reaches them too)
        else:
            if asked is not None:
                asked.batch.close()
            asked = prefetch.ask(url, all, self.timeout or 30.0, on_socket=self._sockets.add, path=path)
            if asked is None:
                return  # said by connect(), which tries the same socket
        self._early = (asked.batch, dict(asked.index))

    def _early_answer(self, path: str, params: dict[str, Any] | None) -> Any:
        """The prefetched answer to this GET (taken: asked once), or None. The daemon's version is checked first: an
        answer of a daemon too old is never read."""
        if getattr(self, "_early", None) is None:
            return None
        if path != "/version" and (self._version_pending or self._version_error is not None):
            _ = self._prefix  # raises DaemonError for a daemon too old
        with self._early_lock:
            early = self._early
            if early is None:
                return None
            batch, index = early
            i = index.pop(self._query(path, params, prefix=False), None)
            if i is None:
                return None
            if not index:
                self._early = None
            try:
                return self._answers(batch, wait_for=i)
            except DaemonError:
                self._early = None
                raise

    def _typed_or(self, path: str, kind: Any, missing: Any) -> Any:
        try:
            return self._typed(path, kind)
        except NotFound:
            return missing

    def inspect_many(self, cids: Sequence[str]) -> list[schema.ContainerInspect | None]:
        """`inspect` of each, in order (None: removed meanwhile), pipelined on a local daemon."""
        paths = [f"/containers/{_quote(c)}/json" for c in cids]
        early, self._early_inspects = self._early_inspects, None
        if early is not None:
            ids, batch = early
            if list(ids) == list(cids):  # asked already (ask_inspects_early): the daemon has been answering them
                out: list[Any] = [None] * len(paths)

                def decoded(i: int, answer: Any) -> None:
                    out[i] = self._typed_answer(paths[i], answer, schema.ContainerInspect, None)
                self._answers(batch, decoded)
                return out
            batch.close()
        return self._typed_many(paths, schema.ContainerInspect, None)

    def ask_inspects_early(self, all: bool, select: Callable[[list[schema.ListRow]], list[str]]) -> bool:
        """When the sparse list asked by `prefetch(all)` has come (not waiting for it), ask now for the inspects of
        the containers `select` picks from it: the daemon answers them while the caller still loads its playbooks.
        `containers(all)` then gives that list and `inspect_many` of the same ids takes those answers. False when
        nothing was asked (no early list, or not in yet)."""
        early = self._early
        target = self._query("/containers/json", {"all": all}, prefix=False)
        if early is None or target not in early[1] or self._early_inspects is not None:
            return False
        batch, index = early
        version = self._query("/version", None, prefix=False)
        with self._early_lock:
            try:
                batch.poll()
            except Exception:  # said when the list is asked for (containers), as without this
                return False
            if not batch.has(index[target]) or (version in index and not batch.has(index[version])):
                return False
        try:
            rows = self.containers(all)
        except Exception:  # said when the list is asked for again (containers), as without this
            return False
        self._early_rows = (all, rows)
        ids = select(rows)
        if len(ids) < 2 or self._transport is None:
            return False
        gets = [self._query(f"/containers/{_quote(c)}/json", None) for c in ids]
        from .pipeline import Get
        batch = self._batch([Get(g, MAX_ONE_JSON) for g in gets], self.timeout, connections=EARLY_CONNECTIONS)
        if batch is None:
            return False
        self._early_inspects = (list(ids), batch)
        return True

    def images_many(self, refs: Sequence[str]) -> list[schema.ImageInspect | None]:
        return self._typed_many([f"/images/{_quote(r)}/json" for r in refs], schema.ImageInspect, None)

    def history_many(self, refs: Sequence[str]) -> list[list[schema.HistoryEntry]]:
        return self._typed_many([f"/images/{_quote(r)}/history" for r in refs], list[schema.HistoryEntry], [])

    def logs_many(self, wanted: Sequence[tuple[str, bool]], tail: int = LOG_TAIL,
                  max_line: int = MAX_LINE) -> list[tuple[tuple[str, ...], str]]:
        """`read_logs` of each (container id, tty), in order. A tail longer than 4 MB (a huge line) is read on its
        own, streamed through the bounded buffer as `read_logs` does."""
        tail = int(tail)
        params = {"stdout": 1, "stderr": 1, "tail": tail, "follow": 0, "timestamps": 0}
        answers = self._many([f"/containers/{_quote(c)}/logs" for c, _tty in wanted], params, 4 << 20,
                             self.logs_budget, cut=True)
        if answers is None:
            return [self.read_logs(c, tail, max_line, tty) for c, tty in wanted]
        return [self.read_logs(cid, tail, max_line, tty) if a.cut else self._logs_answer(a, tail, max_line, tty)
                for (cid, tty), a in zip(wanted, answers)]

    def evidence_many(self, images: Sequence[str], histories: Sequence[str], logs: Sequence[tuple[str, bool]],
                      tail: int = LOG_TAIL, max_line: int = MAX_LINE) -> tuple[list, list, list]:
        """`images_many`, `history_many` and `logs_many` in one pipelined batch (what a scan reads after the
        inspects): (image inspects or None, histories, (lines, why not) per log tail)."""
        return self.ask_evidence(images, histories, logs, tail, max_line)()

    def ask_evidence(self, images: Sequence[str], histories: Sequence[str], logs: Sequence[tuple[str, bool]],
                     tail: int = LOG_TAIL, max_line: int = MAX_LINE) -> Callable[[], tuple[list, list, list]]:
        """`evidence_many`, asked now (the requests are sent: the daemon works on them while the caller reads
        something else); call the result to read the answers."""
        from .pipeline import Get
        tail = int(tail)
        params = {"stdout": 1, "stderr": 1, "tail": tail, "follow": 0, "timestamps": 0}
        paths = ([f"/images/{_quote(r)}/json" for r in images] + [f"/images/{_quote(r)}/history" for r in histories]
                 + [f"/containers/{_quote(c)}/logs" for c, _tty in logs])
        gets = [Get(self._query(p, None), MAX_ONE_JSON) for p in paths[:len(images) + len(histories)]]
        gets += [Get(self._query(p, params), 4 << 20, cut=True) for p in paths[len(gets):]]
        batch = self._batch(gets, max(self.timeout or 30, self.logs_budget)) if len(gets) > 1 else None
        if batch is None:
            return lambda: (self.images_many(images), self.history_many(histories),
                            self.logs_many(logs, tail, max_line))
        n_img, n_hist = len(images), len(images) + len(histories)

        def result() -> tuple[list, list, list]:
            out: list[Any] = [None] * len(gets)

            def decoded(i: int, answer: Any) -> None:
                if i < n_img:
                    out[i] = self._typed_answer(paths[i], answer, schema.ImageInspect, None)
                elif i < n_hist:
                    out[i] = self._typed_answer(paths[i], answer, list[schema.HistoryEntry], [])
                else:
                    out[i] = None if answer.cut else self._logs_answer(answer, tail, max_line, logs[i - n_hist][1])
            self._answers(batch, decoded)
            for i in range(n_hist, len(gets)):
                if out[i] is None:  # past 4 MB (a huge line): streamed on its own through the bounded buffer
                    cid, tty = logs[i - n_hist]
                    out[i] = self.read_logs(cid, tail, max_line, tty)
            return out[:n_img], out[n_img:n_hist], out[n_hist:]
        return result

    def ask_stats(self, cids: Sequence[str]) -> Callable[[], list[Any]]:
        """`stats_once` of each, asked now on many connections at once (the daemon answers a stats call at its next
        collection tick, ~1 s: one after the other, 80 running containers took 80 s); call the result for each
        one's schema.Stats, None (gone) or the DaemonError it met."""
        from .pipeline import Get
        paths = [f"/containers/{_quote(c)}/stats" for c in cids]
        params = {"stream": False, "one-shot": True}
        batch = self._batch([Get(self._query(p, params), MAX_ONE_JSON) for p in paths], self.timeout,
                            connections=min(128, len(paths)), stats=True) if len(paths) > 1 else None

        def one_by_one() -> list[Any]:
            out: list[Any] = []
            for c in cids:
                try:
                    out.append(self.stats_once(c))
                except DaemonError as exc:
                    out.append(exc)
            return out
        if batch is None:
            return one_by_one

        def result() -> list[Any]:
            out: list[Any] = [None] * len(paths)

            def decoded(i: int, answer: Any) -> None:
                try:
                    out[i] = self._typed_answer(paths[i], answer, schema.Stats, None)
                except DaemonError as exc:
                    out[i] = exc
            try:
                self._answers(batch, decoded)
            except DaemonError as exc:
                return [exc] * len(paths)
            return out
        return result

    @staticmethod
    def _logs_answer(answer: Any, tail: int, max_line: int, tty: bool) -> tuple[tuple[str, ...], str]:
        if answer.status == 404:
            return (), "the container is gone"
        if answer.status >= 400 or answer.status < 200:
            return (), f"logs unavailable: {_api_message(answer.status, answer.body[:MAX_ERROR_BODY])}"
        res = io.BytesIO(answer.body)
        return tuple(bounded_lines(_raw_chunks(res) if tty else _demux(res), tail, max_line)), ""

    # -- reads: typed records (everything a diagnosis reads) ---------------------------------------------------
    def version(self) -> schema.Version:
        """The daemon's /version, as read when this connection was made (a restarted daemon is a new connection)."""
        if self._transport is None:
            self.connect()
        _ = self._prefix  # takes the early answer, when it was asked early
        return self._version if self._version is not None else self._typed("/version", schema.Version)

    def _listing(self, path: str, kind: Any, params: dict[str, Any] | None = None, limit: int = MAX_ONE_JSON) -> Any:
        """`_typed` of a read every Docker API answers (/info, the lists): a 404 there is not a missing object but
        something else listening on the socket (a proxy, a hostile daemon): said in one line, as a refusal is."""
        try:
            return self._typed(path, kind, params, limit)
        except NotFound as exc:
            raise DaemonError(f"the daemon at {self.endpoint.url} answered {path} with 404 ({exc}): not a Docker "
                              "API there") from None

    def info(self) -> schema.Info:
        return self._listing("/info", schema.Info)

    def containers(self, all: bool = True, label: str | None = None) -> list[schema.ListRow]:
        """The sparse list (one call, no inspect). `label`: only those carrying it."""
        taken, self._early_rows = self._early_rows, None
        if taken is not None and taken[0] == all and not label:
            return taken[1]
        params: dict[str, Any] = {"all": all}
        if label:
            params["filters"] = json.dumps({"label": [label]})
        return self._listing("/containers/json", list[schema.ListRow], params, MAX_LIST_JSON)

    def inspect(self, cid: str) -> schema.ContainerInspect | None:
        """None when the container vanished in the meantime (removed mid-scan)."""
        try:
            return self._typed(f"/containers/{_quote(cid)}/json", schema.ContainerInspect)
        except NotFound:
            return None

    def image(self, ref: str) -> schema.ImageInspect | None:
        try:
            return self._typed(f"/images/{_quote(ref)}/json", schema.ImageInspect)
        except NotFound:
            return None

    def images(self, label: str | None = None) -> list[schema.ImageRow]:
        return self._listing("/images/json", list[schema.ImageRow],
                             {"filters": json.dumps({"label": [label]})} if label else None, MAX_LIST_JSON)

    def networks(self, label: str | None = None) -> list[schema.NetworkRow]:
        return self._listing("/networks", list[schema.NetworkRow],
                             {"filters": json.dumps({"label": [label]})} if label else None, MAX_LIST_JSON)

    def history(self, ref: str) -> list[schema.HistoryEntry]:
        try:
            return self._typed(f"/images/{_quote(ref)}/history", list[schema.HistoryEntry])
        except NotFound:
            return []

    def path_stat(self, cid: str, path: str) -> schema.PathStat | None:
        """A path's stat in the container's filesystem (HEAD on the archive API: no body), typed by the boundary;
        None when the path does not exist. Works on a stopped container too."""
        from .boundary import BoundaryError, decode
        api = f"/containers/{_quote(cid)}/archive"
        try:
            res = self._open(api, {"path": path}, "HEAD", budget=self.timeout)
        except NotFound:
            return None
        except ApiError as exc:
            raise DaemonError(f"the daemon refused {api}: {exc}") from None
        header = res.getheader("X-Docker-Container-Path-Stat") or ""
        self._read_bounded(res, api, MAX_ERROR_BODY, self.timeout, cut=True)
        try:
            raw = base64.b64decode(header.encode("ascii", "replace"), validate=False)
            return decode(raw or b"{}", schema.PathStat, f"the stat of {path}", limit=MAX_ERROR_BODY)
        except (BoundaryError, ValueError) as exc:
            raise DaemonError(f"{clean_text(str(exc))} (daemon at {self.endpoint.url})") from None

    def file_head(self, cid: str, path: str, limit: int = 4096) -> bytes | None:
        """The first `limit` bytes of a regular file of the container, from the archive API's tar stream: the tar
        header and those bytes are read, never the rest (the connection is then dropped, as an answer not read to
        its end cannot be reused). None when the path does not exist or is not a regular file."""
        import http.client
        import tarfile
        api = f"/containers/{_quote(cid)}/archive"
        try:
            res = self._open(api, {"path": path}, budget=self.timeout)
        except NotFound:
            return None
        except ApiError as exc:
            raise DaemonError(f"the daemon refused {api}: {exc}") from None
        try:
            buf = bytearray()
            want = 3 * 512 + limit  # a pax header and its data may come first
            while len(buf) < want:
                chunk = res.read(want - len(buf))
                if not chunk:
                    break
                buf += chunk
        except _DeadlineExceeded:
            self.close()
            raise DaemonError(self._too_slow(api, self.timeout)) from None
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise DaemonError(self._gone(exc)) from None
        self.close()
        try:
            with tarfile.open(fileobj=io.BytesIO(bytes(buf) + bytes(1024)), mode="r:", tarinfo=_bounded_tarinfo()) as tf:
                member = tf.next()
                if member is None or not member.isfile():
                    return None
                return bytes(buf[member.offset_data:member.offset_data + min(member.size, limit)])
        except (tarfile.TarError, OSError, EOFError, HugeTarHeader):
            return None


    def stats_once(self, cid: str) -> schema.Stats | None:
        """One sample of a container's usage (`stream=false&one-shot=true`, API 1.41: no second sample, no wait);
        None when the container vanished."""
        try:
            return self._typed(f"/containers/{_quote(cid)}/stats", schema.Stats, {"stream": False, "one-shot": True})
        except NotFound:
            return None

    def reveal_env(self, cid: str) -> tuple[tuple[str, str], ...]:
        """A container's env with its secret values, unmasked (cleaned): only for the app's reveal action, after
        the engineer confirmed. Never stored in a fact, a record or a snapshot."""
        path = f"/containers/{_quote(cid)}/json"
        try:
            res = self._open(path, budget=self.timeout)
            doc = json.loads(self._read_bounded(res, path, MAX_ONE_JSON, self.timeout))
        except NotFound:
            return ()
        except ValueError as exc:
            raise DaemonError(f"the daemon at {self.endpoint.url} sent something that is not JSON: {exc}") from None
        env = ((doc.get("Config") if isinstance(doc, dict) else None) or {}).get("Env") or []
        return tuple((clean_text(k), clean_text(v)) for k, _, v in (str(e).partition("=") for e in env))

    def logs_tail(self, cid: str, tail: int = LOG_TAIL, max_line: int = MAX_LINE, tty: bool = False) -> tuple[str, ...]:
        """The last `tail` lines (stdout+stderr), streamed into a bounded buffer, each cleaned and cut."""
        return self.read_logs(cid, tail, max_line, tty)[0]

    def event_history(self, since: float, until: float, actions: Sequence[str] = (), max_events: int = 5000,
                      max_bytes: int = 4 * 1024 * 1024) -> tuple[list[schema.Event], bool]:
        """The past container events the daemon still holds between `since` and `until` (GET /events with both: the
        daemon ends the answer at `until`), only `actions` when given (the daemon filters). One request, whole
        within the request timeout; at most `max_bytes` and `max_events`. Returns (events typed and cleaned by the
        boundary, whether a bound cut it). DaemonError when it cannot be read."""
        from .boundary import BoundaryError, decode
        from .core.facts import engine_name
        podman = engine_name(self.version()) == "Podman"
        filters: dict[str, list[str]] = {"type": ["container"]}
        if actions:
            # Podman filters on its own names: a `die` is `died` there (and is sent as `die`)
            filters["event"] = list(actions) + (["died"] if podman and "die" in actions else [])
        params = {"since": f"{since:.3f}", "until": f"{until:.3f}", "filters": json.dumps(filters)}
        if podman:  # Podman's `until` is a wall-clock end of a live stream (at or before now: nothing, or a part of
            # the past); `stream=false` answers what it holds since `since` at once, cut at `until` here
            del params["until"]
            params["stream"] = "false"
        raw = self._events_at_once(params, max_bytes)
        if raw is None:  # past max_bytes, or no pipelining here: read up to the bound, the rest never read
            try:
                res = self._open("/events", params, budget=self.timeout)
            except ApiError as exc:
                raise DaemonError(f"the daemon refused /events: {exc}") from None
            raw = self._read_bounded(res, "/events", max_bytes, self.timeout, cut=True)
        truncated = len(raw) >= max_bytes
        out: list[schema.Event] = []
        for line in raw.split(b"\n"):
            if not line.strip():
                continue
            if len(out) >= max_events:
                truncated = True
                break
            try:
                event = decode(line, schema.Event, "an event", limit=64 * 1024)
            except BoundaryError:
                continue  # one odd message (or the one a bound cut) never ends the read
            if podman and event.time > until:
                continue
            out.append(event)
        return out, truncated

    def _events_at_once(self, params: dict[str, Any], max_bytes: int) -> bytes | None:
        """The past events in one pipelined request (no http.client: a scan makes no other lone request), or None
        when the answer is longer than `max_bytes` or this transport cannot."""
        from .pipeline import Get
        batch = self._batch([Get(self._query("/events", params), max_bytes, cut=True)], self.timeout)
        if batch is None:
            return None
        answer = self._answers(batch)[0]
        if answer.cut:
            return None
        if answer.status >= 400 or answer.status < 200:
            raise DaemonError(f"the daemon refused /events: {_api_message(answer.status, answer.body[:MAX_ERROR_BODY])}")
        return answer.body

    def read_logs(self, cid: str, tail: int = LOG_TAIL, max_line: int = MAX_LINE,
                  tty: bool = False) -> tuple[tuple[str, ...], str]:
        """(lines, why not). `tty` says how the stream is framed (from the inspect we already have: docker-py would
        inspect again). A container whose logging driver cannot be read (none, syslog, ...) or that vanished gives
        no lines and the reason, never an error that would end a scan."""
        tail = int(tail)  # a string would silently mean "the whole log"
        try:
            res = self._open(f"/containers/{_quote(cid)}/logs",
                             {"stdout": 1, "stderr": 1, "tail": tail, "follow": 0, "timestamps": 0},
                             budget=self.logs_budget)
            chunks = _raw_chunks(res) if tty else _demux(res)
            return tuple(bounded_lines(chunks, tail, max_line)), ""
        except NotFound:
            return (), "the container is gone"
        except ApiError as exc:
            return (), f"logs unavailable: {exc}"
        except _DeadlineExceeded:
            self.close()
            raise DaemonError(self._too_slow(f"/containers/{cid[:12]}/logs", self.logs_budget)) from None
        except OSError as exc:
            self.close()
            raise DaemonError(self._gone(exc)) from None

    def abort(self) -> None:
        """From any thread: every request of this Daemon, in every thread, fails now (unix sockets), and none is
        made afterwards. For quitting while the daemon hangs."""
        self._sockets.abort()

    # -- changes: only the training lab makes them, after the user asked for it -----------------------------------
    def _change(self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None,
                content_type: str = "application/json") -> Any:
        """A request that changes something; JSON bodies are encoded here. Returns the decoded answer (or None)."""
        data = json.dumps(body).encode() if content_type == "application/json" and body is not None else body
        budget = self.logs_budget  # a stop before a removal can take the container's stop timeout
        res = self._open(path, params, method, data, {"Content-Type": content_type} if data is not None else None,
                         budget=budget)
        raw = self._read_bounded(res, path, MAX_ONE_JSON, budget)
        return loads_clean(raw) if raw.strip().startswith((b"{", b"[")) else None

    def _stream_change(self, path: str, params: dict[str, Any], body: bytes | None,
                       content_type: str = "application/x-tar", silence: float = STREAM_SILENCE) -> list[str]:
        """Build, load, import and pull answer with a stream of JSON messages; an error arrives as one of them, with
        status 200. Returns the last messages (cleaned); raises ApiError with the daemon's own words. A build step
        may say nothing for a long time (a `RUN dd` of 100 MB on a loaded machine took more than the 30 s a read
        otherwise gets): up to `silence` seconds between messages; past that, a DaemonError line, never a crash."""
        try:
            res = self._open(path, params, "POST", body, {"Content-Type": content_type} if body is not None else None)
        except NotFound as exc:
            raise ApiError(404, str(exc)) from None
        sock = self.current_socket
        if sock is not None:
            sock.settimeout(silence)
        said: deque[str] = deque(maxlen=20)
        try:
            for line in bounded_lines(_raw_chunks(res), 10_000, MAX_LINE * 4):
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if msg.get("error"):
                    raise ApiError(500, clean_text(str(msg["error"]))[:500])
                text = msg.get("stream") or msg.get("status") or ""
                if text.strip():
                    said.append(clean_text(text.strip()))
        except (TimeoutError, socket.timeout):
            self.close()
            raise DaemonError(f"the daemon at {self.endpoint.url} said nothing for {silence:.0f} s while answering "
                              f"{path}") from None
        except OSError as exc:
            self.close()
            raise DaemonError(self._gone(exc)) from None
        finally:
            if sock is not None and self._transport is not None:
                sock.settimeout(self.timeout)
        return list(said)

    def create_container(self, name: str, config: dict[str, Any]) -> str:
        """POST /containers/create with the Engine API's own body; returns the id."""
        return self._change("POST", "/containers/create", {"name": name}, config)["Id"]

    def start_container(self, cid: str) -> str:
        """Start; returns "" or the daemon's reason when it refused (port taken, no such executable...)."""
        try:
            self._change("POST", f"/containers/{_quote(cid)}/start")
        except ApiError as exc:
            return str(exc)
        return ""

    def stop_container(self, cid: str, timeout: int | None = None) -> None:
        """`docker stop`: the stop signal, then SIGKILL after `timeout` seconds (the container's own by default)."""
        self._change("POST", f"/containers/{_quote(cid)}/stop", {"t": int(timeout)} if timeout is not None else None)

    def remove_container(self, cid: str, volumes: bool = True) -> bool:
        """Force-remove (with its anonymous volumes unless `volumes` is False); False when it was already gone."""
        try:
            self._change("DELETE", f"/containers/{_quote(cid)}", {"force": True, "v": volumes})
        except NotFound:
            return False
        return True

    # -- fixes (troubleshoot/fixes.py): only after the engineer confirmed the fix --------------------------------
    def raw_inspect(self, cid: str, what: str = "containers") -> dict[str, Any] | None:
        """The daemon's whole inspect document (GET /containers|images/{id}/json), bounded, not decoded into
        records: what recreating a container must copy (every HostConfig field, secret env values included). Only
        fixes.py reads it, to send it back to the same daemon; it is never shown, stored or logged."""
        path = f"/{what}/{_quote(cid)}/json"
        try:
            res = self._open(path, budget=self.timeout)
            doc = json.loads(self._read_bounded(res, path, MAX_ONE_JSON, self.timeout))
        except NotFound:
            return None
        except ValueError as exc:
            raise DaemonError(f"the daemon at {self.endpoint.url} sent something that is not JSON: {exc}") from None
        return doc if isinstance(doc, dict) else None

    def rename_container(self, cid: str, name: str) -> None:
        self._change("POST", f"/containers/{_quote(cid)}/rename", {"name": name})

    def connect_network(self, network: str, cid: str, endpoint: dict[str, Any]) -> None:
        self._change("POST", f"/networks/{_quote(network)}/connect", None, {"Container": cid, "EndpointConfig": endpoint})

    def read_file(self, cid: str, path: str, limit: int = 1024 * 1024) -> tuple[bytes, Any] | None:
        """A regular file of the container (at most `limit` bytes) and its tar header (mode, owner), from the archive
        API; None when it is not there or not a regular file. Works on a stopped container."""
        import tarfile
        api = f"/containers/{_quote(cid)}/archive"
        try:
            res = self._open(api, {"path": path}, budget=self.timeout)
        except NotFound:
            return None
        except ApiError as exc:
            raise DaemonError(f"the daemon refused {api}: {exc}") from None
        raw = self._read_bounded(res, api, limit + 8 * 512, self.timeout)
        try:
            with tarfile.open(fileobj=io.BytesIO(raw), mode="r:", tarinfo=_bounded_tarinfo()) as tf:
                member = tf.next()
                if member is None or not member.isfile() or member.size > limit:
                    return None
                f = tf.extractfile(member)
                return (f.read() if f is not None else b""), member
        except (tarfile.TarError, OSError, EOFError, HugeTarHeader):
            return None

    def put_file(self, cid: str, path: str, data: bytes, like: Any) -> None:
        """Write one file into the container (PUT archive into its directory), with `like`'s mode and owner."""
        import tarfile
        import time as _time
        directory, _, name = path.rpartition("/")
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = like.mode
        info.uid, info.gid = like.uid, like.gid
        info.uname, info.gname = like.uname, like.gname
        info.mtime = int(_time.time())
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tf:
            tf.addfile(info, io.BytesIO(data))
        self._change("PUT", f"/containers/{_quote(cid)}/archive", {"path": directory or "/"}, buf.getvalue(),
                     content_type="application/x-tar")

    def create_network(self, name: str, labels: dict[str, str]) -> str:
        """POST /networks/create: a user-defined bridge network (with name resolution); returns its id. The daemon
        answers 404 when it has no address pool left ("could not find an available, non-overlapping IPv4 address
        pool"): an ApiError with its words, as any refusal."""
        try:
            return self._change("POST", "/networks/create", None,
                                {"Name": name, "Driver": "bridge", "CheckDuplicate": True, "Labels": labels})["Id"]
        except NotFound as exc:
            raise ApiError(404, str(exc)) from None

    def remove_network(self, nid: str) -> bool:
        try:
            self._change("DELETE", f"/networks/{_quote(nid)}")
        except NotFound:
            return False
        return True

    def remove_image(self, ref: str) -> bool:
        try:
            self._change("DELETE", f"/images/{_quote(ref)}", {"force": True})
        except NotFound:
            return False
        return True

    def build_image(self, tag: str, context_tar: bytes, labels: dict[str, str] | None = None) -> list[str]:
        """The classic builder (`version=1`: no BuildKit session needed) on a tar of the build context."""
        return self._stream_change("/build", {"t": tag, "rm": True, "forcerm": True, "version": "1",
                                              "labels": json.dumps(labels or {})}, context_tar)

    def import_image(self, repo: str, tag: str, rootfs_tar: bytes, changes: list[str]) -> list[str]:
        """`docker import`: an image from a root filesystem tar, with Dockerfile `changes` (ENV, CMD, LABEL)."""
        return self._stream_change("/images/create", {"fromSrc": "-", "repo": repo, "tag": tag, "changes": changes},
                                   rootfs_tar)

    def load_image(self, archive: bytes) -> list[str]:
        """`docker load` of an image archive (manifest.json, config, layer tars)."""
        return self._stream_change("/images/load", {"quiet": True}, archive)

    def pull_image(self, ref: str) -> list[str]:
        name, _, tag = ref.rpartition(":") if ":" in ref.rsplit("/", 1)[-1] else (ref, "", "latest")
        return self._stream_change("/images/create", {"fromImage": name, "tag": tag}, None, "application/json")

    def wait_until(self, predicate, timeout: float, what: str) -> schema.ContainerInspect | None:
        """Re-inspect `what` (a container id) until `predicate(inspect)` holds; returns the last inspect."""
        deadline = time.monotonic() + timeout
        data = None
        while time.monotonic() < deadline:
            data = self.inspect(what)
            if data is not None and predicate(data):
                return data
            time.sleep(0.25)
        return data

    # -- image forensics: `docker save`, streamed ---------------------------------------------------------------
    def image_layers(self, ref: str, max_entries: int = 500_000) -> schema.ImageLayers | None:
        """What every layer of an image holds, read from `docker save` as a stream (tar headers only: memory holds
        paths and sizes, never file contents, except the first 64 KB of small secret-looking files, checked for a
        token and dropped). None when the image is gone. Paths are untrusted: cleaned here.

            {"layers": [{"id", "size", "files": [[path, size]], "deleted": [path], "opaque": [dir],
                         "secrets": [[path, size, has_token]]}], "history": <config history>, "truncated": bool}"""

        # Its own connection, reads allowed STREAM_SILENCE: Engine 20.10 writes the whole export to a temporary
        # directory before its first byte, headers included (1.1 GB: 2 s idle, over 30 s on a loaded host)
        side = self.side_connection(STREAM_SILENCE)
        try:
            return self._image_layers(side, ref, max_entries)
        finally:
            side.close()

    def _image_layers(self, side: "Daemon", ref: str, max_entries: int) -> schema.ImageLayers | None:
        import tarfile

        from .core.secrets import SECRET_FILE, token_shape
        try:
            res = side._open(f"/images/{_quote(ref)}/get")
        except NotFound:
            return None
        except ApiError as exc:
            raise DaemonError(f"the daemon cannot export {ref}: {exc}") from None
        blobs: dict[str, Any] = {}  # member name -> parsed JSON (manifest, config, index)
        layers: dict[str, dict[str, Any]] = {}
        entries = 0
        truncated = False
        try:
            with tarfile.open(fileobj=_Stream(res), mode="r|", tarinfo=_bounded_tarinfo()) as outer:
                for member in outer:
                    _forget_members(outer)
                    f = outer.extractfile(member) if member.isfile() else None
                    if f is None:
                        continue
                    head = f.read(512)
                    if head[:1] in (b"{", b"[") and member.size < 8 * 1024 * 1024:
                        try:
                            blobs[member.name] = json.loads(head + f.read())
                        except ValueError:
                            pass
                        continue
                    if not (member.name.endswith(".tar") or member.name.startswith("blobs/")):
                        continue  # VERSION and other small files of the legacy layout (Docker's `ID/layer.tar`;
                        # Podman's `DIGEST.tar`, with `ID/layer.tar` a symlink to it: not a file, skipped above)
                    layer: dict[str, Any] = {"id": member.name, "size": 0, "files": [], "deleted": [], "opaque": [],
                                             "secrets": []}
                    if not head:  # an empty layer: Podman exports it as a 0-byte file (Docker as an empty tar)
                        layers[member.name] = layer
                        continue
                    with tarfile.open(fileobj=_Stream(f, head), mode="r|", tarinfo=_bounded_tarinfo()) as inner:
                        for e in inner:
                            _forget_members(inner)
                            name = clean_text(e.name)
                            while name.startswith("./"):
                                name = name[2:]
                            path = "/" + name.lstrip("/")  # (lstrip("./") would eat the dot of ".wh.x")
                            base = path.rsplit("/", 1)[-1]
                            if base == ".wh..wh..opq":
                                layer["opaque"].append(path.rsplit("/", 1)[0] or "/")
                            elif base.startswith(".wh."):
                                layer["deleted"].append(path.rsplit("/", 1)[0] + "/" + base[4:])
                            elif e.isfile():
                                layer["size"] += e.size
                                entries += 1
                                if entries <= max_entries:
                                    layer["files"].append([path, e.size])
                                else:
                                    truncated = True
                                if SECRET_FILE.search(path):
                                    content = inner.extractfile(e) if e.size else None
                                    data = content.read(65536) if content is not None else b""
                                    text = data.decode("utf-8", "replace")
                                    has_token = bool(token_shape(text) or re.search(
                                        r"(_authToken|password|passwd|secret|token|api_?key)\s*[=:]\s*\S+", text, re.I))
                                    layer["secrets"].append([path, e.size, has_token])
                    layers[member.name] = layer
            # tarfile stops at the end-of-archive blocks; the export's padding may follow. A keep-alive connection
            # with a response not read to its end refuses the next request ("Request-sent"): read the rest (it is
            # padding, a few KB at most), or drop the connection.
            if len(_read_exact(res, 1 << 20)) >= 1 << 20:
                side.close()
        except (tarfile.TarError, OSError, EOFError, HugeTarHeader) as exc:
            side.close()
            raise DaemonError(f"reading the export of {ref} failed: {clean_text(str(exc))}") from None
        manifest = blobs.get("manifest.json") or [{}]
        entry = manifest[0] if isinstance(manifest, list) and manifest else {}
        order = entry.get("Layers") or list(layers)
        config = blobs.get(entry.get("Config", "")) or {}
        from .boundary import BoundaryError, convert
        try:
            return convert({"layers": [layers[name] for name in order if name in layers],
                            "history": config.get("history") or [], "truncated": truncated},
                           schema.ImageLayers, f"the export of {ref}")
        except BoundaryError as exc:
            raise DaemonError(str(exc)) from None

def _forget_members(tf: Any) -> None:
    """Stream mode keeps every member it has seen in `TarFile.members`: memory would grow with them. (`members` is
    tarfile's own list, absent from its type stubs: hence `Any`.)"""
    tf.members.clear()


@functools.lru_cache(maxsize=None)
def _bounded_tarinfo():
    """Built on first use: tarfile is imported only when layers are read."""
    import tarfile

    class BoundedTarInfo(tarfile.TarInfo):
        """tarfile reads a pax or GNU long-name header whole into memory (a 50 MB one took 50 MB and more): refuse
        one larger than MAX_TAR_HEADER before reading it."""

        def _proc_member(self, tf):
            if self.type in (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE, tarfile.GNUTYPE_LONGNAME,
                             tarfile.GNUTYPE_LONGLINK) and self.size > MAX_TAR_HEADER:
                kind = "pax" if self.type in (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE) else "long-name"
                raise HugeTarHeader(f"a {kind} header of {self.size:,} bytes (more than {MAX_TAR_HEADER >> 20} MB): "
                                    f"refused")
            return super()._proc_member(tf)

    return BoundedTarInfo


class HugeTarHeader(Exception):
    """Not a TarError: tarfile's stream reader would turn some of those into a silent end of the archive."""


class _Stream:
    """A read-only, forward-only file object over an HTTP response (or a tar member), with bytes already read put
    back in front: what tarfile's stream mode reads from (it only reads; the rest of a file's interface refuses)."""

    def __init__(self, source, prefix: bytes = b""):
        self.source = source
        self.prefix = prefix
        self.position = 0

    def read(self, n: int = -1) -> bytes:
        out = self._read(n)
        self.position += len(out)
        return out

    def _read(self, n: int) -> bytes:
        if self.prefix:
            if n < 0:
                out, self.prefix = self.prefix + self.source.read(), b""
                return out
            out, self.prefix = self.prefix[:n], self.prefix[n:]
            if len(out) < n:
                out += self.source.read(n - len(out))
            return out
        return self.source.read(n)

    def tell(self) -> int:
        return self.position

    def write(self, b: bytes) -> int:
        raise io.UnsupportedOperation("read-only")

    def seek(self, pos: int) -> int:
        raise io.UnsupportedOperation("forward-only")

    def close(self) -> None:
        """The response (or the outer archive) is closed by its owner."""


def _api_message(status: int, body: bytes) -> str:
    """The daemon's error message (`{"message": ...}`), cleaned and cut; `HTTP <status>` when it has none."""
    try:
        message = json.loads(body).get("message") or ""
    except (ValueError, AttributeError):
        message = body.decode("utf-8", "replace")
    return clean_text(str(message))[:300] or f"HTTP {status}"


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _quote(part: str) -> str:
    from urllib.parse import quote
    return quote(part, safe="")


def _version_tuple(v: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in v.split("."))
    except ValueError:
        return (0,)


def _raw_chunks(res, size: int = 65536) -> Iterator[bytes]:
    while True:
        chunk = res.read(size)
        if not chunk:
            return
        yield chunk


def _read_exact(res, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = res.read(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def _demux(res, size: int = 65536) -> Iterator[bytes]:
    """The multiplexed log stream of a container without a TTY: frames of [stream, 0, 0, 0, length (big-endian)]
    then the payload. Payloads are yielded in pieces, so a 10 MB frame never sits in memory whole."""
    while True:
        header = _read_exact(res, 8)
        if len(header) < 8:
            return
        (length,) = struct.unpack(">L", header[4:])
        while length > 0:
            chunk = res.read(min(size, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk


def _ssh_preflight(endpoint: Endpoint, timeout: int = 10) -> None:
    """docker-py runs `ssh` with its stderr on ours, so a dead host would print ssh's own noise and a vague error.
    Try the connection first, non-interactively, and turn a failure into one line."""
    import subprocess
    args = _ssh().ssh_argv(endpoint.url, ["true"], ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={timeout}"])
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout + 5, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise DaemonError(f"ssh host unreachable: {endpoint.url}: the ssh connection timed out.") from None
    if proc.returncode != 0:
        raise DaemonError(explain(RuntimeError(proc.stderr.strip() or f"ssh exited {proc.returncode}"), endpoint))


def bounded_lines(chunks: Iterable[bytes], keep: int, max_line: int = MAX_LINE) -> Iterator[str]:
    """Assemble lines from a byte stream keeping at most `keep` lines and, per line, at most `max_line` characters
    (plus a count of what was cut): memory stays bounded for a 1 GB log or a 10 MB single line."""
    last: deque[str] = deque(maxlen=max(1, keep))
    cap = max_line * 4  # bytes kept of a line in progress (UTF-8 is at most 4 bytes a character)
    partial = bytearray()
    dropped = 0
    for chunk in chunks:
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8", "replace")
        start = 0
        while True:
            nl = chunk.find(b"\n", start)
            piece = chunk[start:] if nl < 0 else chunk[start:nl]
            room = cap - len(partial)
            if room > 0:
                partial += piece[:room]
            dropped += max(0, len(piece) - max(room, 0))
            if nl < 0:
                break
            last.append(_finish(partial, dropped, max_line))
            partial = bytearray()
            dropped = 0
            start = nl + 1
    if partial or dropped:
        last.append(_finish(partial, dropped, max_line))
    return iter(last)


def _finish(raw: bytearray, dropped: int, max_line: int) -> str:
    line = clean_line(raw.rstrip(b"\r").decode("utf-8", "replace"), max_line)  # TTY lines end in \r\n
    if dropped:
        line = f"{line.split(' ...[cut ')[0]} ...[cut {dropped}+ bytes]"
    return line
