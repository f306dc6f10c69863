"""The daemon stops mid-session and starts again: the app says so in a banner, retries, and recovers.
Proved with a second dockerd on its own socket and data root, stopped and started under the running app."""
import asyncio
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.engine import BASE, SecondDaemon, docker, ensure_base, PREFIX
from tests.integration.conftest import until
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.tui.factory import make_app

pytestmark = pytest.mark.engine


@pytest.fixture
def second_daemon(engine):
    if shutil.which("dockerd") is None:
        pytest.fail("dockerd is needed (make test installs docker.io)")
    root = Path(tempfile.mkdtemp(prefix=PREFIX + "dockerd-", dir="/tmp"))  # short: unix socket paths are limited
    daemon = SecondDaemon(root).start()
    yield daemon
    daemon.stop()
    shutil.rmtree(root, ignore_errors=True)
    ensure_base()  # the main engine must be untouched: it still runs a container on its default bridge
    assert docker("run", "--rm", BASE, "true", check=False).returncode == 0, "the second dockerd broke the main one"


def test_banner_while_the_daemon_is_gone_then_recovery(second_daemon):
    async def go():
        app = make_app(load_catalog(), host=second_daemon.url)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.host is not None, what="the first load")
            assert app.banner == ""
            await until(pilot, lambda: any(w.group == "events" and w.is_running for w in app.workers),
                        what="the event stream")
            second_daemon.stop()
            await until(pilot, lambda: "daemon unreachable" in app.banner, timeout=20, what="the banner")
            banner = app.screen.query_one("#banner")
            # the board shows it when it handles the state change (a message: later under load)
            await until(pilot, lambda: banner.display, timeout=10, what="the banner on the board")
            assert str(second_daemon.sock) in app.banner
            await pilot.pause(3)  # a few failed retries: the app is still alive and says so
            assert app.is_running and "daemon unreachable" in app.banner
            second_daemon.start()
            # the app's text first, the board's widget on its next refresh: wait for both (under stress-ng the
            # text had cleared and the widget not yet)
            await until(pilot, lambda: app.banner == "" and not app.screen.query_one("#banner").display, timeout=30,
                        what="recovery, on the board")
    asyncio.run(go())
