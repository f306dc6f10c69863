"""The adapter: the one module that talks to the Docker daemon.

Every docker SDK call, every error mapping and the cleaning of every untrusted string happens here, once.
It hands the core plain, cleaned JSON and builds facts from it; nothing here is kept in a fact.

Endpoint, as the docker CLI resolves it: `--host`, then DOCKER_HOST, then DOCKER_CONTEXT, then the current context of
~/.docker/config.json, then the local socket. ssh:// endpoints use the system ssh client (your ~/.ssh/config).
"""
from __future__ import annotations

import os
import shutil
from collections import deque
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import docker
import docker.errors
import requests.exceptions

from .clean import MAX_LINE, clean_json, clean_line, clean_text
from .core.detectors.image_tag import parse_ref
from .core.facts import Host, Observation, container_from_inspect, wants_logs
from .core.records import host_from_record, observation_from_record

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
LOG_TAIL = 200


class DaemonError(Exception):
    """The daemon cannot be used; `str()` is one line that says why and what to try."""


@dataclass(frozen=True)
class Endpoint:
    url: str
    source: str  # where it came from: --host, DOCKER_HOST, context NAME, default
    tls: Any = None

    @property
    def is_local(self) -> bool:
        return self.url.startswith(("unix://", "npipe://")) or self.url.startswith("/")

    @property
    def is_ssh(self) -> bool:
        return self.url.startswith("ssh://")


def resolve_endpoint(host: str | None = None, environ: dict[str, str] | None = None) -> Endpoint:
    env = os.environ if environ is None else environ
    if host:
        return Endpoint(host, "--host")
    if env.get("DOCKER_HOST"):
        return Endpoint(env["DOCKER_HOST"], "DOCKER_HOST")
    name = env.get("DOCKER_CONTEXT") or _current_context_name()
    if name and name != "default":
        try:
            from docker.context import ContextAPI
            ctx = ContextAPI.get_context(name)
        except docker.errors.DockerException as exc:
            raise DaemonError(f"docker context {name!r} cannot be read: {clean_text(str(exc))}") from None
        if ctx is None:
            raise DaemonError(f"docker context {name!r} does not exist (see `docker context ls`)")
        if ctx.Host:
            return Endpoint(ctx.Host, f"context {name}", ctx.TLSConfig)
    return Endpoint(DEFAULT_SOCKET, "default")


def _current_context_name() -> str:
    try:
        from docker.context.config import get_current_context_name
        return get_current_context_name()
    except Exception:  # an unreadable ~/.docker/config.json means the default context, as for the CLI
        return "default"


def explain(exc: BaseException, endpoint: Endpoint) -> str:
    """One line: what went wrong reaching the daemon and what to try."""
    text = clean_text(str(exc))
    where = f"{endpoint.url} (from {endpoint.source})"
    sock = endpoint.url.removeprefix("unix://")
    if endpoint.url.startswith("unix://"):
        if "No such file or directory" in text or "FileNotFoundError" in text or not os.path.exists(sock):
            return (f"cannot reach the Docker daemon: socket {sock} does not exist. Is dockerd running? "
                    f"Try `sudo systemctl start docker`, or point --host / DOCKER_HOST at your daemon.")
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
    if isinstance(exc, requests.exceptions.Timeout) or "timed out" in text:
        return f"the Docker daemon at {where} did not answer in time; it may be overloaded or hung."
    if "Connection refused" in text:
        return f"nothing answers at {where} (connection refused). Is dockerd listening there?"
    return f"cannot use the Docker daemon at {where}: {text[:300] or type(exc).__name__}"


class Daemon:
    """A connection to one daemon. Methods return cleaned JSON or facts; errors become DaemonError."""

    def __init__(self, host: str | None = None, timeout: int = 30):
        self.endpoint = resolve_endpoint(host)
        self.timeout = timeout
        self._api: docker.APIClient | None = None

    # -- connection -------------------------------------------------------------------------------------------
    def connect(self) -> "Daemon":
        kwargs: dict[str, Any] = {"base_url": self.endpoint.url, "timeout": self.timeout, "version": "auto"}
        if self.endpoint.tls is not None:
            kwargs["tls"] = self.endpoint.tls
        if self.endpoint.is_ssh:
            kwargs["use_ssh_client"] = shutil.which("ssh") is not None
        try:
            self._api = docker.APIClient(**kwargs)
        except Exception as exc:  # every way of failing to connect becomes one line
            raise DaemonError(explain(exc, self.endpoint)) from None
        return self

    @property
    def api(self) -> docker.APIClient:
        if self._api is None:
            self.connect()
        return self._api

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except docker.errors.NotFound:
            raise
        except docker.errors.APIError as exc:
            raise DaemonError(f"the daemon refused: {clean_text(exc.explanation or str(exc))[:300]}") from None
        except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as exc:
            raise DaemonError(explain(exc, self.endpoint)) from None

    # -- reads ------------------------------------------------------------------------------------------------
    def version(self) -> dict:
        return clean_json(self._call(self.api.version))

    def info(self) -> dict:
        return clean_json(self._call(self.api.info))

    def list_containers(self, all: bool = True) -> list[dict]:
        """The sparse list (one call, no inspect): Id, Names, Image, State, Status."""
        return clean_json(self._call(self.api.containers, all=all))

    def inspect_container(self, cid: str) -> dict | None:
        """None when the container vanished in the meantime (removed mid-scan)."""
        try:
            return clean_json(self._call(self.api.inspect_container, cid))
        except docker.errors.NotFound:
            return None

    def list_images(self) -> list[dict]:
        return clean_json(self._call(self.api.images))

    def inspect_image(self, ref: str) -> dict | None:
        try:
            return clean_json(self._call(self.api.inspect_image, ref))
        except docker.errors.NotFound:
            return None

    def history(self, ref: str) -> list[dict]:
        try:
            return clean_json(self._call(self.api.history, ref))
        except docker.errors.NotFound:
            return []

    def logs_tail(self, cid: str, tail: int = LOG_TAIL, max_line: int = MAX_LINE) -> tuple[str, ...]:
        """The last `tail` lines (stdout+stderr), streamed into a bounded buffer, each cleaned and cut."""
        tail = int(tail)  # a string would silently mean "the whole log"
        try:
            stream = self._call(self.api.logs, cid, stdout=True, stderr=True, tail=tail, stream=True,
                                follow=False)  # docker-py follows by default when streaming
            return tuple(self._call(lambda: list(bounded_lines(stream, tail, max_line))))
        except docker.errors.NotFound:
            return ()

    # -- records and facts ------------------------------------------------------------------------------------
    def host_record(self) -> dict[str, Any]:
        info = self.info()
        local = _local_readings(info.get("DockerRootDir") or "") if self.endpoint.is_local else None
        return {"info": info, "version": self.version(), "local": local}

    def host(self) -> Host:
        return host_from_record(self.host_record())

    def observe_records(self, names: Iterable[str] = (), all: bool = True, tail: int = LOG_TAIL) -> list[dict]:
        """Sparse list, filter by name, then inspect deliberately: each container once, each distinct image once,
        logs only where a diagnosis needs them (not running, restarted, or unhealthy). Containers that vanish
        mid-scan are skipped."""
        names = [n for n in names if n]
        rows = self.list_containers(all=all)
        if names:
            rows = [r for r in rows if _row_matches(r, names)]
        inspected = [d for d in (self.inspect_container(r["Id"]) for r in rows) if d is not None]
        if not inspected:
            return []
        tags = self._tag_index()
        images: dict[str, tuple[dict | None, list]] = {}

        def image(ref: str, with_history: bool = True) -> tuple[dict | None, list]:
            if ref not in images:
                data = self.inspect_image(ref)
                images[ref] = (data, self.history(ref) if data and with_history else [])
            return images[ref]

        records = []
        for data in inspected:
            c = container_from_inspect(data)
            ref = parse_ref(c.image_ref)
            tag_id = tags.get(ref.name) if ref.tag else None
            img, history = image(c.image_id) if c.image_id else (None, [])
            tag_img = None
            if tag_id:
                tag_img = img if tag_id == c.image_id else image(tag_id, with_history=False)[0]
            records.append({"inspect": data, "image": img, "history": history,
                            "logs": list(self.logs_tail(c.id, tail)) if wants_logs(c) else [],
                            "tag_image": tag_img})
        return records

    def observe(self, names: Iterable[str] = (), all: bool = True, tail: int = LOG_TAIL) -> list[Observation]:
        return [observation_from_record(r) for r in self.observe_records(names, all, tail)]

    def _tag_index(self) -> dict[str, str]:
        index = {}
        for row in self.list_images():
            for tag in row.get("RepoTags") or ():
                if tag and tag != "<none>:<none>":
                    index[parse_ref(tag).name] = row.get("Id") or ""
        return index


def _row_matches(row: dict, names: list[str]) -> bool:
    row_names = [n.lstrip("/") for n in row.get("Names") or ()]
    return any(n == row.get("Id", "")[:len(n)] or any(n in rn for rn in row_names) for n in names)


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
    line = clean_line(raw.decode("utf-8", "replace"), max_line)
    if dropped:
        line = f"{line.split(' ...[cut ')[0]} ...[cut {dropped}+ bytes]"
    return line


def _local_readings(docker_root: str) -> dict[str, Any]:
    import psutil
    out: dict[str, Any] = {}
    vm = psutil.virtual_memory()
    out.update(mem_total=vm.total, mem_available=vm.available)
    sw = psutil.swap_memory()
    out.update(swap_total=sw.total, swap_used=sw.used)
    if docker_root and os.path.isdir(docker_root):
        du = psutil.disk_usage(docker_root)
        out.update(disk_total=du.total, disk_free=du.free)
    try:
        out["load1"] = os.getloadavg()[0]
    except OSError:
        pass
    try:
        with open("/proc/vmstat", encoding="ascii") as f:
            out["vmstat"] = f.read()
    except OSError:
        pass
    return out
