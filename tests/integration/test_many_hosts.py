"""Many hosts in one view, on two real daemons at once: the default one and a second dockerd started here on its own
socket, data root and network namespace (tests.engine.SecondDaemon). One broken container on each, with the same
name: `scan --json -H A -H B` gives both with the right host; a dead socket and a tcp:// that never answers cost no
more than their timeout and are said; `--context` reads the docker CLI's contexts store; the app shows both hosts'
rows and a strip saying the dead one is unreachable."""
import asyncio
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.engine import BASE, PREFIX, SecondDaemon, docker, ensure_base, wait_for
from tests.integration.conftest import until
from troubleshoot.contexts import host_specs
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.hosts import CONNECT_TIMEOUT, MultiBackend, split
from troubleshoot.tui.factory import make_app
from troubleshoot.tui.widgets.host_strip import HostStrip

pytestmark = pytest.mark.engine

NAME = PREFIX + "mh-broken"  # the same name on both hosts
A = "unix:///var/run/docker.sock"


def on(url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", "-H", url, *args], capture_output=True, check=check, timeout=120)


@pytest.fixture(scope="module")
def two(engine):
    if shutil.which("dockerd") is None:
        pytest.fail("dockerd is needed (make test installs docker.io)")
    ensure_base()
    root = Path(tempfile.mkdtemp(prefix=PREFIX + "mhd-", dir="/tmp"))  # short: unix socket paths are limited
    second = SecondDaemon(root).start()
    try:
        saved = subprocess.run(["docker", "save", BASE], capture_output=True, check=True).stdout
        subprocess.run(["docker", "-H", second.url, "load"], input=saved, capture_output=True, check=True)
        docker("rm", "-f", NAME, check=False)
        docker("run", "-d", "--name", NAME, BASE, "sh", "-c", "echo failing on A; exit 1")
        on(second.url, "run", "-d", "--network", "none", "--name", NAME, BASE, "sh", "-c", "echo failing on B; exit 3")
        for url in (A, second.url):
            wait_for(lambda url=url: on(url, "inspect", "-f", "{{.State.Status}}", NAME).stdout.strip() == b"exited",
                     60, f"{NAME} exited on {url}")
        yield second
    finally:
        docker("rm", "-f", NAME, check=False)
        second.stop()
        shutil.rmtree(root, ignore_errors=True)
        assert docker("run", "--rm", BASE, "true", check=False).returncode == 0, "the second dockerd broke the main one"


@pytest.fixture
def silent_port():
    """A tcp port that accepts connections and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    yield s.getsockname()[1]
    s.close()


def scan(*args: str, env: dict | None = None) -> tuple[subprocess.CompletedProcess, float]:
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "troubleshoot", "scan", *args], capture_output=True, text=True,
                          timeout=120, env=env)
    return proc, time.monotonic() - start


def ours(doc: dict) -> dict[str, dict]:
    return {c["host"]: c for c in doc["containers"] if c["name"] == NAME}


def test_scan_json_gives_each_container_its_host(two):
    proc, _ = scan("--json", "-H", A, "-H", two.url, NAME)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    found = ours(doc)
    assert set(found) == {A, two.url}
    assert found[A]["exit_code"] == 1 and found[two.url]["exit_code"] == 3
    assert {h["name"]: h["state"] for h in doc["hosts"]} == {A: "up", two.url: "up"}
    by_host = {f["host"] for f in doc["findings"] if f.get("container") == NAME}
    assert by_host == {A, two.url}, doc["findings"]
    text, _ = scan("-H", A, "-H", two.url, NAME, env={**os.environ, "COLUMNS": "300"})
    assert f"host {A}" in text.stdout and f"host {two.url}" in text.stdout
    nexts = [line for line in text.stdout.splitlines() if "next:" in line]  # each says its host: pasted, it goes there
    assert any(f"next: docker -H {A} " in n for n in nexts) and any(f"next: docker -H {two.url} " in n
                                                                    for n in nexts), nexts


def test_one_host_json_is_as_before_plus_host(two):
    proc, _ = scan("--json", "-H", two.url, NAME)
    doc = json.loads(proc.stdout)
    assert "hosts" not in doc and set(doc) == {"schema", "host", "containers", "findings"}
    assert [c["host"] for c in doc["containers"]] == [two.url]


def test_dead_hosts_cost_their_timeout_only_and_are_said(two, silent_port):
    dead_sock, silent = "unix:///tmp/" + PREFIX + "no-such.sock", f"tcp://127.0.0.1:{silent_port}"
    proc, took = scan("--json", "-H", A, "-H", two.url, "-H", dead_sock, "-H", silent, NAME)
    assert proc.returncode == 1, proc.stderr
    assert set(ours(json.loads(proc.stdout))) == {A, two.url}
    said = [line for line in proc.stderr.splitlines() if "unreachable" in line]
    assert len(said) == 2 and any(dead_sock in l for l in said) and any(silent in l and "no answer" in l for l in said)
    assert took < CONNECT_TIMEOUT + 6, f"the scan took {took:.1f} s: the dead hosts delayed the others"
    alone, took_alone = scan("--json", "-H", dead_sock, "-H", silent)
    assert alone.returncode == 2 and took_alone < CONNECT_TIMEOUT + 4
    doc = json.loads(alone.stdout)  # every host dead: the document all the same, saying so
    assert [(h["name"], h["state"]) for h in doc["hosts"]] == [(dead_sock, "unreachable"), (silent, "unreachable")]
    assert doc["containers"] == [] and doc["host"] is None


def test_contexts_from_the_cli_store(two, tmp_path):
    meta = tmp_path / "contexts" / "meta" / hashlib.sha256(b"second").hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({"Name": "second", "Metadata": {},
                                                "Endpoints": {"docker": {"Host": two.url, "SkipTLSVerify": False}}}))
    env = {**os.environ, "DOCKER_CONFIG": str(tmp_path)}
    env.pop("DOCKER_HOST", None)
    proc, _ = scan("--json", "--context", "default,second", NAME, env=env)
    assert proc.returncode == 1, proc.stderr
    assert set(ours(json.loads(proc.stdout))) == {"default", "second"}
    every, _ = scan("--json", "--all-contexts", NAME, env=env)
    assert set(ours(json.loads(every.stdout))) == {"default", "second"}
    missing, _ = scan("--json", "--context", "nope", env=env)
    assert missing.returncode == 2 and "nope" in missing.stderr


def test_app_shows_both_hosts_and_the_dead_one(two):
    dead = "unix:///tmp/" + PREFIX + "no-such.sock"
    backend = MultiBackend(load_catalog(), host_specs([A, two.url, dead]))

    async def go():
        app = make_app(None, backend=backend)
        async with app.run_test(size=(100, 30)) as pilot:
            def ours_on_board():
                return {split(cid)[1] for cid, row in app.rows.items() if row.name == NAME and cid in app.findings
                        and app.findings[cid]}
            await until(pilot, lambda: ours_on_board() == {0, 1}, timeout=60, what="both hosts' containers")
            await until(pilot, lambda: "containers" in str(app.screen.query_one("#host-1", HostStrip).render()),
                        what="B's strip with its count (drawn after its rows)")
            strips = {s.id: str(s.render()) for s in app.screen.query(HostStrip)}
            await until(pilot, lambda: "unreachable" in str(app.screen.query_one("#host-2", HostStrip).render()),
                        what="the dead host's strip")
            assert "does not exist" in str(app.screen.query_one("#host-2", HostStrip).render())
            assert "containers" in strips["host-1"], strips
            a, b = (next(c for c in app.rows if app.rows[c].name == NAME and split(c)[1] == i) for i in (0, 1))
            assert app.observations[a].container.exit_code == 1 and app.observations[b].container.exit_code == 3
            assert any("failing on B" in line for line in backend.logs(b, 50))  # routed to the host it came from
    asyncio.run(go())


@pytest.mark.parametrize("how", ["one context", "all contexts, no store", "-H X -H X", "--context a,a",
                                 "--context a,"])
def test_hosts_that_come_down_to_one_daemon_scan_it(engine, tmp_path, how):
    """Several ways of naming one daemon: scanned as one host (it crashed: an Endpoint taken for a URL)."""
    d = tmp_path / "contexts" / "meta" / "x"
    d.mkdir(parents=True)
    (d / "meta.json").write_text(json.dumps({"Name": "one", "Endpoints": {"docker": {"Host": A}}}))
    env = {**os.environ, "DOCKER_CONFIG": str(tmp_path if how != "all contexts, no store" else tmp_path / "none")}
    env.pop("DOCKER_HOST", None)
    args = {"one context": ["--context", "one"], "all contexts, no store": ["--all-contexts"],
            "-H X -H X": ["-H", A, "-H", A], "--context a,a": ["--context", "one,one"],
            "--context a,": ["--context", "one,"]}[how]
    for json_ in ([], ["--json"]):
        proc = subprocess.run([sys.executable, "-m", "troubleshoot", *args, "scan", *json_, PREFIX + "mh-no-such"],
                              capture_output=True, text=True, timeout=120, env=env)
        assert proc.returncode == 0 and "crash" not in proc.stderr, proc.stderr
        if json_:
            assert json.loads(proc.stdout)["containers"] == []


def test_a_walkthrough_step_runs_on_its_containers_host(two):
    """The same name on both hosts: a step of the walkthrough of B's container runs on B (it gave exit 126, "this
    command names no container of one of them"); a change asks first, naming the host."""
    from textual import events
    from textual.widgets import Input

    from troubleshoot.tui.screens.confirm import ConfirmScreen
    from troubleshoot.tui.screens.walkthrough import WalkthroughScreen
    from troubleshoot.tui.widgets.container_table import ContainerTable
    from troubleshoot.tui.widgets.step_item import StepItem
    backend = MultiBackend(load_catalog(), host_specs([A, two.url]))

    async def go():
        app = make_app(None, backend=backend, live_events=False)
        async with app.run_test(size=(120, 40)) as pilot:
            def b_cid():
                return next((c for c, r in app.rows.items() if r.name == NAME and split(c)[1] == 1
                             and app.findings.get(c)), None)
            await until(pilot, lambda: b_cid() is not None, timeout=60, what="B's container diagnosed")
            # A's too: its findings, when they come later (a loaded host), rank its row again under the cursor put on B's
            mine = lambda: [c for c, r in app.rows.items() if r.name == NAME]  # noqa: E731
            await until(pilot, lambda: len(mine()) == 2 and all(app.findings.get(c) for c in mine()), timeout=60,
                        what="both hosts' containers diagnosed")
            await pilot.press("slash")
            box = app.screen.query_one("#filter", Input)
            box.post_message(events.Paste(NAME))
            await until(pilot, lambda: box.value == NAME, what="the filter")
            await pilot.press("enter")
            table = app.screen.query_one(ContainerTable)
            await until(pilot, lambda: b_cid() in {k.value for k in table.rows}, what="the filtered board")
            table.move_cursor(row=table.get_row_index(b_cid()))
            await pilot.pause()
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, WalkthroughScreen), what="the walkthrough")
            screen = app.screen
            assert screen.cid == b_cid()
            opened = screen.incident_log.read().events[0]  # the record: B's URL and the daemon's own id
            assert opened["container_id"] == split(b_cid())[0] and "@" not in opened["container_id"], opened
            assert opened["host_url"] == two.url and opened["source"] == two.url, opened
            items = list(screen.query(StepItem))
            logs = next(i for i, it in enumerate(items) if (it.command or "").startswith(f"docker -H {two.url} logs"))
            screen.query_one("#steps").index = logs
            await pilot.pause()
            await pilot.press("r")
            await until(pilot, lambda: items[logs].exit_code is not None, timeout=60, what="the step's output")
            assert items[logs].exit_code == 0, items[logs].output
            said = "\n".join(items[logs].output)
            assert "failing on B" in said and "failing on A" not in said, said
            copied = []
            app.copy_to_clipboard = copied.append
            await pilot.press("c")
            assert copied and copied[0].startswith(f"docker -H {two.url} logs"), copied
            change = next((i for i, it in enumerate(items) if it.is_change and it.step.run and not it.why_not), None)
            assert change is not None  # the crash playbook has a restart step
            if change is not None:
                screen.query_one("#steps").index = change
                await pilot.pause()
                await pilot.press("r")
                await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the dialog")
                short = backend.host_short_of(b_cid())  # its socket's dir and file: A's is docker.sock too
                assert short == f"{two.sock.parent.name}/docker.sock", short
                assert f"(host {short})" in app.screen.title_text, app.screen.title_text
                await pilot.press("escape")
    asyncio.run(go())


def test_a_host_that_drops_keeps_its_rows_marked_and_they_come_back(two, monkeypatch):
    """B's daemon stopped under the app: its rows stay, marked (they vanished, and never came back once it
    answered again); started again: listed, inspected and diagnosed again."""
    import troubleshoot.hosts as hosts_mod
    from troubleshoot.tui.widgets.container_table import ContainerTable
    monkeypatch.setattr(hosts_mod, "RETRY_EVERY", 1.0)
    backend = MultiBackend(load_catalog(), host_specs([A, two.url]))

    async def go():
        app = make_app(None, backend=backend)
        async with app.run_test(size=(120, 30)) as pilot:
            def b_cid():
                return next((c for c, r in app.rows.items() if r.name == NAME and split(c)[1] == 1), None)
            await until(pilot, lambda: b_cid() is not None and app.findings.get(b_cid()), timeout=60,
                        what="B's container diagnosed")
            cid, seen = b_cid(), app.observed_at(b_cid())
            table = app.screen.query_one(ContainerTable)
            two.stop()
            try:
                await until(pilot, lambda: backend.parts[1].state == "unreachable", timeout=60, what="B unreachable")
                await until(pilot, lambda: cid in table.rows and "✗" in str(table.get_row(cid)[0]), timeout=30,
                            what="B's row kept and marked")
                await pilot.pause(1.0)  # a list and a reconcile or two without B meanwhile
                assert cid in app.rows and cid in table.rows
            finally:
                two.start()
            await until(pilot, lambda: backend.parts[1].up, timeout=60, what="B answers again")
            await until(pilot, lambda: app.observed_at(cid) > seen and app.findings.get(cid), timeout=60,
                        what="B's container inspected and diagnosed again")
            await until(pilot, lambda: "✗" not in str(table.get_row(cid)[0]), what="its mark gone")
            assert app.observations[cid].container.exit_code == 3
    asyncio.run(go())


HOSTILE = "unix:///tmp/\x1b[31mRED\x1b]0;pwned\x07.sock"


def _no_control(text: str) -> bool:
    return not any(c in text for c in "\x1b\x07\x9b\x9d")


def test_hostile_host_urls_and_contexts_never_reach_the_terminal(engine, tmp_path):
    """A -H and a context's endpoint with terminal control in them (a pane title set, the screen cleared): shown
    cleaned in scan's stderr and text, scan --json, and the app's strips."""
    d = tmp_path / "contexts" / "meta" / "evil"
    d.mkdir(parents=True)
    (d / "meta.json").write_text(json.dumps({"Name": "evil\x1b[2J", "Endpoints": {"docker": {
        "Host": "tcp://127.0.0.1:1\x1b[2J"}}}))
    env = {**os.environ, "DOCKER_CONFIG": str(tmp_path)}
    env.pop("DOCKER_HOST", None)
    from troubleshoot.contexts import stored_contexts
    names = [c.name for c in stored_contexts(env)]
    assert names == ["evil"]
    for args in (["-H", HOSTILE], ["-H", HOSTILE, "-H", A], ["--context", "evil"], ["--context", "evil,default"]):
        for json_ in ([], ["--json"]):
            proc, _ = scan(*json_, *args, PREFIX + "mh-no-such", env=env)
            assert proc.returncode in (0, 2), proc.stderr
            assert _no_control(proc.stdout) and _no_control(proc.stderr), (args, proc.stdout, proc.stderr)
            assert "RED" in proc.stderr or "127.0.0.1:1" in proc.stderr, proc.stderr  # said, cleaned
    backend = MultiBackend(load_catalog(), host_specs([HOSTILE, A], ["evil"], environ=env))

    async def go():
        app = make_app(None, backend=backend, live_events=False)
        async with app.run_test(size=(100, 30)) as pilot:
            def strips():
                return [str(s.render()) for s in app.screen.query(HostStrip)]
            await until(pilot, lambda: len(strips()) == 3 and sum("unreachable" in s for s in strips()) == 2,
                        timeout=30, what="the strips")
            assert all(_no_control(s) for s in strips()), strips()
            assert "RED" in strips()[0]
    asyncio.run(go())
