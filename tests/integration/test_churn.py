"""Containers created and removed while scans run (a deploy, a crash loop, CI jobs on the same host): scans never
fail or crash, and the app keeps no finding of a container that is gone."""
import asyncio
import json
import threading

import pytest

from tests.engine import BASE, PREFIX as RUN_PREFIX, docker, ensure_base
from tests.integration.conftest import run_cli, until
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.tui.factory import make_app

pytestmark = [pytest.mark.engine, pytest.mark.reads_events]  # the app follows the churn by its events
PREFIX = f"{RUN_PREFIX}churn-"


class Churn(threading.Thread):
    """Creates crashing containers and removes them two steps later, until stopped; removes the rest at the end."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.made = 0
        self.ids: set[str] = set()  # every container it made

    def run(self):
        while not self.stop.is_set():
            made = docker("run", "-d", "--name", f"{PREFIX}{self.made}", BASE, "sh", "-c", "echo boom; exit 3",
                          check=False)
            self.ids.update(made.stdout.decode().split())
            if self.made >= 2:
                docker("rm", "-f", f"{PREFIX}{self.made - 2}", check=False)
            self.made += 1

    def finish(self):
        self.stop.set()
        self.join(60)
        ids = docker("ps", "-aq", "--filter", f"name=^/{PREFIX}").stdout.decode().split()
        if ids:
            docker("rm", "-f", *ids, check=False)


@pytest.fixture
def churn(engine):
    ensure_base()
    c = Churn()
    c.start()
    yield c
    c.finish()


def test_scans_during_churn_never_fail(churn):
    scans = 0
    while scans < 8 or churn.made < 8:  # at least 8 scans, alongside at least 8 containers made (slow on a loaded host)
        assert scans < 60, f"the churn made only {churn.made} containers in {scans} scans"
        scans += 1
        proc = run_cli("scan", "--json", PREFIX)
        assert proc.returncode in (0, 1), proc.stderr  # never 2 (daemon error) nor a traceback
        assert "Traceback" not in proc.stderr
        doc = json.loads(proc.stdout)
        names = {c["name"] for c in doc["containers"]}
        assert all(f["container"] in names for f in doc["findings"] if f["container"])


def test_the_app_keeps_no_stale_finding(churn):
    async def go():
        app = make_app(load_catalog())
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.host is not None and any(r.name.startswith(PREFIX) for r in app.rows.values()),
                        what="churned containers on the board")
            await pilot.pause(3)  # the app follows creations and removals for a while
            churn.finish()  # every churned container is gone now
            await until(pilot, lambda: not any(r.name.startswith(PREFIX) for r in app.rows.values()), timeout=20,
                        what="the removed containers to leave the board")
            assert churn.ids and not churn.ids & (set(app.findings) | set(app.observations)), \
                "findings kept for churned containers that no longer exist"
            # and none of any container gone: other runs on a shared daemon remove theirs at any moment, so the app
            # must come to it (the destroy events in flight are taken), not be there at one instant
            existing = lambda: set(docker("ps", "-aq", "--no-trunc").stdout.decode().split())  # noqa: E731
            await until(pilot, lambda: set(app.findings) | set(app.observations) <= existing(), timeout=20,
                        what="no finding kept for a container that no longer exists")
            assert app.return_value is None and app.is_running  # still up
    asyncio.run(go())
