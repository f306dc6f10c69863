"""`troubleshoot scan` splits the per-container work over two processes (forkmap.py): on real containers, the
records and the findings are those of the one-process scan, and a child that needs the daemon (an entrypoint read
through the archive API) uses connections of its own."""
import os

import pytest

from tests.engine import BASE, PREFIX as RUN_PREFIX, docker, ensure_base, free_port, wait_for
from troubleshoot import cli, forkmap
from troubleshoot.core.diagnose import diagnose
from troubleshoot.report_json import report_json

pytestmark = pytest.mark.engine
PREFIX = f"{RUN_PREFIX}fork-"


class Args:
    host = None
    source = None
    demo = False
    playbooks = None
    no_user_playbooks = True


@pytest.fixture(scope="module")
def containers(engine):
    ensure_base()
    n = PREFIX
    docker("run", "-d", "--name", f"{n}crash", BASE, "sh", "-c", "echo 'KeyError: DATABASE_URL'; exit 1")
    docker("run", "-d", "--name", f"{n}done", BASE, "sh", "-c", "exit 0")
    docker("run", "-d", "--name", f"{n}web", "-p", f"127.0.0.1:{free_port()}:8080", BASE,
           "sh", "-c", "exec sleep 2147483647")
    # an entrypoint that is not in the image: its diagnosis reads the image's files through the archive API; second
    # in the list (newest first), so the child makes its record
    docker("create", "--name", f"{n}noexec", "--entrypoint", "/app/start.sh", BASE)
    docker("start", f"{n}noexec", check=False)
    docker("create", "--name", f"{n}made", BASE, "true")
    wait_for(lambda: all(f"{n}{c} exited" in docker("ps", "-a", "--filter", f"name=^/{n}", "--format",
                                                      "{{.Names}} {{.State}}").stdout.decode()
                         for c in ("crash", "done")), what="the short-lived containers to exit")
    yield n
    ids = docker("ps", "-aq", "--filter", f"name=^/{n}").stdout.decode().split()
    if ids:
        docker("rm", "-f", *ids, check=False)


def _without_window(record) -> dict:
    """A record as plain data, without what changes from one reading to the next: its event window's bounds and the
    sockets' reading time (the second it was read), the live figures of its resources (which ones were read stays)."""
    import msgspec
    data = msgspec.to_builtins(record)
    if data.get("events"):
        data["events"]["since"] = data["events"]["until"] = 0
    if data.get("sockets"):
        data["sockets"]["read_at"] = ""
    if data.get("resources"):
        data["resources"] = sorted(k for k, v in data["resources"].items() if v not in (None, []))
    return data


def test_two_processes_give_the_one_process_scan(containers, monkeypatch):
    monkeypatch.setattr(forkmap, "MIN_ITEMS", 2)
    catalog = cli._catalog(Args())
    forks = []
    real_fork = os.fork

    def fork():
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid
    monkeypatch.setattr(os, "fork", fork)
    _, one, host = cli._records(Args(), catalog, [containers])
    _, two, _ = cli._records(Args(), catalog, [containers], forked=True)
    assert len(forks) == 1, "the records were made on two processes"
    assert len(one) == 5
    assert [(_without_window(r), tuple(s)) for r, s in one] == [(_without_window(r), tuple(s)) for r, s in two]
    assert [r.inspect.Name for r, _ in two][1] == f"/{containers}noexec"
    noexec = next(r for r, _ in two if r.inspect.Name.endswith("noexec"))
    assert noexec.files_seen is not None and noexec.files_seen.heads, "the child read the entrypoint's files"

    from troubleshoot.core.records import host_from_record, observation_from_record
    observations = [observation_from_record(r, s) for r, s in one]
    serial = report_json(diagnose(observations, host_from_record(host), catalog))
    forked = report_json(diagnose(observations, host_from_record(host), catalog, each=cli._two_processes))
    assert len(forks) == 2, "the findings were made on two processes"
    assert forked["findings"] == serial["findings"] and forked["containers"] == serial["containers"]
    assert {f["playbook"] for f in serial["findings"] if f["container"] == f"{containers}crash"} >= {"missing-env"}
