"""Detection and ranking on inspect JSON recorded from the real engine (tests/record_fixtures.py)."""
import json

import pytest

from troubleshoot.core.diagnose import diagnose, diagnose_container
from troubleshoot.core.signals import container_signals
from tests.unit.conftest import FIXTURES, fixture, observe

INCIDENTS = sorted(p.stem for p in FIXTURES.glob("*.json") if p.stem != "control")


def test_every_container_playbook_has_a_recorded_incident(catalog):
    container_playbooks = {p.id for p in catalog if p.scope == "container"}
    assert set(INCIDENTS) == container_playbooks


@pytest.mark.parametrize("playbook", INCIDENTS)
def test_recorded_incident_ranks_its_playbook_first(catalog, playbook):
    obs, host = observe(fixture(playbook))
    found = diagnose_container(obs, host, catalog)
    assert found and found[0].playbook_id == playbook, [f.playbook_id for f in found]
    assert found[0].evidence


def test_control_has_no_critical_or_warning(catalog):
    obs, host = observe(fixture("control"))
    assert [f for f in diagnose_container(obs, host, catalog) if f.severity in ("critical", "warning")] == []


def test_oom_evidence_quotes_the_flag_and_the_limit(catalog):
    obs, host = observe(fixture("oom-killed"))
    top = diagnose_container(obs, host, catalog)[0]
    assert top.confidence == "certain"
    assert "State.OOMKilled=true" in top.evidence
    assert "State.ExitCode=137" in top.evidence
    assert any(e.startswith("HostConfig.Memory=25.2 MB") for e in top.evidence)


def test_exit_137_without_the_flag_is_a_sigkill_not_an_oom(catalog):
    def no_flag(rec):
        rec["inspect"]["State"]["OOMKilled"] = False
        rec.pop("events", None)
    obs, host = observe(fixture("oom-killed"), no_flag)
    found = diagnose_container(obs, host, catalog)
    assert "oom-killed" not in [f.playbook_id for f in found]  # no OOM evidence for this container: not claimed
    # no history either: a SIGKILL of unproven origin, most often a stop timeout: said as *likely*
    assert found[0].playbook_id == "stop-timeout" and found[0].confidence == "likely"
    assert "exit signal=SIGKILL (137 = 128+9, killed: not an OOM without OOM evidence)" in found[0].evidence
    assert not any("oom_kill" in e for e in found[0].evidence)  # the host's counter is never its evidence


def test_exit_137_with_an_oom_event_and_no_flag_is_a_likely_oom(catalog):
    def oom_event(rec):
        rec["inspect"]["State"]["OOMKilled"] = False
        rec["events"] = {"seen": [{"action": "start", "time": 1}, {"action": "oom", "time": 2},
                                  {"action": "die", "time": 3, "exit_code": 137}]}
    obs, host = observe(fixture("oom-killed"), oom_event)
    top = diagnose_container(obs, host, catalog)[0]
    assert (top.playbook_id, top.confidence) == ("oom-killed", "likely")
    assert "oom event=true" in top.evidence and "State.ExitCode=137" in top.evidence


def test_missing_env_names_the_variable_and_shows_it_absent(catalog):
    obs, host = observe(fixture("missing-env"))
    signals = container_signals(obs, host)
    assert signals["missing_env"] == ["DB_HOST"]
    assert "APP_PORT" in signals["env_keys"] and "DB_HOST" not in signals["env_keys"]
    top = diagnose_container(obs, host, catalog)[0]
    assert "named in logs but not in Config.Env: DB_HOST" in top.evidence
    assert any(e.startswith("Config.Env keys:") and "APP_PORT" in e for e in top.evidence)


def test_localhost_refused_without_a_named_variable_is_a_likely_missing_env(catalog):
    def refused(rec):
        rec["logs"] = ["Error: connect ECONNREFUSED 127.0.0.1:5432"]
    obs, host = observe(fixture("missing-env"), refused)
    top = diagnose_container(obs, host, catalog)[0]
    assert (top.playbook_id, top.confidence) == ("missing-env", "likely")
    assert "log: Error: connect ECONNREFUSED 127.0.0.1:5432" in top.evidence


def test_root_cause_outranks_the_restart_loop_it_causes(catalog):
    def looping(rec):
        rec["inspect"]["RestartCount"] = 7
        rec["inspect"]["State"]["Status"] = "restarting"
        rec["inspect"]["State"]["Restarting"] = True
    obs, host = observe(fixture("missing-env"), looping)
    ids = [f.playbook_id for f in diagnose_container(obs, host, catalog)]
    assert ids.index("missing-env") < ids.index("restart-loop")


def test_generic_crash_only_when_nothing_specific_explains_it(catalog):
    obs, host = observe(fixture("crashed"))
    assert [f.playbook_id for f in diagnose_container(obs, host, catalog)][0] == "crashed"
    obs, host = observe(fixture("missing-library"))
    assert "crashed" not in [f.playbook_id for f in diagnose_container(obs, host, catalog)]


def test_incident_outranks_preventive_warning(catalog):
    obs, host = observe(fixture("restart-loop"), lambda r: r["inspect"]["HostConfig"].update(Memory=0))
    ids = [f.playbook_id for f in diagnose_container(obs, host, catalog)]
    assert ids[0] == "restart-loop" and "no-memory-limit" in ids[1:]


def test_image_drift_shows_both_ids_and_times(catalog):
    obs, host = observe(fixture("image-drift"))
    top = diagnose_container(obs, host, catalog)[0]
    running = obs.container.image_id.removeprefix("sha256:")[:12]
    now = obs.tag_image.id.removeprefix("sha256:")[:12]
    assert running != now
    assert f"Image={running}" in top.evidence
    assert f"tag now points to={now}" in top.evidence
    assert any(e.startswith("running image created=") for e in top.evidence)
    assert any(e.startswith("tagged image created=") for e in top.evidence)


def test_arch_mismatch_compares_image_and_host(catalog):
    obs, host = observe(fixture("arch-mismatch"))
    top = diagnose_container(obs, host, catalog)[0]
    assert "Image.Architecture=arm64/v8" in top.evidence
    assert "host architecture=amd64" in top.evidence


def test_secret_values_never_appear_in_findings(catalog):
    doc = fixture("secrets-in-image")
    obs, host = observe(doc)
    report = diagnose([obs], host, catalog)
    text = json.dumps([f.to_json() for f in report.findings])
    assert "tok_live_7f3a9c2b1e" not in text
    assert "API_TOKEN=to****(19 chars)" in text
    assert "/app/.env" in text
    assert "api.internal" not in text  # API_HOST is not a secret and not reported


def test_image_too_large_names_its_big_layer(catalog):
    obs, host = observe(fixture("image-too-large"))
    top = diagnose_container(obs, host, catalog)[0]
    assert any("1.2 GB" in e and "dd if=/dev/zero" in e for e in top.evidence), top.evidence


def test_ignore_label_silences_a_playbook(catalog):
    obs, host = observe(fixture("no-healthcheck"),
                        lambda r: r["inspect"]["Config"]["Labels"].update({"troubleshoot.ignore": "no-healthcheck"}))
    assert "no-healthcheck" not in [f.playbook_id for f in diagnose_container(obs, host, catalog)]


def test_report_orders_containers_worst_first(catalog):
    obs = [observe(fixture(n))[0] for n in ("control", "no-healthcheck", "oom-killed")]
    host = observe(fixture("control"))[1]
    report = diagnose(obs, host, catalog)
    assert [o.container.name for o in report.observations] == ["tst-oom-killed", "tst-no-healthcheck", "tst-control"]
    assert report.has_problems


def test_host_pressure_findings(catalog):
    doc = fixture("control")
    low = dict(doc["host"], local=dict(doc["host"]["local"], mem_available=doc["host"]["local"]["mem_total"] // 20,
                                       disk_free=10 ** 9))
    from troubleshoot.boundary import fixture_host
    from troubleshoot.core.records import host_from_record
    report = diagnose([], host_from_record(fixture_host(low)), catalog)
    assert {f.playbook_id for f in report.host_findings} == {"host-memory-pressure", "host-disk-pressure"}
    assert all(f.container is None for f in report.host_findings)
    report = diagnose([], host_from_record(fixture_host(doc["host"])), catalog)
    assert report.host_findings == []


@pytest.mark.parametrize("line, names", [
    ("Error: DB_HOST is not set. Database connection failed", ["DB_HOST"]),
    ("KeyError: 'SECRET'", ["SECRET"]),
    ("TypeError: process.env.PORT is undefined", ["PORT"]),
    ('missing required environment variable "REDIS"', ["REDIS"]),
    ("POST /orders -> 500: Missing method error: OrderService.createV2", []),  # POST is not a variable
    ("ERROR: APP_PORT is required", []),  # present in the env
    ("connected to DB_HOST fine", []),  # no complaint on the line
])
def test_missing_env_log_shapes(line, names):
    from troubleshoot.core.detectors.env import detect
    obs, host = observe(fixture("missing-env"), lambda r: r.update(logs=[line]))
    assert detect(obs, host)["missing_env"] == names
