"""1,000 containers: the board lists them all, keys typed during the first load are all taken (every daemon call
and every diagnosis runs in a worker), and filtering narrows 1,000 rows to one. How fast keys are answered during
that load is measured in a real terminal by bench/tui_bench.py (the pilot waits for idle between keys, so it
cannot say)."""
import asyncio

import pytest

from tests.engine import BASE, daemon_events, ensure_base, on_connections, PREFIX
from tests.integration.conftest import until
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.tui.factory import make_app
from troubleshoot.tui.widgets.container_table import ContainerTable

pytestmark = pytest.mark.engine
N = 1000


@pytest.fixture(scope="module")
def thousand(engine):
    ensure_base()
    with daemon_events(flood=True):  # 1,000 create events, then 1,000 destroy: the daemon's history twice over
        ids = on_connections(lambda d, i: d.create_container(f"{PREFIX}scale-{i:04d}",
                                                               {"Image": BASE, "Cmd": ["sleep", "1"]}), list(range(N)))
    yield ids
    with daemon_events(flood=True):
        on_connections(lambda d, cid: d.remove_container(cid), ids)


def test_a_thousand_containers_on_the_board_and_keys_typed_during_the_load_are_taken(thousand):
    async def go():
        app = make_app(load_catalog(), live_events=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: sum(1 for r in app.rows.values() if r.name.startswith(PREFIX + "scale-")) == N,
                        what="the sparse list of 1,000")
            await pilot.press("slash", *PREFIX + "scale-0999", "enter")
            table = app.screen.query_one(ContainerTable)
            await until(pilot, lambda: table.row_count == 1, what="the filter to narrow 1,000 rows to one")
            assert str(table.get_row_at(0)[0]).startswith(PREFIX + "scale-0999")
            await until(pilot, lambda: len(app.observations) >= N, timeout=120, what="every container inspected")
            await pilot.press("escape")
            await until(pilot, lambda: table.row_count >= N, what="the whole board back")
    asyncio.run(go())
