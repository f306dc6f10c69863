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
             "OOMKilled=true ExitCode=137", "**Note** (03:12:00): raised the limit",
             "**Step 4: Give it a memory limit**", "## Root Cause Analysis (RCA)", "**Final RCA:**",
             "## Fix Applied", f"1. Give it a memory limit: `docker update --memory=512m {name}` (step 4, 03:13:00): verified at 03:15:00",
             "Verified at 03:15:00", "## Preventive Actions",
             "## Lesson", "## Timeline"]
    positions = [rca.find(s) for s in order]
    assert -1 not in positions, [s for s, p in zip(order, positions) if p < 0]
    assert positions == sorted(positions), "sections out of the seed's order"
    assert "exited with code 137 (OOMKilled" in rca
    assert SECRET not in rca


HTML = "<img src=x onerror=alert(1)>"
LINK = "[click me](javascript:alert(1))"
FENCE = "```\n# not a heading\n```"
HOSTILE = f"{HTML} {LINK} `code` a|b\n# heading\n- item\n1. one {FENCE} ~~~ **bold** R&D"


def test_rca_escapes_everything_it_quotes(catalog):
    """A Compose service label, evidence, a step's title and output, a note and a re-check carrying HTML and
    Markdown: the RCA, rendered by a CommonMark parser, has no HTML tag, no link, no heading, list or emphasis but
    its own, and every step's output stays inside its code block however many backticks it holds."""
    from markdown_it import MarkdownIt

    def hostile_labels(rec):
        rec["inspect"]["Config"]["Labels"]["com.docker.compose.service"] = HOSTILE
    obs, host = observe(fixture("oom-killed"), hostile_labels)
    found = diagnose_container(obs, host, catalog)
    opened = opened_event(obs, found[0], found, T0, HOSTILE)
    opened["finding"]["evidence"].append(HOSTILE)
    opened["image"] = HTML
    incident = Incident([
        opened,
        step_event(T0, "diagnose", 1, HOSTILE, f"docker logs {obs.container.name}", 0,
                   ["ok", "`````", "````` # still output", HOSTILE], ()),
        note_event(T0, HOSTILE, ()),
        recheck_event(T0, HOSTILE, False, [HOSTILE]),
        step_event(T0, "fix", 2, "fix it", f"docker update `x` {HTML}", 0, [], (), confirmed=True),
    ])
    rca = render_rca(incident, catalog)
    html = MarkdownIt("commonmark").render(rca)  # raw HTML on: what a Markdown viewer would let through
    assert "<img" not in html and "<a " not in html and "javascript:alert" not in html.replace(
        "[click me](javascript:alert(1))", "")  # only as the visible text of the hostile string
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # shown, as text
    tokens = MarkdownIt("commonmark").parse(rca)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings[0].startswith("Incident: ")
    assert headings[1:] == ["Incident", "Step-by-step troubleshooting", "Root Cause Analysis (RCA)", "Fix Applied: none",
                            "Preventive Actions", "Lesson", "Notes", "Timeline"]  # only its own
    fences = [t for t in tokens if t.type == "fence"]
    assert len(fences) == 2  # one per step, none opened or closed by the output
    assert "`````\n````` # still output\n" in fences[0].content and HTML in fences[0].content
    assert fences[0].content.rstrip().endswith("(exit 0)")
    assert "<strong>bold</strong>" not in html and "<em>" not in html
    assert "<li>item" not in html and "<li>one" not in html
    assert html.count("a|b") >= 6  # shown as it is: service, evidence, title, output, note, re-check...


def test_report_finds_the_incident_for_the_services_new_container(tmp_path):
    """After `up -d SERVICE` the container has a new id: the incident is the service's container's (same name,
    same project and service), found for the new id too; a loose container of that name is not."""
    from troubleshoot.incidents import IncidentLog, latest_for
    labels = {"com.docker.compose.project": "pay", "com.docker.compose.service": "pay"}
    log = IncidentLog(tmp_path / "a.jsonl")
    log.append({"kind": "opened", "at": "2026-01-01T12:00:00+00:00", "container": "pay_pay_1", "container_id": "old1",
                "source": "s", "compose": labels})
    assert latest_for("pay_pay_1", tmp_path, source="s", container_id="new1") is None
    assert latest_for("pay_pay_1", tmp_path, source="s", container_id="new1", service=("pay", "pay")) is not None
    assert latest_for("pay_pay_1", tmp_path, source="s", container_id="new1", service=("shop", "pay")) is None
    assert latest_for("other", tmp_path, source="s", container_id="new1", service=("pay", "pay")) is None
    log.append({"kind": "followed", "at": "2026-01-01T12:01:00+00:00", "old_id": "old1", "new_id": "new2"})
    assert latest_for("pay_pay_1", tmp_path, source="s", container_id="new2") is not None  # the walkthrough's own
