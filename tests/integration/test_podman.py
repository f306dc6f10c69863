"""Podman's Docker-compatible API, for real: each run starts its own `podman system service` on its own socket, with
its own storage root, run root, tmp dir and event log (it touches no one else's Podman and never the Docker socket),
makes its images with `podman import` of a busybox rootfs (no registry), and reads them through the product.

Podman can create containers on this machine but not start them with its defaults: runc's rlimits (RLIMIT_NOFILE
1048576) exceed the sandbox's hard limit (`error setting rlimit type 7: operation not permitted`). So most of what is
tested is CREATED containers (list, inspect, diagnose: image ENV secrets, a :latest tag, a tag moved under a
container, a health check); a few containers run with `--ulimit nofile=1024:1024 --ulimit nproc=1024:1024` (under
that hard limit) check what only a run gives: an exit code and its logs, a stop, a kill and an OOM kill in the event
history, a recreate fix that starts the new container."""
from __future__ import annotations

import asyncio
import io
import json
import re
import shutil
import socket
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.engine import PREFIX, rootfs_tar, wait_for
from tests.integration.conftest import run_cli, until
from troubleshoot import cli, endpoint

SECRET = "hunter2-podman-Zq8w"  # in an image's ENV: must be found, and never printed
RUN_LIMITS = ("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")


class PodmanService:
    """`podman system service --time=0` on a socket of its own, storage of its own; `pm()` is the podman CLI on that
    same storage (what a user's `podman create` does beside the service)."""

    def __init__(self, root: Path):
        self.root = root
        self.sock = root / "xdg" / "podman" / "podman.sock"  # where a rootless Podman's socket is, under XDG_RUNTIME_DIR
        self.url = f"unix://{self.sock}"
        self.flags = ["--root", str(root / "storage"), "--runroot", str(root / "run"), "--tmpdir", str(root / "tmp"),
                      "--network-config-dir", str(root / "networks"), "--events-backend", "file",
                      "--cgroup-manager", "cgroupfs"]
        self.proc: subprocess.Popen | None = None

    def pm(self, *args: str, input: bytes | None = None, check: bool = True) -> str:
        proc = subprocess.run(["podman", *self.flags, *args], input=input, capture_output=True, timeout=120)
        if check and proc.returncode != 0:
            raise RuntimeError(f"podman {' '.join(args)}: {proc.stderr.decode(errors='replace')}")
        return proc.stdout.decode()

    def answers(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(2)
                s.connect(str(self.sock))
                s.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
                return s.recv(64).startswith(b"HTTP/1.") and True
        except OSError:
            return False

    def start(self) -> "PodmanService":
        self.sock.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.root / "service.log", "ab")
        self.proc = subprocess.Popen(["podman", *self.flags, "system", "service", "--time=0", self.url],
                                     stdout=log, stderr=log)
        wait_for(self.answers, 60, "podman system service to answer")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def import_image(self, ref: str, env: tuple[str, ...] = (), extra: dict[str, bytes] | None = None) -> None:
        """One `-c ENV` per variable: `podman import -c "ENV A=1 B=2"` makes one variable A with the value `1 B=2`."""
        changes = [x for e in ("PATH=/bin", *env) for x in ("-c", f"ENV {e}")]
        self.pm("import", *changes, "-c", 'CMD ["/bin/sh"]', "-", ref, input=rootfs_tar(extra))


@pytest.fixture(scope="module")
def podman(tmp_path_factory):
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed (make test installs it: scripts/ensure-engine.sh)", pytrace=False)
    service = PodmanService(tmp_path_factory.mktemp("pm")).start()
    try:
        base, secret = f"localhost/{PREFIX}base:1", f"localhost/{PREFIX}secret:1"
        latest, drift = f"localhost/{PREFIX}app:latest", f"localhost/{PREFIX}drift:1"
        service.import_image(base)
        service.import_image(secret, env=(f"DB_PASSWORD={SECRET}",), extra={"app/.env": f"DB_PASSWORD={SECRET}\n".encode()})
        service.import_image(latest)
        service.import_image(drift, extra={"srv/version": b"1\n"})
        made = {
            "plain": ["create", "--name", f"{PREFIX}plain", base, "sleep", "100"],
            "nocmd": ["create", "--name", f"{PREFIX}nocmd", base, "/bin/nonexistent"],
            "hc": ["create", "--name", f"{PREFIX}hc", "--health-cmd", "exit 1", "--health-interval", "5s", "-m", "64m",
                   "--restart", "on-failure:3", "-e", "DB_HOST=localhost", "-p", "18099:80", base, "sleep", "100"],
            "secret": ["create", "--name", f"{PREFIX}secret", secret, "sleep", "100"],
            "latest": ["create", "--name", f"{PREFIX}latest", latest, "sleep", "100"],
            "drift": ["create", "--name", f"{PREFIX}drift", drift, "sleep", "100"],
            # started by the recreate test: no network, so that no test run sets up Podman's bridge or firewall rules
            "fixme": ["create", "--name", f"{PREFIX}fixme", "--network", "none", "-m", "64m", "-e", "APP_PORT=3000",
                      *RUN_LIMITS, base, "sleep", "300"],
        }
        for args in made.values():
            service.pm(*args)
        service.import_image(drift, extra={"srv/version": b"2\n"})  # the tag moves; the container keeps the old image
        # exits 1 saying which variable it misses: run within the sandbox's rlimits (see the module's docstring)
        service.pm("run", "--name", f"{PREFIX}noenv", "--network", "none", *RUN_LIMITS, base, "sh", "-c",
                   'echo "connecting to database at localhost:5432"; '
                   'echo "Error: DB_HOST is not set. Database connection failed" >&2; exit 1', check=False)
        # run and ended two ways: `podman stop` past its timeout (PID 1 ignores SIGTERM) and `podman kill`
        for what, cmd in (("stopped", ["sleep", "300"]), ("killed", ["sh", "-c", "while true; do sleep 0.2; done"])):
            service.pm("run", "-d", "--name", f"{PREFIX}{what}", "--network", "none", *RUN_LIMITS, base, *cmd)
        service.pm("run", "--name", f"{PREFIX}oom", "--network", "none", *RUN_LIMITS, "-m", "24m", "--memory-swap", "24m",
                   base, "sh", "-c", "dd if=/dev/zero of=/dev/null bs=120M count=1", check=False)  # the kernel kills it
        service.pm("stop", "-t", "1", f"{PREFIX}stopped")
        service.pm("kill", f"{PREFIX}killed")
        wait_for(lambda: json.loads(service.pm("inspect", f"{PREFIX}killed"))[0]["State"]["Status"] == "exited", 30,
                 "the killed container to exit")
        yield service
    finally:
        try:
            service.pm("rm", "-af", "-t", "0")  # `sleep` as PID 1 ignores SIGTERM: not Podman's 10 s stop wait
            service.pm("rmi", "-af")
        except RuntimeError:
            pass
        service.stop()
        shutil.rmtree(service.root, ignore_errors=True)


def _names(doc: dict) -> dict[str, dict]:
    return {c["name"]: c for c in doc["containers"] if c["name"].startswith(PREFIX)}


def _podman_view(service: PodmanService) -> dict[str, dict]:
    return {r["Names"][0]: r for r in json.loads(service.pm("ps", "-a", "--format", "json"))
            if r["Names"][0].startswith(PREFIX)}


def test_scan_over_H_lists_and_diagnoses_podmans_created_containers(podman):
    proc = run_cli("-H", podman.url, "scan", "--json")
    assert proc.returncode == 1, proc.stderr  # findings
    doc = json.loads(proc.stdout)
    assert doc["host"]["engine"] == "Podman" and doc["host"]["server_version"].startswith("4.")
    seen, truth = _names(doc), _podman_view(podman)
    assert set(seen) == set(truth)
    for name, row in truth.items():
        assert seen[name]["id"] == row["Id"] and seen[name]["state"] == row["State"].lower()
    for what in ("plain", "nocmd", "hc", "secret", "latest", "drift", "fixme"):
        assert seen[f"{PREFIX}{what}"]["state"] == "created"
    tops = {name.removeprefix(PREFIX): c["top_finding"] for name, c in seen.items()}
    assert tops["secret"] == "secrets-in-image"
    assert tops["latest"] == "mutable-tag"
    assert tops["drift"] == "image-drift"
    assert tops["plain"] is None and tops["nocmd"] is None and tops["hc"] is None
    assert seen[f"{PREFIX}hc"]["health"] is None and seen[f"{PREFIX}hc"]["memory_limit"] == 64 * 1024 * 1024
    # the one container run (and exited 1): its exit code and its logs, read through Podman's API
    assert seen[f"{PREFIX}noenv"]["state"] == "exited" and seen[f"{PREFIX}noenv"]["exit_code"] == 1
    assert tops["noenv"] == "missing-env"
    assert SECRET not in proc.stdout and SECRET not in proc.stderr


def test_scan_text_says_podman_and_its_findings(podman):
    proc = run_cli("-H", podman.url, "scan", f"{PREFIX}secret", f"{PREFIX}drift")
    assert proc.returncode == 1, proc.stderr
    version = podman.pm("--version").split()[-1]
    assert proc.stdout.splitlines()[0].startswith("daemon ") and f" · Podman {version} · " in proc.stdout.splitlines()[0]
    assert "secrets-in-image" in proc.stdout and "image-drift" in proc.stdout and "DB_PASSWORD" in proc.stdout
    assert SECRET not in proc.stdout


def test_inspect_through_podmans_api_matches_podman_inspect(podman):
    from troubleshoot.core.facts import container_from_inspect
    from troubleshoot.daemon import Daemon
    daemon = Daemon(podman.url).connect()
    try:
        assert daemon.version().ApiVersion and [r.name for r in daemon.containers(all=True)
                                                 if r.name.startswith(PREFIX)]
        for name in (f"{PREFIX}hc", f"{PREFIX}secret", f"{PREFIX}nocmd"):
            native = json.loads(podman.pm("inspect", name))[0]
            record = daemon.inspect(name)
            assert record is not None
            c = container_from_inspect(record)
            assert (c.id, c.name, c.state) == (native["Id"], native["Name"], native["State"]["Status"])
            assert list(record.Config.Cmd or []) == native["Config"]["Cmd"]
            assert c.image_id.removeprefix("sha256:") == native["Image"]
        hc = container_from_inspect(daemon.inspect(f"{PREFIX}hc"))
        assert hc.has_healthcheck and hc.health is None and hc.restart_policy == "on-failure"
        assert dict(hc.env)["DB_HOST"] == "localhost" and hc.memory_limit == 64 * 1024 * 1024
        assert [(p.container_port, p.host_port) for p in hc.ports] == [("80/tcp", "18099")]
    finally:
        daemon.close()


def test_image_forensics_read_podmans_export(podman):
    """Podman's `save` (GET /images/NAME/get) names its layers DIGEST.tar, with ID/layer.tar a symlink to them."""
    proc = run_cli("-H", podman.url, "image", "--json", f"localhost/{PREFIX}secret:1")
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(proc.stdout)
    assert len(doc["layers"]) == 1 and doc["layers"][0]["size"] > 1_000_000  # the static busybox
    assert [f["path"] if isinstance(f, dict) else f[0] for f in doc["secret_files"]] == ["/app/.env"]
    assert SECRET not in proc.stdout
    # an empty layer: Podman exports it as a 0-byte file, which is no tar at all
    empty = io.BytesIO()
    tarfile.open(fileobj=empty, mode="w").close()
    podman.pm("import", "-", f"localhost/{PREFIX}empty:1", input=empty.getvalue())
    proc = run_cli("-H", podman.url, "image", "--json", f"localhost/{PREFIX}empty:1")
    assert proc.returncode == 0, proc.stderr
    assert [(layer["size"], layer["files"]) for layer in json.loads(proc.stdout)["layers"]] == [(0, 0)]


def test_a_recreate_fix_on_podman_keeps_the_container_and_changes_what_it_says(podman):
    """The fix that recreates a container, through Podman: its inspect names ulimits RLIMIT_NOFILE, which its create
    refuses (`invalid ulimit type`): the body says nofile. The container was made with rlimits this sandbox allows,
    so that the new one starts here."""
    from troubleshoot.daemon import Daemon
    from troubleshoot.fixes import drop_old, recreate
    daemon = Daemon(podman.url).connect()
    try:
        result = recreate(daemon, f"{PREFIX}fixme", [("memory", "128m")])
        assert result.exit_code == 0, result.lines
        new = json.loads(podman.pm("inspect", f"{PREFIX}fixme"))[0]
        assert new["Id"] == result.new_id and new["State"]["Status"] == "running"
        assert new["HostConfig"]["Memory"] == 128 * 1024 * 1024 and "APP_PORT=3000" in new["Config"]["Env"]
        assert {u["Name"]: u["Soft"] for u in new["HostConfig"]["Ulimits"]}["RLIMIT_NOFILE"] == 1024
        assert new["HostConfig"]["NetworkMode"] == "none"
        assert json.loads(podman.pm("inspect", result.old_name))[0]["Id"] == result.old_id  # kept until dropped
        assert drop_old(daemon, result).exit_code == 0
        assert result.old_name not in _podman_view(podman)
    finally:
        daemon.close()


def test_podmans_event_history_is_read_and_a_stop_is_told_from_a_kill(podman):
    """Podman's `until` ends a live stream (at or before now it answers nothing) and it filters `die` as `died`: the
    history is asked with stream=false. It records a `kill` for `podman kill`; for `podman stop`, a `stop` only at
    times (seen both ways here), never the signals: its SIGKILL is a likely stop timeout either way."""
    doc = json.loads(run_cli("-H", podman.url, "scan", "--json", f"{PREFIX}stopped", f"{PREFIX}killed").stdout)
    seen = _names(doc)
    assert seen[f"{PREFIX}stopped"]["exit_code"] == 137 and seen[f"{PREFIX}killed"]["exit_code"] == 137
    assert seen[f"{PREFIX}killed"]["top_finding"] is None  # its kill event: stopped on purpose
    assert seen[f"{PREFIX}stopped"]["top_finding"] == "stop-timeout"  # no kill event says how: likely, not proven
    text = " ".join(line.strip("│ ") for line in run_cli("-H", podman.url, "scan", f"{PREFIX}stopped").stdout.splitlines())
    assert re.search(r"events: \S+ start \| .*die exit 137 SIGKILL", text), text  # the history was read


def test_an_oom_kill_podman_did_not_flag_is_not_called_a_stop_timeout(podman):
    """A real OOM kill (a 120 MB buffer under a 24 MB limit). Podman 4.3 on cgroup v1 sets no OOMKilled and sends no
    oom event: the SIGKILL is not told apart, so it is not called a stop timeout ("not an OOM"), and says why."""
    state = json.loads(podman.pm("inspect", f"{PREFIX}oom"))[0]["State"]
    assert state["ExitCode"] == 137, state
    doc = json.loads(run_cli("-H", podman.url, "scan", "--json", f"{PREFIX}oom").stdout)
    top = _names(doc)[f"{PREFIX}oom"]["top_finding"]
    if state["OOMKilled"]:
        assert top == "oom-killed"  # an engine that flags it (cgroup v2)
        return
    assert top == "crashed"
    text = " ".join(line.strip("│ ") for line in run_cli("-H", podman.url, "scan", f"{PREFIX}oom").stdout.splitlines())
    assert "may also be an OOM kill that Podman did not flag" in text


@pytest.fixture
def no_docker_socket(tmp_path, monkeypatch):
    """This process's default Docker socket and Podman's rootful one point at paths where nothing is (the real
    /var/run/docker.sock is left alone); no DOCKER_HOST, docker context or CONTAINER_HOST."""
    monkeypatch.setattr(endpoint, "DEFAULT_SOCKET", f"unix://{tmp_path}/docker.sock")
    monkeypatch.setattr(endpoint, "PODMAN_ROOTFUL_SOCKET", f"unix://{tmp_path}/podman-rootful.sock")
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT", "CONTAINER_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    return monkeypatch


def test_with_no_docker_socket_the_rootless_podman_socket_is_found_and_scanned(podman, no_docker_socket, capsys):
    no_docker_socket.setenv("XDG_RUNTIME_DIR", str(podman.sock.parent.parent))
    ep = endpoint.resolve_endpoint()
    assert (ep.url, ep.source) == (podman.url, "Podman's rootless socket")
    assert cli.main(["scan", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["host"]["engine"] == "Podman" and set(_names(doc)) == set(_podman_view(podman))


def test_container_host_is_podmans_own_variable(podman, no_docker_socket, capsys, tmp_path):
    no_docker_socket.setenv("XDG_RUNTIME_DIR", str(tmp_path / "nothing-here"))
    no_docker_socket.setenv("CONTAINER_HOST", podman.url)
    assert endpoint.resolve_endpoint().source == "CONTAINER_HOST"
    assert cli.main(["scan", f"{PREFIX}latest"]) == 1
    out = capsys.readouterr().out
    assert " · Podman 4." in out.splitlines()[0] and "mutable-tag" in out
    # the default Docker socket answering again wins: Podman's variable is read only when Docker's socket is not there
    no_docker_socket.setattr(endpoint, "DEFAULT_SOCKET", "unix:///var/run/docker.sock")
    if endpoint._accepts("unix:///var/run/docker.sock"):
        assert endpoint.resolve_endpoint().source == "default"


def test_the_app_found_podman_by_itself_and_shows_its_rows_and_engine(podman, no_docker_socket):
    from troubleshoot.core.playbooks import load_catalog
    from troubleshoot.tui.factory import make_app
    from troubleshoot.tui.widgets.container_table import ContainerTable
    from troubleshoot.tui.widgets.host_strip import HostStrip
    no_docker_socket.setenv("XDG_RUNTIME_DIR", str(podman.sock.parent.parent))
    names = set(_podman_view(podman))

    async def go():
        app = make_app(load_catalog())  # follows Podman's events too
        async with app.run_test(size=(120, 30)) as pilot:
            strip = app.screen.query_one(HostStrip)
            await until(pilot, lambda: names <= {r.name for r in app.rows.values()} and app.loaded
                        and len(app.findings) >= len(names) and "Podman 4." in str(strip.render()),
                        timeout=60, what="Podman's containers diagnosed and the strip naming Podman")
            tops = {app.rows[cid].name: (found[0].playbook_id if found else None) for cid, found in app.findings.items()}
            assert tops[f"{PREFIX}secret"] == "secrets-in-image" and tops[f"{PREFIX}drift"] == "image-drift"
            table = app.screen.query_one(ContainerTable)
            shown = {str(table.get_row(k)[0]).removesuffix(" [lab]") for k in table.rows}
            assert names <= shown
            # an event from Podman: a container created now appears on the board with no key pressed
            podman.pm("create", "--name", f"{PREFIX}late", f"localhost/{PREFIX}base:1", "true")
            await until(pilot, lambda: f"{PREFIX}late" in {r.name for r in app.rows.values()}, timeout=30,
                        what="the container created under the running app")
    async def narrow():
        app = make_app(load_catalog(), live_events=False)
        async with app.run_test(size=(80, 24)) as pilot:
            strip = app.screen.query_one(HostStrip)
            await until(pilot, lambda: app.host is not None and " · Podman" in str(strip.render()), timeout=30,
                        what="the engine on the strip at 80 columns")

    try:
        asyncio.run(go())
        asyncio.run(narrow())
    finally:
        podman.pm("rm", "-f", f"{PREFIX}late", check=False)


def test_a_snapshot_of_podman_says_podman_when_read_back(podman, tmp_path):
    snap = tmp_path / "pm.json"
    assert run_cli("-H", podman.url, "snapshot", "-o", str(snap)).returncode == 0
    proc = run_cli("scan", "--json", "--from", str(snap))
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["host"]["engine"] == "Podman" and set(_names(doc)) == set(_podman_view(podman))
    assert SECRET not in snap.read_text()
