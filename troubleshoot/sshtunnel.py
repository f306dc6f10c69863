"""ssh:// as a local unix socket: one system `ssh` process per endpoint, forwarding a private socket on this machine
to the remote daemon's socket (`ssh -nNT -L DIR/docker.sock:/var/run/docker.sock host`). Everything built for a
local daemon's socket (pipeline.py's pipelined keep-alive connections, prefetch, the events stream that can be closed
from our side) then runs over one ssh connection, multiplexed by ssh itself. The daemon is still on another machine
(Endpoint.is_remote_machine): only the transport is local.

The system ssh client reads ~/.ssh/config (an alias's HostName, Port, User, IdentityFile, ProxyJump...): `-l`/`-p`
are passed only when the URL gives them. BatchMode: a host key to accept or a password to type is an error of one
line, never a prompt. When the server refuses the forward (`AllowStreamLocalForwarding no`) or the remote socket is
elsewhere, the same local socket is served by `ssh host docker system dial-stdio` sessions multiplexed on one
ControlMaster connection (one short-lived mux client per keep-alive connection), and `note` says so.

Every ssh child is waited for (no `<defunct>`), and the private 0700 directory with its socket is removed: on
`close_all()` (the app quitting), at exit (atexit), and on SIGTERM/SIGHUP (turned into a normal exit). A forked
child (forkmap.py) uses its parent's socket and never stops or restarts the parent's ssh. Light: no docker SDK.
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Sequence

from .clean import clean_text
from .endpoint import DaemonError, netloc_parts

DEFAULT_REMOTE_SOCKET = "/var/run/docker.sock"
CONNECT_TIMEOUT = 10  # seconds for ssh to connect and authenticate
FAILURE_KEPT = 2.0  # seconds a failed connection's error is said again instead of trying again (one command's calls)
ALIVE_INTERVAL = 10  # ServerAliveInterval: a dead link is noticed within ~3 of these
PING = b"GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n"


def enabled() -> bool:
    """TROUBLESHOOT_SSH_TRANSPORT=docker-py keeps docker-py's own ssh transport (an ssh process per connection)."""
    return os.environ.get("TROUBLESHOOT_SSH_TRANSPORT", "").lower() not in ("docker-py", "dockerpy")


def remote_socket(url: str) -> str:
    """The daemon's socket on the remote machine: the URL's path part when it has one (ssh://host/run/user/1000/
    docker.sock), else the default."""
    rest = url.split("://", 1)[-1]
    path = rest.split("/", 1)[1] if "/" in rest else ""
    return "/" + path if path.strip("/") else DEFAULT_REMOTE_SOCKET


def ssh_argv(url: str, remote: Sequence[str], options: Sequence[str] = ()) -> list[str]:
    """`ssh` for an ssh:// URL: `-l` and `-p` only when the URL gives them, so that ~/.ssh/config (an alias's
    HostName, Port, User) decides everything else, as for `docker -H ssh://alias`."""
    user, host, port = netloc_parts(url)
    args = ["ssh", *options]
    if user:
        args += ["-l", user]
    if port:
        args += ["-p", port]
    return args + ["--", host, *remote]


def _options(timeout: int) -> list[str]:
    return ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={timeout}", "-o", f"ServerAliveInterval={ALIVE_INTERVAL}",
            "-o", "ServerAliveCountMax=3"]


def why_ssh_failed(url: str, stderr: str, code: int | None) -> str:
    """One line from ssh's own complaint: what failed and what to try."""
    # each line cleaned on its own (clean_text makes one line of a text: ssh's "Warning: Permanently added" first
    # line then swallowed the "Permission denied" after it)
    lines = [ln for ln in (clean_text(raw).strip() for raw in stderr.splitlines())
             if ln and not ln.startswith(("Warning: Permanently added", "**"))]
    text = " ".join(lines)
    user, host, port = netloc_parts(url)
    target = " ".join(([f"-p {port}"] if port else []) + [f"{user}@{host}" if user else host])
    for needle, why in (("Could not resolve hostname", "the host name does not resolve"),
                        ("Connection refused", "ssh connection refused"),
                        ("timed out", "the ssh connection timed out"),
                        ("Permission denied", "ssh authentication failed (a key is needed: no password is asked)"),
                        ("No route to host", "no route to the host"),
                        ("Host key verification failed",
                         "the host key is not trusted (no prompt is shown: connect once with `ssh` to accept it)"),
                        ("REMOTE HOST IDENTIFICATION HAS CHANGED", "the host key has changed")):
        if needle in text:
            return (f"ssh host unreachable: {url}: {why}. Check that `ssh {target}` works on its own, and that the "
                    f"remote user may run docker.")
    said = lines[-1][:300] if lines else (f"ssh exited {code}" if code is not None else "no answer")
    return f"ssh host unreachable: {url}: {said}"


MAX_SOCKET_PATH = 100  # a unix socket's path is at most 107 bytes (sun_path): ssh refuses a longer -L


def _socket_base() -> str:
    """Where the private directory is made: $TMPDIR (tempfile's choice), or /tmp when that is too deep for a
    socket path."""
    base = tempfile.gettempdir()
    if len(os.path.join(base, "troubleshoot-ssh-xxxxxxxx", "docker.sock").encode()) > MAX_SOCKET_PATH:
        return "/tmp"
    return base


class Tunnel:
    """One endpoint's ssh process and its local socket. `socket_path()` starts it (or starts it again after it
    died) and waits until the socket answers; thread-safe."""

    def __init__(self, url: str):
        self.url = url
        self.remote = remote_socket(url)
        self.note = ""  # said once when the fallback is used
        self.mode = ""  # "forward" | "dial-stdio"
        self._lock = threading.RLock()
        self._clients_lock = threading.Lock()
        self._dir = ""
        self._proc: subprocess.Popen | None = None  # the forward, or the ControlMaster of the fallback
        self._stderr: Any = None
        self._listener: socket.socket | None = None  # the fallback's local socket
        self._clients: list[subprocess.Popen] = []  # the fallback's dial-stdio mux clients
        self._accept: threading.Thread | None = None
        self._owner = os.getpid()
        self._closed = False
        self.exited: str = ""  # why the last ssh process ended (for the error of a request that failed with it)
        self._early_error: DaemonError | None = None
        self._failed: tuple[float, DaemonError] | None = None  # (when, why) of the last try, if it failed

    def start_early(self) -> None:
        """Connect in a thread of its own while the caller imports the rest of the program; `socket_path()` then
        waits for it (the lock), and says its error if it failed."""
        def run() -> None:
            with self._lock:
                try:
                    self.socket_path()
                except DaemonError as exc:
                    self._early_error = exc
                except Exception:  # said again by the caller's own socket_path()
                    pass
        threading.Thread(target=run, daemon=True, name="ssh-connect").start()

    # -- paths ----------------------------------------------------------------------------------------------------
    @property
    def local_socket(self) -> str:
        return os.path.join(self._dir, "docker.sock")

    def _stderr_text(self) -> str:
        try:
            with open(os.path.join(self._dir, "ssh.err"), encoding="utf-8", errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    # -- state ----------------------------------------------------------------------------------------------------
    def alive(self) -> bool:
        """The ssh process still runs (reaped here when it has ended). In a forked child: assumed (not ours)."""
        if os.getpid() != self._owner:
            return bool(self._dir)
        with self._lock:
            proc = self._proc
            if proc is None:
                return False
            if proc.poll() is None:
                return True
            self.exited = why_ssh_failed(self.url, self._stderr_text(), proc.returncode)
            return False

    def gone(self) -> str | None:
        """One line when the ssh process this endpoint's requests went through has ended, else None."""
        if self._proc is None or self.alive():
            return None
        return f"the ssh connection to {self.url} ended ({self.exited.split(': ', 2)[-1]}); it is made again on the " \
               f"next connection"

    def socket_path(self, timeout: int = CONNECT_TIMEOUT) -> str:
        if os.getpid() != self._owner:  # a forked child: the parent's socket, never a process of our own
            if not self._dir:
                raise DaemonError(f"ssh host unreachable: {self.url}: no ssh connection in this process")
            return self.local_socket
        with self._lock:
            if self._closed:
                raise DaemonError(f"the connection to {self.url} was closed (quitting)")
            early, self._early_error = self._early_error, None
            if early is not None:  # start_early() tried already, just now: its error, not a second try
                self._failed = (time.monotonic(), early)
                raise early
            if self.alive():
                return self.local_socket
            if self._failed is not None and time.monotonic() - self._failed[0] < FAILURE_KEPT:
                raise self._failed[1]  # a try that just failed (a timeout: 10 s) is not made again at once by the
                # next caller (the first reads', then the connect's: a dead host took 20 s)
            self._stop()
            try:
                self._start(timeout)
            except DaemonError as exc:
                self._failed = (time.monotonic(), exc)
                raise
            self._failed = None
            return self.local_socket

    # -- starting -------------------------------------------------------------------------------------------------
    def _spawn(self, argv: list[str]) -> subprocess.Popen:
        if self._stderr is None:
            self._stderr = open(os.path.join(self._dir, "ssh.err"), "ab")
        try:
            return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
                                    close_fds=True)
        except FileNotFoundError:
            raise DaemonError("ssh:// needs the ssh client on this machine (`apt-get install openssh-client`).") \
                from None

    def _start(self, timeout: int) -> None:
        self._dir = tempfile.mkdtemp(prefix="troubleshoot-ssh-", dir=_socket_base())  # 0700: this user only
        forward = ["-nNT", *_options(timeout), "-o", "ExitOnForwardFailure=yes", "-o", "StreamLocalBindUnlink=yes",
                   "-o", "ControlMaster=no", "-o", "ControlPath=none", "-L", f"{self.local_socket}:{self.remote}"]
        self._proc = self._spawn(ssh_argv(self.url, [], forward))
        self._wait_ready(self.local_socket, timeout)
        why = self._ping()
        if why is None:
            self.mode = "forward"
            return
        # the server refused the forward (AllowStreamLocalForwarding no), or nothing listens at that path there
        self._stop(keep_dir=True)
        self._start_dial_stdio(timeout)
        why2 = self._ping()
        if why2 is not None:
            err = self._stderr_text()
            self._stop()
            raise DaemonError(why_ssh_failed(self.url, err, None) if err.strip() else
                              f"ssh host unreachable: {self.url}: the remote daemon does not answer "
                              f"({why}; `docker system dial-stdio` there: {why2})")
        self.mode = "dial-stdio"
        self.note = (f"{self.url}: the ssh server did not forward {self.remote} ({why}): using `docker system "
                     f"dial-stdio` on the remote host over one multiplexed ssh connection instead")

    def _wait_ready(self, path: str, timeout: int) -> None:
        """Until ssh has authenticated and listens on `path` (it binds after logging in), or has exited."""
        assert self._proc is not None
        end = time.monotonic() + timeout + 5
        pause = 0.002
        while not os.path.exists(path):
            code = self._proc.poll()
            if code is not None:
                err = self._stderr_text()
                self._stop()
                raise DaemonError(why_ssh_failed(self.url, err, code))
            if time.monotonic() > end:
                self._stop()
                raise DaemonError(f"ssh host unreachable: {self.url}: the ssh connection timed out.")
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def _ping(self) -> str | None:
        """None when the daemon answers /_ping through the socket, else why not."""
        try:
            with self._connect_local() as sock:
                sock.sendall(PING)
                head = sock.recv(64)
        except OSError as exc:
            return clean_text(str(exc)) or type(exc).__name__
        if head.startswith(b"HTTP/1."):
            return None
        if not head:
            err = self._stderr_text()
            for line in reversed(err.splitlines()):
                if "open failed" in line or "refused" in line:
                    return clean_text(line.strip())[:160]
            return "the connection was closed at once"
        return f"not an HTTP answer: {head[:20]!r}"

    def _connect_local(self) -> socket.socket:
        """A connection to ssh's local socket. ssh creates the socket's file (bind) before it listens on it: a
        connection in between is refused by this machine's kernel, not by the server (seen under load). Refused,
        it is tried again while ssh runs, for up to CONNECT_TIMEOUT s; any other failure is said at once."""
        end = time.monotonic() + CONNECT_TIMEOUT
        pause = 0.002
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(CONNECT_TIMEOUT + 5)
            try:
                sock.connect(self.local_socket)
                return sock
            except ConnectionRefusedError:
                sock.close()
                if time.monotonic() > end or self._proc is None or self._proc.poll() is not None:
                    raise
            except BaseException:
                sock.close()
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def _start_dial_stdio(self, timeout: int) -> None:
        """A ControlMaster connection, and a local socket whose every connection is one `docker system dial-stdio`
        session multiplexed on it (its stdin and stdout are the accepted connection itself: no copying here)."""
        control = os.path.join(self._dir, "cm")
        master = ["-nNT", *_options(timeout), "-o", "ControlMaster=yes", "-o", f"ControlPath={control}",
                  "-o", "ControlPersist=no"]
        self._proc = self._spawn(ssh_argv(self.url, [], master))
        self._wait_ready(control, timeout)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.local_socket)
        listener.listen(1024)
        self._listener = listener
        client = ["-T", "-o", "BatchMode=yes", "-o", "ControlMaster=no", "-o", f"ControlPath={control}"]
        argv = ssh_argv(self.url, ["docker", "system", "dial-stdio"], client)
        self._accept = threading.Thread(target=self._serve, args=(listener, argv), daemon=True,
                                        name="ssh-dial-stdio")
        self._accept.start()

    def _serve(self, listener: socket.socket, argv: list[str]) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # closed
            with conn, self._clients_lock:  # (not self._lock: held by socket_path() while it pings through here)
                if self._listener is not listener:
                    return
                self._clients = [c for c in self._clients if c.poll() is None]  # reaped as they end
                try:
                    self._clients.append(subprocess.Popen(argv, stdin=conn.fileno(), stdout=conn.fileno(),
                                                          stderr=self._stderr, close_fds=True))
                except OSError:
                    continue

    # -- stopping -------------------------------------------------------------------------------------------------
    def _stop(self, keep_dir: bool = False) -> None:
        """End and reap every ssh process of this tunnel; remove its directory (socket included)."""
        with self._lock:
            listener, self._listener = self._listener, None
            if listener is not None:
                try:
                    listener.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                listener.close()
            with self._clients_lock:
                procs = [*self._clients, *([self._proc] if self._proc is not None else [])]
                self._clients, self._proc = [], None
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if self._stderr is not None and not keep_dir:
                self._stderr.close()
                self._stderr = None
            if self._dir and not keep_dir:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir = ""
            elif self._dir:
                for name in ("docker.sock", "cm"):
                    try:
                        os.unlink(os.path.join(self._dir, name))
                    except OSError:
                        pass

    def close(self) -> None:
        """Stop for good (quitting): later requests fail instead of connecting again."""
        if os.getpid() != self._owner:
            return
        with self._lock:
            self._closed = True
            self._stop()


_tunnels: dict[str, Tunnel] = {}
_tunnels_lock = threading.Lock()


def tunnel_for(url: str) -> Tunnel:
    """The one tunnel of this endpoint in this process (every Daemon of it shares it)."""
    with _tunnels_lock:
        tunnel = _tunnels.get(url)
        if tunnel is None or tunnel._closed:
            tunnel = _tunnels[url] = Tunnel(url)
    _install_exit_handlers()
    return tunnel


DIAL_STDIO_CONNECTIONS = 2  # per batch in the fallback: each is an ssh session, and sshd allows 10 per connection
# (MaxSessions): a scan has up to ~4 batches open at once


DIAL_STDIO_STATS = 6  # the stats samples' batch (each waits ~1 s on the daemon): 6 + the 2 of another batch + 1


def connection_cap(url: str, stats: bool = False) -> int | None:
    """How many connections one batch may open through this endpoint's socket (None: no cap of ours)."""
    tunnel = _tunnels.get(url)
    if tunnel is None or tunnel.mode != "dial-stdio":
        return None
    return DIAL_STDIO_STATS if stats else DIAL_STDIO_CONNECTIONS


def notes() -> list[str]:
    """What the user should know about how each endpoint is reached (the dial-stdio fallback)."""
    return [t.note for t in list(_tunnels.values()) if t.note]


def existing(url: str) -> Tunnel | None:
    return _tunnels.get(url)


def close_all() -> None:
    """End every ssh process this process started and remove their sockets (the app's quit; atexit)."""
    with _tunnels_lock:
        tunnels = list(_tunnels.values())
        _tunnels.clear()
    for tunnel in tunnels:
        tunnel.close()


atexit.register(close_all)

_handlers_installed = False


def _install_exit_handlers() -> None:
    """SIGTERM and SIGHUP, left at their default (which ends the process without atexit), become a normal exit so
    that the ssh children are reaped and the socket removed. Only from the main thread, only when not set already."""
    global _handlers_installed
    if _handlers_installed or threading.current_thread() is not threading.main_thread():
        return
    _handlers_installed = True
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            if signal.getsignal(sig) == signal.SIG_DFL:
                signal.signal(sig, _exit_on_signal)
        except (ValueError, OSError):
            pass


def _exit_on_signal(signum, _frame) -> None:
    close_all()
    sys.exit(128 + signum)
