"""Files of the container and its mounts, on the real engine: each scenario's finding names its cause (the CRLF, the
interpreter, the host path, the user and the owner, the read-only root, the full tmpfs and its size, /dev/shm's
size), read through the archive API and from the host, as `troubleshoot scan --json` reports it."""
import pytest

from tests.engine import docker
from tests.integration.conftest import scan_json
from tests.scenarios import create, make_lab, name_for
from troubleshoot import lab

pytestmark = pytest.mark.engine

# scenario -> words its top finding's evidence must hold
EVIDENCE = {
    "entrypoint-interpreter": ["/entrypoint.sh has Windows (CRLF) line endings", "'/bin/sh\\r'",
                               "entrypoint file=/entrypoint.sh"],
    "bind-mount-mismatch": ["/bind-mount-mismatch/config.json (host, an empty directory Docker made because the path "
                            "did not exist) mounted at /app/config.json"],
    "permission-denied": ["/data/state.json as user 4242:4242", "/permission-denied (dir, empty, owner 0:0, mode 755)",
                          "Config.User=4242:4242"],
    "read-only-filesystem": ["/data/cache.db (the root filesystem is read-only (--read-only))",
                             "HostConfig.ReadonlyRootfs=true"],
    "disk-full": ["/data/spool.bin (/data: tmpfs size=1m)"],
    "shm-exhausted": ["/dev/shm/segment", "HostConfig.ShmSize=1.0 MB"],
}


def _top(name: str) -> dict:
    doc, code = scan_json(name)
    mine = [f for f in doc["findings"] if f["container"] == name]
    assert mine and code == 1, doc["findings"]
    return mine[0]


@pytest.mark.parametrize("playbook", sorted(EVIDENCE))
def test_the_finding_names_the_file_or_mount(engine, playbook):
    name = create(playbook)
    try:
        top = _top(name)
        assert top["playbook"] == playbook, top
        evidence = " | ".join(top["evidence"])
        for words in EVIDENCE[playbook]:
            assert words in evidence, f"{words!r} not in {evidence}"
    finally:
        docker("rm", "-f", name, check=False)


def test_a_bash_script_in_an_image_without_bash_names_the_interpreter(engine):
    name = name_for("entrypoint-bash")
    t = make_lab()
    try:
        lab.entrypoint_interpreter(t, name, variant="bash")
        top = _top(name)
        assert top["playbook"] == "entrypoint-interpreter"
        assert any("asks for the interpreter /bin/bash (#!/bin/bash), which is not in the image" in e
                   for e in top["evidence"]), top["evidence"]
        assert not any("CRLF" in e for e in top["evidence"])
    finally:
        t.daemon.close()
        docker("rm", "-f", name, check=False)


def test_a_glibc_binary_without_its_loader_names_the_loader(engine):
    """A dynamically linked program of this host copied alone into busybox: `exec /app/server: no such file or
    directory`, and the ELF's PT_INTERP is not in the image."""
    name = name_for("entrypoint-loader")
    t = make_lab()
    try:
        binary, interp = lab.host_dynamic_binary()
        tag = t.build(t.image("loader-missing:1"), "entrypoint-interpreter",
                      'FROM {base}\nCOPY server /app/server\nCMD ["/app/server"]\n', {"server": binary})
        cid, _ = t.run(name, "entrypoint-interpreter", None, image=tag, may_fail_to_start=True)
        t.wait(cid, lambda d: d.State.Status == "exited" or d.State.ExitCode in (126, 127), f"{name} to fail")
        top = _top(name)
        assert top["playbook"] == "entrypoint-interpreter", top
        assert any(f"needs the loader {interp}" in e and "not in the image" in e for e in top["evidence"]), top
    finally:
        t.daemon.close()
        docker("rm", "-f", name, check=False)


def test_a_healthy_container_with_mounts_reads_no_file(engine, tmp_path):
    """The probes run only for containers in trouble: a running one with a bind, a tmpfs and --read-only has no
    files_seen in its record, and no finding of these playbooks."""
    name = name_for("files-control")
    t = make_lab()
    try:
        cid, _ = t.run(name, "control", ["sleep", "86400"], good=True,
                       host={"Binds": [f"{tmp_path}:/data:ro"], "Tmpfs": {"/run": "size=1m"}, "ReadonlyRootfs": True})
        t.wait_state(cid, "healthy")
        from troubleshoot.scan import observe_records
        records = [r for r, _ in observe_records(t.daemon, [name]) if r.inspect.Name == f"/{name}"]
        assert records and records[0].files_seen is None
        doc, _ = scan_json(name)
        assert [f for f in doc["findings"] if f["container"] == name and f["severity"] != "info"] == []
    finally:
        t.daemon.close()
        docker("rm", "-f", name, check=False)
