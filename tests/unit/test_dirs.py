"""troubleshoot.dirs: the XDG Base Directory rules on Linux, as platformdirs gives them, without importing it."""
from __future__ import annotations

import pwd
import os

import platformdirs
import pytest

from troubleshoot import dirs

VARS = ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME")


@pytest.fixture
def env(monkeypatch):
    for var in (*VARS, "ANDROID_DATA"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def ours() -> tuple[str, str, str]:
    return dirs.user_config_dir(), dirs.user_cache_dir(), dirs.user_data_dir()


def platformdirs_own() -> tuple[str, str, str]:
    return (platformdirs.user_config_dir("troubleshoot"), platformdirs.user_cache_dir("troubleshoot"),
            platformdirs.user_data_dir("troubleshoot"))


def test_unset_is_under_home_as_platformdirs_says(env):
    env.setenv("HOME", "/home/someone else")
    assert ours() == ("/home/someone else/.config/troubleshoot", "/home/someone else/.cache/troubleshoot",
                      "/home/someone else/.local/share/troubleshoot") == platformdirs_own()


def test_absolute_values_are_used_as_platformdirs_uses_them(env):
    env.setenv("XDG_CONFIG_HOME", "/x/conf")
    env.setenv("XDG_CACHE_HOME", "/x/cache")
    env.setenv("XDG_DATA_HOME", "/x/data")
    assert ours() == ("/x/conf/troubleshoot", "/x/cache/troubleshoot", "/x/data/troubleshoot") == platformdirs_own()


@pytest.mark.parametrize("value", ["", "   ", "relative/conf", " /leading space"])
def test_blank_or_relative_values_are_ignored_as_the_spec_says(env, value):
    env.setenv("HOME", "/h")
    for var in VARS:
        env.setenv(var, value)
    assert ours() == ("/h/.config/troubleshoot", "/h/.cache/troubleshoot", "/h/.local/share/troubleshoot")


def test_a_relative_home_is_the_password_databases(env):
    env.setenv("HOME", "not/absolute")
    home = pwd.getpwuid(os.getuid()).pw_dir.rstrip("/")
    assert ours()[0] == f"{home}/.config/troubleshoot"


def test_a_scan_does_not_import_platformdirs():
    import subprocess
    import sys
    code = ("import sys; from troubleshoot import cli, playbook_cache, crash, incidents; "
            "cli.user_playbook_dir(); playbook_cache.cache_dir(); crash.crash_dir(); incidents.data_dir(); "
            "print('platformdirs' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
