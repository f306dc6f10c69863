"""Pipelined reads (pipeline.py, used by every scan on a local daemon) give exactly what one read at a time gives,
on the real engine: inspects (a container removed meanwhile is None, in its place), images and their history, and
log tails, with and without a TTY, a 5 MB single line included (past the 4 MB an answer may take in the pipeline: read
on its own, cut with its count)."""
import pytest

from tests.engine import BASE, PREFIX, docker, ensure_base, wait_state
from troubleshoot.daemon import Daemon

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def made(engine):
    ensure_base()
    names = {
        "plain": ("sh", "-c", "echo one; echo two >&2; exit 3"),
        "tty": ("sh", "-c", "echo with-a-tty; exit 1"),
        "long": ("sh", "-c", "head -c 5242880 /dev/zero | tr '\\0' x; echo; echo after-the-long-line; exit 1"),
        "quiet": ("true",),
    }
    out = {}
    for key, cmd in names.items():
        name = f"{PREFIX}pipe-{key}"
        docker("rm", "-f", name, check=False)
        extra = ["-t"] if key == "tty" else []
        docker("run", "-d", "--name", name, *extra, BASE, *cmd)
        out[key] = name
    for name in out.values():
        wait_state(name, "exited", timeout=120)
    yield out
    for name in out.values():
        docker("rm", "-f", name, check=False)


def test_pipelined_reads_equal_one_read_at_a_time(made):
    d = Daemon().connect()
    ids = [docker("inspect", "--format", "{{.Id}}", n).stdout.decode().strip() for n in made.values()]
    gone = "0" * 64
    many = d.inspect_many([*ids, gone, ids[0]])
    assert [m.Id if m else None for m in many] == [*ids, None, ids[0]]
    for one, m in zip(ids, many):
        assert d.inspect(one) == m
    images = sorted({m.Image for m in many if m})
    assert d.images_many(images) == [d.image(i) for i in images]
    assert d.history_many(images) == [d.history(i) for i in images]
    wanted = [(i, m.Config.Tty) for i, m in zip(ids, many)]
    tails = d.logs_many([*wanted, (gone, False)], tail=50)
    assert tails == [*(d.read_logs(i, 50, tty=tty) for i, tty in wanted), ((), "the container is gone")]
    by_name = dict(zip(made, tails))
    assert sorted(by_name["plain"][0]) == ["one", "two"]  # stdout and stderr (their order is the log driver's)
    assert by_name["tty"][0] == ("with-a-tty",)
    long_line, after = by_name["long"][0]
    assert after == "after-the-long-line" and long_line.startswith("xxxx") and "cut" in long_line[-60:]
    d.close()
