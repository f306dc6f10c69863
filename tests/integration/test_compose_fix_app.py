"""A Compose container's fix in the app, on the lab's real Compose project: given in Compose terms (the file, the
service, the YAML fragment, `up -d SERVICE`), never a `docker run`; refused with --read-only; refused while the
file is unedited; once the engineer added the fragment and confirmed, `up -d api` runs and the service is fixed."""
from __future__ import annotations

import asyncio

import pytest

from tests.engine import LAB_INSTANCE, docker, inspect
from tests.integration.conftest import press_run, until
from tests.integration.test_fixes import walkthrough_of
from tests.integration.test_tui import steps
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.daemon import Daemon
from troubleshoot.lab import Lab
from troubleshoot import lab_compose
from troubleshoot.tui.factory import make_app
from troubleshoot.tui.screens.confirm import ConfirmScreen
from troubleshoot.tui.screens.walkthrough import WalkthroughScreen

pytestmark = pytest.mark.engine


def _container(project: str, service: str) -> str:
    return docker("ps", "-a", "--filter", f"label=com.docker.compose.project={project}", "--filter",
                  f"label=com.docker.compose.service={service}", "--format", "{{.Names}}").stdout.decode().split()[0]


def test_compose_fix_is_the_fragment_and_up_after_the_file_is_edited(engine):
    instance = f"{LAB_INSTANCE}-cfix"[:40]
    daemon = Daemon().connect()
    lab = Lab(daemon, instance=instance, say=lambda _t: None, stop_timeout=1)
    project = lab_compose.project_name(instance)
    try:
        path = lab_compose.up(lab, say=lambda _t: None)
        api = _container(project, "api")

        async def go():
            app = make_app(load_catalog(), live_events=False)
            async with app.run_test(size=(120, 40)) as pilot:
                screen = await walkthrough_of(pilot, app, api)
                assert screen.playbook.id == "missing-env"
                items = steps(screen)
                fixes = [i for i in items if i.section == "fix"]
                env_fix, env_file_fix = fixes[0], fixes[1]
                text = env_fix.command or ""
                assert f"{path}: add to service api" in text
                assert "services:\n  api:\n    environment:\n      DB_HOST: orders-db" in text  # from its .env
                assert f"docker compose -p {project} -f {path} up -d api" in text
                assert f"docker-compose -p {project} -f {path} up -d api" in text  # v1 is what is installed here
                assert not any(line.lstrip().startswith(("docker run", "docker rename", "docker stop", "recreate"))
                               for line in text.splitlines())
                assert "env_file:\n      - ./prod.env" in (env_file_fix.command or "")
                assert "docker run -" not in (env_file_fix.command or "")

                screen.query_one("#steps").index = items.index(env_fix)
                await pilot.pause()
                app.read_only = True
                await pilot.press("r")
                await pilot.pause()
                assert not isinstance(app.screen, ConfirmScreen)
                assert any("--read-only" in str(n.message) for n in app._notifications)
                app.read_only = False

                await pilot.press("r")  # the file is as the lab wrote it: refused, with what to do
                await until(pilot, lambda: any("has not changed" in str(n.message) for n in app._notifications),
                            what="the unedited-file warning")
                assert isinstance(app.screen, WalkthroughScreen) and env_fix.exit_code is None

                text_now = path_text = open(path, encoding="utf-8").read()
                api_part = path_text.index("  api:")
                at = path_text.index('      APP_PORT: "3000"', api_part)
                text_now = path_text[:at] + "      DB_HOST: orders-db\n" + path_text[at:]
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text_now)

                await pilot.press("r")
                await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
                assert "up -d api" in app.screen.command
                await press_run(pilot, app)
                await until(pilot, lambda: env_fix.exit_code is not None, timeout=120, what="up -d api")
                assert env_fix.exit_code == 0, "\n".join(env_fix.output)
                recorded = [e for e in screen.incident_log.read().events if e.get("kind") == "step"]
                assert recorded[-1]["command"].endswith("up -d api") and recorded[-1]["confirmed"]
        asyncio.run(go())
        new = inspect(_container(project, "api"))
        assert "DB_HOST=orders-db" in new["Config"]["Env"]
        assert new["State"]["Status"] == "running" or new["State"]["ExitCode"] == 0, new["State"]
    finally:
        lab_compose.down(daemon, instance)
        from troubleshoot.lab import down
        down(daemon, (), instance)


def test_loose_container_fix_shows_the_full_equivalent_docker_run(engine):
    """The lab's loose missing-env: the recreate's confirmation and the `docker run --env-file` step both show the
    whole container (its network, its other env, its name), not a bare `docker run IMAGE`."""
    from tests.integration.test_fixes import _cleanup, fix_dialog
    from tests.scenarios import create
    name = create("missing-env")
    try:
        async def go():
            app = make_app(load_catalog(), live_events=False)
            async with app.run_test(size=(120, 40)) as pilot:
                screen = await walkthrough_of(pilot, app, name)
                items = steps(screen)
                env_file = [i for i in items if i.section == "fix"][1]
                text = env_file.command or ""
                assert text.startswith(f"docker run -d --name {name} ") and f"--network {name}-net" in text, text
                assert "--env-file ./prod.env" in text and "-e APP_PORT=3000" in text and "-e DB_PORT=5432" in text
                assert env_file.why_not  # copied and run by hand: it takes the old container's name
                await fix_dialog(pilot, app, screen, recreate_only=True)
                shown = app.screen.command
                assert "the equivalent docker run:" in shown
                assert f"docker run -d --name {name} " in shown and f"--network {name}-net" in shown
                assert "-e DB_HOST=" in shown and "-e APP_PORT=3000" in shown
                await pilot.press("n")
        asyncio.run(go())
    finally:
        _cleanup(name)
