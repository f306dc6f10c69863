"""A Compose container's fix in the app, on the lab's real Compose project: given in Compose terms (the file, the
service, the YAML fragment, `up -d SERVICE`), never a `docker run`; refused with --read-only; refused while the
file does not hold the fragment (read back from the file); once it does and the engineer confirmed, `up -d SERVICE`
runs, the walkthrough follows the service's new container and verifies it."""
from __future__ import annotations

import asyncio

import pytest
import yaml

from tests.engine import LAB_INSTANCE, docker, inspect
from tests.integration.conftest import press_run, run_cli, until
from tests.integration.test_fixes import walkthrough_of
from tests.integration.test_tui import steps
from troubleshoot.core.incident import render_rca
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


def _verdicts(screen) -> list[dict]:
    return [e for e in screen.incident_log.read().events if e.get("kind") == "verdict"]


def test_compose_fix_is_the_fragment_then_up_then_the_new_container_verified(engine):
    """api (missing-env): the fragment names ${DB_HOST} (the project's .env has it; its value is never copied); the
    file edited BEFORE the walkthrough opens is accepted (the fragment is read back from the file). After `up -d
    api`, the walkthrough follows api's new container, verifies it (a verdict, recorded), the RCA says the fix passed
    its verification, and `report NAME` finds the incident for the new container. worker (oom-killed): its fix edits
    mem_limit where the file sets it (FILE:LINE), is refused with what is missing while the file still says 24m,
    then applied, followed and verified too."""
    instance = f"{LAB_INSTANCE}-cfix"[:40]
    daemon = Daemon().connect()
    lab = Lab(daemon, instance=instance, say=lambda _t: None, stop_timeout=1)
    project = lab_compose.project_name(instance)
    try:
        path = lab_compose.up(lab, say=lambda _t: None)
        api, worker = _container(project, "api"), _container(project, "worker")
        api_id = inspect(api)["Id"]
        text = open(path, encoding="utf-8").read()
        at = text.index('      APP_PORT: "3000"', text.index("  api:"))
        text = text[:at] + "      DB_HOST: ${DB_HOST}\n" + text[at:]
        with open(path, "w", encoding="utf-8") as f:  # edited before the walkthrough opens
            f.write(text)
        mem_line = text[:text.index("    mem_limit: 24m")].count("\n") + 1

        async def go():
            app = make_app(load_catalog(), live_events=False)
            async with app.run_test(size=(120, 40)) as pilot:
                screen = await walkthrough_of(pilot, app, api)
                assert screen.playbook.id == "missing-env"
                items = steps(screen)
                fixes = [i for i in items if i.section == "fix"]
                env_fix, env_file_fix = fixes[0], fixes[1]
                text = env_fix.command or ""
                assert "services:\n  api:\n    environment:\n      DB_HOST: ${DB_HOST}" in text, text
                assert "orders-db" not in text  # the .env's value is never copied into the fragment
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

                await pilot.press("r")  # the file already holds DB_HOST: accepted, though edited before opening
                await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
                assert "up -d api" in app.screen.command
                await press_run(pilot, app)
                await until(pilot, lambda: env_fix.exit_code is not None, timeout=120, what="up -d api")
                assert env_fix.exit_code == 0, "\n".join(env_fix.output)
                await until(pilot, lambda: screen.cid != api_id, timeout=60, what="the new api container followed")
                assert screen.cid == inspect(api)["Id"]
                await until(pilot, lambda: any(v["status"] in ("pass", "fail") for v in _verdicts(screen)),
                            timeout=120, what="api's verdict")
                assert _verdicts(screen)[-1]["status"] == "pass", _verdicts(screen)
                events = screen.incident_log.read().events
                step = [e for e in events if e.get("kind") == "step"][-1]
                assert step["command"].endswith("up -d api") and step["confirmed"]
                followed = [e for e in events if e.get("kind") == "followed"]
                assert followed and followed[-1]["old_id"] == api_id and followed[-1]["new_id"] == screen.cid
                status = str(screen.query_one("#wt-status").render())
                assert "gone" not in status, status
                rca = render_rca(screen.incident_log.read(), app.catalog)
                assert "Verified at" in rca and "No fix run from troubleshoot passed" not in rca, rca
                assert "Not verified" not in rca

                await pilot.press("escape")
                screen = await walkthrough_of(pilot, app, worker)
                assert screen.playbook.id == "oom-killed"
                mem_fix = [i for i in steps(screen) if i.section == "fix"][0]
                text = mem_fix.command or ""
                assert text.startswith(f"{path}:{mem_line}: service worker's mem_limit is set here"), text
                want = yaml.safe_load(text.split("\n", 1)[1].split("\nthen apply it:")[0])["services"]["worker"]
                limit = want["mem_limit"]
                screen.query_one("#steps").index = steps(screen).index(mem_fix)
                await pilot.pause()
                await pilot.press("r")  # the file still says 24m: refused, saying what and where
                await until(pilot, lambda: any("mem_limit is 24m" in str(n.message) for n in app._notifications),
                            what="the refusal naming what is missing")
                note = next(str(n.message) for n in app._notifications if "mem_limit is 24m" in str(n.message))
                assert f"{path}:{mem_line}" in note and f"not {limit}" in note, note
                assert isinstance(app.screen, WalkthroughScreen) and mem_fix.exit_code is None
                now = open(path, encoding="utf-8").read()
                with open(path, "w", encoding="utf-8") as f:
                    f.write(now.replace("    mem_limit: 24m\n    memswap_limit: 24m",
                                        f"    mem_limit: {limit}\n    memswap_limit: {limit}"))
                worker_id = screen.cid
                await pilot.press("r")
                await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
                await press_run(pilot, app)
                await until(pilot, lambda: mem_fix.exit_code is not None, timeout=120, what="up -d worker")
                assert mem_fix.exit_code == 0, "\n".join(mem_fix.output)
                await until(pilot, lambda: screen.cid != worker_id, timeout=60, what="the new worker followed")
                await until(pilot, lambda: any(v["status"] in ("pass", "fail") for v in _verdicts(screen)),
                            timeout=120, what="worker's verdict")
                assert _verdicts(screen)[-1]["status"] == "pass", _verdicts(screen)
        asyncio.run(go())
        new = inspect(_container(project, "api"))
        assert "DB_HOST=orders-db" in new["Config"]["Env"] and new["Id"] != api_id
        assert new["State"]["Status"] == "running", new["State"]
        report = run_cli("report", api)  # the incident, found for the service's new container
        assert report.returncode in (0, 1), report.stderr
        assert "Verified at" in report.stdout and "No fix run from troubleshoot passed" not in report.stdout
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
