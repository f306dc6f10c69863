"""What the app imports before its first frame: not the diagnosis (core.diagnose, the detectors), which the worker
imports once the list is on screen (~0.01 s of the first paint's ~0.3 s)."""
import subprocess
import sys


def test_the_app_module_does_not_import_the_detectors():
    code = ("import sys; from troubleshoot.tui.factory import make_app; "
            "print(sorted(m for m in sys.modules if m.startswith('troubleshoot.core.detectors')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_list_s_rows_do_not_import_the_detectors_either():
    """The board's first frame draws the sparse list's rows (tui/rows.cells with no inspect yet): the detectors and
    the diagnosis come with the first inspect, not in that frame (they did: ~14 ms of it, session 6)."""
    code = ("import sys; from datetime import datetime, timezone; from troubleshoot.tui.factory import make_app; "
            "from troubleshoot.tui.rows import cells; from troubleshoot.backend import Row; "
            "cells(Row('a' * 64, 'web', 'exited', 'Exited (1) 2 minutes ago', 'web:1'), None, [], "
            "datetime.now(timezone.utc)); "
            "print(sorted(m for m in sys.modules if m.startswith(('troubleshoot.core.detectors', "
            "'troubleshoot.core.diagnose'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
