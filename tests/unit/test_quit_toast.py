"""ctrl+c's toast (textual's action_help_quit) reads "Press q to quit the app": textual says it in markup, and every
toast of this app is literal text, so its own version showed "Press [b]q[/b] to quit the app"."""
import asyncio

from troubleshoot.backend import DEMO_SNAPSHOT, snapshot_backend
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.tui.factory import make_app


def test_ctrl_c_says_how_to_quit_without_markup():
    catalog = load_catalog()

    async def go():
        app = make_app(catalog, backend=snapshot_backend(catalog, DEMO_SNAPSHOT), read_only=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("ctrl+c")
            await pilot.pause()
            said = [str(n.message) for n in app._notifications]
            assert any("Press q to quit the app" in m for m in said), said
            assert not any("[b]" in m for m in said), said
    asyncio.run(go())
