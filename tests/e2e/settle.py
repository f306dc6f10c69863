"""The real binary in a tmux session, read with capture-pane: one definition for the end-to-end tests.

A terminal screen to decide on: under load a tmux capture can catch a half-drawn frame (a scroll, a screen being
replaced), and a key chosen from it overshoots."""
import subprocess
import time
from typing import Callable

Want = str | Callable[[str], bool]


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


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


class Terminal:
    """The tmux session `session` (a name of this run's own: tests.engine.PREFIX), `wait` waiting `timeout` s."""

    def __init__(self, session: str, timeout: float = 20):
        self.session, self.timeout = session, timeout

    def start(self, command: str, size: tuple[int, int], env: dict[str, str] | None = None) -> None:
        """`command` in a new detached session of `size` columns x lines (one left by an interrupted run: gone)."""
        self.kill()
        extra = [a for k, v in {"TERM": "xterm-256color", **(env or {})}.items() for a in ("-e", f"{k}={v}")]
        tmux("new-session", "-d", "-s", self.session, "-x", str(size[0]), "-y", str(size[1]), *extra, command)

    def kill(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.session], capture_output=True)

    def alive(self) -> bool:
        return subprocess.run(["tmux", "has-session", "-t", self.session], capture_output=True).returncode == 0

    def screen(self) -> str:
        return tmux("capture-pane", "-p", "-t", self.session)

    def keys(self, *keys: str) -> None:
        """tmux key names (Enter, PageDown, C-Down, a letter)."""
        tmux("send-keys", "-t", self.session, *keys)

    def type(self, text: str) -> None:
        """`text` as it is, in one burst (as a paste or SSH latency delivers it)."""
        tmux("send-keys", "-t", self.session, "-l", text)

    def wait(self, want: Want, timeout: float | None = None) -> str:
        """Until `want` is on screen (a text), or `want(screen)` is true: the screen then."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        shown = ""
        while time.monotonic() < deadline:
            shown = self.screen()
            if want(shown) if callable(want) else want in shown:
                return shown
            time.sleep(0.05)
        raise AssertionError(f"{want!r} never showed; the screen was:\n{shown}")

    def settled(self, before: str, timeout: float = 10) -> str:
        return settled(self.screen, before, timeout)

    def enter(self, opened: Want) -> str:
        """Enter on the filtered board, until `opened`. Under load the board can show the filtered rows (the filter
        applies as it is typed) before the filter box has taken its own Enter: the first Enter then submits the
        filter, and the board is still there: Enter again."""
        self.keys("Enter")
        try:
            return self.wait(opened, timeout=5)
        except AssertionError:
            self.keys("Enter")
            return self.wait(opened)

    def scroll_until(self, done: Callable[[str], bool], shown: str, line_by_line: Callable[[str], bool] = lambda s: False,
                     keys: int = 60) -> str:
        """From the screen `shown`, at most `keys` keys until `done(screen)`: a page down, or a line at a time where
        `line_by_line(screen)` (what is looked for begins on screen). Each key is decided on a settled screen (a
        half-drawn one makes a second PageDown skip the step); a page that changes nothing (the bottom reached: past
        what is looked for) turns back to the top, a line at a time from there. The last screen."""
        paging = True
        for _ in range(keys):
            if done(shown):
                break
            key = "PageDown" if paging and not line_by_line(shown) else "C-Down"
            self.keys(key)
            after = self.settled(shown, timeout=5)
            if key == "PageDown" and after == shown:
                paging = False
                self.keys("Home")
                after = self.settled(shown, timeout=5)
            shown = after
        return shown
