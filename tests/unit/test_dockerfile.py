"""`troubleshoot dockerfile` on real-world-shaped Dockerfiles (tests/dockerfiles/*: Node, Python, Go, naive and good,
with their build contexts): exactly the expected findings, secret values never shown, and docs/dockerfile.md's
comparison with hadolint still true."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from troubleshoot.core.dockerfile_rules import Instruction, review
from troubleshoot.dockerfile import DockerfileError, review_path

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted(p for p in (ROOT / "tests" / "dockerfiles").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_expected_findings(case):
    expected = json.loads((case / "expected.json").read_text())["findings"]
    _file, findings = review_path(case)
    assert sorted([f.rule, f.line] for f in findings) == sorted(expected)
    assert all(f.fix.strip() and f.message for f in findings)


def test_secret_values_are_masked_in_text_and_json():
    case = ROOT / "tests" / "dockerfiles" / "python-naive"
    for args in ([], ["--json"]):
        proc = subprocess.run([sys.executable, "-m", "troubleshoot", "dockerfile", *args, str(case)],
                              capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
        assert proc.returncode == 1, proc.stderr
        assert "secret-in-build" in proc.stdout and "DATABASE_PASSWORD" in proc.stdout
        assert "s3cr3t-pa55" not in proc.stdout


def test_bad_input_is_one_line(tmp_path):
    empty = tmp_path / "Dockerfile"
    empty.write_text("")
    for path, says in ((tmp_path / "nope", "no such file"), (empty, "not a Dockerfile"), (ROOT / "docs", "no Dockerfile")):
        with pytest.raises(DockerfileError, match=says):
            review_path(path)


def test_from_without_image_is_a_finding_not_a_crash():
    found = review([Instruction("FROM", (), 1, "FROM")], None)
    assert [f.rule for f in found] == ["no-from"]


def test_the_hadolint_comparison_in_the_docs_is_current():
    sys.path.insert(0, str(ROOT / "scripts"))
    import hadolint_compare
    doc = (ROOT / "docs" / "dockerfile.md").read_text()
    shown = doc.split("<!-- hadolint-table -->\n", 1)[1].split("<!-- /hadolint-table -->", 1)[0]
    assert shown == hadolint_compare.table()
