"""What the app imports before its first frame: not the diagnosis (core.diagnose, the detectors), which the worker
imports once the list is on screen (~0.01 s of the first paint's ~0.3 s)."""
import subprocess
import sys


def test_the_app_module_does_not_import_the_detectors():
    code = ("import sys; from troubleshoot.tui.factory import make_app; "
            "print(sorted(m for m in sys.modules if m.startswith('troubleshoot.core.detectors')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
