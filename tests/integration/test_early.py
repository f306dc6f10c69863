"""The app's first list is asked for as the process starts (backend.Early, from cli.cmd_tui), while the playbooks
and textual load: the app's first load takes that answer, with the time it was asked for (events from then on are
replayed, removals are judged against it), once; later loads ask again."""
import pytest

from tests.engine import BASE, PREFIX, docker, ensure_base
from troubleshoot.backend import LiveBackend, start_early
from troubleshoot.core.playbooks import load_catalog

pytestmark = pytest.mark.engine


def test_the_first_load_takes_the_list_asked_for_at_start_once(engine):
    ensure_base()
    name = f"{PREFIX}early-list"
    cid = docker("create", "--name", name, BASE, "true").stdout.decode().strip()
    try:
        early = start_early(None)
        backend = LiveBackend(load_catalog(), None, early)
        backend.connect()
        rows, since, asked = backend.listed()
        assert (since, asked) == (early.since, early.asked) and asked > 0
        assert cid in {r.id for r in rows}
        docker("rm", "-f", name)
        again, since2, asked2 = backend.listed()  # asked again: the removal shows
        assert asked2 > asked and since2 >= since and cid not in {r.id for r in again}
        backend.connect()  # a later connect connects (after a daemon loss the transport is gone)
        assert backend.rows()
        backend.close()
    finally:
        docker("rm", "-f", name, check=False)


def test_an_early_list_for_another_daemon_is_not_used(engine):
    early = start_early(None)
    backend = LiveBackend(load_catalog(), "unix:///nonexistent/docker.sock", early)
    assert backend.daemon is not early.daemon
