"""The playbook cache (playbook_cache.py): the same catalog with or without it, YAML parsed only for a changed file,
and a cache file trusted no more than the playbooks (cleaned again, bounded, a corrupt one ignored)."""
import os
import subprocess
import sys
from pathlib import Path

import msgspec

from troubleshoot.core.playbooks import load_catalog, shipped_dir
from troubleshoot.playbook_cache import FileCache, load_catalog_cached

ROOT = Path(__file__).resolve().parents[2]
BOOK = """id: cache-probe
title: "Cache probe"
severity: warning
symptom: "It probes the cache"
match: {signal: state, equals: exited}
root_cause: ["the probe's cause"]
diagnose:
  - run: docker inspect {container}
    title: "Inspect it"
"""


def _load(tmp_path: Path, book_dir: Path | None = None):
    cache = FileCache(tmp_path / "cache" / "playbooks.msgpack")
    catalog = load_catalog([book_dir] if book_dir else (), include_shipped=True, cache=cache)
    cache.save()
    return catalog, cache


def _same(a, b) -> None:
    assert sorted(a.playbooks) == sorted(b.playbooks)
    for pid, pb in a.playbooks.items():
        assert repr(pb) == repr(b.playbooks[pid]), pid  # (compiled patterns compare by identity)


def test_the_cached_catalog_is_the_parsed_one(tmp_path):
    parsed = load_catalog()
    first, cache = _load(tmp_path)  # parses, writes the cache
    assert cache.path.exists() and (cache.path.stat().st_mode & 0o777) == 0o600
    assert len(cache._used) == len(parsed)
    again, cache2 = _load(tmp_path)  # every file from the cache
    assert set(cache2._old) == set(cache2._used) and not cache2._changed
    _same(parsed, first)
    _same(parsed, again)


def test_no_yaml_is_imported_when_every_playbook_is_cached(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    code = ("import sys; from troubleshoot.playbook_cache import load_catalog_cached as l; c = l(); "
            "print(len(c), 'yaml' in sys.modules)")
    first = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    second = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    assert first.stdout.split()[1] == "True", first.stderr  # parsed once
    assert second.stdout.split() == [first.stdout.split()[0], "False"], second.stderr


def test_an_edited_playbook_is_parsed_again(tmp_path):
    books = tmp_path / "books"
    books.mkdir()
    (books / "probe.yaml").write_text(BOOK)
    catalog, _ = _load(tmp_path, books)
    assert catalog.playbooks["cache-probe"].title == "Cache probe"
    (books / "probe.yaml").write_text(BOOK.replace('"Cache probe"', '"Edited probe"'))
    catalog, cache = _load(tmp_path, books)
    assert catalog.playbooks["cache-probe"].title == "Edited probe"
    assert cache._changed is False  # saved: the stale entry is gone, the new one kept
    assert len(msgspec.msgpack.decode(cache.path.read_bytes())) == len(catalog)


def test_a_broken_playbook_is_never_cached_and_still_says_its_line(tmp_path):
    books = tmp_path / "books"
    books.mkdir()
    (books / "bad.yaml").write_text(BOOK.replace("severity: warning", "severity: loud"))
    for _ in range(2):
        catalog, cache = _load(tmp_path, books)
        assert [(e.line, e.field) for e in catalog.errors] == [(3, "severity")]  # (its line in the file)
    assert len(cache._used) == len(load_catalog())


def test_a_tampered_cache_is_cleaned_bounded_or_ignored(tmp_path):
    books = tmp_path / "books"
    books.mkdir()
    (books / "probe.yaml").write_text(BOOK)
    _load(tmp_path, books)
    path = tmp_path / "cache" / "playbooks.msgpack"
    entries = msgspec.msgpack.decode(path.read_bytes())
    key = next(k for k, v in entries.items() if v.get("id") == "cache-probe")
    # an escape sequence where the YAML had none: cleaned like any playbook text
    entries[key]["title"] = "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2JCache probe"
    path.write_bytes(msgspec.msgpack.encode(entries))
    catalog, _ = _load(tmp_path, books)
    assert catalog.playbooks["cache-probe"].title == "Cache probe"
    # nested deeper than a playbook may be: parsed from the file instead
    deep: object = "x"
    for _ in range(100):
        deep = [deep]
    entries[key]["title"] = deep
    path.write_bytes(msgspec.msgpack.encode(entries))
    catalog, _ = _load(tmp_path, books)
    assert catalog.playbooks["cache-probe"].title == "Cache probe" and not catalog.errors
    # not msgpack at all, or far too big: an empty cache
    for junk in (b"\xc1" * 64, b"\x00" * (9 << 20)):
        path.write_bytes(junk)
        catalog, _ = _load(tmp_path, books)
        assert len(catalog) == len(load_catalog()) + 1 and not catalog.errors


def test_a_cache_that_cannot_be_written_changes_nothing(tmp_path):
    (tmp_path / "cache").write_text("a file where the directory would be")
    catalog, _ = _load(tmp_path)
    _same(load_catalog(), catalog)


def test_the_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("TROUBLESHOOT_NO_PLAYBOOK_CACHE", "1")
    catalog = load_catalog_cached()
    assert len(catalog) == len(list(shipped_dir().glob("*.yaml"))) and not (tmp_path / "troubleshoot").exists()


def test_two_versions_of_the_code_keep_their_own_cache_and_old_ones_go(tmp_path, monkeypatch):
    from troubleshoot import playbook_cache
    monkeypatch.setattr(playbook_cache, "cache_dir", lambda: tmp_path)
    stamps = iter([b"version %d" % i for i in range(7)])
    monkeypatch.setattr(playbook_cache, "_code_stamp", lambda: next(stamps))
    paths = []
    for i in range(6):
        cache = FileCache()
        load_catalog(cache=cache)
        cache.save()
        paths.append(cache.path)
        os.utime(cache.path, (1000 + i, 1000 + i))  # written in this order
    assert len(set(paths)) == 6
    left = sorted(tmp_path.glob("playbooks-*.msgpack"))
    assert left == sorted(paths[-playbook_cache.KEEP_FILES:])
