"""A terminal screen to decide on: under load a tmux capture can catch a half-drawn frame (a scroll, a screen being
replaced), and a key chosen from it overshoots."""
import time
from typing import Callable


def settled(capture: Callable[[], str], before: str, timeout: float = 10) -> str:
    """After a key: the screen once it changed and then stayed the same for 0.3 s. The screen as it is when it never
    changed."""
    deadline = time.monotonic() + timeout
    shown = capture()
    while shown == before and time.monotonic() < deadline:
        time.sleep(0.05)
        shown = capture()
    stable_since = time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - stable_since < 0.3:
        time.sleep(0.05)
        now = capture()
        if now != shown:
            shown, stable_since = now, time.monotonic()
    return shown
