"""Podman's Docker-compatible answers (recorded from a real `podman system service`, Podman 4.3.1, and beside them
Docker 20.10's) decode into the same typed records, and the endpoint falls back to Podman's socket only when the
default Docker socket is absent or refuses."""
import json
import os
import shutil
import socket
from pathlib import Path

import pytest

from troubleshoot import endpoint
from troubleshoot.boundary import decode
from troubleshoot.core import schema
from troubleshoot.core.facts import container_from_inspect, engine_name, host_from_info
from troubleshoot.endpoint import DaemonError, resolve_endpoint

RECORDED = Path(__file__).resolve().parent.parent / "fixtures" / "podman"


def _version(name: str) -> schema.Version:
    return decode((RECORDED / name).read_bytes(), schema.Version, name)


def test_the_engine_is_named_from_versions_components():
    podman, docker = _version("version.json"), _version("docker-version.json")
    assert engine_name(podman) == "Podman" and engine_name(docker) == "Docker"
    assert engine_name(schema.Version(Version="1.13.1")) == "Docker"  # an old daemon: no components at all
    info = schema.Info(Name="vm", ServerVersion="")
    assert host_from_info(info, podman).engine_label == "Podman 4.3.1"
    assert host_from_info(schema.Info(ServerVersion="20.10.24+dfsg1"), docker).engine_label == "Docker 20.10.24"


def test_podmans_inspect_of_a_created_container_decodes_with_its_health_check_and_no_empty_health():
    raw = (RECORDED / "inspect-created-healthcheck.json").read_bytes()
    assert b'"Health": {' in raw and b'"Status": ""' in raw  # what Podman sends, with no probe run yet
    c = container_from_inspect(decode(raw, schema.ContainerInspect, "podman inspect"))
    assert c.name == "tsh-pm-hc" and c.state == "created"
    assert c.health is None  # Podman's empty Health is Docker's absent one (never a status "")
    assert c.has_healthcheck and c.healthcheck == ("CMD-SHELL", "exit 1")
    assert c.memory_limit == 64 * 1024 * 1024 and c.restart_policy == "on-failure"
    rows = decode((RECORDED / "list.json").read_bytes(), list[schema.ListRow], "podman list")
    assert [r.name for r in rows] == ["tsh-pm-hc"] and rows[0].State == "created"


def test_a_health_state_with_a_status_is_kept():
    state = decode(b'{"Status": "running", "Health": {"Status": "starting", "Log": null}}', schema.ContainerState, "s")
    assert state.Health is not None and state.Health.Status == "starting"
    failing = decode(b'{"Health": {"Status": "", "FailingStreak": 2}}', schema.ContainerState, "s")
    assert failing.Health is not None and failing.Health.FailingStreak == 2


@pytest.fixture
def sockets(tmp_path, monkeypatch):
    """A listening socket (a daemon), a socket file nobody listens on (a stopped daemon), and a missing path."""
    short = Path(os.environ.get("TMPDIR", "/tmp")) / f"tsh-pm-{os.getpid()}"
    short.mkdir(exist_ok=True)
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(str(short / "up.sock"))
    listening.listen(4)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(short / "stale.sock"))
    stale.close()  # the file stays; a connect is refused
    (short / "xdg" / "podman").mkdir(parents=True, exist_ok=True)
    rootless = socket.socket(socket.AF_UNIX)
    rootless.bind(str(short / "xdg" / "podman" / "podman.sock"))
    rootless.listen(4)
    monkeypatch.setattr(endpoint, "PODMAN_ROOTFUL_SOCKET", f"unix://{short}/no-rootful.sock")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))  # no docker context of this machine's user
    yield short
    for s in (listening, rootless):
        s.close()
    shutil.rmtree(short, ignore_errors=True)


def test_podman_is_found_only_when_the_default_docker_socket_is_absent_or_refuses(sockets, monkeypatch):
    xdg = {"XDG_RUNTIME_DIR": str(sockets / "xdg")}
    rootless = f"unix://{sockets}/xdg/podman/podman.sock"
    monkeypatch.setattr(endpoint, "DEFAULT_SOCKET", f"unix://{sockets}/up.sock")
    assert resolve_endpoint(None, {**xdg, "CONTAINER_HOST": rootless}).url == f"unix://{sockets}/up.sock"
    for gone in ("stale.sock", "missing.sock"):
        monkeypatch.setattr(endpoint, "DEFAULT_SOCKET", f"unix://{sockets}/{gone}")
        ep = resolve_endpoint(None, xdg)
        assert (ep.url, ep.source) == (rootless, "Podman's rootless socket")
        ep = resolve_endpoint(None, {**xdg, "CONTAINER_HOST": "unix:///somewhere/podman.sock"})
        assert (ep.url, ep.source) == ("unix:///somewhere/podman.sock", "CONTAINER_HOST")
    # -H, DOCKER_HOST come first; nothing answering anywhere: the default, whose error names it
    assert resolve_endpoint("unix:///x.sock", xdg).source == "--host"
    assert resolve_endpoint(None, {**xdg, "DOCKER_HOST": "unix:///y.sock"}).source == "DOCKER_HOST"
    assert resolve_endpoint(None, {"XDG_RUNTIME_DIR": str(sockets / "none")}).source == "default"
    with pytest.raises(DaemonError, match="CONTAINER_HOST=ssh://core@h/run/podman/podman.sock .*only unix:// and tcp://"):
        resolve_endpoint(None, {"CONTAINER_HOST": "ssh://core@h/run/podman/podman.sock"})


def test_the_probe_does_not_hang_on_a_socket_whose_backlog_is_full(sockets, monkeypatch):
    import time
    full = socket.socket(socket.AF_UNIX)
    full.bind(str(sockets / "full.sock"))
    full.listen(0)
    held = []
    try:
        for _ in range(64):  # fill the backlog: nobody accepts
            c = socket.socket(socket.AF_UNIX)
            c.setblocking(False)
            try:
                c.connect(str(sockets / "full.sock"))
            except (BlockingIOError, OSError):
                c.close()
                break
            held.append(c)
        monkeypatch.setattr(endpoint, "DEFAULT_SOCKET", f"unix://{sockets}/full.sock")
        started = time.monotonic()
        ep = resolve_endpoint(None, {"XDG_RUNTIME_DIR": str(sockets / "xdg")})
        assert time.monotonic() - started < endpoint.PROBE_TIMEOUT + 0.5
        assert ep.source == "Podman's rootless socket"
    finally:
        for c in held:
            c.close()
        full.close()
        (sockets / "full.sock").unlink(missing_ok=True)



def test_podmans_default_network_resolves_no_names_as_dockers_default_bridge():
    from troubleshoot.core.peers import names_on, user_networks
    from troubleshoot.core.records import observation_from_record
    inspect = decode((RECORDED / "inspect-created-healthcheck.json").read_bytes(), schema.ContainerInspect, "podman")
    obs = observation_from_record(schema.ContainerRecord(inspect=inspect))
    assert [n.network for n in obs.networks] == ["podman"]  # `podman network inspect podman`: dns_enabled false
    assert user_networks(obs) == () and names_on(obs, "podman") == set()


def test_a_recreate_body_names_podmans_ulimits_as_its_create_wants_them():
    from troubleshoot.core.fixplan import create_body
    raw = json.loads((RECORDED / "inspect-created-healthcheck.json").read_text())
    assert [u["Name"] for u in raw["HostConfig"]["Ulimits"]] == ["RLIMIT_NOFILE", "RLIMIT_NPROC"]
    body = create_body(raw, [("memory", "128m")]).create
    assert [(u["Name"], u["Soft"]) for u in body["HostConfig"]["Ulimits"]] == [("nofile", 1048576), ("nproc", 32768)]
    assert body["HostConfig"]["Memory"] == 128 * 1024 * 1024


def _podman_case(code: int, seen: list[dict], memory: int = 0):
    import msgspec.structs

    from tests.unit.conftest import fixture, observe

    def mutate(rec):
        rec["inspect"]["State"].update(ExitCode=code, OOMKilled=False, Status="exited", Running=False)
        rec["inspect"].setdefault("HostConfig", {})["Memory"] = memory
        rec["events"] = {"seen": [dict(e, time=(i + 1) * 1_000_000_000) for i, e in enumerate(seen)]}
    obs, host = observe(fixture("stop-timeout"), mutate)
    return obs, msgspec.structs.replace(host, engine="Podman")


@pytest.mark.parametrize("code,seen,memory,top,signals", [
    # `podman stop` past its timeout: a start and a die, no kill, no stop (Podman records none): likely, not proven
    (137, [{"action": "start"}, {"action": "die", "exit_code": 137}], 0, "stop-timeout",
     {"sigkill_unexplained": True, "stopped_on_purpose": False}),
    # the same with a memory limit: Podman 4.3 on cgroup v1 flags no OOM kill either: not called a stop timeout
    (137, [{"action": "start"}, {"action": "die", "exit_code": 137}], 24 << 20, "crashed",
     {"sigkill_unexplained": False, "oom_event": False}),
    # ... or with the `stop` Podman records at times (after the SIGKILL, no kill events): likely as well
    (137, [{"action": "start"}, {"action": "stop"}, {"action": "die", "exit_code": 137}], 24 << 20, "stop-timeout",
     {"sigkill_unexplained": True, "stopped_on_purpose": False}),
    # a stop it recorded, of an app that obeyed SIGTERM: on purpose
    (143, [{"action": "start"}, {"action": "stop"}, {"action": "die", "exit_code": 143}], 0, None,
     {"stopped_on_purpose": True}),
    # `podman kill`: a kill event (with no signal attribute): on purpose
    (137, [{"action": "start"}, {"action": "kill"}, {"action": "die", "exit_code": 137}], 0, None,
     {"stopped_on_purpose": True}),
])
def test_podmans_event_history_is_read_for_what_it_records(catalog, code, seen, memory, top, signals):
    from troubleshoot.core.diagnose import diagnose_container
    from troubleshoot.core.signals import container_signals
    obs, host = _podman_case(code, seen, memory)
    values = container_signals(obs, host)
    for key, want in signals.items():
        assert values[key] == want, (key, values[key])
    incidents = [f for f in diagnose_container(obs, host, catalog) if f.kind == "incident"]
    assert (incidents[0].playbook_id if incidents else None) == top
    said = " ".join(values["events"])
    silent = not any(e["action"] in ("kill", "stop") for e in seen)
    assert ("Podman records a stop only at times" in said) == silent
    assert ("OOM kill that Podman did not flag" in said) == (silent and bool(memory))


def test_a_podman_socket_that_stopped_answering_is_explained_as_podman():
    from troubleshoot.daemon import Endpoint, explain
    for source in ("CONTAINER_HOST", "Podman's rootless socket", "Podman's rootful socket"):
        line = explain(ConnectionRefusedError(111, "Connection refused"), Endpoint("unix:///x/podman.sock", source))
        assert line.startswith(f"cannot use Podman's API at unix:///x/podman.sock (from {source})")
        assert "podman system service" in line and "dockerd" not in line
    line = explain(FileNotFoundError(2, "No such file or directory"), Endpoint("unix:///nope/docker.sock", "default"))
    assert "dockerd" in line and "podman.socket" in line
