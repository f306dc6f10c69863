"""A full scan asks, as it starts, the inspects of the containers its previous full scan listed (prefetch.py: the
ids kept in the cache directory): on the real engine, through a unix-socket relay that records each request line
the scan sends (every byte passed on unchanged, both ways). The guess is only a head start: a container removed since
is asked and dropped, one created since is asked when the list says so, and the scan's containers and findings are
the ones a scan without any guess finds. A damaged ids file is ignored and written anew."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading

import pytest

from tests.engine import BASE, PREFIX, docker, ensure_base, wait_state
from troubleshoot.prefetch import guess_path

pytestmark = pytest.mark.engine

DAEMON = "/var/run/docker.sock"
_REQUEST = re.compile(rb"GET (\S+) HTTP/1\.[01]\r\n")


class Relay:
    """A unix socket that passes every connection on to the daemon's, noting the path of each GET it carries."""

    def __init__(self, path: str):
        self.path, self.paths, self._lock = path, [], threading.Lock()
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(path)
        self._server.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(DAEMON)
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, requests: bool) -> None:
        pending = b""
        try:
            while True:
                data = src.recv(1 << 16)
                if not data:
                    break
                if requests:
                    pending += data
                    found = list(_REQUEST.finditer(pending))
                    with self._lock:
                        self.paths += [m.group(1).decode() for m in found]
                    pending = pending[found[-1].end():] if found else pending[-4096:]
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def taken(self) -> list[str]:
        with self._lock:
            out, self.paths = self.paths, []
        return out

    def close(self) -> None:
        self._server.close()


def _scan(relay: Relay, cache: str) -> dict:
    env = dict(os.environ, XDG_CACHE_HOME=cache)
    proc = subprocess.run([sys.executable, "-m", "troubleshoot", "-H", f"unix://{relay.path}", "scan", "--json"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def _ours(doc: dict, names: set[str]) -> tuple[dict, list]:
    """Our containers (by name) and their findings: the daemon is shared, other tests' containers come and go."""
    containers = {c["name"]: c for c in doc["containers"] if c["name"] in names}
    findings = sorted((f["container"], f["playbook"], tuple(f["evidence"])) for f in doc["findings"]
                      if f["container"] in names)
    return containers, findings


def _kept(cache: str, relay: Relay) -> str:
    """The ids file of a scan of `relay` run with XDG_CACHE_HOME=cache."""
    return os.path.join(cache, "troubleshoot", os.path.basename(guess_path(f"unix://{relay.path}")))


def _guessed(paths: list[str]) -> set[str]:
    """The container ids inspected without an API version: asked at the start, before the version was known."""
    return {m.group(1) for p in paths for m in [re.fullmatch(r"/containers/([0-9a-f]{64})/json", p)] if m}


def _made(name: str, *cmd: str) -> str:
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, BASE, *cmd)
    wait_state(name, "exited", timeout=120)
    return docker("inspect", "--format", "{{.Id}}", name).stdout.decode().strip()


@pytest.fixture
def relay(tmp_path, engine):
    ensure_base()
    r = Relay(str(tmp_path / "relay.sock"))
    yield r
    r.close()


def test_the_previous_scan_s_containers_are_asked_at_the_start(relay, tmp_path):
    names = {f"{PREFIX}guess-{k}" for k in "abcd"}
    try:
        ids = {k: _made(f"{PREFIX}guess-{k}", "sh", "-c", f"echo {k}; exit {i}") for i, k in enumerate("abc")}
        cache = str(tmp_path / "cache")
        first = _scan(relay, cache)
        assert not _guessed(relay.taken()), "no ids kept yet: nothing asked before the list"
        kept = open(_kept(cache, relay)).read().split()
        assert set(ids.values()) <= set(kept) and len(kept) == len(first["containers"])

        docker("rm", "-f", f"{PREFIX}guess-b")
        ids["d"] = _made(f"{PREFIX}guess-d", "sh", "-c", "echo d; exit 4")
        second = _scan(relay, cache)
        asked = relay.taken()
        guessed = _guessed(asked)
        assert {ids["a"], ids["b"], ids["c"]} <= guessed, "the previous scan's containers asked at the start"
        assert ids["d"] not in guessed
        assert any(p.endswith(f"/containers/{ids['d']}/json") and p.startswith("/v1.") for p in asked), \
            "the container created since is asked once the list says so"
        got, found = _ours(second, names)
        assert set(got) == {f"{PREFIX}guess-{k}" for k in "acd"}, "the one removed since is dropped"
        assert {got[f"{PREFIX}guess-{k}"]["exit_code"] for k in "acd"} == {0, 2, 4}

        fresh = _scan(relay, str(tmp_path / "fresh-cache"))  # no ids kept: no guess
        assert not _guessed(relay.taken())
        assert _ours(fresh, names) == (got, found), "the same containers and findings as a scan with no guess"
        kept = open(_kept(cache, relay)).read().split()
        assert ids["d"] in kept and ids["b"] not in kept
    finally:
        for name in names:
            docker("rm", "-f", name, check=False)


def test_a_damaged_ids_file_is_ignored_and_written_anew(relay, tmp_path):
    name = f"{PREFIX}guess-e"
    try:
        cid = _made(name, "true")
        cache = str(tmp_path / "cache")
        env_path = _kept(cache, relay)
        os.makedirs(os.path.dirname(env_path), exist_ok=True)
        with open(env_path, "w") as f:
            f.write(f"{cid}\n../../etc/passwd\n")
        doc = _scan(relay, cache)
        asked = relay.taken()
        assert not _guessed(asked), "one line that is no container id: the whole file ignored"
        assert not any("passwd" in p for p in asked)
        assert name in {c["name"] for c in doc["containers"]}
        kept = open(env_path).read().split()
        assert cid in kept and all(re.fullmatch(r"[0-9a-f]{64}", i) for i in kept)
    finally:
        docker("rm", "-f", name, check=False)
