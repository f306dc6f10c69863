"""Which daemon to talk to (`-H`, DOCKER_HOST, the docker context, the default socket; Podman's socket when the
default Docker socket is absent or refuses), and the one error type of every way of failing to reach it. Light on
purpose (no msgspec, no docker SDK unless a context or TLS asks for it): the scan resolves its endpoint and asks for
its first answers before the rest of the program is imported."""
from __future__ import annotations

import json
import os
import socket
import msgspec
from typing import Any

from .clean import clean_text

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
# Podman's Docker-compatible API (`podman system service`, or its systemd socket unit): rootful, then rootless under
# $XDG_RUNTIME_DIR (the order is swapped for a user other than root). Module names so that a test can point them away.
PODMAN_ROOTFUL_SOCKET = "unix:///run/podman/podman.sock"
PODMAN_ROOTLESS_SOCKET = "podman/podman.sock"  # under $XDG_RUNTIME_DIR
PROBE_TIMEOUT = 0.5  # a connect to a local socket: refused or accepted at once; a full backlog must not hang us


class DaemonError(Exception):
    """The daemon cannot be used; `str()` is one line that says why and what to try (cleaned of terminal control:
    it quotes URLs and endpoints as given)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(clean_text(a) if isinstance(a, str) else a for a in args))


class Endpoint(msgspec.Struct, frozen=True):
    url: str
    source: str  # where it came from: --host, DOCKER_HOST, context NAME, default
    tls: Any = None
    context: str = ""  # the docker context it came from, if any

    @property
    def host_name(self) -> str:
        """The machine the daemon runs on, as the URL names it (an ssh alias stays an alias)."""
        return netloc_parts(self.url)[1]

    @property
    def is_remote_machine(self) -> bool:
        """The daemon is on another machine: a command run here (`df`, `ss`) would describe the wrong one."""
        if self.is_ssh:
            return True
        if self.url.startswith(("tcp://", "http://", "https://")):
            return self.host_name.lower() not in ("localhost", "127.0.0.1", "::1", "[::1]", "")
        return False

    @property
    def is_local(self) -> bool:
        return self.url.startswith(("unix://", "npipe://")) or self.url.startswith("/")

    @property
    def is_ssh(self) -> bool:
        return self.url.startswith("ssh://")


def resolve_endpoint(host: str | Endpoint | None = None, environ: dict[str, str] | None = None) -> Endpoint:
    """The endpoint `host` names (a URL), or the one resolved already (an Endpoint: several -H/--context that come
    down to one daemon), else DOCKER_HOST, the docker context, the default socket."""
    if isinstance(host, Endpoint):
        return host
    env = os.environ if environ is None else environ
    if host:
        return Endpoint(host, "--host", _tls_from_env(host, env))
    if env.get("DOCKER_HOST"):
        return Endpoint(env["DOCKER_HOST"], "DOCKER_HOST", _tls_from_env(env["DOCKER_HOST"], env))
    name = env.get("DOCKER_CONTEXT") or _current_context_name()
    if name and name != "default":
        try:
            from docker.context import ContextAPI
            ctx = ContextAPI.get_context(name)
        except Exception as exc:  # docker.errors.ContextException and friends: one line, no traceback
            raise DaemonError(f"docker context {name!r} cannot be read: {clean_text(str(exc))}") from None
        if ctx is None:
            raise DaemonError(f"docker context {name!r} does not exist (see `docker context ls`)")
        if ctx.Host:
            return Endpoint(ctx.Host, f"context {name}", ctx.TLSConfig, context=name)
    return default_or_podman(env)


def default_or_podman(env) -> Endpoint:
    """The default Docker socket when it accepts a connection; else Podman's: CONTAINER_HOST (Podman's own variable,
    taken as given), then the rootful and rootless sockets that accept one. None answering: the default, whose error
    then says that no daemon answers there."""
    default = Endpoint(DEFAULT_SOCKET, "default")
    if _accepts(DEFAULT_SOCKET):
        return default
    given = env.get("CONTAINER_HOST", "")
    if given:
        if not given.startswith(("unix://", "tcp://")):
            raise DaemonError(f"CONTAINER_HOST={clean_text(given)} (no Docker socket answers at {DEFAULT_SOCKET}): "
                              "only unix:// and tcp:// Podman endpoints are read; for a remote Podman forward its "
                              "socket (ssh -L /tmp/podman.sock:/run/podman/podman.sock HOST) and use "
                              "-H unix:///tmp/podman.sock")
        return Endpoint(given, "CONTAINER_HOST")
    for url, source in _podman_sockets(env):
        if _accepts(url):
            return Endpoint(url, source)
    return default


def _podman_sockets(env) -> list[tuple[str, str]]:
    rootful = [(PODMAN_ROOTFUL_SOCKET, "Podman's rootful socket")]
    runtime = env.get("XDG_RUNTIME_DIR", "")
    rootless = [(f"unix://{os.path.join(runtime, PODMAN_ROOTLESS_SOCKET)}", "Podman's rootless socket")] if runtime else []
    return rootful + rootless if os.geteuid() == 0 else rootless + rootful


def _accepts(url: str) -> bool:
    """A unix socket at `url` accepts a connection now (closed at once: nothing is asked)."""
    path = url.removeprefix("unix://")
    if not url.startswith("unix://") or not os.path.exists(path):
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(PROBE_TIMEOUT)
        try:
            s.connect(path)
        except OSError:  # refused (no daemon behind a stale socket file), no permission, timed out
            return False
    return True


def _tls_from_env(url: str, env) -> Any:
    """The TLS config of a tcp:// endpoint from DOCKER_TLS_VERIFY / DOCKER_CERT_PATH, as docker-py and the docker CLI
    read them (docker.utils.kwargs_from_env): None when neither is set."""
    if not url.startswith("tcp://") or not (env.get("DOCKER_TLS_VERIFY") or env.get("DOCKER_CERT_PATH")):
        return None
    from docker.errors import TLSParameterError
    from docker.utils import kwargs_from_env
    try:
        return kwargs_from_env(environment=dict(env)).get("tls")
    except TLSParameterError as exc:
        raise DaemonError(f"TLS for {url} (DOCKER_TLS_VERIFY / DOCKER_CERT_PATH): {clean_text(str(exc))}") from None


def netloc_parts(url: str) -> tuple[str, str, str]:
    """(user, host, port) of an endpoint URL, as written: not lowercased (an ssh alias is matched as given)."""
    netloc = url.split("://", 1)[-1].split("/", 1)[0]
    user, _, hostport = netloc.rpartition("@")
    if hostport.startswith("["):
        host, _, rest = hostport.partition("]")
        return user, host + "]", rest.removeprefix(":")
    host, _, port = hostport.partition(":")
    return user, host, port


def _current_context_name() -> str:
    """`currentContext` of the docker CLI's config.json (DOCKER_CONFIG or ~/.docker), read without importing docker."""
    path = os.path.join(os.environ.get("DOCKER_CONFIG") or os.path.expanduser("~/.docker"), "config.json")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f).get("currentContext") or "default"
    except (OSError, ValueError, AttributeError):  # unreadable or absent: the default context, as for the CLI
        return "default"
