"""Every file troubleshoot writes goes through here: owner-only (0600 files, 0700 directories it creates), written
whole or not at all, and never through a name someone else could have planted.

`write_private` writes a temporary file made with O_CREAT|O_EXCL (`tempfile.mkstemp`: a random name, never a link
followed) in the target's own directory, fsyncs it, then renames it over the target: the target is the old file or
the new one, never half of one, and a symlink planted at the target or at any temporary name is replaced or
refused, never written through. On any failure the temporary file is removed and the target left as it was.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: str | os.PathLike) -> Path:
    """Make `path` (and any missing parent) owner-only (0700) and return it. An existing directory of ours that is
    wider (made by an older version) is narrowed; one owned by someone else is left alone."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            os.mkdir(d, DIR_MODE)
        except FileExistsError:
            pass
        os.chmod(d, DIR_MODE)  # mkdir's mode is filtered by the umask
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise NotADirectoryError(f"{path} is not a directory")
    if st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(path, DIR_MODE)
    return path


def write_private(path: str | os.PathLike, data: str | bytes, *, encoding: str = "utf-8") -> Path:
    """Write `data` to `path` atomically, mode 0600 (see the module docstring). Raises OSError; then nothing was
    changed."""
    path = Path(path)
    raw = data.encode(encoding) if isinstance(data, str) else data
    directory = path.parent if str(path.parent) else Path(".")
    import tempfile  # (with random and shutil: ~1.5 ms, not on a scan's path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")  # O_EXCL, 0600
    try:
        try:
            os.fchmod(fd, FILE_MODE)
            view = memoryview(raw)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # the rename itself survives a crash only once the directory is synced
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return path
