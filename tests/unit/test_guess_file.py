"""The ids file a full scan keeps for the next one's head start (prefetch.py): read only when every line is a
container id, bounded in size; written only when the ids changed, private (0600)."""
import os
import stat

import pytest

from troubleshoot import prefetch
from troubleshoot.prefetch import MAX_GUESS, Asked, guess_path, read_guess, remember

URL = "unix:///var/run/docker.sock"
ID = "ab" * 32


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path


def _write(text: str) -> None:
    path = guess_path(URL)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


class _Batch:
    def close(self):
        pass

    def sockets(self):
        return []


@pytest.mark.parametrize("text, ids", [
    (f"{ID}\n{'cd' * 32}\n", [ID, "cd" * 32]),
    ("", []),
    (f"{ID}\n{'AB' * 32}\n", []),  # upper case: not how the daemon writes an id
    (f"{ID}\n{ID[:-1]}\n", []),  # 63 digits
    (f"{ID}\n../../../etc/passwd\n", []),
    (f"{ID} {ID}x\n", []),
    ("\x00" * 10, []),
])
def test_only_a_list_of_container_ids_is_read(text, ids):
    _write(text)
    assert read_guess(URL) == ids


def test_a_missing_file_is_no_guess():
    assert read_guess(URL) == []


def test_a_file_longer_than_the_bound_is_not_read():
    _write(f"{ID}\n" * (MAX_GUESS + 1))
    assert read_guess(URL) == []
    _write(f"{ID}\n" * MAX_GUESS)
    assert len(read_guess(URL)) == MAX_GUESS


def test_each_daemon_has_its_own_file():
    assert guess_path(URL) != guess_path("unix:///run/user/1000/podman/podman.sock")


def test_written_private_and_only_when_the_ids_changed(monkeypatch):
    asked = Asked(URL, True, _Batch(), {})
    remember(asked, [ID])
    path = guess_path(URL)
    assert read_guess(URL) == [ID]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    writes = []
    monkeypatch.setattr("troubleshoot.files.write_private", lambda *a, **k: writes.append(a))
    remember(Asked(URL, True, _Batch(), {}, guess=([ID], _Batch())), [ID])
    assert writes == [], "the same ids: nothing written"
    remember(Asked(URL, True, _Batch(), {}, guess=([ID], _Batch())), [ID, "cd" * 32])
    assert len(writes) == 1


def test_no_file_for_a_source_that_asked_nothing():
    remember(None, [ID])
    assert not os.path.exists(guess_path(URL))
    assert prefetch.read_guess(URL) == []
