"""Files of the container and its mounts (probes/files.py, core/fs_errors.py, detectors entrypoint, mounts,
permissions, readonly_fs, disk_space), on records recorded from the engine (tests/record_fixtures.py) and on the
runtimes' own messages, one row each."""
import json

import pytest

from tests.unit.conftest import fixture, observe
from troubleshoot import lab
from troubleshoot.boundary import fixture_record, read_snapshot_bytes
from troubleshoot.core import schema
from troubleshoot.core.commands import placeholder_values, render
from troubleshoot.core.diagnose import diagnose_container
from troubleshoot.core.fs_errors import classify, path_in
from troubleshoot.core.signals import container_signals
from troubleshoot.core.snapshot import build, encode
from troubleshoot.boundary import fixture_host
from troubleshoot.probes.files import elf_info, needs_files, shebang

# runtime, a line it prints, the kind, the path named ("" when the line names none)
MESSAGES = [
    ("busybox touch", "touch: /data/state.json: Permission denied", "permission", "/data/state.json"),
    ("sh redirection", "sh: can't create /data/y: Permission denied", "permission", "/data/y"),
    ("coreutils", "mkdir: cannot create directory '/data/cache': Permission denied", "permission", "/data/cache"),
    ("Python", "PermissionError: [Errno 13] Permission denied: '/data/app.db'", "permission", "/data/app.db"),
    ("Node", "Error: EACCES: permission denied, open '/usr/src/app/logs/app.log'", "permission",
     "/usr/src/app/logs/app.log"),
    ("Java", "java.nio.file.AccessDeniedException: /var/lib/app/store.lock", "permission", "/var/lib/app/store.lock"),
    ("Java (io)", "java.io.FileNotFoundException: /data/x.log (Permission denied)", "permission", "/data/x.log"),
    ("Go", "open /data/badger/MANIFEST: permission denied", "permission", "/data/badger/MANIFEST"),
    ("Ruby", "Errno::EACCES: Permission denied @ rb_sysopen - /app/tmp/pids/server.pid", "permission",
     "/app/tmp/pids/server.pid"),
    ("PHP", "file_put_contents(/var/www/storage/logs/laravel.log): Failed to open stream: Permission denied",
     "permission", "/var/www/storage/logs/laravel.log"),
    (".NET", "System.UnauthorizedAccessException: Access to the path '/app/data/keys' is denied.", "permission",
     "/app/data/keys"),
    ("Rust", "Error: Os { code: 13, kind: PermissionDenied, message: \"Permission denied\" }", "permission", ""),
    ("nginx", 'nginx: [emerg] open() "/var/cache/nginx/client_temp" failed (13: Permission denied)', "permission",
     "/var/cache/nginx/client_temp"),
    ("PostgreSQL", 'FATAL:  data directory "/var/lib/postgresql/data" has wrong ownership', "permission",
     "/var/lib/postgresql/data"),
    ("MySQL", "mysqld: Can't create/write to file '/var/lib/mysql/is_writable' (OS errno 13 - Permission denied)",
     "permission", "/var/lib/mysql/is_writable"),
    ("Redis", "Can't open the append-only file: Permission denied", "permission", ""),
    ("busybox touch", "touch: /data/cache.db: Read-only file system", "readonly", "/data/cache.db"),
    ("Python", "OSError: [Errno 30] Read-only file system: '/app/cache'", "readonly", "/app/cache"),
    ("Node", "Error: EROFS: read-only file system, open '/app/.next/cache/x'", "readonly", "/app/.next/cache/x"),
    ("Java", "java.nio.file.FileSystemException: /tmp/tomcat.8080: Read-only file system", "readonly",
     "/tmp/tomcat.8080"),
    ("Go", "mkdir /var/lib/app: read-only file system", "readonly", "/var/lib/app"),
    ("busybox dd", "dd: error writing '/data/spool.bin': No space left on device", "disk", "/data/spool.bin"),
    ("Node", "Error: ENOSPC: no space left on device, write", "disk", ""),
    ("Python", "OSError: [Errno 28] No space left on device: '/data/out.parquet'", "disk", "/data/out.parquet"),
    ("Java", "java.io.IOException: No space left on device", "disk", ""),
    ("Go", "write /var/lib/registry/blob: no space left on device", "disk", "/var/lib/registry/blob"),
    ("PostgreSQL", 'PANIC:  could not write to file "pg_wal/xlogtemp.61": No space left on device', "disk", ""),
    ("MySQL", "[ERROR] [MY-012144] InnoDB: Error number 28 means 'No space left on device'", "disk", ""),
    ("MySQL (table)", "ERROR 1114 (HY000): The table 'events' is full", "disk", ""),
    (".NET", "System.IO.IOException: There is not enough space on the disk. : '/app/data/x'", "disk", "/app/data/x"),
    ("Redis", "Write error saving DB on disk: No space left on device", "disk", ""),
    ("PostgreSQL", 'ERROR:  could not resize shared memory segment "/PostgreSQL.1450751626" to 12615680 bytes: '
     "No space left on device", "shm", "/PostgreSQL.1450751626"),
    ("busybox dd", "dd: error writing '/dev/shm/segment': No space left on device", "shm", "/dev/shm/segment"),
    ("PyTorch", "ERROR: Unexpected bus error encountered in worker. This might be caused by insufficient shared "
     "memory (shm).", "shm", ""),
    ("Chromium", "[0101/000000.000:ERROR:platform_shared_memory_region_posix.cc(217)] Creating shared memory in "
     "/dev/shm/.org.chromium.Chromium.x failed: No space left on device (28)", "shm", ""),
    ("runc exec (command-not-found's)", "exec /app/server: permission denied", "", ""),
    ("not an error", "GET /health 200 in 2ms", "", "/health"),
]


@pytest.mark.parametrize("runtime, line, kind, path", MESSAGES, ids=[f"{m[0]}-{i}" for i, m in enumerate(MESSAGES)])
def test_each_runtimes_message_is_classified_and_names_its_path(runtime, line, kind, path):
    assert classify(line) == kind, runtime
    if kind and path:
        assert path_in(line) == path


# scenario -> (signal, a piece of its value that names the cause)
NAMED = {
    "entrypoint-interpreter": ("entrypoint_problem", "CRLF"),
    "bind-mount-mismatch": ("bind_source_mismatch", "an empty directory Docker made because the path did not exist"),
    "permission-denied": ("permission_denied", "/data/state.json as user 4242:4242"),
    "read-only-filesystem": ("read_only_write", "--read-only"),
    "disk-full": ("disk_full", "/data: tmpfs size=1m"),
    "shm-exhausted": ("shm_exhausted", "/dev/shm/segment"),
}


@pytest.mark.parametrize("playbook", sorted(NAMED))
def test_recorded_scenario_ranks_first_with_the_named_evidence(catalog, playbook):
    obs, host = observe(fixture(playbook))
    found = diagnose_container(obs, host, catalog)
    assert found[0].playbook_id == playbook, [f.playbook_id for f in found]
    signal, words = NAMED[playbook]
    value = container_signals(obs, host)[signal]
    assert any(words in v for v in value), value
    assert any(words in e for e in found[0].evidence), found[0].evidence


@pytest.mark.parametrize("playbook, placeholder, value", [
    ("entrypoint-interpreter", "entrypoint", "/entrypoint.sh"),
    ("bind-mount-mismatch", "bind_source", "/bind-mount-mismatch/config.json"),
    ("permission-denied", "mount_source", "/permission-denied"),
    ("permission-denied", "user", "4242:4242"),
    ("read-only-filesystem", "write_dir", "/data"),
    ("disk-full", "write_dir", "/data"),
])
def test_every_fix_step_renders_with_the_values_the_product_fills(catalog, playbook, placeholder, value):
    obs, host = observe(fixture(playbook))
    values = placeholder_values(obs, host, container_signals(obs, host))
    assert values[placeholder].endswith(value)
    for step in catalog.playbooks[playbook].fix:
        if step.run:
            assert "<" not in " ".join(render(step, values))


def _heads(rec, heads):
    rec["files_seen"] = {"heads": heads}
    rec["logs"] = ["exec /entrypoint.sh: no such file or directory"]


@pytest.mark.parametrize("heads, words", [
    ([{"path": "/entrypoint.sh", "role": "entrypoint", "found": True, "kind": "file", "shebang": "/bin/bash"},
      {"path": "/bin/bash", "role": "interpreter"}], "the interpreter /bin/bash (#!/bin/bash), which is not in the image"),
    ([{"path": "/entrypoint.sh", "role": "entrypoint", "found": True, "kind": "file", "shebang": "/usr/bin/env python3"},
      {"path": "/usr/bin/env", "role": "interpreter", "found": True},
      {"path": "python3", "role": "interpreter"}], "the interpreter python3"),
    ([{"path": "/app/server", "role": "entrypoint", "found": True, "kind": "file", "elf_machine": "x86-64",
       "elf_interp": "/lib64/ld-linux-x86-64.so.2"},
      {"path": "/lib64/ld-linux-x86-64.so.2", "role": "loader"}], "needs the loader /lib64/ld-linux-x86-64.so.2 (glibc)"),
])
def test_a_missing_interpreter_or_loader_is_named(catalog, heads, words):
    obs, host = observe(fixture("entrypoint-interpreter"), lambda rec: _heads(rec, heads))
    problems = container_signals(obs, host)["entrypoint_problem"]
    assert any(words in p for p in problems), problems
    assert diagnose_container(obs, host, catalog)[0].playbook_id == "entrypoint-interpreter"


def test_an_interpreter_that_is_there_and_lf_endings_are_no_problem(catalog):
    heads = [{"path": "/entrypoint.sh", "role": "entrypoint", "found": True, "kind": "file", "shebang": "/bin/sh"},
             {"path": "/bin/sh", "role": "interpreter", "found": True}]
    obs, host = observe(fixture("entrypoint-interpreter"), lambda rec: _heads(rec, heads))
    assert container_signals(obs, host)["entrypoint_problem"] == []
    assert "entrypoint-interpreter" not in [f.playbook_id for f in diagnose_container(obs, host, catalog)]


def test_without_the_probe_nothing_is_guessed(catalog):
    """A snapshot of an older troubleshoot (no files_seen), or a remote daemon's record (mount sources not read)."""
    def remote(rec):
        rec.pop("files_seen", None)
        rec["files_seen"] = {"why": "mount sources not read: the daemon is on another machine"}
    obs, host = observe(fixture("bind-mount-mismatch"), remote)
    sig = container_signals(obs, host)
    assert "Docker made" not in " ".join(sig["bind_source_mismatch"])  # still the host path, from State.Error
    assert sig["bind_source"].endswith("/config.json")
    obs, host = observe(fixture("permission-denied"), remote)
    assert not any("owner" in v for v in container_signals(obs, host)["permission_denied"])
    assert diagnose_container(obs, host, catalog)[0].playbook_id == "permission-denied"


def test_the_record_survives_a_snapshot_masked():
    doc = fixture("permission-denied")
    raw = json.loads(json.dumps(doc["record"]))
    raw["inspect"]["Config"]["Env"].append("API_TOKEN=tok_live_7f3a9c2b1e99")
    raw["files_seen"]["mounts"][0]["source"] = "/srv/tok_live_7f3a9c2b1e99/data"
    record, _ = fixture_record(raw)
    data = encode(build([record], fixture_host(doc["host"]), "unix:///x", "test"))
    back = read_snapshot_bytes(data, "s.json").containers[0]
    assert back.files_seen is not None and back.files_seen.mounts[0].uid == 0
    assert "tok_live_7f3a9c2b1e99" not in data.decode()


def test_shebang_crlf_and_elf_headers():
    assert shebang(b"#!/bin/sh\r\necho hi\r\n") == ("/bin/sh", True)
    assert shebang(b"#!/usr/bin/env bash\n") == ("/usr/bin/env bash", False)
    assert shebang(b"\x7fELF...") == ("", False)
    assert elf_info(lab.x86_64_elf()) == ("x86-64", "")  # static
    assert elf_info(lab.aarch64_elf()) == ("aarch64", "")
    binary, interp = lab.host_dynamic_binary()
    assert elf_info(binary[:4096]) == (elf_info(binary[:4096])[0], interp)
    assert elf_info(b"#!/bin/sh\n") is None


@pytest.mark.parametrize("playbook, wanted", [
    ("entrypoint-interpreter", True),  # exec error in the logs
    ("command-not-found", True),  # exit 127
    ("bind-mount-mismatch", False),  # the runtime failed mounting: nothing was exec'd
    ("permission-denied", False),  # a write refused, not an exec
    ("control", False),  # up and fine
])
def test_files_are_read_only_for_exec_failures(playbook, wanted):
    rec, _ = fixture_record(fixture(playbook)["record"])
    assert needs_files(rec.inspect, rec.logs) is wanted


def test_the_record_field_is_typed():
    assert "files_seen" in schema.ContainerRecord.__struct_fields__


def test_a_missing_entrypoint_file_is_command_not_found_not_an_interpreter(catalog):
    """The file itself is not there (`exec: "/app/server": stat /app/server: no such file or directory`, 127): that
    is command-not-found's; entrypoint-interpreter is for a file that is there."""
    def missing(rec):
        rec["inspect"]["State"].update(ExitCode=127, Error='exec: "/app/server": stat /app/server: no such file or '
                                                          'directory: unknown')
        rec["files_seen"] = {"heads": [{"path": "/app/server", "role": "entrypoint"}]}
    obs, host = observe(fixture("entrypoint-interpreter"), missing)
    assert container_signals(obs, host)["entrypoint_problem"] == []
    assert diagnose_container(obs, host, catalog)[0].playbook_id == "command-not-found"
