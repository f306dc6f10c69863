"""The cyclic garbage collector around the app's start: one place for what cli.cmd_tui (before textual is imported),
the app and its board do with it. No textual here (the CLI imports it).

- `pause()`: the app's start without the cyclic GC: its imports (textual's), its mount and its first frame make ~180
  collections, ~0.015 s of the ~0.35 s to a first frame with 1,000 containers. Until `resume()` (the app: once its
  first rows are written, at the first load's end, or when it ends), PAUSE_MAX at most (a caller that never starts
  the app).
- `resume()`: back on, if `pause` turned it off (from any thread), what the start made frozen first.
- `freeze_once()`: what is loaded when the first app mounts lives as long as the process: out of the cyclic GC's way
  (gc.freeze), so that its full collections, which hold the interpreter, walk only what the app makes since. With
  1,000 containers they paused it for 17, 30 and 54 ms in the first second; after: ~10-30 ms, less often. Once a
  process: an app made later (the demo after no daemon, the tests' apps) would freeze the first one's garbage for
  good (a frozen cycle is never collected; what is not in a cycle is freed as usual)."""
from __future__ import annotations

import gc
import threading

PAUSE_MAX = 5.0  # seconds the app's start runs without the cyclic GC at most
_paused = False
_frozen = False


def pause() -> None:
    global _paused
    if gc.isenabled() and not _paused:
        _paused = True
        gc.disable()
        timer = threading.Timer(PAUSE_MAX, resume)
        timer.daemon = True
        timer.start()


def resume() -> None:
    """Collecting all the start made at once would hold the interpreter ~10 ms right at the first frame: it is
    frozen instead (its few cycles of garbage, ~3,000 objects, stay, once)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def freeze_once() -> None:
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()
