"""End to end at 80x24: the real binary on the shipped demo (one container per lab scenario, recorded from the lab;
no engine, no images to build), in tmux. For every lab scenario: filter the board to it, open the walkthrough of
its top finding, scroll with the walkthrough's own keys until its root cause is on screen, and read it there."""
import asyncio
import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.e2e.settle import Terminal
from tests.engine import PREFIX
from tests.integration.conftest import until
from troubleshoot.backend import DEMO_SNAPSHOT, snapshot_backend
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.lab import SCENARIOS
from troubleshoot.tui.factory import make_app
from troubleshoot.core.incident import written_cause
from troubleshoot.tui.screens.walkthrough import root_cause_text, screen_values

TERM = Terminal(PREFIX + "e2e80")
BIN = Path(sys.executable).with_name("troubleshoot")
SCROLLBAR = " ▁▂▃▄▅▆▇█▉▊▋▌▍▎▏"


def expected_root_causes() -> dict[str, tuple[str, str]]:
    """Per lab scenario: its top finding's playbook and the root cause text the walkthrough renders for it, from the
    same demo, in-process (the app's own findings, and the walkthrough's own function)."""
    async def go():
        catalog = load_catalog()
        app = make_app(catalog, backend=snapshot_backend(catalog, DEMO_SNAPSHOT), read_only=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: len(app.findings) >= len(SCENARIOS), what="the demo to load")
            out = {}
            for cid, row in app.rows.items():
                sid = row.name.removeprefix("lab-")
                if sid in SCENARIOS:
                    top = app.findings[cid][0]
                    pb = catalog.get(top.playbook_id)
                    cause = written_cause(pb, screen_values(app, cid)[1])
                    assert cause and "{" not in cause, (sid, cause)
                    out[sid] = (top.playbook_id, root_cause_text(pb, cause).plain)
            return out
    return asyncio.run(go())


def root_cause_on_screen(shown: str) -> str | None:
    """The text between "Root cause:" and the rule under the intro, when both are on screen."""
    lines = [line.rstrip(SCROLLBAR) for line in shown.splitlines()]
    starts = [i for i, line in enumerate(lines) if line.strip() == "Root cause:"]
    if not starts:
        return None
    ends = [i for i in range(starts[0] + 1, len(lines)) if lines[i].startswith("──")]
    return "\n".join(lines[starts[0] + 1:ends[0]]) if ends else None


def squeeze(text: str) -> str:
    return "".join(text.split())  # the terminal wraps at 80 columns: compare without the line breaks


@pytest.fixture
def terminal(tmp_path):
    if shutil.which("tmux") is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is missing (make test installs it)")
        pytest.skip("tmux is not installed")
    TERM.start(f"{BIN} --demo --no-user-playbooks", (80, 24), {"XDG_DATA_HOME": str(tmp_path)})
    yield
    TERM.kill()


def test_every_lab_scenarios_root_cause_reads_on_screen_at_80x24(terminal):
    expected = expected_root_causes()
    assert sorted(expected) == sorted(SCENARIOS)
    TERM.wait(lambda s: "TOP FINDING" in s and "CRIT" in s)
    for sid, (playbook, cause) in expected.items():
        read_root_cause(sid, playbook, cause)


def read_root_cause(sid: str, playbook: str, cause: str) -> None:
    """From the board: filter to the scenario's container, open its walkthrough, scroll to its root cause and read
    it, then back to the whole board."""
    name = f"lab-{sid}"
    title = squeeze(f"{name} · {playbook}")  # the walkthrough's heading (it may wrap at 80 columns)
    assert squeeze(cause), f"{sid}: the walkthrough has no root cause to show"
    TERM.type(f"/{name}\r")
    TERM.wait(lambda s: f" {name} [lab]" in s and "lab-arch-mismatch" not in s or sid == "arch-mismatch")
    TERM.enter(lambda s: title in squeeze(s))
    shown = TERM.settled("", timeout=2)
    # not on screen yet: a page down until the heading shows, then a line at a time until its end does
    heading = lambda s: any(line.strip() == "Root cause:" for line in s.splitlines())  # noqa: E731
    shown = TERM.scroll_until(lambda s: root_cause_on_screen(s) is not None, shown, heading, keys=120)
    found = root_cause_on_screen(shown)
    if found is None:
        raise AssertionError(f"{sid}: the root cause never showed whole; the screen was:\n{shown}")
    assert squeeze(found) == squeeze(cause), f"{sid}: on screen:\n{found}\nexpected:\n{cause}"
    TERM.keys("Escape")
    TERM.wait(lambda s: "TOP FINDING" in s)
    TERM.keys("Escape")  # clears the board's filter
    TERM.wait(lambda s: "TOP FINDING" in s and "lab-arch-mismatch" in s)
