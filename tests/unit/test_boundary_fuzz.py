"""Property tests of the boundary (troubleshoot/boundary.py): whatever a daemon answers or a snapshot file holds,
decoding it either gives typed records that the whole diagnosis runs on without an exception, or one BoundaryError
line naming what was wrong. Never another exception, never a second line, never unbounded time.

Inputs: random JSON trees, random bytes, and random mutations (a subtree replaced by any JSON value) of the real
records recorded from the engine (tests/fixtures)."""
import json
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.conftest import FIXTURES
from troubleshoot.boundary import BoundaryError, decode, read_snapshot_bytes
from troubleshoot.core import schema
from troubleshoot.core.diagnose import diagnose
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.core.records import host_from_record, observation_from_record

CATALOG = load_catalog()
DOCS = [json.loads(p.read_text()) for p in sorted(FIXTURES.glob("*.json"))]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2 ** 63), max_value=2 ** 64),
                    st.floats(allow_nan=False), st.text(max_size=40),
                    st.sampled_from(["", "0001-01-01T00:00:00Z", "2026-13-45T99:99:99Z", "NaN", "\x1b[2J", "-1",
                                     "exited", "running", "restarting", "unhealthy", "/", "a=b", "=", "PASSWORD="]))
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                    max_leaves=20)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


def _replace(node, path, value):
    if not path:
        return value
    node = json.loads(json.dumps(node))
    cur = node
    for key in path[:-1]:
        cur = cur[key]
    cur[path[-1]] = value
    return node


@st.composite
def mutated_snapshot(draw):
    """A real snapshot (every recorded fixture) with one to three subtrees replaced by arbitrary JSON."""
    doc = {"format": "troubleshoot-snapshot", "version": 1, "taken_at": "2026-11-23T10:00:00Z", "tool": "t",
           "source": "s", "host": DOCS[0]["host"], "containers": [d["record"] for d in DOCS]}
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(doc))
        doc = _replace(doc, draw(st.sampled_from(paths)), draw(JSON))
    return doc


def _diagnoses(doc: schema.Snapshot) -> None:
    host = host_from_record(doc.host)
    observations = [observation_from_record(r) for r in doc.containers]
    diagnose(observations, host, CATALOG)


def _one_line(exc: BoundaryError) -> None:
    text = str(exc)
    assert text and "\n" not in text and len(text) < 2000, text


@SETTINGS
@given(mutated_snapshot())
def test_any_snapshot_decodes_and_diagnoses_or_is_one_line(doc):
    raw = json.dumps(doc).encode()
    start = time.monotonic()
    try:
        snap = read_snapshot_bytes(raw, "fuzz.json")
    except BoundaryError as exc:
        _one_line(exc)
        assert str(exc).startswith("fuzz.json")
        return
    _diagnoses(snap)  # whatever passed the boundary, the core runs on
    assert time.monotonic() - start < 5


@SETTINGS
@given(st.binary(max_size=300))
def test_any_bytes_as_a_snapshot_are_one_line(raw):
    try:
        read_snapshot_bytes(raw, "fuzz.json")
    except BoundaryError as exc:
        _one_line(exc)


@st.composite
def mutated_inspect(draw):
    d = draw(st.sampled_from(DOCS))["record"]["inspect"]
    for _ in range(draw(st.integers(1, 3))):
        d = _replace(d, draw(st.sampled_from(list(_paths(d)))), draw(JSON))
    return d


@SETTINGS
@given(mutated_inspect())
def test_any_inspect_answer_decodes_and_diagnoses_or_is_one_line(data):
    from troubleshoot.boundary import container_record
    try:
        inspect = decode(json.dumps(data), schema.ContainerInspect, "/containers/x/json")
    except BoundaryError as exc:
        _one_line(exc)
        return
    record, secrets = container_record(inspect, logs=("Error: DB_HOST is not set",))
    host = host_from_record(schema.HostRecord())
    diagnose([observation_from_record(record, secrets)], host, CATALOG)


@SETTINGS
@given(st.one_of(JSON, st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
def test_any_list_event_or_info_answer_is_typed_or_one_line(data):
    raw = json.dumps(data) if not isinstance(data, str) else data
    for kind in (list[schema.ListRow], schema.Event, schema.Info, schema.Version, list[schema.HistoryEntry],
                 schema.ImageInspect):
        try:
            decode(raw, kind, "answer")
        except BoundaryError as exc:
            _one_line(exc)


def test_deep_nesting_and_big_answers_are_one_line():
    for raw in (b"[" * 300_000 + b"]" * 300_000, b'{"Id": "' + b"x" * 70_000_000 + b'"}'):
        try:
            decode(raw, schema.ContainerInspect, "answer")
        except BoundaryError as exc:
            _one_line(exc)
        else:
            raise AssertionError("accepted")


# decode() skips the cleaning walk for a small document whose bytes show nothing `clean` would change (_DIRTY): on
# inspects recorded from the engine with any text put in their strings (controls, C1, bidi marks, newlines in
# one-line fields, escaped or raw UTF-8), the record is the one the walk gives.
_TEXT = st.lists(st.sampled_from(["a", " ", "é", "☕", "\n", "\t", "\r", "\x00", "\x1b", "[", "2J", "\x7f", "\x85",
                                  "\x9b", "\x9c", "\u061c", "\u200e", "\u200f", "\u202a", "\u202e", "\u2066",
                                  "\u2069", "\u2028", "\\", '"', "/", "u00"]), max_size=12).map("".join)


@SETTINGS
@given(st.data())
def test_the_cleaning_walk_is_skipped_only_when_it_would_change_nothing(data):
    from troubleshoot import boundary
    doc = json.loads(json.dumps(data.draw(st.sampled_from([d["record"]["inspect"] for d in DOCS]))))
    strings = [p for p in _paths(doc) if p and isinstance(_get(doc, p), str)]
    for path in data.draw(st.lists(st.sampled_from(strings), max_size=3)):
        _set(doc, path, data.draw(_TEXT))
    raw = json.dumps(doc, ensure_ascii=data.draw(st.booleans())).encode()
    got = decode(raw, schema.ContainerInspect, "inspect")
    walked = boundary.clean(boundary._decoder(schema.ContainerInspect).decode(raw))
    assert got == walked


def _get(node, path):
    for k in path:
        node = node[k]
    return node


def _set(node, path, value):
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value


# ... and for a document longer than MAX_STRING when no string in it is longer than MAX_STRING characters and no
# list longer than MAX_LIST (boundary._bounded): strings around the limit, made of characters whose JSON text is 1 to
# 6 bytes (escaped quotes and backslashes, UTF-8, \u escapes), in a recorded inspect padded past MAX_STRING.
_UNITS = ["a", "é", "☕", "\\", '"', '\\"', "a\\", "/", '"\\', "\u2028"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_big_documents_skip_the_walk_only_when_it_would_change_nothing(data):
    from troubleshoot import boundary
    doc = json.loads(json.dumps(data.draw(st.sampled_from([d["record"]["inspect"] for d in DOCS]))))
    n = data.draw(st.integers(boundary.MAX_STRING - 3, boundary.MAX_STRING + 3))
    unit = data.draw(st.sampled_from(_UNITS))
    text = (unit * n)[:n]
    doc.setdefault("Config", {}).setdefault("Labels", {})
    if not isinstance(doc["Config"], dict) or not isinstance(doc["Config"].get("Labels"), dict):
        return
    doc["Config"]["Labels"]["pad"] = "p" * data.draw(st.integers(0, boundary.MAX_STRING))
    strings = [p for p in _paths(doc) if p and isinstance(_get(doc, p), str)]
    _set(doc, data.draw(st.sampled_from(strings)), text)
    raw = json.dumps(doc, ensure_ascii=data.draw(st.booleans())).encode()
    got = decode(raw, schema.ContainerInspect, "inspect")
    walked = boundary.clean(boundary._decoder(schema.ContainerInspect).decode(raw))
    assert got == walked


def test_a_list_past_the_bound_is_cut_in_a_document_with_nothing_else_to_clean():
    from troubleshoot import boundary
    for n in (boundary.MAX_LIST - 1, boundary.MAX_LIST, boundary.MAX_LIST + 1):
        doc = json.loads(json.dumps(DOCS[0]["record"]["inspect"]))
        doc["Config"]["Env"] = ["A=1"] * n
        raw = json.dumps(doc).encode()
        got = decode(raw, schema.ContainerInspect, "inspect")
        assert len(got.Config.Env) == min(n, boundary.MAX_LIST)
        assert got == boundary.clean(boundary._decoder(schema.ContainerInspect).decode(raw))


def test_a_snapshot_s_log_lines_keep_their_own_bounds():
    """A snapshot (or a container record) is always walked: its log lines are cut at MAX_LINE, shorter than
    MAX_STRING, and kept to the last MAX_LOG_LINES."""
    from troubleshoot import boundary
    from troubleshoot.clean import MAX_LINE
    record = json.loads(json.dumps(DOCS[0]["record"]))
    record["logs"] = ["x" * (MAX_LINE + 500)]
    got = decode(json.dumps(record).encode(), schema.ContainerRecord, "record")
    assert len(got.logs[0]) < MAX_LINE + 100 and got.logs[0].endswith("[cut 500 chars]")
    record["logs"] = ["y"] * (boundary.MAX_LOG_LINES + 5)
    got = decode(json.dumps(record).encode(), schema.ContainerRecord, "record")
    assert len(got.logs) == boundary.MAX_LOG_LINES


@given(st.binary(min_size=1, max_size=4).filter(lambda b: _not_utf8(b)), st.sampled_from([
    (b'[{"Id":"x%s"}]', list[schema.ListRow]), (b'[{"Id":"a","Names":["/%s"]}]', list[schema.ListRow]),
    (b'{"Id":"a","Config":{"Labels":{"%s":"v"}}}', schema.ContainerInspect), (b'{"Type":"container","Action":"%s"}',
                                                                                 schema.Event)]))
@settings(max_examples=100, deadline=None)
def test_invalid_utf8_in_a_daemon_answer_is_one_line(bad, case):
    """A string that is not UTF-8 (msgspec raises UnicodeDecodeError for it, not a DecodeError): one BoundaryError
    line naming the answer, never a crash (found by a hostile daemon, session 6: `scan` crashed on it)."""
    template, kind = case
    try:
        decode(template.replace(b"%s", bad), kind, "the daemon's answer")
    except BoundaryError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("the daemon's answer")
    else:
        raise AssertionError("accepted")


def _not_utf8(raw: bytes) -> bool:
    if b'"' in raw or b"\\" in raw or any(b < 0x20 for b in raw):
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False
