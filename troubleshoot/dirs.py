"""Where troubleshoot keeps its files: the XDG base directories on Linux (and other Unix but macOS), platformdirs
elsewhere. On Linux these are the XDG Base Directory rules platformdirs follows (tests/unit/test_dirs.py), without
its import and the patterns it compiles (~4 ms of every scan's start, for three environment variables): a variable
is used when it holds an absolute path (the spec: a relative one is invalid and ignored), else the default under
the home directory ($HOME when absolute, else the password database's)."""
from __future__ import annotations

import os
import sys

APP = "troubleshoot"


def _xdg(var: str, default: str) -> str | None:
    """$var when it is an absolute path, else `default` under the home directory; None where XDG is not the rule."""
    if sys.platform == "darwin" or sys.platform.startswith(("win", "cygwin")) or "ANDROID_DATA" in os.environ:
        return None
    path = os.environ.get(var, "")
    if not os.path.isabs(path):
        path = _home() + default
    return os.path.join(path, APP)


def _home() -> str:
    home = os.environ.get("HOME", "")
    if os.path.isabs(home):
        return home.rstrip("/")
    try:
        import pwd
        return pwd.getpwuid(os.getuid()).pw_dir.rstrip("/")
    except (ImportError, KeyError):
        return os.path.expanduser("~").rstrip("/")


def _dir(var: str, default: str, other: str) -> str:
    found = _xdg(var, default)
    if found is None:
        import platformdirs
        return getattr(platformdirs, other)(APP)
    return found


def user_config_dir() -> str:
    return _dir("XDG_CONFIG_HOME", "/.config", "user_config_dir")


def user_cache_dir() -> str:
    return _dir("XDG_CACHE_HOME", "/.cache", "user_cache_dir")


def user_data_dir() -> str:
    return _dir("XDG_DATA_HOME", "/.local/share", "user_data_dir")
