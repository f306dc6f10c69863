"""Listening sockets: /proc/net/tcp decoding, the probe's degraded answers, and the two playbooks on containers
recorded from the engine (tests/fixtures/listens-on-localhost.json, published-port-unused.json)."""
import json
import os
import sys

import pytest

from troubleshoot.boundary import fixture_record, probe_record, read_snapshot_bytes
from troubleshoot.core import schema
from troubleshoot.core.commands import placeholder_values, render
from troubleshoot.core.diagnose import diagnose_container
from troubleshoot.core.records import observation_from_record
from troubleshoot.core.signals import container_signals
from troubleshoot.probes import sockets
from tests.unit.conftest import fixture, observe

HEADER = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")


def _word(ip4: str) -> str:
    """An IPv4 address as the kernel prints it on this host (one 32-bit word in host byte order)."""
    return f"{int.from_bytes(bytes(int(x) for x in ip4.split('.')), sys.byteorder):08X}"


def _row(n: int, local: str, state: str, remote: str = "00000000:0000") -> str:
    return f"{n:4d}: {local} {remote} {state} 00000000:00000000 00:00000000 00000000     0        0 1{n} 1\n"


@pytest.mark.parametrize("field, v6, want", [
    (f"{_word('127.0.0.1')}:1F90", False, "127.0.0.1:8080"),
    (f"{_word('0.0.0.0')}:0050", False, "0.0.0.0:80"),
    (f"{_word('172.17.0.2')}:2382", False, "172.17.0.2:9090"),
    ("0" * 32 + ":0050", True, "[::]:80"),
    ("0" * 24 + _word("0.0.0.1") + ":1F90", True, "[::1]:8080"),
    ("0" * 16 + _word("0.0.255.255") + _word("127.0.0.1") + ":1F90", True, "[::ffff:127.0.0.1]:8080"),
])
def test_addresses_decode(field, v6, want):
    assert sockets.decode_endpoint(field, v6) == want


@pytest.mark.parametrize("field, v6", [("0100007F:1F90", True), ("7F:1F90", False), ("zz00007F:1F90", False)])
def test_bad_addresses_are_refused(field, v6):
    with pytest.raises(ValueError):
        sockets.decode_endpoint(field, v6)


def _proc(tmp_path, cid: str, tcp: str, tcp6: str | None = "", pid: int = 4242) -> str:
    base = tmp_path / str(pid)
    (base / "net").mkdir(parents=True)
    (base / "cgroup").write_text(f"0::/system.slice/docker-{cid}.scope\n")
    (base / "net" / "tcp").write_text(HEADER + tcp)
    if tcp6 is not None:
        (base / "net" / "tcp6").write_text(HEADER + tcp6)
    return str(tmp_path)


def _inspect(cid: str = "c" * 64, pid: int = 4242, ports: bool = True, mode: str = "bridge") -> schema.ContainerInspect:
    bindings = {"8080/tcp": [schema.PortBinding(HostIp="127.0.0.1", HostPort="49153")]} if ports else None
    return schema.ContainerInspect(Id=cid, Name="/web", State=schema.ContainerState(Status="running", Running=True, Pid=pid),
                                   Config=schema.ContainerConfig(), HostConfig=schema.HostConfig(PortBindings=bindings,
                                                                                                 NetworkMode=mode))


def test_reads_listening_rows_and_stops_at_the_first_connection(tmp_path):
    tcp = (_row(0, f"{_word('127.0.0.1')}:1F90", "0A") + _row(1, f"{_word('0.0.0.0')}:0016", "0A")
           + _row(2, f"{_word('172.17.0.2')}:1F90", "01", f"{_word('172.17.0.1')}:D431")
           + _row(3, f"{_word('10.0.0.9')}:0050", "0A"))  # after a connection: never read
    proc = _proc(tmp_path, "c" * 64, tcp, _row(0, "0" * 32 + ":0050", "0A"))
    got = sockets.probe(_inspect(), local=True, proc=proc)
    assert got["listening"] == ["127.0.0.1:8080", "0.0.0.0:22", "[::]:80"]
    assert not got["truncated"] and "why_not" not in got and got["read_at"].endswith("Z")


def test_a_huge_table_is_read_only_up_to_its_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(sockets, "MAX_BYTES", 2000)
    tcp = "".join(_row(i, f"{_word('0.0.0.0')}:{1000 + i:04X}", "0A") for i in range(100))
    got = sockets.probe(_inspect(), local=True, proc=_proc(tmp_path, "c" * 64, tcp, None))
    assert got["truncated"] and 0 < len(got["listening"]) < 100
    assert all(e.startswith("0.0.0.0:") and 1000 <= int(e.split(":")[1]) < 1100 for e in got["listening"])  # no cut row


@pytest.mark.parametrize("case, why", [
    ("remote", "the daemon is not on this machine (ssh://ops@db1)"),
    ("gone", "process 999 is gone"),
    ("other process", "process 4242 here is not this container's"),
    ("no tcp", "/net/tcp is missing"),
    ("no permission", "no permission to read"),
])
def test_the_probe_says_why_it_could_not_read(tmp_path, monkeypatch, case, why):
    proc = _proc(tmp_path, "c" * 64, _row(0, f"{_word('0.0.0.0')}:1F90", "0A"))
    data = _inspect()
    local = True
    if case == "remote":
        local = False
    elif case == "gone":
        data = _inspect(pid=999)
    elif case == "other process":
        data = _inspect(cid="d" * 64)
    elif case == "no tcp":
        os.remove(tmp_path / "4242" / "net" / "tcp")
    elif case == "no permission":
        def denied(path, v6):
            raise PermissionError(13, "Permission denied", path)
        monkeypatch.setattr(sockets, "read_listening", denied)  # root reads every file: as a docker-group user
    got = sockets.probe(data, local=local, where="ssh://ops@db1", proc=proc)
    assert why in got["why_not"] and not got.get("listening")


@pytest.mark.parametrize("data, wanted", [
    (_inspect(), True),
    (_inspect(ports=False), False),  # publishes nothing: nothing to compare with
    (_inspect(mode="host"), False),  # host networking ignores published ports
    (_inspect(mode="container:abc"), False),
    (_inspect(pid=0), False),
])
def test_probe_only_where_it_answers_something(data, wanted):
    assert sockets.wanted(data) is wanted


def _with(listening=None, why_not="", health="healthy", started="2026-11-24T00:20:30Z", read_at="2026-11-24T00:20:35Z"):
    def edit(rec):
        rec["sockets"] = {"listening": listening or [], "why_not": why_not, "read_at": read_at}
        rec["inspect"]["State"]["StartedAt"] = started
        if health is None:
            rec["inspect"]["State"].pop("Health", None)
        else:
            rec["inspect"]["State"]["Health"]["Status"] = health
    return edit


# (fixture, what listens, health, seconds up when read, top finding or None, signal, item)
CASES = [
    ("listens-on-localhost", None, "healthy", 5, "listens-on-localhost", "published_on_localhost",
     "127.0.0.1:8080 (published as 127.0.0.1:{port}->8080/tcp)"),
    ("listens-on-localhost", ["[::1]:8080"], "healthy", 5, "listens-on-localhost", "published_on_localhost",
     "[::1]:8080 (published as 127.0.0.1:{port}->8080/tcp)"),
    ("listens-on-localhost", ["[::ffff:127.0.0.1]:8080"], "healthy", 5, "listens-on-localhost",
     "published_on_localhost", "[::ffff:127.0.0.1]:8080 (published as 127.0.0.1:{port}->8080/tcp)"),
    ("listens-on-localhost", ["0.0.0.0:8080"], "healthy", 5, None, "published_on_localhost", None),
    ("listens-on-localhost", ["[::]:8080"], "healthy", 5, None, "published_on_localhost", None),
    ("listens-on-localhost", ["127.0.0.1:8080", "172.17.0.5:8080"], "healthy", 5, None, "published_on_localhost", None),
    ("published-port-unused", None, "healthy", 5, "published-port-unused", "published_unused",
     "8080/tcp (published as 127.0.0.1:{port}->8080/tcp); listening: 0.0.0.0:9090"),
    ("published-port-unused", ["0.0.0.0:9090"], None, 60, "published-port-unused", "published_unused",
     "8080/tcp (published as 127.0.0.1:{port}->8080/tcp); listening: 0.0.0.0:9090"),
    ("published-port-unused", ["0.0.0.0:9090"], "starting", 3, None, "published_unused", None),  # still starting
    ("published-port-unused", ["0.0.0.0:9090"], None, 3, None, "published_unused", None),
    ("published-port-unused", ["0.0.0.0:9090", "0.0.0.0:8080"], "healthy", 5, None, "published_unused", None),
]


@pytest.mark.parametrize("name, listening, health, up, top, signal, item", CASES)
def test_what_listens_against_what_is_published(catalog, name, listening, health, up, top, signal, item):
    doc = fixture(name)
    port = doc["record"]["inspect"]["HostConfig"]["PortBindings"]["8080/tcp"][0]["HostPort"]
    edit = None
    if listening is not None or health != "healthy" or up != 5:
        edit = _with(listening or doc["record"]["sockets"]["listening"], health=health,
                     read_at=f"2026-11-24T00:20:{30 + up:02d}Z" if up < 30 else "2026-11-24T00:21:30Z")
    obs, host = observe(doc, edit)
    signals = container_signals(obs, host)
    found = [f.playbook_id for f in diagnose_container(obs, host, catalog)]
    if item is None:
        assert not signals[signal] and name not in found, (signals[signal], found)
    else:
        assert signals[signal] == [item.format(port=port)]
        assert found[0] == top
        evidence = diagnose_container(obs, host, catalog)[0].evidence
        assert any(item.format(port=port) in e for e in evidence), evidence


def test_the_recorded_incidents_quote_what_listens(catalog):
    obs, host = observe(fixture("listens-on-localhost"))
    top = diagnose_container(obs, host, catalog)[0]
    assert "listening inside: 127.0.0.1:8080" in top.evidence
    assert "State.Health.Status=healthy" in top.evidence
    obs, host = observe(fixture("published-port-unused"))
    top = diagnose_container(obs, host, catalog)[0]
    assert "listening, not published: 0.0.0.0:9090" in top.evidence


def test_not_read_means_unknown_and_says_why(catalog):
    obs, host = observe(fixture("listens-on-localhost"),
                        _with(why_not="the daemon is not on this machine (ssh://ops@db1)"))
    signals = container_signals(obs, host)
    assert signals["listening"] is None and signals["published_on_localhost"] is None
    assert signals["listening_why_not"].startswith("the daemon is not on this machine")
    assert "listens-on-localhost" not in [f.playbook_id for f in diagnose_container(obs, host, catalog)]

    def older(rec):  # a snapshot made before sockets were read
        rec.pop("sockets")
    obs, host = observe(fixture("listens-on-localhost"), older)
    assert container_signals(obs, host)["listening"] is None and obs.listening_why_not == ""


def test_a_snapshot_stores_the_sockets_and_diagnoses_the_same(catalog):
    doc = fixture("listens-on-localhost")
    record, _secrets = fixture_record(doc["record"])
    raw = json.dumps({"format": "troubleshoot-snapshot", "version": 1, "taken_at": "2026-11-24T00:21:00Z",
                      "host": doc["host"], "containers": [schema.to_builtins(record)]}).encode()
    back = read_snapshot_bytes(raw, "s.json").containers[0]
    assert back.sockets == record.sockets and back.sockets is not None
    obs, host = observe(doc)
    assert observation_from_record(back).listening == obs.listening == ("127.0.0.1:8080",)


def test_the_boundary_cleans_bounds_and_masks_a_reading():
    hostile = {"listening": ["127.0.0.1:8080\x1b[2J", "hunter2-SECRET-zz9"], "why_not": "x" * 20_000}
    from troubleshoot.core.secrets import secret_values
    rec = probe_record(hostile, schema.Sockets, "sockets", secret_values((("DB_PASSWORD", "hunter2-SECRET-zz9"),)))
    assert "\x1b" not in rec.listening[0] and rec.listening[0].startswith("127.0.0.1:8080")
    assert "hunter2-SECRET-zz9" not in rec.listening[1]
    assert len(rec.why_not) < 17_000


@pytest.mark.parametrize("name, step, want", [
    ("listens-on-localhost", 0, [("env", "HOST=0.0.0.0")]),
    ("published-port-unused", 0, [("container_port", "8080=9090")]),
])
def test_fix_changes_are_filled_from_the_evidence(catalog, name, step, want):
    from troubleshoot.core.commands import render_changes
    obs, host = observe(fixture(name))
    values = placeholder_values(obs, host, container_signals(obs, host))
    assert render_changes(catalog.get(name).fix[step], values) == want
    pid = render(catalog.get(name).diagnose[1], values)
    assert pid == ["cat", f"/proc/{obs.container.pid}/net/tcp", f"/proc/{obs.container.pid}/net/tcp6"]


@pytest.mark.skipif(os.geteuid() != 0, reason="joining a network namespace needs root")
def test_sock_diag_and_proc_agree(tmp_path):
    """The fast path (sock_diag, LISTEN only) and /proc/<pid>/net/tcp(6) say the same, on this process's own
    namespace, with sockets of each kind listening."""
    import socket
    servers = []
    for family, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::1")):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.bind((addr, 0))
        s.listen()
        servers.append(s)
    try:
        fast = sockets.listening_by_netlink(os.getpid())
        slow = sockets.read_listening(f"/proc/{os.getpid()}/net/tcp", False)[0] + \
            sockets.read_listening(f"/proc/{os.getpid()}/net/tcp6", True)[0]
        assert fast is not None and sorted(fast) == sorted(set(slow))
        for s in servers:
            host, port = s.getsockname()[:2]
            assert (f"[{host}]:{port}" if ":" in host else f"{host}:{port}") in fast
    finally:
        for s in servers:
            s.close()


def test_without_root_the_probe_reads_proc(tmp_path, monkeypatch):
    monkeypatch.setattr(sockets.os, "geteuid", lambda: 1000)
    assert sockets.listening_by_netlink(os.getpid()) is None
    proc = _proc(tmp_path, "c" * 64, _row(0, f"{_word('127.0.0.1')}:1F90", "0A"))
    assert sockets.probe(_inspect(), local=True, proc=proc)["listening"] == ["127.0.0.1:8080"]
