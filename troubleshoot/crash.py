"""What a crash leaves behind: one line on the terminal, and a report file only its owner can read.

A crash of the app or of a command is a bug. Textual's own handler prints a traceback with every frame's local
variables (rich, show_locals=True), and those hold container env pairs such as ('DB_PASSWORD', 'hunter2'). Here the
report has the traceback WITHOUT local variables, and all of it (exception messages included) goes through
`core.secrets.scrub`: every raw secret value seen in this process, and every credential shape, masked. It is written
0600 under the user's data dir (`~/.local/share/troubleshoot/crash/`, directories 0700). No textual here: the CLI
uses it too.
"""
from __future__ import annotations

import os
import platform
import sys
import traceback
from datetime import datetime, timezone
from pathlib import Path

from .core.secrets import scrub

EXIT_CRASH = 2  # what `troubleshoot` exits with after a crash (as when the daemon cannot be used: nothing was done)


def crash_dir() -> Path:
    from .dirs import user_data_dir
    return Path(user_data_dir()) / "crash"


def _kind(exc: BaseException) -> str:
    """The exception's type, for the one line (a type name, never its message: messages may quote anything)."""
    inner = getattr(exc, "error", None)  # textual's WorkerFailed wraps what the worker raised
    if type(exc).__name__ == "WorkerFailed" and isinstance(inner, BaseException):
        exc = inner
    return type(exc).__name__


def report_text(exc: BaseException, where: str) -> str:
    """The report: when, what ran, the exception and its traceback (no local variables), scrubbed."""
    from . import __version__
    lines = ["troubleshoot crash report (secrets masked)", "",
             f"time: {datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}",
             f"where: {where}",
             f"version: troubleshoot {__version__}, Python {platform.python_version()}, {platform.platform()}",
             f"command: {' '.join(sys.argv)}",
             f"exception: {_kind(exc)}", "", ""]
    body = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))  # locals are never captured
    return scrub("\n".join(lines) + body)


def _private_dir(path: Path) -> None:
    """Make `path` (and missing parents) owner-only; an existing parent is left as it is, `path` itself is 0700."""
    for parent in reversed(path.parents):
        if not parent.exists():
            try:
                parent.mkdir(mode=0o700)
            except FileExistsError:
                pass
    path.mkdir(mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)


def write_report(exc: BaseException, where: str, directory: Path | None = None) -> Path:
    """Write the report to a new file, mode 0600, and return its path. OSError if it cannot be written."""
    directory = Path(directory) if directory is not None else crash_dir()
    _private_dir(directory)
    text = report_text(exc, where).encode("utf-8", errors="replace")
    stem = f"{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}-{os.getpid()}"
    for n in range(100):
        path = directory / (f"{stem}.txt" if n == 0 else f"{stem}-{n}.txt")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, text)
            os.fsync(fd)
        finally:
            os.close(fd)
        return path
    raise FileExistsError(f"no free report name in {directory}")


def report_crash(exc: BaseException, where: str, directory: Path | None = None) -> str:
    """Write the report; the one line to print (no newline): where the report is, or why there is none."""
    try:
        path = write_report(exc, where, directory)
    except Exception as failed:  # the report is best effort: the one line still tells what happened
        return (f"troubleshoot: crashed ({_kind(exc)}); no report could be written "
                f"({type(failed).__name__}: {scrub(' '.join(str(failed).split()))})")
    return f"troubleshoot: crashed ({_kind(exc)}); a report (secrets masked) is in {path}"
