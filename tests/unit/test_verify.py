"""Lock files for `troubleshoot verify`, and the comparison, on facts recorded from the engine."""
import pytest

from tests.unit.conftest import fixture, observe
from troubleshoot.core.verify import LockError, parse_lock, verify

D1 = "sha256:" + "1" * 64


def test_both_lock_formats():
    a = parse_lock('{\n "api": "reg/api@%s",\n "web": "reg/web@%s"\n}' % (D1, D1), "l.json")
    b = parse_lock(f"# deployed by build 812\napi reg/api@{D1}\nweb=reg/web@{D1}  # blue\n", "l.txt")
    assert [(e.name, e.digest) for e in a] == [(e.name, e.digest) for e in b] == [("api", D1), ("web", D1)]
    assert [e.line for e in a] == [2, 3] and [e.line for e in b] == [2, 3]


@pytest.mark.parametrize("text, says", [
    ("api reg/api:latest", "l:1: expected NAME IMAGE@sha256"),
    ("\n\napi", "l:3: expected NAME IMAGE@sha256"),
    ('{"api": 3}', "l: api: expected a string"),
    ("{", "l:1: not JSON"),
    ("# nothing\n", "l: no entries"),
])
def test_bad_lock_files_are_one_line(text, says):
    with pytest.raises(LockError) as err:
        parse_lock(text, "l")
    assert str(err.value).startswith(says)


def test_match_by_image_id_and_mismatch():
    obs, _host = observe(fixture("image-drift"))
    name, image_id = obs.container.name, obs.container.image_id
    ok, = verify(parse_lock(f"{name} x@{image_id}"), [obs])
    bad, = verify(parse_lock(f"{name} x@{D1}"), [obs])
    missing, = verify(parse_lock(f"nobody x@{D1}"), [obs])
    assert (ok.status, bad.status, missing.status) == ("ok", "mismatch", "missing")
    assert bad.severity == "critical" and bad.running_id == image_id
