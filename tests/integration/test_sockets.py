"""Listening sockets on the real engine: what the product reads in /proc/<pid>/net/tcp of a real container, the
address:port it names, and the playbook's own fix (rendered by the product) really making the published port answer
from the host."""
import os
import time
import urllib.error
import urllib.request

import pytest

from tests.engine import docker, inspect, remove_before_fix, wait_for
from tests.integration.conftest import scan_json
from tests.scenarios import create, make_lab
from troubleshoot import lab
from troubleshoot.backend import LiveBackend
from troubleshoot.core.commands import placeholder_values, render_changes
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.core.records import host_from_record, observation_from_record
from troubleshoot.core.signals import container_signals
from troubleshoot.daemon import Daemon
from troubleshoot.probes import sockets
from troubleshoot.scan import host_record, observe_records

pytestmark = pytest.mark.engine


def _published(name: str) -> tuple[str, str]:
    binding = inspect(name)["HostConfig"]["PortBindings"]["8080/tcp"][0]
    return binding["HostIp"] or "127.0.0.1", binding["HostPort"]


def _answers(ip: str, port: str) -> str | None:
    try:
        with urllib.request.urlopen(f"http://{ip}:{port}/", timeout=3) as res:
            return res.read().decode()
    except (urllib.error.URLError, ConnectionError, OSError):
        return None


def _top(name: str) -> dict:
    doc, _code = scan_json(name)
    return next(f for f in doc["findings"] if f["container"] == name)


@pytest.mark.parametrize("playbook, evidence", [
    ("listens-on-localhost", ["listens on loopback only: 127.0.0.1:8080 (published as 127.0.0.1:{port}->8080/tcp)",
                              "listening inside: 127.0.0.1:8080", "State.Health.Status=healthy"]),
    ("published-port-unused", ["nothing listens on: 8080/tcp (published as 127.0.0.1:{port}->8080/tcp); "
                               "listening: 0.0.0.0:9090", "listening, not published: 0.0.0.0:9090"]),
])
def test_names_the_address_and_port_and_the_port_is_really_dead(engine, playbook, evidence):
    name = create(playbook)
    try:
        ip, port = _published(name)
        assert inspect(name)["State"]["Health"]["Status"] == "healthy"  # the probe inside passes...
        assert _answers(ip, port) is None  # ...and the published port does not answer
        top = _top(name)
        assert top["playbook"] == playbook and top["severity"] == "critical"
        for line in evidence:
            assert line.format(port=port) in top["evidence"], top["evidence"]
        pid = inspect(name)["State"]["Pid"]  # both ways of reading say the same of the real container
        from_proc = sockets.read_listening(f"/proc/{pid}/net/tcp", False)[0] + \
            sockets.read_listening(f"/proc/{pid}/net/tcp6", True)[0]
        if os.geteuid() == 0:
            assert sorted(sockets.listening_by_netlink(pid) or ["(none)"]) == sorted(from_proc)
    finally:
        docker("rm", "-f", name, check=False)


@pytest.mark.parametrize("playbook", ["listens-on-localhost", "published-port-unused"])
def test_the_playbooks_fix_makes_the_published_port_answer(engine, playbook):
    """The fix (a recreate with the change) as the product renders it for this container, made through the data
    source as the walkthrough makes it; then the published port answers from the host and the finding is gone."""
    name = create(playbook)
    try:
        ip, port = _published(name)
        assert _top(name)["playbook"] == playbook
        daemon = Daemon().connect()
        try:
            record, secrets = next((r, s) for r, s in observe_records(daemon, [name]) if r.inspect.Name == f"/{name}")
            host = host_from_record(host_record(daemon))
        finally:
            daemon.close()
        obs = observation_from_record(record, secrets)
        values = placeholder_values(obs, host, container_signals(obs, host))
        backend = LiveBackend(load_catalog())
        backend.connect()
        result = backend.recreate(obs.container.id, render_changes(load_catalog().get(playbook).fix[0], values))
        assert result.exit_code == 0, result.lines
        wait_for(lambda: inspect(name)["State"].get("Health", {}).get("Status") == "healthy", 60, f"{name} healthy")
        deadline = time.monotonic() + 30
        while _answers(ip, port) is None and time.monotonic() < deadline:  # the proxy is up once it answers
            time.sleep(0.2)
        assert _answers(ip, port) == "ok\n"
        doc, _code = scan_json(name)
        assert playbook not in [f["playbook"] for f in doc["findings"] if f["container"] == name]
        assert backend.drop_old(result).exit_code == 0
    finally:
        docker("rm", "-f", name, check=False)
        remove_before_fix(name)


def test_a_server_on_every_address_raises_nothing(engine):
    """The control: the same image bound to 0.0.0.0 on its published port: no socket finding, nothing critical."""
    t = make_lab()
    name = f"{t.container_prefix}sockets-control"
    try:
        tag = t.build(t.image("web-any:1"), "control", lab._WEB.format(host="0.0.0.0", port=8080))
        cid, _ = t.run(name, "control", None, image=tag, memory=64 * lab.MB, port=lab.free_port(), container_port=8080)
        t.wait_state(cid, "healthy")
        doc, _code = scan_json(name)
        mine = [f for f in doc["findings"] if f["container"] == name]
        assert [f for f in mine if f["severity"] in ("critical", "warning")] == [], mine
        ip, port = _published(name)
        assert _answers(ip, port) == "ok\n"
    finally:
        t.daemon.close()
        docker("rm", "-f", name, check=False)
