"""The architecture, enforced: the core imports neither textual nor docker; the CLI never imports textual;
only troubleshoot/daemon.py uses the docker SDK."""
import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "troubleshoot"


def _imported_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True, cwd=PKG.parent).stdout.split()
    return {m.split(".")[0] for m in out}


def test_core_imports_neither_textual_nor_docker():
    mods = [f"troubleshoot.core.{p.stem}" for p in (PKG / "core").glob("*.py") if p.stem != "__init__"]
    mods += [f"troubleshoot.core.detectors.{p.stem}" for p in (PKG / "core/detectors").glob("*.py")
             if p.stem != "__init__"]
    loaded = _imported_after("\n".join(f"import {m}" for m in mods))
    assert "textual" not in loaded
    assert "docker" not in loaded
    assert "requests" not in loaded


def test_cli_never_imports_textual():
    loaded = _imported_after("import troubleshoot.cli, troubleshoot.render, troubleshoot.report_json, "
                             "troubleshoot.daemon\ntroubleshoot.cli.build_parser()")
    assert "textual" not in loaded


def test_only_the_adapter_imports_docker():
    users = []
    for path in PKG.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            if any(n == "docker" or n.startswith("docker.") for n in names):
                users.append(path.relative_to(PKG).as_posix())
    assert sorted(set(users)) == ["daemon.py"]
