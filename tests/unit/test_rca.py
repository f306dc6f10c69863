"""The RCA is the incident's (issue 12, item 4): a root cause written from this incident's evidence by each playbook's
`cause:` templates, fixes listed as applied only when verified, steps numbered as shown, notes as notes, and records
keyed by container id and data source. On facts recorded from the engine (tests/fixtures)."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from markdown_it import MarkdownIt

from tests.unit.conftest import FIXTURES, fixture, observe
from troubleshoot.core.diagnose import diagnose_container
from troubleshoot.core.incident import (Incident, evidence_values, md_text, note_event, opened_event, recheck_event,
                                        render_rca, root_cause_event, step_event, written_cause)
from troubleshoot.core.playbooks import load_catalog, load_text
from troubleshoot.core.signals import container_signals, host_signals
from troubleshoot.incidents import IncidentLog, latest_for, open_for

T0 = datetime(2026, 11, 23, 3, 10, tzinfo=timezone.utc)
LEFT = re.compile(r"\{[a-z_][a-z0-9_]*\}")

# What each playbook's written cause must name from its recorded evidence (beyond the container's name).
NAMES = {
    "arch-mismatch": ["arm64/v8", "amd64", "exec format error"], "bind-mount-mismatch": ["bind-mount-mismatch/config.json"],
    "command-not-found": ["node server.js", "exit 127"], "cpu-throttled": ["0.10 CPUs", "59.4%"],
    "crashed": ["code 3", "unexpected reply from ledger service"],
    "dependency-not-ready": ["dependency-not-ready-db", "cannot reach the database"],
    "disk-full": ["/data", "No space left"], "entrypoint-interpreter": ["/entrypoint.sh", "CRLF"],
    "exits-immediately": ["httpd -p 8080 -h /www", "exit 0"], "fd-limit": ["32 open of 32"],
    "image-drift": ["tst-order-service:latest", "41e9ea5b7213"], "image-too-large": ["1.2 GB", "toolchain.bin"],
    "listens-on-localhost": ["127.0.0.1:8080", "43929"], "localhost-dependency": ["`DB_HOST`", "localhost-dependency-db"],
    "memory-near-limit": ["38.4 MB", "41.9 MB", "39.6 MB"], "missing-env": ["`DB_HOST`", "APP_PORT"],
    "missing-library": ["libtsorders.so.1"], "mutable-tag": ["tst-mutable", "59584aa0322a"],
    "name-resolution": ["orders-db", "tnw-name-resolution-back"], "no-healthcheck": ["no health check"],
    "no-memory-limit": ["without a memory limit", "24.8 GB"], "oom-killed": ["25.2 MB memory limit", "exit 137"],
    "permission-denied": ["4242:4242", "/data/state.json", "lab-mounts/tests-tfl/permission-denied"],
    "pids-limit": ["7 of 8", "can't fork"], "port-conflict": ["127.0.0.1:50287"],
    "published-port-unused": ["53887->8080", "0.0.0.0:9090"], "read-only-filesystem": ["/data", "Read-only"],
    "restart-loop": ["exit 2", "panic: worker pool exhausted", "3 times"],
    "secrets-in-image": ["API_TOKEN=to****", "/app/.env"], "segfault": ["SIGSEGV", "decoding frame 42"],
    "shm-exhausted": ["1.0 MB", "/dev/shm/segment"], "stop-timeout": ["2.0s", "SIGKILL", "exit 137"],
    "unbounded-logs": ["59.9 MB", "json-file"], "unhealthy": ["127.0.0.1:8081/health", "Connection refused", "2 failures"],
    "zombie-processes": ["`sleep`", "10 zombies"],
}
CONTAINER_FIXTURES = sorted(p.stem for p in FIXTURES.glob("*.json") if p.stem != "control")


@pytest.fixture(scope="module")
def cat():
    c = load_catalog()
    assert not c.errors
    return c


def cause_of(cat, name, mutate=None):
    obs, host = observe(fixture(name), mutate)
    values = evidence_values(obs, host, container_signals(obs, host))
    return obs, host, values, written_cause(cat.get(name), values)


def test_every_shipped_playbook_has_a_cause_and_every_container_one_is_tested(cat):
    assert len(cat) == 37 and all(pb.cause for pb in cat)
    assert sorted(NAMES) == CONTAINER_FIXTURES


@pytest.mark.parametrize("name", CONTAINER_FIXTURES)
def test_the_written_cause_names_this_incidents_evidence(cat, name):
    obs, _, _, cause = cause_of(cat, name)
    pb = cat.get(name)
    assert cause not in pb.root_cause  # written from the evidence, not the playbook's general words
    assert not LEFT.search(cause), cause  # never a `{...}` left
    for word in NAMES[name]:
        assert word in cause, (word, cause)
    assert obs.container.name in cause or obs.container.image_ref in cause


@pytest.mark.parametrize("name, words", [("host-disk-pressure", ["/var/lib/docker", "% free"]),
                                         ("host-memory-pressure", ["GB", "memory available"])])
def test_host_playbooks_write_their_cause_from_host_signals(cat, name, words):
    _, host = observe(fixture("oom-killed"))
    values = evidence_values(None, host, host_signals(host))
    cause = written_cause(cat.get(name), values)
    assert cause not in cat.get(name).root_cause and not LEFT.search(cause)
    assert all(w in cause for w in words), cause


def test_port_conflict_names_the_container_holding_the_port_when_it_is_known(cat):
    obs, _, values, cause = cause_of(cat, "port-conflict")
    assert "held by" not in cause  # not known in this record: no guess
    cause = written_cause(cat.get("port-conflict"), {**values, "port_holder": "old-web"})
    assert cause.startswith("Host port 127.0.0.1:50287 is held by old-web, so tst-port-conflict")


def test_a_missing_value_falls_to_the_next_template_then_to_the_root_cause(cat):
    def no_limit(rec):
        rec["inspect"]["HostConfig"]["Memory"] = 0
    _, _, _, cause = cause_of(cat, "oom-killed", no_limit)
    assert "without a memory limit of its own" in cause and "0 (none)" not in cause
    pb = cat.get("unhealthy")
    assert written_cause(pb, {"container": "web"}) == pb.root_cause[0]  # nothing else known: the general cause


def test_a_probe_that_cannot_run_is_the_cause_not_a_silent_crash(cat):
    def broken_probe(rec):
        for p in rec["inspect"]["State"]["Health"]["Log"]:
            p["ExitCode"], p["Output"] = 127, "/bin/sh: curl: not found"
    _, _, values, cause = cause_of(cat, "unhealthy", broken_probe)
    assert "itself cannot run: curl: not found" in cause and "crashed" not in cause


def test_a_cause_naming_an_unknown_value_does_not_load():
    text = (FIXTURES.parent.parent / "playbooks" / "oom-killed.yaml").read_text()
    pb, errors = load_text(text.replace("{memory_limit} memory limit (exit {exit_code}, OOMKilled);",
                                        "{memroy_limit} memory limit;"), "x.yaml")
    assert pb is None and errors[0].field == "cause[0]" and "{memroy_limit}" in errors[0].message


def test_values_cannot_close_a_code_span_and_playbook_code_stays_code():
    md = MarkdownIt("commonmark")
    html = md.render(md_text("`DB_HOST` is not set: see `a` and <b>x</b> **y** and an odd ` tick"))
    assert "<code>DB_HOST</code>" in html and "<code>a</code>" in html
    assert "<b>" not in html and "<strong>" not in html and "\\`" not in html and "` tick" in html


def incident_with(cat, *events, name="oom-killed"):
    obs, host, values, cause = cause_of(cat, name)
    found = diagnose_container(obs, host, cat)
    return obs, Incident([opened_event(obs, found[0], found, T0, "unix:///var/run/docker.sock", values, cause),
                          *events])


def at(minutes):
    return T0 + timedelta(minutes=minutes)


def section(rca, head, end):
    return rca.split(head, 1)[1].split(end, 1)[0]


def test_only_a_verified_fix_is_applied_failed_and_rolled_back_ones_are_not(cat):
    _, incident = incident_with(
        cat,
        step_event(at(1), "diagnose", 1, "Confirm the OOM kill", "docker inspect x", 0, ["ok"], ()),
        note_event(at(2), "paged the owner", ()),
        step_event(at(3), "fix", 4, "Raise the limit", "docker update --memory=bad x", 125, ["invalid size"], (),
                   confirmed=True),
        {**step_event(at(4), "fix", 5, "Recreate with 256m", "docker create ...", 0, [], (), confirmed=True),
         "action": "recreate", "old_id": "a" * 64, "new_id": "b" * 64},
        {"at": "2026-11-23T03:15:00Z", "kind": "verdict", "playbook": "oom-killed", "status": "fail",
         "reasons": ["still exited 137"]},
        {"at": "2026-11-23T03:16:00Z", "kind": "rollback", "restored_id": "a" * 64, "removed_id": "b" * 64,
         "exit_code": 0},
        step_event(at(7), "fix", 4, "Raise the limit", "docker update --memory=512m x", 0, [], (), confirmed=True),
        {"at": "2026-11-23T03:18:00Z", "kind": "verdict", "playbook": "oom-killed", "status": "settling",
         "reasons": ["running for 2s of 10s"]},
        {"at": "2026-11-23T03:19:00Z", "kind": "verdict", "playbook": "oom-killed", "status": "pass",
         "reasons": ["running", "no OOM kill"]},
    )
    rca = render_rca(incident, cat)
    steps = section(rca, "## Step-by-step troubleshooting", "## Root Cause Analysis")
    assert re.findall(r"\*\*Step (\d+):", steps) == ["1", "4", "5", "4"]  # as the engineer saw them
    assert "**Note** (03:12:00): paged the owner" in steps and "Step 2" not in steps
    assert "**Verdict** (03:15:00): `oom-killed` **fail**: still exited 137" in steps
    assert "**Rollback** (03:16:00): restored `aaaaaaaaaaaa`, removed `bbbbbbbbbbbb`, exit 0" in steps
    assert "recreated: old `aaaaaaaaaaaa` → new `bbbbbbbbbbbb`" in steps
    fix = section(rca, "## Fix Applied\n", "## Preventive Actions")
    applied = fix.split("**Tried", 1)[0]
    assert "docker update --memory=512m x" in applied and "verified at 03:19:00" in applied
    assert "--memory=bad" not in applied and "docker create" not in applied
    assert "**Tried (not verified):**" in fix and "rolled back at 03:16:00" in fix.split("**Tried", 1)[1]
    assert "**Failed:**" in fix and "exit 125" in fix.split("**Failed:**", 1)[1]
    assert "Verified at 03:19:00: `oom-killed` verdict **pass** (running; no OOM kill)." in fix
    assert "verified fixed at 2026-11-23 03:19:00 UTC" in rca


def test_a_fix_whose_verdict_failed_stays_unverified_when_a_later_fix_passes(cat):
    """From a trial: tmpfs 6 bytes (verify fails), then 64m (verify passes): only the second is applied; fixes run
    one after the other before a verdict (update, then start) are judged together."""
    _, incident = incident_with(
        cat,
        step_event(at(1), "fix", 4, "Recreate with a larger tmpfs", "recreate x: --tmpfs /cache:size=6", 0, [], (),
                   confirmed=True),
        {"at": "2026-11-23T03:02:00Z", "kind": "verdict", "playbook": "oom-killed", "status": "fail",
         "reasons": ["exited 1"]},
        step_event(at(3), "fix", 4, "Recreate with a larger tmpfs", "recreate x: --tmpfs /cache:size=64m", 0, [], (),
                   confirmed=True),
        step_event(at(4), "fix", 5, "Start it", "docker start x", 0, [], (), confirmed=True),
        {"at": "2026-11-23T03:05:00Z", "kind": "verdict", "playbook": "oom-killed", "status": "settling",
         "reasons": ["running for 1s"]},
        {"at": "2026-11-23T03:06:00Z", "kind": "verdict", "playbook": "oom-killed", "status": "pass",
         "reasons": ["running"]},
    )
    assert [(x.status, x.event["command"]) for x in incident.fixes()] == [
        ("tried", "recreate x: --tmpfs /cache:size=6"), ("applied", "recreate x: --tmpfs /cache:size=64m"),
        ("applied", "docker start x")]
    assert "verify failed at 03:02:00" in incident.fixes()[0].why
    fixed = section(render_rca(incident, cat), "## Fix Applied\n", "## Preventive Actions")
    assert "size=6`" not in fixed.split("**Tried", 1)[0]


def test_nothing_applied_claims_nothing(cat):
    _, incident = incident_with(
        cat, step_event(at(3), "fix", 4, "Raise the limit", "docker update --memory=bad x", 125, [], (), confirmed=True),
        step_event(at(4), "fix", 4, "Raise the limit", "docker update --memory=512m x", 0, [], (), confirmed=True),
        {"at": "2026-11-23T03:15:00Z", "kind": "verdict", "playbook": "oom-killed", "status": "fail", "reasons": []})
    rca = render_rca(incident, cat)
    assert "## Fix Applied: none" in rca and "\n## Fix Applied\n" not in rca
    assert "No fix run from troubleshoot passed its verification." in rca
    assert "Not verified: at 03:15:00 `oom-killed`: verdict fail." in rca and "verified fixed" not in rca


def test_a_pass_then_a_rollback_is_not_verified(cat):
    _, incident = incident_with(
        cat, step_event(at(4), "fix", 4, "Raise the limit", "docker update --memory=512m x", 0, [], (), confirmed=True),
        {"at": "2026-11-23T03:15:00Z", "kind": "verdict", "playbook": "oom-killed", "status": "pass", "reasons": []},
        {"at": "2026-11-23T03:16:00Z", "kind": "rollback", "restored_id": "a", "removed_id": "b", "exit_code": 0})
    assert incident.verified is None and [x.status for x in incident.fixes()] == ["tried"]
    assert "## Fix Applied: none" in render_rca(incident, cat)


def test_an_old_record_verified_by_a_recheck_still_counts(cat):
    _, incident = incident_with(
        cat, step_event(at(4), "fix", 4, "Raise the limit", "docker update --memory=512m x", 0, [], (), confirmed=True),
        recheck_event(at(5), "oom-killed", False, []))
    assert [x.status for x in incident.fixes()] == ["applied"] and incident.verified["kind"] == "recheck"


def test_the_root_cause_is_the_written_one_then_the_engineers(cat):
    obs, incident = incident_with(cat)
    rca = render_rca(incident, cat)
    rc = section(rca, "## Root Cause Analysis (RCA)", "## Fix Applied")
    assert f"1. {obs.container.name} was killed by the kernel at its 25.2 MB memory limit" in rc
    assert "(written from the evidence)" in rc and "No memory limits" in rc.split("(the playbook)", 1)[1]
    assert "**Final RCA:** " + obs.container.name + " was killed by the kernel at its 25.2 MB" in rc
    incident.events.append(root_cause_event(at(9), "The cache load needs `120M`; hunter2 leaked", ["hunter2"]))
    rc = section(render_rca(incident, cat), "## Root Cause Analysis (RCA)", "## Fix Applied")
    assert "1. The cache load needs `120M`; \\*\\*\\*\\*(7 chars) leaked" in rc and "hunter2" not in rc and "(confirmed by the engineer)" in rc


def test_without_a_record_it_says_it_is_a_scan_and_fills_every_command(cat):
    _, incident = incident_with(cat, name="permission-denied")
    rca = render_rca(incident, cat, recorded=False)
    assert "(from a scan now: no incident record" in rca and "incident record opened" not in rca
    assert not LEFT.search(rca.split("## Timeline", 1)[0]), LEFT.findall(rca)
    assert "4242:4242" in section(rca, "## Fix Applied", "## Preventive Actions")


def test_the_crashed_rca_does_not_point_below_for_lines_that_are_above(cat):
    _, incident = incident_with(cat, name="crashed")
    rca = render_rca(incident, cat)
    assert "below" not in rca and "`unexpected reply from ledger service`" in rca


# -- records keyed by container id and source ------------------------------------------------------------------
LIVE, DEMO = "unix:///var/run/docker.sock", "snapshot demo-snapshot.json, taken 2026-11-23 09:00 UTC from lab"


def opened(tmp_path, cat, name, cid, source, when):
    obs, host = observe(fixture("oom-killed"))
    found = diagnose_container(obs, host, cat)
    event = opened_event(obs, found[0], found, when, source)
    event["container"], event["container_id"] = name, cid
    log = IncidentLog(tmp_path / f"{when:%H%M%S}-{source[:4]}.jsonl")
    log.append(event)
    return log


def test_records_of_another_source_or_another_container_of_the_same_name_are_never_reused(tmp_path, cat):
    demo = opened(tmp_path, cat, "web", "a" * 64, DEMO, at(5))  # the newest, but the demo's
    old = opened(tmp_path, cat, "web", "c" * 64, LIVE, at(2))  # a removed container of the same name
    live = opened(tmp_path, cat, "web", "b" * 64, LIVE, at(1))
    assert latest_for("web", tmp_path, source=LIVE, container_id="b" * 64).path == live.path
    assert latest_for("web", tmp_path, source=DEMO).path == demo.path
    assert latest_for("web", tmp_path, source=LIVE, container_id="d" * 64) is None
    assert latest_for("web", tmp_path, source=LIVE).path == old.path
    log, resumed = open_for("web", "b" * 64, now=at(30), directory=tmp_path, source=LIVE)
    assert resumed and log.path == live.path
    log, resumed = open_for("web", "a" * 64, now=at(30), directory=tmp_path, source=LIVE)  # the demo's id, live
    assert not resumed and log.path not in (demo.path, old.path, live.path)
    log, resumed = open_for("web", "d" * 64, now=at(30), directory=tmp_path, source=LIVE)  # a new "web"
    assert not resumed and log.path not in (demo.path, old.path, live.path)


def test_a_recreate_fix_keeps_the_incident_with_the_new_container(tmp_path, cat):
    """A fix that recreates the container gives it a new id: `report NAME` (which resolves the name to the new id)
    and reopening the walkthrough find the same incident, not a new one."""
    live = opened(tmp_path, cat, "web", "b" * 64, LIVE, at(1))
    live.append({**step_event(at(2), "fix", 4, "Recreate", "recreate web with --shm-size 64m", 0, [], (),
                              confirmed=True), "action": "recreate", "old_id": "b" * 64, "new_id": "e" * 64})
    assert latest_for("web", tmp_path, source=LIVE, container_id="e" * 64).path == live.path
    assert latest_for("eeee", tmp_path, source=LIVE).path == live.path
    log, resumed = open_for("web", "e" * 64, now=at(30), directory=tmp_path, source=LIVE)
    assert resumed and log.path == live.path
