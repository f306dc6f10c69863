"""What a scan reads first (/version, the sparse list, /info, the image list), asked as the process starts: each on
its own keep-alive connection to a daemon on this machine, pipeline.py, before the rest of the program is imported
(~0.03 s of imports the daemon spends answering instead of waiting; with 1,000 containers its list alone takes
~0.05 s). Light: endpoint.py and pipeline.py only. `Daemon.prefetch` adopts what was asked here (or asks itself)."""
from __future__ import annotations

import msgspec
from typing import Any, Callable

from .pipeline import Batch, Get

MAX_LIST_JSON = 64 << 20  # /containers/json, /images/json: ~2 KB a container, so 30,000 containers
MAX_ONE_JSON = 16 << 20  # one inspect, history, /info, /version: a few KB to a few hundred


def wanted(all: bool) -> list[tuple[str, str, int]]:
    """(path, unversioned target, limit) of each first read."""
    return [("/version", "/version", MAX_ONE_JSON),
            ("/containers/json", f"/containers/json?all={1 if all else 0}", MAX_LIST_JSON),
            ("/info", "/info", MAX_ONE_JSON), ("/images/json", "/images/json", MAX_LIST_JSON)]


class Asked(msgspec.Struct):
    url: str
    all: bool
    batch: Any  # pipeline.Batch
    index: dict[str, int]  # target -> request number


def ask(url: str, all: bool, budget: float,
        on_socket: Callable[[Any], None] | None = None, path: str | None = None) -> Asked | None:
    """The first reads asked now, or None when they cannot be (not a unix socket, or it does not answer: whoever
    connects next says why). `path`: the unix socket that reaches `url` (an ssh:// endpoint's forward)."""
    if path is None:
        if not (url.startswith("unix://") or url.startswith("/")):
            return None
        path = url.removeprefix("unix://")
    reads = wanted(all)
    try:
        batch = Batch(path, [Get(target, limit) for _p, target, limit in reads], budget=budget,
                      connections=len(reads), on_socket=on_socket)
    except OSError:
        return None
    return Asked(url, all, batch, {target: i for i, (_p, target, _limit) in enumerate(reads)})


def ask_first(host: str | None, all: bool, budget: float = 30.0) -> Asked | None:
    """For a command that will read the daemon at `host` (-H, else DOCKER_HOST, the docker context, the default
    socket): its first reads asked at once. A context or an endpoint that cannot be read: None (said later)."""
    from .endpoint import DaemonError, resolve_endpoint
    try:
        url = resolve_endpoint(host).url
    except DaemonError:
        return None
    if url.startswith("ssh://"):  # its ssh connection made while the rest is imported (sshtunnel.py)
        from . import sshtunnel
        if sshtunnel.enabled():
            sshtunnel.tunnel_for(url).start_early()
        return None
    return ask(url, all, budget)
