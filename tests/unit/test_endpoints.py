"""Endpoints as the docker CLI reads them: TLS from DOCKER_TLS_VERIFY / DOCKER_CERT_PATH, one DOCKER_HOST builder,
~/.ssh/config honoured for ssh:// (no `-p` the URL does not give), and no local command for a remote daemon."""
import subprocess

import pytest

from troubleshoot.backend import LiveBackend
from troubleshoot.daemon import Daemon, DaemonError, Endpoint, resolve_endpoint


@pytest.fixture
def certs(tmp_path):
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("x")
    return tmp_path


def test_docker_tls_verify_and_cert_path_give_a_verifying_tls_config(certs):
    env = {"DOCKER_HOST": "tcp://10.0.0.5:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs)}
    ep = resolve_endpoint(None, env)
    assert ep.tls is not None and ep.tls.verify is True and ep.tls.ca_cert == str(certs / "ca.pem")
    assert ep.tls.cert == (str(certs / "cert.pem"), str(certs / "key.pem"))
    assert resolve_endpoint("tcp://10.0.0.5:2376", {k: v for k, v in env.items() if k != "DOCKER_HOST"}).tls is not None


def test_the_tls_config_reaches_the_docker_py_client(certs, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://10.0.0.5:2376")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(certs))
    client = Daemon()._docker_py_client()
    assert client.base_url == "https://10.0.0.5:2376"
    assert client.cert == (str(certs / "cert.pem"), str(certs / "key.pem"))
    assert client.verify == str(certs / "ca.pem")


def test_no_tls_env_no_tls_and_missing_certs_are_one_line(tmp_path):
    assert resolve_endpoint("tcp://127.0.0.1:2375", {}).tls is None
    assert resolve_endpoint("unix:///x.sock", {"DOCKER_TLS_VERIFY": "1"}).tls is None
    with pytest.raises(DaemonError, match="DOCKER_TLS_VERIFY"):
        resolve_endpoint("tcp://h:2376", {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(tmp_path / "none")})


def test_one_docker_host_builder_for_steps_and_interactive_steps(monkeypatch):
    from troubleshoot.runner import docker_env
    monkeypatch.setenv("DOCKER_CONTEXT", "prod")
    bare = Endpoint("/run/other/docker.sock", "--host")
    assert docker_env(bare)["DOCKER_HOST"] == "unix:///run/other/docker.sock" and "DOCKER_CONTEXT" not in docker_env(bare)
    assert docker_env(Endpoint("ssh://ops@db1", "DOCKER_HOST"))["DOCKER_HOST"] == "ssh://ops@db1"
    ctx = docker_env(Endpoint("tcp://h:2376", "context prod", context="prod"), {"DOCKER_HOST": "tcp://x:1"})
    assert ctx["DOCKER_CONTEXT"] == "prod" and "DOCKER_HOST" not in ctx
    backend = LiveBackend(None, "/run/other/docker.sock")  # what the app's interactive steps are run with
    assert backend.command_env(["docker", "exec", "-it", "x", "sh"])["DOCKER_HOST"] == "unix:///run/other/docker.sock"


def test_local_commands_are_refused_for_a_daemon_on_another_machine():
    from troubleshoot.runner import command_refusal, run_command
    ssh = Endpoint("ssh://ops@db1:2222", "--host")
    why = command_refusal(ssh, ["ss", "-ltnp"])
    assert why == ("`ss` runs on this machine, not on db1 where the daemon is: run it there with "
                   "`ssh -p 2222 ops@db1 ss -ltnp`")
    assert command_refusal(ssh, ["docker", "inspect", "x"]) is None
    assert command_refusal(Endpoint("tcp://10.1.2.3:2376", "--host"), ["df", "-h"]).startswith("`df` runs on this")
    for local in ("unix:///var/run/docker.sock", "/var/run/docker.sock", "tcp://127.0.0.1:2375"):
        assert command_refusal(Endpoint(local, "--host"), ["free", "-m"]) is None
    result = run_command(Daemon("ssh://myalias").endpoint, ["free", "-m"])  # refused before anything runs (no connection)
    assert result.exit_code == 126 and "ssh myalias free -m" in result.lines[0]
    backend = LiveBackend(None, "ssh://myalias")
    assert "not on myalias" in backend.run(["df", "-h"]).lines[0]
    assert "not on myalias" in backend.refusal(["ss", "-ltnp"])  # the app asks this before an interactive step


def test_ssh_argv_passes_only_what_the_url_says():
    from troubleshoot.daemon import ssh_argv
    assert ssh_argv("ssh://myalias", ["true"]) == ["ssh", "--", "myalias", "true"]
    assert ssh_argv("ssh://MyAlias", ["true"])[-2] == "MyAlias"  # not lowercased: ssh matches Host as given
    assert ssh_argv("ssh://user@host:2222", ["true"], ["-o", "BatchMode=yes"]) == \
        ["ssh", "-o", "BatchMode=yes", "-l", "user", "-p", "2222", "--", "host", "true"]


def test_preflight_and_transport_leave_the_port_to_ssh_config(monkeypatch):
    """docker-py adds ":22" to ssh://myalias and then runs `ssh -p 22`, overriding `Port 2222` of the alias."""
    from docker.transport import sshconn
    ran = []

    class Stop(Exception):
        pass

    def fake_run(args, **kwargs):
        ran.append(args)
        return subprocess.CompletedProcess(args, 0, "", "")

    def fake_popen(args, **kwargs):
        ran.append(args)
        raise Stop
    import shutil
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/ssh")
    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setattr(sshconn.subprocess, "Popen", fake_popen)
    for url, want in (("ssh://myalias", ["--", "myalias"]),
                      ("ssh://user@host:2222", ["-l", "user", "-p", "2222", "--", "host"])):
        ran.clear()
        client = Daemon(url)._docker_py_client()
        with pytest.raises(Stop):  # the command docker-py's transport would run for each connection
            sshconn.SSHSocket(client._custom_adapter.ssh_host).connect()
        preflight, transport = ran
        assert preflight[-3:] == [*want[-2:], "true"] and ("-p" in preflight) == ("-p" in want)
        assert transport == ["ssh", *want, "docker system dial-stdio"]


def test_ssh_failure_is_read_past_the_known_hosts_warning():
    """ssh's first connection to a host says it added its key, then why it failed: the reason is the line after."""
    from troubleshoot.sshtunnel import why_ssh_failed
    said = why_ssh_failed("ssh://h", "Warning: Permanently added '[127.0.0.1]:2222' (ED25519) to the list of known "
                          "hosts.\r\nroot@127.0.0.1: Permission denied (publickey).\r\n", 255)
    assert "authentication failed" in said and "\n" not in said
    assert why_ssh_failed("ssh://h", "", 255).endswith("ssh exited 255")


def test_the_forwards_socket_is_tried_again_while_ssh_has_bound_it_but_does_not_listen_yet(tmp_path):
    """ssh binds its local socket (the file exists) before it listens: a connection in between is refused by the
    kernel. Seen under load as a forward that "did not work" and a needless fall back to dial-stdio."""
    import socket
    import subprocess
    import threading

    from troubleshoot import sshtunnel
    tunnel = sshtunnel.Tunnel("ssh://somewhere")
    tunnel._dir = str(tmp_path)
    path = tunnel.local_socket
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)  # bound, not listening: a connection now is refused
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with pytest.raises(ConnectionRefusedError):
        probe.connect(path)
    probe.close()
    tunnel._proc = subprocess.Popen(["sleep", "30"])  # "ssh", running
    refused = threading.Event()
    try:
        def listen_once_refused() -> None:
            while not refused.is_set():  # listens only once a try has been refused (no fixed time)
                refused.wait(0.01)
            server.listen(1)
        real = socket.socket.connect

        def connect(sock, address):
            try:
                return real(sock, address)
            except ConnectionRefusedError:
                refused.set()
                raise
        threading.Thread(target=listen_once_refused, daemon=True).start()
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(socket.socket, "connect", connect)
            sock = tunnel._connect_local()
        assert refused.is_set()
        sock.close()
        tunnel._proc.kill()
        tunnel._proc.wait()
        # ssh gone: a refusal is said at once, not tried again
        server.close()
        import os
        os.unlink(path)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        with pytest.raises(ConnectionRefusedError):
            tunnel._connect_local()
    finally:
        server.close()
        if tunnel._proc.poll() is None:
            tunnel._proc.kill()
