"""The adapter against the real engine: endpoints from docker contexts, containers vanishing mid-scan, log reading."""
import json
import os
import subprocess
import sys

import pytest

from tests.engine import BASE, docker, ensure_base, wait_state, PREFIX
from troubleshoot.core import schema
from troubleshoot.daemon import Daemon, DaemonError
from troubleshoot.scan import observe

pytestmark = pytest.mark.engine


def _cli(env, *args):
    return subprocess.run([sys.executable, "-m", "troubleshoot", *args], capture_output=True, text=True, env=env)


def test_docker_context_current_and_by_env(engine, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    env["DOCKER_CONFIG"] = str(tmp_path)
    subprocess.run(["docker", "context", "create", PREFIX + "good", "--docker", "host=unix:///var/run/docker.sock"],
                   env=env, check=True, capture_output=True)
    subprocess.run(["docker", "context", "create", PREFIX + "gone", "--docker", f"host=unix://{tmp_path}/gone.sock"],
                   env=env, check=True, capture_output=True)
    subprocess.run(["docker", "context", "use", PREFIX + "gone"], env=env, check=True, capture_output=True)
    proc = _cli(env, "scan", "--json")  # the current context: a socket that does not exist
    assert proc.returncode == 2 and f"{tmp_path}/gone.sock" in proc.stderr
    proc = _cli({**env, "DOCKER_CONTEXT": PREFIX + "good"}, "scan", "--json", PREFIX + "nothing")  # DOCKER_CONTEXT wins
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["host"]["server_version"]
    proc = _cli({**env, "DOCKER_CONTEXT": PREFIX + "missing"}, "scan")
    assert proc.returncode == 2 and PREFIX + "missing" in proc.stderr and "Traceback" not in proc.stderr


class _ListsAGhost(Daemon):
    """The real daemon, whose list also names a container removed since: as when it vanishes mid-scan."""

    def __init__(self, ghost: str):
        super().__init__()
        self.ghost = ghost

    def containers(self, all=True, label=None):
        return [schema.ListRow(Id=self.ghost, Names=[f"/{PREFIX}ghost"])] + super().containers(all, label)


def test_container_removed_mid_scan_is_skipped(engine):
    ensure_base()
    docker("rm", "-f", PREFIX + "ghost", PREFIX + "alive", check=False)
    ghost = docker("create", "--name", PREFIX + "ghost", BASE, "true").stdout.decode().strip()
    docker("run", "-d", "--name", PREFIX + "alive", BASE, "sh", "-c", "echo bye; exit 4")
    docker("rm", "-f", PREFIX + "ghost")
    try:
        wait_state(PREFIX + "alive", "exited")
        daemon = _ListsAGhost(ghost).connect()
        names = [o.container.name for o in observe(daemon, [PREFIX + "ghost", PREFIX + "alive"])]
        assert names == [PREFIX + "alive"]
        assert daemon.read_logs(ghost) == ((), "the container is gone")
    finally:
        docker("rm", "-f", PREFIX + "alive", check=False)


def test_log_tail_is_bounded_cleaned_and_demultiplexed(engine):
    ensure_base()
    name = PREFIX + "logs"
    docker("rm", "-f", name, check=False)
    # stderr first, then stdout: the daemon copies the two streams separately, so lines written close together
    # may be logged in either order; in sequence, the expected tail is exact.
    script = ("i=0; while [ $i -lt 500 ]; do echo err $i >&2; i=$((i+1)); done; sleep 0.5; "
              "i=0; while [ $i -lt 500 ]; do echo out $i; i=$((i+1)); done; "
              "printf '\\033]0;TITLE\\007hostile \\033[6n line\\n'; head -c 30000 /dev/zero | tr '\\0' x; echo")
    docker("run", "-d", "--name", name, BASE, "sh", "-c", script)
    try:
        wait_state(name, "exited")
        daemon = Daemon().connect()
        lines = daemon.logs_tail(docker("inspect", "-f", "{{.Id}}", name).stdout.decode().strip(), tail=5,
                                 max_line=100)
        # json-file stores a line over 16 KB as several partial entries and `tail` counts entries, so the 30 KB
        # line takes two of the five; the partial frames are joined back into one line, cut to max_line.
        assert len(lines) == 4
        assert lines[-2] == "hostile  line"
        assert lines[-1].startswith("x" * 100) and "[cut 29" in lines[-1]
        assert lines[:2] == ("out 498", "out 499")
        everything = daemon.logs_tail(docker("inspect", "-f", "{{.Id}}", name).stdout.decode().strip(), tail=2000)
        assert "err 0" in everything and "err 499" in everything and "out 0" in everything  # both streams
        tty = PREFIX + "logs-tty"
        docker("rm", "-f", tty, check=False)
        docker("run", "-d", "-t", "--name", tty, BASE, "sh", "-c", "echo one; echo two")
        wait_state(tty, "exited")
        tid = docker("inspect", "-f", "{{.Id}}", tty).stdout.decode().strip()
        assert daemon.logs_tail(tid, tail=10, tty=True) == ("one", "two")
    finally:
        docker("rm", "-f", name, PREFIX + "logs-tty", check=False)


def test_unreachable_daemon_raises_one_line(tmp_path):
    with pytest.raises(DaemonError) as exc:
        Daemon(f"unix://{tmp_path}/none.sock").connect()
    assert "\n" not in str(exc.value) and "does not exist" in str(exc.value)


def test_one_daemon_used_from_many_threads(engine):
    """The TUI's workers share one Daemon: http.client connections are not thread-safe, so each thread has its own."""
    from concurrent.futures import ThreadPoolExecutor
    ensure_base()
    names = [f"{PREFIX}thread-{i}" for i in range(6)]
    for n in names:
        docker("rm", "-f", n, check=False)
        docker("run", "-d", "--name", n, BASE, "sh", "-c", f"echo {n}; exit 1")
    try:
        daemon = Daemon().connect()
        ids = [docker("inspect", "-f", "{{.Id}}", n).stdout.decode().strip() for n in names]

        def work(cid):
            out = []
            for _ in range(20):
                out.append(daemon.inspect(cid).Id)
                out.append(daemon.logs_tail(cid, 5))
            return out
        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(work, ids))
        for cid, name, out in zip(ids, names, results):
            assert out[0] == cid and out[1] == (name,)
    finally:
        docker("rm", "-f", *names, check=False)
