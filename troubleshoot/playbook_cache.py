"""The playbooks' decoded YAML, kept between runs: a scan or the app parses YAML only for a file that changed.

One file per version of the code, `$XDG_CACHE_HOME/troubleshoot/playbooks-<stamp>.msgpack` (0600, written whole:
files.py; the 4 most recent kept), maps a key per playbook file to the data `core.playbooks._to_data` made of its
bytes. The key is a hash of those bytes and of the code that decodes them (this module, core/playbooks.py, clean.py
and PyYAML's __init__, by size and mtime): an edited playbook, an upgrade or another PyYAML is a miss, never a stale
entry. Every playbook is still validated on each
load (`_build`), and what comes from this file is held to the YAML bounds and cleaned again (`_from_cache`): the
file is trusted no more than the playbooks. A missing, unreadable, oversized or corrupt cache is an empty one; a
cache that cannot be written is skipped (read-only home). Only the entries this load used are written back.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

try:  # CPython's own SHA-256, without hashlib's OpenSSL start-up (~5 ms of every run)
    from _sha2 import sha256  # type: ignore[import-not-found]  # 3.12+
except ImportError:
    try:
        from _sha256 import sha256  # type: ignore[import-not-found,no-redef]  # 3.11
    except ImportError:
        from hashlib import sha256  # type: ignore[assignment]

MAX_CACHE_BYTES = 8 << 20
KEEP_FILES = 4  # versions of the code whose cache is kept (installs, checkouts, an upgrade's previous one)  # ~75 KB for the shipped playbooks
FORMAT = b"troubleshoot-playbooks-1"


def cache_dir() -> Path:
    from .dirs import user_cache_dir
    return Path(user_cache_dir())


def _code_stamp() -> bytes:
    """Size and mtime of the files whose code decides what a playbook's bytes decode to."""
    import importlib.util

    from . import clean
    from .core import playbooks
    files = [__file__, playbooks.__file__, clean.__file__]
    spec = importlib.util.find_spec("yaml")  # its __init__ (which names its version): another PyYAML is a miss
    if spec is not None and spec.origin:
        files.append(spec.origin)
    parts = []
    for f in files:
        try:
            st = os.stat(f)
            parts.append(f"{f}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{f}:?")
    return "\n".join(parts).encode()


class FileCache:
    def __init__(self, path: Path | None = None):
        self._salt = sha256(FORMAT + b"\0" + _code_stamp()).digest()
        # a file per version of the code: two installs (or checkouts) used in turn do not evict each other's
        self.path = path if path is not None else cache_dir() / f"playbooks-{self._salt.hex()[:16]}.msgpack"
        self._old: dict[str, Any] = self._read()
        self._used: dict[str, Any] = {}
        self._changed = False

    def _read(self) -> dict[str, Any]:
        import msgspec
        try:
            with open(self.path, "rb") as f:
                raw = f.read(MAX_CACHE_BYTES + 1)
        except OSError:
            return {}
        if len(raw) > MAX_CACHE_BYTES:
            return {}
        try:
            data = msgspec.msgpack.decode(raw)
        except (msgspec.DecodeError, RecursionError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def key(self, raw: bytes) -> str:
        return sha256(self._salt + raw).hexdigest()

    def get(self, key: str) -> Any:
        data = self._old.get(key)
        if data is not None:
            self._used[key] = data
        return data

    def put(self, key: str, data: Any) -> None:
        self._used[key] = data
        self._changed = True

    def save(self) -> None:
        """Write back the entries this load used, when one was parsed anew (or one went stale)."""
        import msgspec

        from .files import private_dir, write_private
        if not self._changed and set(self._used) == set(self._old):
            return
        try:
            blob = msgspec.msgpack.encode(self._used)
        except (TypeError, ValueError, OverflowError):  # a value YAML made that msgpack has no type for (a date)
            blob = msgspec.msgpack.encode({k: v for k, v in self._used.items() if _plain(v)})
        if len(blob) > MAX_CACHE_BYTES:
            return
        try:
            private_dir(self.path.parent)
            write_private(self.path, blob)
        except OSError:
            return  # no cache this time; nothing else depends on it
        self._old, self._changed = dict(self._used), False
        _keep_newest(self.path.parent, KEEP_FILES)


def _keep_newest(directory: Path, keep: int) -> None:
    """Remove the cache files of all but the `keep` most recently written versions of the code."""
    try:
        files = sorted(directory.glob("playbooks-*.msgpack"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[keep:]:
            old.unlink()
    except OSError:
        pass


def _plain(value: Any) -> bool:
    import msgspec
    try:
        msgspec.msgpack.encode(value)
    except (TypeError, ValueError, OverflowError):
        return False
    return True


def load_catalog_cached(extra_dirs: Any = (), user_dir: Path | None = None, include_shipped: bool = True,
                        cache: bool = True):
    """core.playbooks.load_catalog with the file cache (on by default; TROUBLESHOOT_NO_PLAYBOOK_CACHE=1 turns it off)."""
    from .core.playbooks import load_catalog
    store = FileCache() if cache and not os.environ.get("TROUBLESHOOT_NO_PLAYBOOK_CACHE") else None
    catalog = load_catalog(extra_dirs, user_dir=user_dir, include_shipped=include_shipped, cache=store)
    if store is not None:
        store.save()
    return catalog
