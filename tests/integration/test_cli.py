"""The command line against the real engine: daemon faults, filters, playbook directories, validate."""
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.engine import BASE, docker, ensure_base, wait_state, PREFIX
from tests.integration.conftest import run_cli, scan_json

ROOT = Path(__file__).resolve().parents[2]


def _one_clean_line(proc):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_missing_socket_is_one_clear_line(tmp_path):
    line = _one_clean_line(run_cli("-H", f"unix://{tmp_path}/docker.sock", "scan"))
    assert "does not exist" in line and "dockerd" in line


def test_docker_host_env_is_honoured(tmp_path):
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/nope.sock"}
    proc = subprocess.run([sys.executable, "-m", "troubleshoot", "scan"], capture_output=True, text=True, env=env)
    assert "nope.sock" in _one_clean_line(proc)


def test_nothing_listening_on_tcp_is_one_clear_line():
    line = _one_clean_line(run_cli("-H", "tcp://127.0.0.1:9", "scan"))
    assert "127.0.0.1:9" in line


def test_unreachable_ssh_host_is_one_clear_line():
    if shutil.which("ssh") is None:
        pytest.skip("no ssh client on this machine")
    line = _one_clean_line(run_cli("-H", "ssh://nobody@127.0.0.1:1", "scan"))
    assert line.startswith("troubleshoot: ssh host unreachable: ssh://nobody@127.0.0.1:1")


def test_permission_denied_names_the_docker_group(engine):
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run the CLI as an unprivileged user")
    sock = "/var/run/docker.sock"
    if os.stat(sock).st_mode & 0o006:
        pytest.skip("the socket is world-accessible here")
    venv_python = sys.executable
    proc = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", venv_python, "-m",
                           "troubleshoot", "scan"], capture_output=True, text=True, cwd="/",
                          env={**os.environ, "HOME": "/tmp", "PYTHONPATH": str(ROOT)})
    line = _one_clean_line(proc)
    assert "permission denied" in line and "docker group" in line


def test_name_filter_and_json_shape(engine):
    ensure_base()
    docker("rm", "-f", PREFIX + "filter-a", PREFIX + "filter-b", check=False)
    docker("run", "-d", "--name", PREFIX + "filter-a", BASE, "true")
    docker("run", "-d", "--name", PREFIX + "filter-b", BASE, "sh", "-c", "exit 3")
    try:
        wait_state(PREFIX + "filter-b", "exited")
        doc, _ = scan_json(PREFIX + "filter-b")
        assert [c["name"] for c in doc["containers"]] == [PREFIX + "filter-b"]
        assert set(doc) == {"schema", "host", "containers", "findings"}
        f = doc["findings"][-1]
        assert set(f) >= {"container", "container_id", "playbook", "title", "severity", "evidence"}
        assert doc["host"]["server_version"]
    finally:
        docker("rm", "-f", PREFIX + "filter-a", PREFIX + "filter-b", check=False)


def test_team_playbook_directory_adds_a_playbook_to_a_live_scan(engine, tmp_path):
    """The seed RCA's log line: a team recognises its own failure without writing Python."""
    (tmp_path / "order-code-mismatch.yaml").write_text(textwrap.dedent("""\
        id: order-code-mismatch
        title: order-service runs other code than deployed
        severity: critical
        priority: 95
        symptom: Order creation fails with "Missing method error" after a deploy.
        root_cause: The image behind the tag is not the build that was released.
        match: {signal: logs, matches: "Missing method error"}
        diagnose:
          - title: Which image id runs
            run: docker inspect --format "{{.Image}}" {container}
        """))
    ensure_base()
    name = PREFIX + "order-service"
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, BASE, "sh", "-c",
           "echo 'POST /orders -> 500: Missing method error: OrderService.createV2'; exit 1")
    try:
        wait_state(name, "exited")
        proc = run_cli("--playbooks", str(tmp_path), "scan", "--json", name)
        doc = json.loads(proc.stdout)
        mine = [f["playbook"] for f in doc["findings"] if f["container"] == name]
        assert mine[0] == "order-code-mismatch"
        assert "crashed" not in mine  # the specific playbook explains it: no generic fallback
        # without the directory the same container is only a generic crash
        doc, _ = scan_json(name)
        assert [f["playbook"] for f in doc["findings"] if f["container"] == name][0] == "crashed"
    finally:
        docker("rm", "-f", name, check=False)


def test_playbooks_list_show_validate(tmp_path):
    proc = run_cli("playbooks", "list", "--json")
    assert proc.returncode == 0
    shipped = len(list((ROOT / "playbooks").glob("*.yaml")))  # no hard-coded count: a new playbook is one file
    assert len(json.loads(proc.stdout)) == shipped
    proc = run_cli("playbooks", "show", "oom-killed")
    assert proc.returncode == 0 and "Always set memory limits in production." in proc.stdout
    assert run_cli("playbooks", "show", "nope").returncode == 2
    proc = run_cli("playbooks", "validate", str(ROOT / "playbooks"))
    assert proc.returncode == 0 and f"{shipped} valid, 0 invalid" in proc.stdout
    (tmp_path / "bad.yaml").write_text("id: bad\ntitle: t\nseverity: high\n")
    proc = run_cli("playbooks", "validate", str(tmp_path))
    assert proc.returncode == 1
    assert f"{tmp_path}/bad.yaml:3: severity: 'high' is not one of: critical, warning, info" in proc.stdout


def test_bad_playbook_in_a_directory_is_reported_and_the_scan_goes_on(engine, tmp_path):
    (tmp_path / "broken.yaml").write_text("id: broken\nmatch: {signal: nope, is: true}\n")
    proc = run_cli("--playbooks", str(tmp_path), "scan", "--json", PREFIX + "no-such-container")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["containers"] == []
    assert f"playbook skipped: {tmp_path}/broken.yaml" in proc.stderr


@pytest.mark.parametrize("args, says", [
    (["lab", "up", "nope"], "no lab scenario 'nope'"),
    (["scan", "--from", "/etc/passwd"], "/etc/passwd:1:1: not JSON"),
    (["scan", "--from", "/no/such/snap.json"], "/no/such/snap.json: cannot read"),
    (["--from", "/etc/hostname"], "/etc/hostname:1:"),
    (["report", "--demo", "no-such-container"], "no container(s) named 'no-such-container' in snapshot"),
])
def test_bad_input_is_one_line_naming_what_was_wrong(cli, args, says):
    proc = cli(*args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"troubleshoot: {says}") and proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr


def test_demo_works_with_no_daemon(cli):
    proc = cli("-H", "unix:///nonexistent.sock", "scan", "--demo", "--json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert {c["name"] for c in doc["containers"]} >= {"lab-oom-killed", "lab-image-drift"}
    rca = cli("report", "--demo", "lab-image-drift")
    assert rca.returncode == 0 and "## Root Cause Analysis (RCA)" in rca.stdout and "image-drift" in rca.stdout
