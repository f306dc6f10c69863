"""Files troubleshoot writes: owner-only, whole or not at all, never through a planted link (troubleshoot/files.py).

`report -o` runs on the shipped demo snapshot here: no daemon needed. `snapshot -o` (which needs one) is checked
the same way in tests/integration/test_files.py."""
import os
import resource
import signal
import stat
import subprocess
import sys

import pytest

from troubleshoot import lab
from troubleshoot.files import private_dir, write_private
from troubleshoot.incidents import IncidentLog, data_dir, incidents_dir


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def run_cli(*args, fsize: int | None = None) -> subprocess.CompletedProcess:
    def limit():
        if fsize is not None:  # "disk full" for this process only: a write past `fsize` bytes fails (EFBIG)
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    return subprocess.run([sys.executable, "-m", "troubleshoot", *args], capture_output=True, text=True, timeout=120,
                          preexec_fn=limit, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


@pytest.fixture
def shared_dir(tmp_path):
    """A sticky world-writable directory, like /tmp, with a victim file another user would love to overwrite."""
    d = tmp_path / "shared"
    d.mkdir()
    d.chmod(0o1777)
    victim = tmp_path / "victim"
    victim.write_text("root's precious file\n")
    return d, victim


def test_report_o_never_writes_through_a_planted_link(shared_dir):
    d, victim = shared_dir
    (d / ".rca.md.tmp").symlink_to(victim)  # the temp name the snapshot writer used to use
    (d / "rca.md").symlink_to(victim)  # and the target itself
    proc = run_cli("--demo", "report", "lab-crashed", "-o", str(d / "rca.md"))
    assert proc.returncode == 0, proc.stderr
    assert victim.read_text() == "root's precious file\n"
    assert not (d / "rca.md").is_symlink() and "Root Cause" in (d / "rca.md").read_text()
    assert mode(d / "rca.md") == 0o600


def test_report_o_that_fails_midway_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "rca.md"
    target.write_text("the RCA written yesterday\n")
    proc = run_cli("--demo", "report", "lab-crashed", "-o", str(target), fsize=300)  # the RCA is bigger
    assert proc.returncode != 0
    assert "cannot write" in proc.stderr and "Traceback" not in proc.stderr
    assert target.read_text() == "the RCA written yesterday\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rca.md"]


def test_write_private_is_0600_whatever_the_umask_and_replaces_a_link(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    (tmp_path / "out.json").symlink_to(victim)
    (tmp_path / ".out.json.tmp").symlink_to(victim)
    old = os.umask(0)
    try:
        write_private(tmp_path / "out.json", "new\n")
    finally:
        os.umask(old)
    assert victim.read_text() == "keep\n"
    assert (tmp_path / "out.json").read_text() == "new\n" and mode(tmp_path / "out.json") == 0o600


def test_write_private_failing_removes_its_temp_and_keeps_the_target(tmp_path, monkeypatch):
    target = tmp_path / "out.json"
    target.write_text("old\n")

    def full(fd):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError):
        write_private(target, "x" * 100_000)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_private_dir_makes_missing_dirs_0700_and_narrows_ours(tmp_path):
    old = os.umask(0)
    try:
        private_dir(tmp_path / "a" / "b")
        wide = tmp_path / "wide"
        wide.mkdir(mode=0o755)
        private_dir(wide)
    finally:
        os.umask(old)
    assert mode(tmp_path / "a") == mode(tmp_path / "a" / "b") == mode(tmp_path / "wide") == 0o700


def test_incident_records_and_the_lab_state_are_owner_only():
    """(XDG_DATA_HOME is a fresh temp dir per session: tests/conftest.py.)"""
    old = os.umask(0o022)
    try:
        log = IncidentLog(incidents_dir() / "x.jsonl")
        log.append({"kind": "opened"})
        lab.save_state({"pulled": ["busybox:latest"]})
    finally:
        os.umask(old)
    assert mode(data_dir()) == mode(incidents_dir()) == 0o700
    assert mode(log.path) == 0o600
    assert mode(lab.state_file()) == 0o600 and lab.load_state() == {"pulled": ["busybox:latest"]}
