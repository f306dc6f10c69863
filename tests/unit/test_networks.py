"""Networks, names and dependencies, and broken health probes: on records recorded from the engine
(tests/record_fixtures.py: the container and the containers it dials), and the log tables row by row."""
import pytest

from tests.unit.conftest import FIXTURES, fixture, observe
from troubleshoot.core.detectors.env import MISSING_CONFIG
from troubleshoot.core.diagnose import diagnose_container
from troubleshoot.core.netlogs import REFUSED, UNKNOWN_HOST, env_hosts, refused_targets, says_unknown_host, unknown_hosts
from troubleshoot.core.signals import container_signals


def variant(name: str) -> dict:
    import json
    return json.loads((FIXTURES / "variants" / f"{name}.json").read_text())


@pytest.mark.parametrize("playbook, signal, says", [
    ("name-resolution", "name_unresolved", ["orders-db is container tst-name-resolution-db on tst-name-resolution-back",
                                            "this container is on tst-name-resolution-front"]),
    ("localhost-dependency", "localhost_dependency", ["DB_HOST names localhost:5432",
                                                      "container tst-localhost-dependency-db exposes 5432",
                                                      "postgres on tst-localhost-dependency-net"]),
    ("dependency-not-ready", "dependency_not_ready", ["is container tst-dependency-not-ready-db: health starting"]),
])
def test_recorded_dependency_incident_names_both_sides(catalog, playbook, signal, says):
    obs, host = observe(fixture(playbook))
    values = container_signals(obs, host)
    text = " | ".join(values[signal])
    prefix = obs.container.name.removesuffix(playbook)
    for part in says:
        assert part.replace("tst-", prefix) in text, text
    top = diagnose_container(obs, host, catalog)[0]
    assert (top.playbook_id, top.confidence) == (playbook, "certain")
    assert any(part.replace("tst-", prefix) in " ".join(top.evidence) for part in says)


def test_name_resolution_fills_the_fix_with_the_peer_network(catalog):
    from troubleshoot.core.commands import placeholder_values, render
    obs, host = observe(fixture("name-resolution"))
    values = placeholder_values(obs, host, container_signals(obs, host))
    fix = catalog.get("name-resolution").fix[0]
    assert render(fix, values) == ["docker", "network", "connect", values["peer_network"], obs.container.name]
    assert values["peer_network"].endswith("name-resolution-back") and values["peer_host"] == "orders-db"


def test_localhost_dependency_fix_names_the_variable_and_the_service(catalog):
    from troubleshoot.core.commands import placeholder_values, render_changes
    obs, host = observe(fixture("localhost-dependency"))
    changes = dict(render_changes(catalog.get("localhost-dependency").fix[0],
                                  placeholder_values(obs, host, container_signals(obs, host))))
    assert changes["env"] == "DB_HOST=postgres" and changes["network"].endswith("localhost-dependency-net")


def test_without_the_scan_index_nothing_is_claimed(catalog):
    """A container seen alone (no peers): the unknown host stays a likely name-resolution, never certain."""
    from msgspec.structs import replace
    obs, host = observe(fixture("name-resolution"))
    top = diagnose_container(replace(obs, peers=None), host, catalog)[0]
    assert (top.playbook_id, top.confidence) == ("name-resolution", "likely")


def test_same_network_is_not_a_name_problem(catalog):
    """Both on one user-defined network where the peer answers to the name: resolvable, so nothing is claimed."""
    doc = fixture("name-resolution")

    def join(rec):
        nets = rec["inspect"]["NetworkSettings"]["Networks"]
        nets.update(doc["peers"][0]["inspect"]["NetworkSettings"]["Networks"])
    obs, host = observe(doc, join)
    assert container_signals(obs, host)["name_unresolved"] == []


def test_dependency_ready_before_the_failure_is_not_blamed(catalog):
    doc = dict(fixture("dependency-not-ready"))
    peer = __import__("copy").deepcopy(doc["peers"][0])
    peer["inspect"]["State"]["Health"] = {"Status": "healthy", "FailingStreak": 0, "Log": []}
    peer["inspect"]["State"]["StartedAt"] = "2000-01-01T00:00:00Z"
    obs, host = observe({**doc, "peers": [peer]})
    assert container_signals(obs, host)["dependency_not_ready"] == []


def test_broken_probe_is_told_from_an_app_that_does_not_answer(catalog):
    obs, host = observe(variant("unhealthy-probe-broken"))
    values = container_signals(obs, host)
    assert values["probe_broken"] == "curl: not found in the image (probe exit 1)"  # `curl ... || exit 1`
    top = diagnose_container(obs, host, catalog)[0]
    assert top.playbook_id == "unhealthy" and "probe broken=curl: not found in the image (probe exit 1)" in top.evidence
    obs, host = observe(fixture("unhealthy"))
    assert container_signals(obs, host)["probe_broken"] == ""


@pytest.mark.parametrize("output, reason", [
    ("/bin/sh: curl: not found", "curl: not found in the image (probe exit 127)"),
    ("/bin/sh: line 1: wget: command not found", "wget: not found in the image (probe exit 127)"),
    ('OCI runtime exec failed: exec failed: unable to start container process: exec: "curl": executable file not '
     'found in $PATH: unknown', "curl: not found in the image (probe exit 127)"),
    ("Health check exceeded timeout (3s)", "the probe timed out: Health check exceeded timeout (3s)"),
    ("GET /health: connection refused", ""),
])
def test_probe_broken_shapes(output, reason):
    from troubleshoot.core.detectors.health import probe_broken
    from troubleshoot.core.facts import HealthProbe
    code = -1 if "timeout" in output else (127 if "found" in output else 1)
    assert probe_broken((HealthProbe(code, output, None),)) == reason


@pytest.mark.parametrize("sig", UNKNOWN_HOST, ids=lambda s: f"{s.source}: {s.example[:40]}")
def test_unknown_host_signature(sig):
    """One row per runtime and message: its example is recognised, and the host it names is read."""
    assert says_unknown_host([sig.example]) == [sig.example]
    named = sig.pattern.search(sig.example).groupdict().get("host")
    assert unknown_hosts([sig.example]) == ([named] if named else [])
    assert named in (None, "db", "redis", "api", "cache")


@pytest.mark.parametrize("sig", REFUSED, ids=lambda s: f"{s.source}")
def test_refused_signature(sig):
    host, port, _line = refused_targets([sig.example])[0]
    assert host in ("db", "172.18.0.2") and port in ("", "5432")


@pytest.mark.parametrize("fw, example, name", [(fw, ex, None) for fw, ex, _p in MISSING_CONFIG],
                         ids=[f"{fw}: {ex[:40]}" for fw, ex, _p in MISSING_CONFIG])
def test_missing_config_signature(fw, example, name):
    from troubleshoot.core.detectors.env import detect
    obs, host = observe(fixture("missing-env"), lambda r: r.update(logs=[example]))
    found = detect(obs, host)["missing_env"]
    assert len(found) == 1 and found[0] in example, (fw, found)


@pytest.mark.parametrize("line, names", [
    ("Could not resolve placeholder 'spring.datasource.url' in value \"${spring.datasource.url}\"",
     ["SPRING_DATASOURCE_URL"]),
    ("envconfig: required key APP_PORT missing value", []),  # present in the env
    ("Undefined array key \"TRACE\"", []),  # a log level word, never a variable
])
def test_missing_config_names(line, names):
    from troubleshoot.core.detectors.env import detect
    obs, host = observe(fixture("missing-env"), lambda r: r.update(logs=[line]))
    assert detect(obs, host)["missing_env"] == names


@pytest.mark.parametrize("env, found", [
    ((("DB_HOST", "db"),), [("DB_HOST", "db", "")]),
    ((("REDIS_URL", "redis://cache:6379/0"),), [("REDIS_URL", "cache", "6379")]),
    ((("DATABASE_URL", "postgres://app:secret@db:5432/app"),), [("DATABASE_URL", "db", "5432")]),
    ((("DATABASE_URL", "po****(30 chars)"),), []),  # masked: names nothing
    ((("API_HOST", "api.internal:8443"),), [("API_HOST", "api.internal", "8443")]),
    ((("LOG_LEVEL", "debug"),), []),
])
def test_env_hosts(env, found):
    assert env_hosts(env) == found


def test_the_peers_container_name_does_not_resolve_on_a_network_it_is_not_on(catalog):
    """Dialled by its container name (not an alias) from another network: Docker's resolver answers a container's
    name only on its own networks, so this is a certain name-resolution naming the peer and its network (a trial
    found the name counted as resolvable everywhere, which made it a mere *likely* with the peer unfilled)."""
    doc = fixture("name-resolution")
    peer = doc["peers"][0]["inspect"]["Name"].lstrip("/")

    def by_name(rec):
        rec["logs"] = [line.replace("orders-db", peer) for line in rec["logs"]]
        rec["inspect"]["Config"]["Env"] = [e.replace("orders-db", peer) for e in rec["inspect"]["Config"]["Env"]]
    obs, host = observe(doc, by_name)
    top = diagnose_container(obs, host, catalog)[0]
    assert (top.playbook_id, top.confidence) == ("name-resolution", "certain"), top
    assert any(peer in e and "name-resolution-back" in e for e in top.evidence), top.evidence


def stranger(peer: dict, name: str, env: tuple[str, ...] = ()) -> dict:
    """A container of another stack on the same daemon, made from `peer`'s record: the same base image, aliases and
    exposed ports, on a network of its own, in another lab instance (as another test worker's lab, or another
    team's stack using the same names)."""
    import copy
    rec = copy.deepcopy(peer)
    i = rec["inspect"]
    i["Id"] = "f" * 64
    i["Name"] = f"/{name}"
    i["Config"]["Labels"] = {**i["Config"]["Labels"], "troubleshoot.lab.instance": "someone-else"}
    i["Config"]["Env"] = [*i["Config"].get("Env", []), *env]
    nets = i["NetworkSettings"]["Networks"]
    endpoint = next(iter(nets.values()))
    i["NetworkSettings"]["Networks"] = {f"{name}-net": {**endpoint, "IPAddress": "10.99.0.2"}}
    return rec


@pytest.mark.parametrize("playbook, signal", [
    ("name-resolution", "unresolved_peer"),  # its orders-db is on another network: a stranger's orders-db is too
    ("localhost-dependency", "localhost_peer"),  # a stranger exposes 5432 as well
])
def test_the_peer_of_a_finding_is_its_own_stacks_not_a_strangers_with_the_same_name(catalog, playbook, signal):
    """Seen with parallel test workers on one daemon: a fix suggested from another worker's container."""
    doc = fixture(playbook)
    own = observe(doc)[0]
    other = stranger(doc["peers"][0], "zz-other-stack-db")
    obs, host = observe({**doc, "peers": [other, *doc["peers"]]})  # the stranger comes first in the scan
    values = container_signals(obs, host)
    assert values[signal] == container_signals(own, observe(doc)[1])[signal] != "zz-other-stack-db"
    assert diagnose_container(obs, host, catalog)[0].playbook_id == playbook


def test_a_variable_is_not_suggested_from_a_stranger_on_the_same_base_image(catalog):
    """missing-env: a container of another stack runs the same base image with DB_HOST set; that is not a sibling of
    this app (a replica would be deployed with it: same network or project), so its value is not suggested."""
    from troubleshoot.core.suggest import suggestions
    doc = fixture("missing-env")
    app = doc["record"]
    other = stranger({"inspect": app["inspect"], "image": app.get("image")}, "zz-other-app", ("DB_HOST=inventory-db",))
    obs, host = observe({**doc, "peers": [other, *doc["peers"]]})
    got = suggestions(obs, host, container_signals(obs, host)).get("env_value")
    assert got is not None and got.value == "orders-db", got
    # a replica on its own network is a sibling: its value is suggested
    replica = stranger({"inspect": app["inspect"], "image": app.get("image")}, "zz-replica", ("DB_HOST=db-replica",))
    replica["inspect"]["NetworkSettings"]["Networks"] = app["inspect"]["NetworkSettings"]["Networks"]
    replica["inspect"]["Config"]["Labels"] = app["inspect"]["Config"]["Labels"]
    obs, host = observe({**doc, "peers": [replica, *doc["peers"]]})
    got = suggestions(obs, host, container_signals(obs, host)).get("env_value")
    assert got is not None and got.value == "db-replica", got
