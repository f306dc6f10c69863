"""What a scan reads first (/version, the sparse list, /info, the image list), asked as the process starts: each on
its own keep-alive connection to a daemon on this machine, pipeline.py, before the rest of the program is imported
(~0.03 s of imports the daemon spends answering instead of waiting; with 1,000 containers its list alone takes
~0.05 s). Light: endpoint.py and pipeline.py only. `Daemon.prefetch` adopts what was asked here (or asks itself).

A full scan (no name, project or --running) also asks, at the same moment, the inspects of the containers the
previous full scan of the same daemon listed (their ids, kept in the cache directory: `guess_path`): the daemon
answers them while the list is made (~0.02 s for 300 containers, ~0.05 s for 1,000) and the program loads. The list
still decides: `Daemon.inspect_many` takes the answers of the ids it lists, asks the ones the guess missed, and
drops the rest. The ids are only a guess of what to ask: a missing, stale or damaged file costs the head start,
never an answer (an id that is not 64 hex digits makes the whole file ignored)."""
from __future__ import annotations

import os
from typing import Any, Callable

import msgspec

from .pipeline import Batch, Get

MAX_LIST_JSON = 64 << 20  # /containers/json, /images/json: ~2 KB a container, so 30,000 containers
MAX_ONE_JSON = 16 << 20  # one inspect, history, /info, /version: a few KB to a few hundred
GUESS_CONNECTIONS = 6  # as daemon.EARLY_CONNECTIONS: each buffers answers while the program loads


def wanted(all: bool) -> list[tuple[str, str, int]]:
    """(path, unversioned target, limit) of each first read."""
    return [("/version", "/version", MAX_ONE_JSON),
            ("/containers/json", f"/containers/json?all={1 if all else 0}", MAX_LIST_JSON),
            ("/info", "/info", MAX_ONE_JSON), ("/images/json", "/images/json", MAX_LIST_JSON)]


MAX_GUESS = 20_000  # container ids of the previous scan asked at the start, at most
_ID_LINE = 65  # 64 hex digits and a newline


class Asked(msgspec.Struct):
    url: str
    all: bool
    batch: Any  # pipeline.Batch
    index: dict[str, int]  # target -> request number
    guess: Any = None  # (ids, pipeline.Batch of their inspects): the previous full scan's containers, asked too

    def close(self) -> None:
        self.batch.close()
        if self.guess is not None:
            self.guess[1].close()

    def sockets(self) -> list[Any]:
        return list(self.batch.sockets()) + (list(self.guess[1].sockets()) if self.guess is not None else [])


def guess_path(url: str) -> str:
    """The file of the container ids the last full scan of the daemon at `url` listed."""
    from .dirs import user_cache_dir
    from .playbook_cache import sha256
    return os.path.join(user_cache_dir(), f"scan-ids-{sha256(url.encode()).hexdigest()[:16]}")


def read_guess(url: str) -> list[str]:
    """The ids the last full scan listed ([]: none kept, or the file is not such a list)."""
    try:
        with open(guess_path(url), "rb") as f:
            raw = f.read(MAX_GUESS * _ID_LINE + 1)
    except OSError:
        return []
    ids = raw.decode("ascii", "replace").split()
    if len(raw) > MAX_GUESS * _ID_LINE or not all(len(i) == 64 and not i.strip("0123456789abcdef") for i in ids):
        return []
    return ids


def remember(asked: "Asked | None", ids: list[str]) -> None:
    """After a full scan: the ids it listed, kept for the next one (written only when they changed)."""
    if asked is None or (asked.guess is not None and asked.guess[0] == ids) or len(ids) > MAX_GUESS:
        return
    if not ids and asked.guess is None:
        return
    from .files import private_dir, write_private
    path = guess_path(asked.url)
    try:
        private_dir(os.path.dirname(path))
        write_private(path, "".join(f"{i}\n" for i in ids))
    except OSError:
        pass  # no head start next time; nothing else depends on it


def ask(url: str, all: bool, budget: float,
        on_socket: Callable[[Any], None] | None = None, path: str | None = None, guess: bool = False) -> Asked | None:
    """The first reads asked now, or None when they cannot be (not a unix socket, or it does not answer: whoever
    connects next says why). `path`: the unix socket that reaches `url` (an ssh:// endpoint's forward). `guess` (a
    full scan): the inspects of the containers its previous full scan listed, asked too."""
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
    asked = Asked(url, all, batch, {target: i for i, (_p, target, _limit) in enumerate(reads)})
    ids = read_guess(url) if guess and all else []
    if ids:
        try:
            asked.guess = (ids, Batch(path, [Get(f"/containers/{i}/json", MAX_ONE_JSON) for i in ids], budget=budget,
                                      connections=GUESS_CONNECTIONS, on_socket=on_socket))
        except OSError:
            pass  # asked when the list is in, as without a guess
    return asked


def ask_first(host: str | None, all: bool, budget: float = 30.0, guess: bool = False) -> Asked | None:
    """For a command that will read the daemon at `host` (-H, else DOCKER_HOST, the docker context, the default
    socket): its first reads asked at once. A context or an endpoint that cannot be read: None (said later).
    `guess`: a full scan (see the module's docstring)."""
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
    return ask(url, all, budget, guess=guess)
