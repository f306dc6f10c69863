"""A container's secrets are masked once, at the boundary, wherever they are: its env, its command line
(`--password=...`, a JWT), a label, its health check and probe output, its logs, its image's ENV and build ARGs.
Checked on a real container through every output: `scan`, `scan --json`, `report`, `snapshot`, and the app's
inspect, logs and image tabs; the reveal action (after `y`) is the one place the env's raw value shows.
"""
import asyncio
import json

import pytest

from tests.engine import BASE, PREFIX, build, docker, ensure_base, wait_state
from tests.integration.conftest import run_cli, until
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.tui.factory import make_app
from troubleshoot.tui.screens.confirm import ConfirmScreen
from troubleshoot.tui.widgets.container_table import ContainerTable

pytestmark = pytest.mark.engine

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLXNlY3JldC14eXo"
SECRETS = {
    "env": "hunter2-ENV-SECRET-zz9",
    "cmd": "cmd-SECRET-3q7",
    "label": "label-SECRET-8k1",
    "probe": "probe-SECRET-2m4",
    "arg": "npm_" + "A1b2C3d4E5" * 3 + "zzzzzz",
    "image_env": "aws-SECRET-5t6u7v8w",
    "jwt": JWT,
}


@pytest.fixture(scope="module")
def leaky(engine):
    ensure_base()
    tag = PREFIX + "secret-image:1"
    build(tag, f"FROM {BASE}\nARG NPM_TOKEN\nRUN echo building with $NPM_TOKEN > /dev/null\n"
               f"ENV AWS_SECRET_ACCESS_KEY={SECRETS['image_env']}\n",
          build_args={"NPM_TOKEN": SECRETS["arg"]})
    name = PREFIX + "secret-everywhere"
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, "-e", f"DB_PASSWORD={SECRETS['env']}", "--label", f"db_password={SECRETS['label']}",
           "--health-cmd", f"echo password={SECRETS['probe']}; exit 1", "--health-interval", "1s", "--health-retries", "1",
           tag, "sh", "-c", f"echo connecting with {SECRETS['env']}; echo 'Error: DB_HOST is not set'; exit 3",
           f"--password={SECRETS['cmd']}", f"--token={JWT}")
    wait_state(name, "exited")
    yield name
    docker("rm", "-f", name, check=False)


def _clean(text: str, where: str) -> None:
    for kind, value in SECRETS.items():
        assert value not in text, f"the {kind} secret is in {where}"


def test_every_cli_output_masks_every_secret(leaky, tmp_path):
    raw = docker("inspect", leaky).stdout.decode() + docker("logs", leaky).stderr.decode() + \
        docker("logs", leaky).stdout.decode() + docker("history", "--no-trunc", PREFIX + "secret-image:1").stdout.decode()
    for kind in ("env", "cmd", "label", "jwt", "arg", "image_env"):
        assert SECRETS[kind] in raw, f"the {kind} secret is not where the test put it"
    for args in (["scan", leaky], ["scan", "--json", leaky], ["scan", "--all-findings", leaky],
                 ["report", leaky], ["snapshot", leaky, "-o", "-"]):
        proc = run_cli("--no-user-playbooks", *args)
        assert proc.returncode in (0, 1), (args, proc.stderr)
        _clean(proc.stdout + proc.stderr, " ".join(args))
    doc = json.loads(run_cli("scan", "--json", leaky).stdout)
    assert any(c["name"] == leaky for c in doc["containers"])


def test_the_app_tabs_mask_every_secret_and_reveal_only_after_yes(leaky):
    from troubleshoot.tui.screens.board import BoardScreen

    def text(widget) -> str:
        from rich.console import Console
        console = Console(width=200, record=True, file=open("/dev/null", "w"))
        console.print(widget.content)
        return console.export_text()

    async def go():
        app = make_app(load_catalog(), live_events=False)
        async with app.run_test(size=(200, 50)) as pilot:
            await until(pilot, lambda: any(r.name == leaky for r in app.rows.values())
                        and any(app.observations.get(c) for c, r in app.rows.items() if r.name == leaky), what="load")
            await pilot.press("slash", *leaky, "enter")
            await until(pilot, lambda: app.screen.query_one(ContainerTable).row_count == 1, what="filter")
            board = app.screen
            assert isinstance(board, BoardScreen)
            await pilot.press("3")
            inspect = text(board.query_one("#inspect"))
            _clean(inspect, "the inspect tab")
            assert "DB_PASSWORD=hu****" in inspect
            assert "--password=cm****(14 chars)" in inspect, "the command is still shown, masked"
            await pilot.press("2")
            await until(pilot, lambda: any("connecting with" in line for line in board.query_one("#logs").lines),
                        what="logs")
            _clean("\n".join(board.query_one("#logs").lines), "the logs tab")
            await pilot.press("4")
            await pilot.pause(0.3)
            history = board.query_one("#history")
            rows = "\n".join(" ".join(str(c) for c in history.get_row_at(i)) for i in range(history.row_count))
            assert "AWS_SECRET_ACCESS_KEY" in rows
            _clean(rows, "the image tab")
            await pilot.press("x")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
            await pilot.press("y")
            await pilot.press("3")
            await until(pilot, lambda: SECRETS["env"] in text(board.query_one("#inspect")), what="revealed")
    asyncio.run(go())
