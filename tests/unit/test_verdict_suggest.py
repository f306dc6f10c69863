"""Verify's verdict (core/verdict.py) and the values a fix dialog suggests (core/suggest.py), on recorded fixtures."""
from datetime import timedelta

import msgspec.structs
import pytest

from troubleshoot.core.diagnose import diagnose_container
from troubleshoot.core.signals import container_signals
from troubleshoot.core.suggest import suggestions
from troubleshoot.core.verdict import verdict
from tests.unit.conftest import fixture, observe


def _judge(catalog, name, mutate=None, since=None, seconds_later=60.0):
    obs, host = observe(fixture(name), mutate)
    found = diagnose_container(obs, host, catalog)
    start = obs.container.started_at
    now = (start or since) + timedelta(seconds=seconds_later)
    return verdict(catalog.get(name), obs, found, now, since)


def test_still_found_fails_and_names_the_evidence(catalog):
    v = _judge(catalog, "oom-killed")
    assert v.status == "fail" and v.reasons[0].startswith("oom-killed still found")


def _running(rec):
    rec["inspect"]["State"].update(Status="running", Running=True, ExitCode=0, OOMKilled=False)


@pytest.mark.parametrize("name, mutate, seconds, status, says", [
    ("no-memory-limit", lambda r: r["inspect"]["HostConfig"].update(Memory=64 * 1024 * 1024), 60, "pass", "healthy"),
    ("no-memory-limit", lambda r: r["inspect"]["HostConfig"].update(Memory=64 * 1024 * 1024), 1, "settling", "of the 5 s"),
    ("no-memory-limit", lambda r: (r["inspect"]["HostConfig"].update(Memory=64 * 1024 * 1024),
                                   r["inspect"]["State"]["Health"].update(Status="starting")), 60, "settling", "not passed"),
    ("no-memory-limit", lambda r: (r["inspect"]["HostConfig"].update(Memory=64 * 1024 * 1024),
                                   r["inspect"]["State"]["Health"].update(Status="unhealthy")), 60, "fail", "health check"),
    ("no-memory-limit", lambda r: (r["inspect"]["HostConfig"].update(Memory=64 * 1024 * 1024),
                                   r["inspect"]["State"].update(Status="exited", Running=False, ExitCode=1)),
     60, "fail", "exited with code 1"),
])
def test_the_verdict_table(catalog, name, mutate, seconds, status, says):
    v = _judge(catalog, name, mutate, seconds_later=seconds)
    assert v.status == status and says in v.line, v


def test_a_stop_in_time_is_done_for_stop_timeout(catalog):
    def stopped_clean(rec):
        rec["inspect"]["State"].update(ExitCode=143)
        rec.pop("events", None)
    v = _judge(catalog, "stop-timeout", stopped_clean)
    assert v.status == "pass" and "counts as done" in v.line


@pytest.mark.parametrize("name, key, value", [
    ("oom-killed", "memory", "256m"),  # 4x its 24 MB, at least 256m
    ("shm-exhausted", "shm_size", "64m"),
    ("pids-limit", "pids", "256"),
    ("unbounded-logs", "log_max_size", "10m"),
    ("unhealthy-probe-broken", "health_cmd", "wget -q -O /dev/null http://127.0.0.1:8080/health || exit 1"),
])
def test_suggestions_from_the_evidence(name, key, value):
    obs, host = observe(fixture(f"variants/{name}" if name == "unhealthy-probe-broken" else name))
    got = suggestions(obs, host, container_signals(obs, host))
    assert got[key].value == value and got[key].why, got.get(key)


def test_a_missing_host_variable_is_suggested_from_the_container_that_answers_there():
    obs, host = observe(fixture("localhost-dependency"))
    sig = container_signals(obs, host)
    sig = {**sig, "missing_env": ["DB_HOST"]}
    got = suggestions(obs, host, sig)
    value = got["env_value"].value  # DB_HOST -> "db": the database container answers to its name on their network
    assert value.endswith("localhost-dependency-db") and f"answers to {value}" in got["env_value"].why


def test_no_evidence_no_suggestion():
    obs, host = observe(fixture("oom-killed"))
    obs = msgspec.structs.replace(obs, peers=None)
    got = suggestions(obs, host, container_signals(obs, host))
    assert "env_value" not in got and "command" not in got
