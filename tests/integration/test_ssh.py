"""ssh:// against a REAL sshd on 127.0.0.1 (Debian's openssh-server), started by the test on a free port with its own
host key and an authorized key made here: the scan finds over ssh what it finds over the unix socket, through an
alias of an ssh config file (its Port, IdentityFile, known_hosts); no ssh child or socket file is left; events stream
over it; a dead ssh is one line and the next connection makes it again; refused forwarding falls back to `docker
system dial-stdio`; an unreachable host, an unknown host key or a refused key is one line, exit 2, quickly."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests import scenarios
from tests.engine import docker, free_port, wait_for
from tests.sshd import Sshd

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("engine")


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    server = Sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def incidents(engine):
    """Containers of this run with findings: an exited one missing its env, a running one with no memory limit, a
    running one near its memory limit (read over ssh through the stats API, here through cgroups)."""
    names = [scenarios.create(p) for p in ("missing-env", "no-memory-limit", "memory-near-limit")]
    yield names
    for name in names:
        docker("rm", "-f", name, check=False)


def _cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "troubleshoot", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def _findings(out: str) -> set[tuple[str, str]]:
    return {(f["container"], f["playbook"]) for f in json.loads(out)["findings"]}


def _ssh_processes(marker: str) -> list[str]:
    """Processes whose command line carries `marker` (this test's ssh config path or its socket directory)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if os.path.basename(argv[0]) in ("ssh", "sh") and marker in " ".join(argv):
            found.append(f"{pid}: {' '.join(argv)}")
    return found


def _children(pid: int) -> list[str]:
    """Children of `pid` (zombies included): `<pid> <state> <comm>`."""
    out = []
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            continue
        comm_end = stat.rindex(")")
        fields = stat[comm_end + 2:].split()
        if int(fields[1]) == pid:
            out.append(f"{p} {fields[0]} {stat[stat.index('(') + 1:comm_end]}")
    return out


def test_scan_over_an_ssh_alias_finds_what_the_unix_socket_finds_and_leaves_nothing(sshd, incidents):
    local = _cli(os.environ | {"PYTHONPATH": str(ROOT)}, "scan", "--json", *incidents)
    assert local.returncode == 1, local.stderr
    want = _findings(local.stdout)
    assert {(n, p) for n, p in want if p in ("missing-env", "memory-near-limit")} == \
        {(incidents[0], "missing-env"), (incidents[2], "memory-near-limit")}
    # the alias: Port, User, IdentityFile and known_hosts come from the ssh config only (the URL names none)
    over_ssh = _cli(sshd.env(), "-H", "ssh://tsh-alias", "scan", "--json", *incidents)
    assert over_ssh.returncode == 1, over_ssh.stderr
    assert over_ssh.stderr == ""
    assert _findings(over_ssh.stdout) == want
    assert json.loads(over_ssh.stdout)["host"]  # the remote host's /info, no local readings
    # nothing left: no ssh process of this config, no socket directory
    assert _ssh_processes(str(sshd.config)) == []
    assert list(sshd.run_dir.iterdir()) == []


@pytest.mark.reads_events
def test_in_process_one_ssh_reused_events_stream_and_every_child_reaped(sshd, incidents, monkeypatch):
    """One ssh process serves every connection (the main one, the probe's, the events'); events stream through it
    and the stream is closed from our side; close_all() leaves no child, zombie or socket."""
    from troubleshoot import sshtunnel
    from troubleshoot.daemon import Daemon
    from troubleshoot.events import EventStream
    for key, value in sshd.env().items():
        monkeypatch.setenv(key, value)
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR read again
    try:
        main = Daemon("ssh://tsh-alias").connect()
        probe = Daemon("ssh://tsh-alias").connect()
        assert main.over_unix_socket and main.endpoint.is_remote_machine and not main.endpoint.is_local
        rows = main.containers(True)
        assert {incidents[0], incidents[1]} <= {n.lstrip("/") for r in rows for n in (r.Names or ())}
        assert all(i is not None for i in probe.inspect_many(incidents))
        tunnel = sshtunnel.existing("ssh://tsh-alias")
        assert tunnel is not None and tunnel.mode == "forward"
        procs = _ssh_processes(str(sshd.config))
        assert len(procs) == 1, procs  # one ssh for both Daemons and all their connections
        assert tunnel.local_socket.startswith(str(sshd.run_dir))
        assert oct(os.stat(os.path.dirname(tunnel.local_socket)).st_mode & 0o777) == "0o700"

        stream = EventStream(main)
        stop = threading.Event()
        seen: list[str] = []

        def follow() -> None:
            for event in stream.follow(stop, since=time.time() - 1):
                seen.append(event.Actor.Attributes.get("name", "") if event.Actor and event.Actor.Attributes else "")
        reader = threading.Thread(target=follow, daemon=True)
        reader.start()
        wait_for(lambda: stream._sock is not None, timeout=20, what="the event stream open")
        docker("restart", "-t", "0", incidents[1])
        wait_for(lambda: incidents[1] in seen, timeout=30, what="the restart's event over ssh")
        stop.set()
        stream.close()  # a unix socket here: ends the stream at once (no 2 s windows as over docker-py)
        reader.join(timeout=5)
        assert not reader.is_alive()
        main.close()
        probe.close()
    finally:
        sshtunnel.close_all()
    assert _ssh_processes(str(sshd.config)) == []
    assert [c for c in _children(os.getpid()) if c.endswith(" ssh") or " Z " in c] == []
    assert list(sshd.run_dir.iterdir()) == []


def test_ssh_dying_mid_use_is_one_line_and_the_next_connection_makes_it_again(sshd, incidents, monkeypatch):
    from troubleshoot import sshtunnel
    from troubleshoot.daemon import Daemon, DaemonError
    for key, value in sshd.env().items():
        monkeypatch.setenv(key, value)
    try:
        daemon = Daemon("ssh://tsh-alias").connect()
        assert daemon.inspect(incidents[0]) is not None
        tunnel = sshtunnel.existing("ssh://tsh-alias")
        assert tunnel is not None and tunnel._proc is not None
        old = tunnel._proc.pid
        os.kill(old, signal.SIGKILL)
        wait_for(lambda: not tunnel.alive(), timeout=10, what="ssh gone")
        with pytest.raises(DaemonError) as err:
            daemon.inspect_many(incidents)
        line = str(err.value)
        assert "\n" not in line and "ssh" in line and "tsh-alias" in line, line
        assert _children(os.getpid()) == [] or all(f"{old} " not in c for c in _children(os.getpid()))  # reaped
        # what the app does on its next try: connect again (a new ssh)
        again = Daemon("ssh://tsh-alias").connect()
        assert again.inspect(incidents[0]) is not None
        assert tunnel._proc is not None and tunnel._proc.pid != old
    finally:
        sshtunnel.close_all()
    assert _ssh_processes(str(sshd.config)) == []


def test_refused_forwarding_falls_back_to_dial_stdio_and_says_so(tmp_path_factory, incidents):
    server = Sshd(tmp_path_factory.mktemp("nofwd"), forwarding=False)
    try:
        proc = _cli(server.env(), "-H", "ssh://tsh-alias", "scan", "--json", *incidents[:2])
        assert proc.returncode == 1, proc.stderr
        assert (incidents[0], "missing-env") in _findings(proc.stdout)
        assert "dial-stdio" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert _ssh_processes(str(server.config)) == []
        assert list(server.run_dir.iterdir()) == []
    finally:
        server.stop()


@pytest.mark.parametrize("target,says", [
    ("ssh://tsh-strict", "host key is not trusted"),  # would prompt: BatchMode makes it an error
    ("ssh://tsh-nokey", "authentication failed"),  # a password would be asked: never
    ("ssh://nobody@127.0.0.1:{closed}", "connection refused"),
])
def test_unreachable_or_refused_ssh_is_one_line_exit_2_quickly(sshd, target, says):
    target = target.format(closed=free_port())
    started = time.monotonic()
    proc = _cli(sshd.env(), "-H", target, "scan", timeout=60)
    took = time.monotonic() - started
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith(f"troubleshoot: ssh host unreachable: {target}") and says in lines[0], lines[0]
    assert took < 15, took
    assert list(sshd.run_dir.iterdir()) == []


def test_a_host_that_never_answers_costs_one_connect_timeout(sshd):
    """A port that accepts and never speaks SSH: one ConnectTimeout, said in one line (it took two: the first reads'
    try, then the connect's, each waiting it out)."""
    import socket as socket_mod
    from troubleshoot.sshtunnel import CONNECT_TIMEOUT
    silent = socket_mod.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        target = f"ssh://nobody@127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        proc = _cli(sshd.env(), "-H", target, "scan", timeout=60)
        took = time.monotonic() - started
    finally:
        silent.close()
    assert proc.returncode == 2 and "timed out" in proc.stderr, proc.stderr
    assert len([line for line in proc.stderr.splitlines() if line.strip()]) == 1, proc.stderr
    assert took < CONNECT_TIMEOUT + 4, f"{took:.1f} s"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_the_app_killed_ends_its_ssh_and_removes_its_socket_dir(sshd, incidents, sig):
    """The app over ssh:// (one of several hosts) given SIGTERM or SIGHUP: its ssh process ended,
    $TMPDIR/troubleshoot-ssh-* removed (both were left: the tunnel is made in a host's thread, where no handler was
    set)."""
    from tests.pty_io import read_for
    primary, secondary = os.openpty()
    env = {**sshd.env(), "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    proc = subprocess.Popen([sys.executable, "-m", "troubleshoot", "-H", "ssh://tsh-alias", "-H",  # several hosts
                             "unix:///var/run/docker.sock"], stdin=secondary,
                            stdout=secondary, stderr=secondary, env=env, start_new_session=True)
    os.close(secondary)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (list(sshd.run_dir.glob("troubleshoot-ssh-*/docker.sock"))
                                                   and _ssh_processes(str(sshd.config))):
            read_for(primary, 0.2)  # the app draws meanwhile: its pty must not fill up
        assert list(sshd.run_dir.glob("troubleshoot-ssh-*")), "the app made no ssh tunnel"
        read_for(primary, 1.0)
        proc.send_signal(sig)
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            read_for(primary, 0.2)
        assert proc.poll() is not None, "the app did not end"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(primary)
    assert list(sshd.run_dir.iterdir()) == []
    wait_for(lambda: _ssh_processes(str(sshd.config)) == [], timeout=10, what="its ssh ended")
