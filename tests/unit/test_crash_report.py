"""The crash report (troubleshoot/crash.py): a private file, no local variables, secrets scrubbed; one line."""
import os

from troubleshoot.core.secrets import forget_all, remember
from troubleshoot.crash import report_crash, report_text

SECRET = "hunter2-SECRET-zz9"


def _raise_holding_env():
    env = [("DB_PASSWORD", SECRET)]  # a local a rich show_locals dump would print
    raise ValueError(f"bad env {env} via postgres://app:pa55word@db/app")


def test_report_is_private_scrubbed_and_has_no_locals(tmp_path):
    forget_all()
    remember([SECRET])
    try:
        _raise_holding_env()
    except ValueError as exc:
        line = report_crash(exc, "test", tmp_path / "crash")
    assert line.startswith("troubleshoot: crashed (ValueError); a report (secrets masked) is in ")
    path = tmp_path / "crash" / line.rsplit(" is in ", 1)[1].rsplit("/", 1)[1]
    assert path.is_file() and path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "crash").stat().st_mode & 0o777 == 0o700
    text = path.read_text()
    assert SECRET not in text and "pa55word" not in text
    assert "ValueError: bad env [('DB_PASSWORD', 'hu****(18 chars)')]" in text and "_raise_holding_env" in text
    assert "env = " not in text  # the frame's locals are not listed
    forget_all()


def test_a_report_that_cannot_be_written_is_still_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    line = report_crash(RuntimeError("x"), "test", blocker / "crash")
    assert line.startswith("troubleshoot: crashed (RuntimeError); no report could be written (") and "\n" not in line


def test_textual_worker_failures_are_named_by_what_the_worker_raised():
    class WorkerFailed(Exception):
        def __init__(self, error):
            self.error = error
    assert "exception: KeyError" in report_text(WorkerFailed(KeyError("k")), "test")
    assert os.environ.get("XDG_DATA_HOME")  # tests never write into the developer's data dir (conftest)
