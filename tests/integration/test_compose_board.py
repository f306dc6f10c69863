"""A real Compose project (docker-compose 1.29, the labels of Compose v2; tests/compose_project.py): `scan --project`
takes exactly its containers, says each one's and each finding's project and service, groups the text output by
project; an unknown project is one line and exit 2; the app's board groups it under its project's line."""
import asyncio
import json

import pytest

from tests.compose_project import compose_project
from tests.engine import BASE, PREFIX, docker, ensure_base, wait_state
from tests.integration.conftest import run_cli, until
from troubleshoot.backend import LiveBackend
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.tui.factory import make_app
from troubleshoot.tui.rows import project_key
from troubleshoot.tui.widgets.container_table import ContainerTable

pytestmark = pytest.mark.engine


@pytest.fixture
def shop(engine, tmp_path):
    with compose_project(tmp_path, "shop") as project:
        yield project


def test_scan_json_project_takes_its_containers_with_project_and_service(shop):
    proc = run_cli("--no-user-playbooks", "scan", "--json", "--project", shop)
    assert proc.returncode == 1, proc.stderr  # the worker exited 1: a finding
    doc = json.loads(proc.stdout)
    got = {c["name"]: (c["project"], c["service"], c["state"]) for c in doc["containers"]}
    assert got == {f"{shop}_web_1": (shop, "web", "running"), f"{shop}_web_2": (shop, "web", "running"),
                   f"{shop}_worker_1": (shop, "worker", "exited")}
    worker = [f for f in doc["findings"] if f["container"] == f"{shop}_worker_1"]
    assert worker and worker[0]["severity"] == "critical"
    assert all((f["project"], f["service"]) == (shop, "worker") for f in worker)
    assert all(f["project"] == shop for f in doc["findings"] if f["container_id"])


def test_scan_text_groups_by_project_and_a_loose_container_stays_loose(shop):
    ensure_base()
    loose = f"{PREFIX}loose-beside-shop"
    docker("rm", "-f", loose, check=False)
    docker("run", "-d", "--name", loose, BASE, "sleep", "600")
    try:
        wait_state(loose, "running")
        proc = run_cli("--no-user-playbooks", "scan", shop, loose)  # by name: the project's containers and the loose one
        assert proc.returncode == 1, proc.stderr
        lines = proc.stdout.splitlines()
        head = [i for i, line in enumerate(lines) if f"▾ {shop} " in line]
        assert len(head) == 1, proc.stdout
        assert "CRIT" in lines[head[0]] and "1/3 up" not in lines[head[0]] and "2/3 up" in lines[head[0]]
        assert f"  {shop}_worker_1" in lines[head[0] + 1]  # its worst member first, indented under it
        assert any(f"│ {loose}" in line for line in lines)  # loose: not indented, under no project
        doc = json.loads(run_cli("--no-user-playbooks", "scan", "--json", shop, loose).stdout)
        assert {c["name"]: c["project"] for c in doc["containers"]}[loose] is None
        only = json.loads(run_cli("--no-user-playbooks", "scan", "--json", "--project", shop, "--project", shop,
                                  shop, loose).stdout)
        assert loose not in {c["name"] for c in only["containers"]} and len(only["containers"]) == 3
    finally:
        docker("rm", "-f", loose, check=False)


def test_an_unknown_project_is_one_line_and_exit_2(shop):
    proc = run_cli("--no-user-playbooks", "scan", "--project", f"{PREFIX}no-such-project", "--project", shop)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and f"'{PREFIX}no-such-project'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_board_groups_the_project_and_folds_it(shop):
    asyncio.run(board_groups(shop))


async def board_groups(shop: str) -> None:
    catalog = load_catalog()
    backend = LiveBackend(catalog)
    backend.connect()
    app = make_app(catalog, backend=backend)
    async with app.run_test(size=(120, 40)) as pilot:
        ids = {r.id for r in backend.rows() if r.project == shop}
        assert len(ids) == 3
        await until(pilot, lambda: ids <= set(app.findings) and not app.load_running, timeout=60,
                    what="the project's containers to be diagnosed")
        board = app.screen
        await pilot.press("slash", *shop, "enter")
        table = app.screen.query_one(ContainerTable)
        await until(pilot, lambda: table.row_count == 4, what="the filter to leave the project")
        keys = [k.value for k in table.rows]
        assert keys[0] == project_key(shop) and set(keys[1:]) == ids
        assert table.selected_id == keys[1]  # the worst container, under its project's line
        assert app.rows[keys[1]].name == f"{shop}_worker_1"
        await pilot.press("z")
        await until(pilot, lambda: table.row_count == 1, what="the project to fold")
        assert table.selected_project == shop and table.selected_id is None
        await pilot.press("enter")  # enter on the project's line unfolds it (opens no walkthrough)
        await until(pilot, lambda: table.row_count == 4, what="the project to unfold")
        assert app.screen is board
