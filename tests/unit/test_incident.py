"""The incident record (core/incident.py, incidents.py) on facts recorded from the engine: masking at the moment an
event is made, a record cut by a killed process, resuming, and the RCA in the seed's form."""
import json
from datetime import datetime, timedelta, timezone

from tests.unit.conftest import fixture, observe
from troubleshoot.core.diagnose import diagnose_container
from troubleshoot.core.incident import (Incident, known_secrets, note_event, opened_event, recheck_event, render_rca,
                                        step_event)
from troubleshoot.incidents import IncidentLog, latest_for, open_for

T0 = datetime(2026, 11, 23, 3, 10, tzinfo=timezone.utc)
SECRET = "hunter2-prod-9"


def oom_with_secret():
    def add_secret(rec):
        rec["inspect"]["Config"]["Env"].append(f"DB_PASSWORD={SECRET}")
        rec["logs"] = [f"connecting with {SECRET}", "loading cache"]
    return observe(fixture("oom-killed"), add_secret)


def test_events_mask_the_containers_own_secrets(catalog):
    obs, host = oom_with_secret()
    found = diagnose_container(obs, host, catalog)
    secrets = known_secrets(obs)
    assert secrets == (SECRET,)
    events = [opened_event(obs, found[0], found, T0, "unix:///var/run/docker.sock"),
              step_event(T0, "diagnose", 2, "Read the logs", f"docker logs {obs.container.name}", 0,
                         [f"connecting with {SECRET}", "token ghp_" + "a" * 36], secrets),
              note_event(T0, f"password   was {SECRET}\n", secrets)]
    text = json.dumps(events)
    assert SECRET not in text and "ghp_" + "a" * 36 not in text
    assert events[2]["text"].startswith("password was ")  # one line


def test_a_record_cut_by_a_killed_process_keeps_every_whole_event(tmp_path, catalog):
    obs, host = oom_with_secret()
    found = diagnose_container(obs, host, catalog)
    log = IncidentLog(tmp_path / "i.jsonl")
    log.append(opened_event(obs, found[0], found, T0, "x"))
    log.append(note_event(T0, "first note", ()))
    with open(log.path, "a") as f:
        f.write('{"at": "2026-11-23T03:11:00Z", "kind": "no')  # the write the kill interrupted
    assert [e["kind"] for e in log.read().events] == ["opened", "note"]


def test_opening_the_same_container_again_resumes_its_incident(tmp_path, catalog):
    obs, host = oom_with_secret()
    found = diagnose_container(obs, host, catalog)
    log, resumed = open_for(obs.container.name, obs.container.id, now=T0, directory=tmp_path)
    assert not resumed
    log.append(opened_event(obs, found[0], found, T0, "x"))
    again, resumed = open_for(obs.container.name, obs.container.id, now=T0 + timedelta(hours=1), directory=tmp_path)
    assert resumed and again.path == log.path
    later, resumed = open_for(obs.container.name, obs.container.id, now=T0 + timedelta(hours=13), directory=tmp_path)
    assert not resumed and later.path != log.path
    assert latest_for(obs.container.name, tmp_path).path == log.path
    assert latest_for(obs.container.id[:12], tmp_path).path == log.path


def test_rca_has_the_seed_sections_evidence_steps_fix_and_no_secret(catalog):
    obs, host = oom_with_secret()
    found = diagnose_container(obs, host, catalog)
    secrets = known_secrets(obs)
    name = obs.container.name
    incident = Incident([
        opened_event(obs, found[0], found, T0, "unix:///var/run/docker.sock"),
        step_event(T0, "diagnose", 1, "Confirm the OOM kill and the limit", f"docker inspect {name}", 0,
                   ["OOMKilled=true ExitCode=137 Memory=25165824"], secrets),
        note_event(T0 + timedelta(minutes=2), f"raised the limit after talking to the team ({SECRET})", secrets),
        step_event(T0 + timedelta(minutes=3), "fix", 4, "Give it a memory limit", f"docker update --memory=512m {name}",
                   0, [name], secrets, confirmed=True),
        recheck_event(T0 + timedelta(minutes=5), "oom-killed", False, []),
    ])
    rca = render_rca(incident, catalog)
    order = ["## Incident", "**Time:** 2026-11-23 03:10:00 UTC", "**Service:**", "**Impact:**",
             "## Step-by-step troubleshooting", "State.OOMKilled=true", "**Step 1: Confirm the OOM kill",
             "OOMKilled=true ExitCode=137", "**Step 2: note**", "## Root Cause Analysis (RCA)", "**Final RCA:**",
             "## Fix Applied", f"1. Give it a memory limit: `docker update --memory=512m {name}`", "Verified at 03:15:00", "## Preventive Actions",
             "## Lesson", "## Timeline"]
    positions = [rca.find(s) for s in order]
    assert -1 not in positions, [s for s, p in zip(order, positions) if p < 0]
    assert positions == sorted(positions), "sections out of the seed's order"
    assert "exited with code 137 (OOMKilled" in rca
    assert SECRET not in rca
