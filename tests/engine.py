"""The real engine for tests: a docker CLI wrapper, the locally built base image, cleanup by name prefix and label.

Every name the tests create starts with PREFIX; what the lab makes for them carries their own lab instance
(LAB_INSTANCE) and what `build` makes the label TEST_LABEL=PREFIX, so that cleanup finds exactly what this run made,
dangling images (a tag built again) included, and nothing else: never a prune of the whole daemon.
"""
from __future__ import annotations

import fcntl
import json
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

# A run's own prefix: two runs on one daemon (two checkouts, CI beside a developer) never remove each other's
# containers. Names, not labels, because the docker CLI's own objects (docker run --name) are named in many tests.
# Under pytest-xdist each worker is a run of its own: gw0 names tst0-..., gw1 tst1-... (and has its own lab instance,
# tmux sessions, images), so parallel workers never touch each other's containers.
_RUN_PREFIX = os.environ.get("TROUBLESHOOT_TEST_PREFIX", "tst-")
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "").removeprefix("gw")
PREFIX = f"{_RUN_PREFIX.rstrip('-')}{_WORKER}-" if _WORKER else _RUN_PREFIX
BASE = "tst-base:1"
LAB_INSTANCE = "tests-" + (re.sub(r"[^a-z0-9]+", "-", PREFIX.lower()).strip("-") or "run")  # the lab instance of this run
TEST_LABEL = "troubleshoot.test.prefix"  # on every image `build` makes


# The daemon keeps only its last 256 events (Engine 20.10), for all of its users at once, and the app follows them
# live. A test that reads a container's history back (its kill, stop, die, oom: stop-timeout, segfault, stopped on
# purpose) needs it still there when the product reads it; a test whose app must see a container's events in time
# needs them not queued behind a thousand others. A test that makes hundreds of events in seconds (a thousand
# containers, a whole lab with 1 s health checks) breaks both. So the two kinds never overlap, across this run's
# workers and other runs on this host; readers run beside readers, floods beside floods. Each kind holds its own lock
# file shared while it runs, after seeing the other kind's free (a brief exclusive try); both trying at once back off.
EVENT_LOCKS = {kind: Path(tempfile.gettempdir()) / f"troubleshoot-tests-event-{kind}.lock" for kind in ("read", "flood")}


@contextmanager
def daemon_events(flood: bool = False):
    """Hold the events lock of a reader, or of a flood (`flood`), until the block ends."""
    mine, theirs = ("flood", "read") if flood else ("read", "flood")
    with open(EVENT_LOCKS[mine], "a") as held, open(EVENT_LOCKS[theirs], "a") as other:
        while True:
            fcntl.flock(held, fcntl.LOCK_SH)
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # nobody of the other kind holds it
            except BlockingIOError:
                fcntl.flock(held, fcntl.LOCK_UN)
                time.sleep(random.uniform(0.2, 0.6))
                continue
            fcntl.flock(other, fcntl.LOCK_UN)
            break
        try:
            yield
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)


class EngineMissing(RuntimeError):
    pass


def docker(*args: str, check: bool = True, input: bytes | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run(["docker", *args], input=input, capture_output=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')}")
    return proc


def engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return docker("version", "--format", "{{.Server.Version}}", check=False, timeout=20).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def inspect(name: str) -> dict:
    return json.loads(docker("inspect", name).stdout)[0]


def wait_for(predicate, timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def wait_state(name: str, *states: str, timeout: float = 60) -> dict:
    holder = {}

    def check():
        holder["d"] = inspect(name)
        st = holder["d"]["State"]
        health = (st.get("Health") or {}).get("Status")
        return st["Status"] in states or (health is not None and health in states)
    wait_for(check, timeout, f"{name} to be {'/'.join(states)}")
    return holder["d"]


def on_connections(work, items: list, connections: int = 8) -> list:
    """`work(daemon, item)` for every item, over a few connections at once (the daemon does them in parallel: one
    after the other, 1,000 creates and 1,000 removes took 35 s and 120 s on a loaded 2-core host; 5 s each so)."""
    from concurrent.futures import ThreadPoolExecutor

    from troubleshoot.daemon import Daemon
    chunks = [items[i::connections] for i in range(connections)]

    def run(chunk):
        d = Daemon().connect()
        try:
            return [work(d, item) for item in chunk]
        finally:
            d.close()
    with ThreadPoolExecutor(connections) as pool:
        return [out for done in pool.map(run, chunks) for out in done]


def wait_oom_killed(name: str, runs: int = 5) -> dict:
    """Until `name` exited with State.OOMKilled, starting it again when dockerd ended a run without the flag (on a
    loaded host its exit can come before the kernel's oom notice: troubleshoot/lab.py Lab.wait_oom_killed)."""
    for _ in range(runs):
        d = wait_state(name, "exited")
        if d["State"]["OOMKilled"]:
            return d
        docker("start", name)
    raise AssertionError(f"{name} exited {runs} times and dockerd never recorded OOMKilled")


def busybox_path() -> str:
    for p in ("/bin/busybox", "/usr/bin/busybox"):
        if os.path.exists(p):
            ldd = subprocess.run(["ldd", p], capture_output=True)
            if b"not a dynamic" in ldd.stdout + ldd.stderr:
                return p
    raise EngineMissing("a static busybox is needed (apt-get install busybox-static)")


def rootfs_tar(extra: dict[str, bytes] | None = None) -> bytes:
    """A tar of a minimal rootfs: static busybox with its applet symlinks, plus `extra` files (mode 0755)."""
    bb = busybox_path()
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / "bin").mkdir()
        (root / "tmp").mkdir()
        (root / "etc").mkdir()
        shutil.copy(bb, root / "bin/busybox")
        applets = subprocess.run([bb, "--list"], capture_output=True, text=True).stdout.split()
        for a in applets:
            if a != "busybox":
                (root / "bin" / a).symlink_to("busybox")
        (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
        for rel, data in (extra or {}).items():
            f = root / rel.lstrip("/")
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(data)
            f.chmod(0o755)
        return subprocess.run(["tar", "-C", d, "-c", "."], capture_output=True, check=True).stdout


def ensure_base() -> str:
    """The base image every test image builds on, imported from a static busybox (no registry needed)."""
    if docker("image", "inspect", BASE, check=False).returncode != 0:
        docker("import", "-c", "ENV PATH=/bin", "-c", 'CMD ["/bin/sh"]', "-", BASE, input=rootfs_tar())
    return BASE


def build(tag: str, dockerfile: str, files: dict[str, bytes] | None = None,
          build_args: dict[str, str] | None = None) -> str:
    """Build with the classic builder (no buildx here); a failed step leaves no container behind (--force-rm)."""
    with tempfile.TemporaryDirectory() as d:
        Path(d, "Dockerfile").write_text(dockerfile)
        for rel, data in (files or {}).items():
            Path(d, rel).parent.mkdir(parents=True, exist_ok=True)
            Path(d, rel).write_bytes(data)
            Path(d, rel).chmod(0o755)
        args = [f"--build-arg={k}={v}" for k, v in (build_args or {}).items()]
        proc = subprocess.run(["docker", "build", "-q", "--force-rm", "--label", f"{TEST_LABEL}={PREFIX}", *args, "-t", tag, d],
                              capture_output=True,
                              env={**os.environ, "DOCKER_BUILDKIT": "0"}, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"build {tag} failed: {proc.stderr.decode(errors='replace')}")
    return tag


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def made_by_run(prefix: str = PREFIX, instance: str = LAB_INSTANCE) -> tuple[set[str], set[str]]:
    """(container ids, image refs) this run made: named with `prefix`, of its lab instance, or built by `build`
    (dangling ones too: found by label, not by name)."""
    ids = set(docker("ps", "-aq", "--no-trunc", "--filter", f"name=^/{prefix}", check=False).stdout.decode().split())
    ids |= set(docker("ps", "-aq", "--no-trunc", "--filter", f"label=troubleshoot.lab.instance={instance}",
                      check=False).stdout.decode().split())
    rows = docker("images", "--format", "{{.Repository}}:{{.Tag}}", check=False).stdout.decode().split()
    images = {r for r in rows if r.startswith(prefix) and r != BASE}
    for label in (f"troubleshoot.lab.instance={instance}", f"{TEST_LABEL}={prefix}"):
        images |= set(docker("images", "-aq", "--no-trunc", "--filter", f"label={label}",
                             check=False).stdout.decode().split())
    return ids, images


def remove_before_fix(name: str) -> None:
    """The containers a recreate fix kept (NAME-before-fix-HHMMSS) that a test did not see removed."""
    old = docker("ps", "-aq", "--filter", f"name=^{name}-before-fix", check=False).stdout.decode().split()
    if old:
        docker("rm", "-f", *old, check=False)


def remove_all(prefix: str = PREFIX, instance: str = LAB_INSTANCE) -> None:
    """Remove what this run made (`made_by_run`) and nothing else; never a prune of the shared daemon."""
    ids, images = made_by_run(prefix, instance)
    if ids:
        docker("rm", "-f", *ids, check=False)
    nets = docker("network", "ls", "-q", "--filter", f"label=troubleshoot.lab.instance={instance}",
                  check=False).stdout.decode().split()
    if nets:  # the lab's networks (name-resolution, localhost-dependency...), after their containers
        docker("network", "rm", *nets, check=False)
    from troubleshoot.lab import mounts_dir
    shutil.rmtree(mounts_dir(instance), ignore_errors=True)  # the host directories its lab recipes bound
    for _ in range(3):  # an image with children is refused until they are gone
        if not images:
            break
        docker("rmi", "-f", *images, check=False)
        images = made_by_run(prefix, instance)[1]


class SecondDaemon:
    """A second dockerd on its own socket, data root and exec root (no bridge, no iptables), in its own network
    namespace, that a test can stop and start again under a running app. The namespace matters: a dockerd started
    with --bridge none in the host namespace deletes the host's docker0, breaking the main daemon's containers."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.sock = self.root / "docker.sock"
        self.url = f"unix://{self.sock}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "SecondDaemon":
        self.root.mkdir(parents=True, exist_ok=True)
        log = open(self.root / "dockerd.log", "ab")
        self.proc = subprocess.Popen(
            ["unshare", "--net", "--", "dockerd", "--host", self.url, "--data-root", str(self.root / "data"), "--exec-root",
             str(self.root / "exec"), "--pidfile", str(self.root / "docker.pid"), "--bridge", "none",
             "--iptables=false", "--ip-masq=false"], stdout=log, stderr=log)
        wait_for(lambda: subprocess.run(["docker", "-H", self.url, "version"], capture_output=True).returncode == 0,
                 timeout, "the second dockerd to answer")
        return self

    def stop(self, timeout: float = 30) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
