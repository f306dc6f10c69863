"""Snapshots: masking (on records recorded from the engine), reading back through the boundary with one-line errors,
and the shipped demo."""
import json

import pytest

from tests.unit.conftest import fixture
from troubleshoot.backend import DEMO_SNAPSHOT, read_snapshot
from troubleshoot.boundary import BoundaryError, fixture_host, fixture_record, read_snapshot_bytes
from troubleshoot.core import schema
from troubleshoot.core.diagnose import diagnose
from troubleshoot.core.records import host_from_record, observation_from_record
from troubleshoot.core.snapshot import build, encode
from troubleshoot.lab import SCENARIOS


def _snapshot_bytes(records: list[dict], host: dict) -> bytes:
    return encode(build([fixture_record(r)[0] for r in records], fixture_host(host), "unix:///x", "troubleshoot test"))


def test_masking_hides_secret_values_and_keeps_the_diagnosis(catalog):
    doc = fixture("secrets-in-image")
    raw = doc["record"]
    raw["inspect"]["Config"]["Env"].append("STRIPE=sk_live_" + "a" * 24)
    raw["inspect"]["Config"]["Labels"]["db_password"] = "s3cr3t-label"
    raw["logs"] = ["connecting with postgres://app:pa55word@db:5432/app", "token ghp_" + "b" * 36]
    record, secrets = fixture_record(raw)
    text = json.dumps(schema.to_builtins(record))
    for secret in ("tok_live_7f3a9c2b1e", "sk_live_" + "a" * 24, "s3cr3t-label", "pa55word", "ghp_" + "b" * 36):
        assert secret in json.dumps(raw) and secret not in text
    again, _ = fixture_record(schema.to_builtins(record))
    assert again == record, "masking twice changes nothing"
    host = host_from_record(fixture_host(doc["host"]))
    recorded = read_snapshot_bytes(_snapshot_bytes([raw], doc["host"]), "s.json")
    live = diagnose([observation_from_record(record, secrets)], host, catalog).findings
    back = diagnose([observation_from_record(recorded.containers[0])], host_from_record(recorded.host), catalog).findings
    assert [f.playbook_id for f in live] == [f.playbook_id for f in back]
    assert live[0].evidence == back[0].evidence  # evidence was masked the same way


_GOOD_HEAD = b'{"format": "troubleshoot-snapshot", "version": 1, "taken_at": "2026-01-01T00:00:00Z", "host": {"info": {}},'


@pytest.mark.parametrize("text, message", [
    (b"{", "snap.json:1:2: not JSON"),
    (b"\xff\xfe", "snap.json: not UTF-8"),
    (b"[]", "snap.json: not a troubleshoot snapshot"),
    (b'{"format": "troubleshoot-snapshot", "version": 9}', "snap.json: snapshot version 9"),
    (b'{"format": "troubleshoot-snapshot", "version": 1, "taken_at": "yesterday", "host": {}, "containers": []}',
     "snap.json: taken_at"),
    (_GOOD_HEAD + b' "containers": [{"inspect": {"Id": "a", "Name": "/a", "State": {}, "Config": {}}, "logs": [1]}]}',
     "snap.json: containers[0].logs[0]: expected str, got int"),
    (_GOOD_HEAD + b' "containers": [{"inspect": {"Id": "a", "State": {}}}]}',
     "snap.json: containers[0].inspect: object missing required field Name"),
    (_GOOD_HEAD + b' "containers": [{"inspect": {"Id": "a", "Name": "/a", "State": {}, "Config": {"Env": [1, 2]}}}]}',
     "snap.json: containers[0].inspect.Config.Env[0]: expected str, got int"),
    (_GOOD_HEAD + b' "containers": [{"inspect": {"Id": "a", "Name": "/a", "State": {"Health": {"FailingStreak": "NaN"}},'
     b' "Config": {}}}]}', "snap.json: containers[0].inspect.State.Health.FailingStreak: expected int, got str"),
    (_GOOD_HEAD.replace(b'{"info": {}}', b'{"info": {"NCPU": "many"}}') + b' "containers": []}',
     "snap.json: host.info.NCPU: expected int, got str"),
    (_GOOD_HEAD + b' "containers": [{"inspect": {"Id": "a", "Name": "/a", "State": {}, "Config": {},'
     b' "HostConfig": {"PortBindings": "nope"}}}]}', "snap.json: containers[0].inspect.HostConfig.PortBindings"),
    (_GOOD_HEAD + b' "containers": [{"inspect": {"Id": "a", "Name": "/a", "State": {}, "Config": {}, "Deep": '
     + b"[" * 200_000 + b"]" * 200_000 + b"}}]}", "snap.json: nested too deeply"),
])
def test_a_bad_snapshot_is_one_line_naming_file_and_field(text, message):
    with pytest.raises(BoundaryError) as err:
        read_snapshot_bytes(text, "snap.json")
    assert str(err.value).startswith(message), str(err.value)
    assert "\n" not in str(err.value)


def test_a_built_snapshot_reads_back(tmp_path):
    doc = fixture("oom-killed")
    path = tmp_path / "s.json"
    path.write_bytes(_snapshot_bytes([doc["record"]], doc["host"]))
    assert read_snapshot(path).containers[0].inspect.Id == doc["record"]["inspect"]["Id"]


def test_hostile_strings_in_a_snapshot_file_are_cleaned_on_reading(tmp_path):
    doc = fixture("crashed")
    doc["record"]["logs"] = ["\x1b]0;PWNED\x07 \x1b[2J boom"]
    doc["record"]["inspect"]["Name"] = "/evil\nweb-1   running   ok"
    raw = json.loads(_snapshot_bytes([doc["record"]], doc["host"]))
    raw["containers"][0]["logs"] = ["\x1b]0;PWNED\x07 \x1b[2J boom"]  # written raw, as a hostile file would be
    raw["containers"][0]["inspect"]["Name"] = "/evil\nweb-1   running   ok"
    path = tmp_path / "s.json"
    path.write_text(json.dumps(raw))
    rec = read_snapshot(path).containers[0]
    assert "\x1b" not in rec.logs[0] and "\x07" not in rec.logs[0] and "boom" in rec.logs[0]
    assert "\n" not in rec.inspect.Name, "a name is one line: a newline cannot draw a second row"


def test_a_snapshot_is_bounded_like_live_input(tmp_path):
    """A 5 MB log line is cut as a live one is; a million log lines keep the last 10,000."""
    doc = fixture("crashed")
    raw = json.loads(_snapshot_bytes([doc["record"]], doc["host"]))
    raw["containers"][0]["logs"] = ["x" * 5_000_000] + [f"line {i}" for i in range(1_000_000)]
    path = tmp_path / "s.json"
    path.write_text(json.dumps(raw))
    rec = read_snapshot(path).containers[0]
    assert len(rec.logs) == 10_000 and rec.logs[-1] == "line 999999"
    raw["containers"][0]["logs"] = ["x" * 5_000_000]
    path.write_text(json.dumps(raw))
    line = read_snapshot(path).containers[0].logs[0]
    assert len(line) < 2_100 and line.endswith("chars]")


def test_a_snapshot_holds_no_secret_even_if_written_by_hand(tmp_path):
    """A snapshot made by hand (or by an older troubleshoot) with raw secrets is masked on reading."""
    doc = fixture("crashed")
    raw = json.loads(_snapshot_bytes([doc["record"]], doc["host"]))
    raw["containers"][0]["inspect"]["Config"]["Env"] = ["DB_PASSWORD=hunter2-SECRET-zz9"]
    raw["containers"][0]["inspect"]["Args"] = ["--password=hunter2-SECRET-zz9"]
    raw["containers"][0]["logs"] = ["login with hunter2-SECRET-zz9"]
    path = tmp_path / "s.json"
    path.write_text(json.dumps(raw))
    rec = read_snapshot(path).containers[0]
    assert "hunter2-SECRET-zz9" not in json.dumps(schema.to_builtins(rec))


def test_the_shipped_demo_ranks_each_lab_scenario_first(catalog):
    doc = read_snapshot(DEMO_SNAPSHOT)
    report = diagnose([observation_from_record(r) for r in doc.containers], host_from_record(doc.host), catalog)
    tops = {o.container.name: (report.top(o.container.id) or None) for o in report.observations}
    for sid in SCENARIOS:
        assert tops[f"lab-{sid}"].playbook_id == sid
