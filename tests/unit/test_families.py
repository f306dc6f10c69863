"""A pattern family (core/regex.Family) only ever says "maybe": the lines it keeps include every line one of its
patterns matches, for each family the detectors use, on the real lines of their tables and on hypothesis' own lines
made from pieces of them (so that near-misses, line ends and anchors are tried too). Without it a detector would
silently lose a log line that its pattern matches."""
import re

from hypothesis import given, settings, strategies as st

from troubleshoot.core import fs_errors, netlogs
from troubleshoot.core.detectors import env, library, refused
from troubleshoot.core.regex import Family, compile_linear

FAMILIES = {
    **{f"fs_errors.{kind}": fam for kind, fam in fs_errors._FAMILY.items()},
    "netlogs.unknown_host": netlogs._UNKNOWN_HOST_ANY,
    "netlogs.refused": netlogs._REFUSED_ANY,
    "refused": refused._ANY,
    "env": env._ANY,
    "library": library._ANY,
}
EXAMPLES = [
    *(sig.example for sig in netlogs.UNKNOWN_HOST), *(sig.example for sig in netlogs.REFUSED),
    *(example for _fw, example, _p in env.MISSING_CONFIG),
    "Error: connect ECONNREFUSED 127.0.0.1:5432", "dial tcp 10.0.0.2:6379: connect: connection refused",
    "mkdir /data/x: permission denied", "write /tmp/f: no space left on device", "OSError: [Errno 30] Read-only file system",
    "ERROR: could not resize shared memory segment", "exec /app: permission denied", "KeyError: 'DATABASE_URL'",
    "/app/bin/server: error while loading shared libraries: libssl.so.1.1: cannot open shared object file",
    "Error loading shared library libstdc++.so.6: No such file or directory (needed by /app/run)",
    "", "nothing to see here",
]
PIECES = sorted({w for line in EXAMPLES for w in re.split(r"(\s+)", line) if w})


def brute(family: Family, lines: list[str]) -> list[str]:
    return [line for line in lines if any(p.search(line) for p in family.patterns)]


def test_each_family_keeps_every_example_its_patterns_match():
    for name, family in FAMILIES.items():
        matched = brute(family, EXAMPLES)
        kept = family.lines(EXAMPLES)
        assert set(matched) <= set(kept), name
    assert any(brute(f, EXAMPLES) for f in FAMILIES.values())  # the examples do exercise the families


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PIECES) | st.text(max_size=8), max_size=12).map("".join), max_size=8))
def test_a_family_never_drops_a_line_one_of_its_patterns_matches(lines):
    for name, family in FAMILIES.items():
        kept = family.lines(lines)
        for line in brute(family, lines):
            assert line in kept, (name, line)


def test_flags_and_anchors_keep_their_meaning_in_the_union():
    fam = Family([compile_linear(r"(?i)abc"), compile_linear("^def$"), compile_linear("ghi", ignore_case=True),
                  compile_linear(r"(?P<x>j)k")])
    assert fam.lines(["ABC", "xdef", "def", "GHI", "jk", "JK"]) == ["ABC", "def", "GHI", "jk"]
    assert Family([]).lines(["anything"]) == []


def test_the_library_detector_names_each_missing_library_once_in_order():
    obs = type("Obs", (), {"logs": (
        "starting", "/app/srv: error while loading shared libraries: libssl.so.1.1: cannot open shared object file",
        "Error loading shared library libstdc++.so.6: No such file or directory (needed by /app/run)",
        "/app/srv: error while loading shared libraries: libssl.so.1.1: cannot open shared object file",
        "Error while loading shared libraries is not this line's form")})()
    assert library.detect(obs, None) == {"missing_library": ["libssl.so.1.1", "libstdc++.so.6"]}
    obs.logs = ("nothing", "at all")
    assert library.detect(obs, None) == {"missing_library": []}
