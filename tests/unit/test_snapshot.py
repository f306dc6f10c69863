"""Snapshots: masking (on records recorded from the engine), reading back with one-line errors, and the shipped demo."""
import json

import pytest

from tests.unit.conftest import fixture
from troubleshoot.backend import DEMO_SNAPSHOT, read_snapshot
from troubleshoot.core.diagnose import diagnose
from troubleshoot.core.records import host_from_record, observation_from_record
from troubleshoot.core.snapshot import SnapshotError, build, mask_record, parse
from troubleshoot.lab import SCENARIOS


def test_masking_hides_secret_values_and_keeps_the_diagnosis(catalog):
    doc = fixture("secrets-in-image")
    record = doc["record"]
    record["inspect"]["Config"]["Env"].append("STRIPE=sk_live_" + "a" * 24)
    record["inspect"]["Config"]["Labels"]["db_password"] = "s3cr3t-label"
    record["logs"] = ["connecting with postgres://app:pa55word@db:5432/app", "token ghp_" + "b" * 36]
    masked = mask_record(record)
    text = json.dumps(masked)
    for secret in ("tok_live_7f3a9c2b1e", "sk_live_" + "a" * 24, "s3cr3t-label", "pa55word", "ghp_" + "b" * 36):
        assert secret in json.dumps(record) and secret not in text
    assert mask_record(masked) == masked, "masking twice changes nothing"
    host = host_from_record(doc["host"])
    live = diagnose([observation_from_record(record)], host, catalog).findings
    recorded = diagnose([observation_from_record(masked)], host, catalog).findings
    assert [f.playbook_id for f in live] == [f.playbook_id for f in recorded]
    assert live[0].evidence == recorded[0].evidence  # evidence was masked the same way


@pytest.mark.parametrize("text, message", [
    (b"{", "snap.json:1:2: not JSON"),
    (b"\xff\xfe", "snap.json:"),
    (b"[]", "snap.json: not a troubleshoot snapshot"),
    (b'{"format": "troubleshoot-snapshot", "version": 9}', "snap.json: snapshot version 9"),
    (b'{"format": "troubleshoot-snapshot", "version": 1, "taken_at": "yesterday"}', "snap.json: taken_at"),
    (b'{"format": "troubleshoot-snapshot", "version": 1, "taken_at": "2026-01-01T00:00:00Z", "host": {"info": {}},'
     b' "containers": [{"inspect": {"Id": "a", "Name": "/a", "State": {}, "Config": {}}, "logs": [1]}]}',
     "snap.json: containers[0].logs: every line must be a string"),
    (b'{"format": "troubleshoot-snapshot", "version": 1, "taken_at": "2026-01-01T00:00:00Z", "host": {"info": {}},'
     b' "containers": [{"inspect": {"Id": "a", "State": {}}}]}', "snap.json: containers[0].inspect.Name"),
])
def test_a_bad_snapshot_is_one_line_naming_file_and_field(text, message):
    with pytest.raises(SnapshotError) as err:
        parse(text, "snap.json")
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_a_built_snapshot_reads_back(tmp_path):
    doc = fixture("oom-killed")
    snap = build([doc["record"]], doc["host"], "unix:///var/run/docker.sock", "troubleshoot test")
    path = tmp_path / "s.json"
    path.write_text(json.dumps(snap))
    assert read_snapshot(path)["containers"][0]["inspect"]["Id"] == doc["record"]["inspect"]["Id"]


def test_hostile_strings_in_a_snapshot_file_are_cleaned_on_reading(tmp_path):
    doc = fixture("crashed")
    doc["record"]["logs"] = ["\x1b]0;PWNED\x07 \x1b[2J boom"]
    path = tmp_path / "s.json"
    path.write_text(json.dumps(build([doc["record"]], doc["host"], "x", "t")))
    line = read_snapshot(path)["containers"][0]["logs"][0]
    assert "\x1b" not in line and "\x07" not in line and "boom" in line


def test_the_shipped_demo_ranks_each_lab_scenario_first(catalog):
    doc = read_snapshot(DEMO_SNAPSHOT)
    report = diagnose([observation_from_record(r) for r in doc["containers"]], host_from_record(doc["host"]), catalog)
    tops = {o.container.name: (report.top(o.container.id) or None) for o in report.observations}
    for sid in SCENARIOS:
        assert tops[f"lab-{sid}"].playbook_id == sid
