"""A 1 GB log and a 10 MB single line, read for real through the live adapter: memory stays bounded (measured as
the reading process's peak RSS against a tiny log) and the tail is still there, the long line cut with a count."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine import BASE, docker, ensure_base, wait_state, PREFIX

pytestmark = pytest.mark.engine

READER = """
import json, resource, sys
from troubleshoot.daemon import Daemon, _demux, bounded_lines
d = Daemon().connect()
if sys.argv[2] == "all":  # the whole log streamed through the same demultiplexer and bounded buffer
    res = d._open(f"/containers/{sys.argv[1]}/logs", {"stdout": 1, "stderr": 1, "tail": "all", "follow": 0})
    lines, why = tuple(bounded_lines(_demux(res), 200)), ""
else:
    lines, why = d.read_logs(sys.argv[1], int(sys.argv[2]), tty=sys.argv[3] == "tty")
print(json.dumps({"lines": list(lines), "why": why,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def read(name: str, tail: int | str = 200, tty: bool = False) -> dict:
    proc = subprocess.run([sys.executable, "-c", READER, name, str(tail), "tty" if tty else "plain"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def run(name: str, script: str, *extra: str) -> None:
    ensure_base()
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, *extra, BASE, "sh", "-c", script)
    wait_state(name, "exited", timeout=300)


@pytest.fixture(scope="module")
def tiny(engine):
    name = PREFIX + "log-tiny"
    run(name, "echo one; echo two")
    yield read(name)
    docker("rm", "-f", name, check=False)


def test_a_1gb_log_keeps_memory_bounded_and_shows_the_tail(tiny):
    name = PREFIX + "log-1gb"
    line = "x" * 999  # with its newline: 1,000 bytes a line, a million lines
    run(name, f"yes {line} | head -n 1073742; echo LAST-LINE-OF-THE-GIGABYTE")
    try:
        log_path = Path(docker("inspect", "--format", "{{.LogPath}}", name).stdout.decode().strip())
        size = log_path.stat().st_size  # json-file: the lines plus their JSON framing
        assert size > 1_073_741_824, f"the log file is only {size} bytes"
        got = read(name, 200)
        assert got["lines"][-1] == "LAST-LINE-OF-THE-GIGABYTE"
        assert len(got["lines"]) == 200
        assert got["rss_mb"] - tiny["rss_mb"] < 20, f"reading a 1 GB log took {got['rss_mb']:.0f} MB " \
                                                   f"(a tiny one {tiny['rss_mb']:.0f} MB)"
        # and the whole gigabyte streamed through the reader (as if the daemon ignored the tail): still bounded
        whole = read(name, "all")
        assert whole["lines"][-1] == "LAST-LINE-OF-THE-GIGABYTE" and len(whole["lines"]) == 200
        assert whole["rss_mb"] - tiny["rss_mb"] < 20, f"streaming 1 GB took {whole['rss_mb']:.0f} MB"
    finally:
        docker("rm", "-f", name, check=False)


@pytest.mark.parametrize("tty", [False, True], ids=["multiplexed", "tty"])
def test_a_10mb_single_line_is_cut_and_the_next_line_still_shown(tiny, tty):
    name = PREFIX + "log-10mb-line"
    run(name, "head -c 10485760 /dev/zero | tr '\\0' y; echo; echo AFTER-THE-LONG-LINE", *(["-t"] if tty else []))
    try:
        got = read(name, 200, tty)
        lines = got["lines"]
        assert lines[-1] == "AFTER-THE-LONG-LINE"
        assert all(len(l) <= 2100 for l in lines), max(len(l) for l in lines)
        assert any("...[cut " in l for l in lines), "the long line says how much was cut"
        assert got["rss_mb"] - tiny["rss_mb"] < 20, f"{got['rss_mb']:.0f} MB vs {tiny['rss_mb']:.0f} MB"
    finally:
        docker("rm", "-f", name, check=False)
