"""The architecture, enforced by import-linter contracts (pyproject.toml [tool.importlinter]): the core is pure,
only the adapter uses the docker SDK, the CLI never imports textual, the app reads only through the data source,
and untrusted data is decoded only at the boundary."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout
