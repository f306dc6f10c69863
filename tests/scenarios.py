"""Every incident, reproduced for real on the engine: one function per playbook id, creating the container
`tst-<id>` (and its image when needed) and waiting until the incident has happened.

Used by the integration tests and by `tests/record_fixtures.py`, which records their inspect JSON for unit tests.
Healthy-looking scenarios carry a healthcheck, a memory limit and a pinned tag so that the playbook under test is
the only thing wrong with them.
"""
from __future__ import annotations

import hashlib
import io
import json
import shutil
import struct
import subprocess
import tarfile
import tempfile
from pathlib import Path

from .engine import BASE, PREFIX, build, docker, ensure_base, free_port, inspect, rootfs_tar, wait_for, wait_state

# A container that is fine apart from what a scenario breaks.
GOOD = ["--memory=64m", "--health-cmd", "true", "--health-interval", "1s", "--health-retries", "1"]


def name_for(playbook: str) -> str:
    return f"{PREFIX}{playbook}"


def _run(name: str, *args: str) -> None:
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, *args)


def exits_immediately(name: str) -> None:
    _run(name, BASE, "sh", "-c", "echo started worker in background")
    wait_state(name, "exited")


def oom_killed(name: str) -> None:
    _run(name, "--memory=24m", "--memory-swap=24m", BASE, "sh", "-c",
         "echo loading cache; dd if=/dev/zero of=/dev/null bs=120M count=1")
    wait_state(name, "exited")


def missing_env(name: str) -> None:
    _run(name, "-e", "APP_PORT=3000", BASE, "sh", "-c",
         'echo "connecting to database at ${DB_HOST:-localhost}:5432"; '
         'echo "Error: DB_HOST is not set. Database connection failed" >&2; exit 1')
    wait_state(name, "exited")


def unhealthy(name: str) -> None:
    _run(name, "--memory=64m", "--health-cmd", "echo GET /health: connection refused; exit 1",
         "--health-interval", "1s", "--health-retries", "2", BASE, "sleep", "600")
    wait_state(name, "unhealthy")


def no_healthcheck(name: str) -> None:
    _run(name, "--memory=64m", BASE, "sleep", "600")
    wait_state(name, "running")


def no_memory_limit(name: str) -> None:
    _run(name, "--health-cmd", "true", "--health-interval", "1s", BASE, "sleep", "600")
    wait_state(name, "healthy")


def restart_loop(name: str) -> None:
    _run(name, "--restart=always", *GOOD, BASE, "sh", "-c", "echo 'panic: worker pool exhausted'; exit 2")
    wait_for(lambda: inspect(name)["RestartCount"] >= 3, 60, f"{name} to restart 3 times")


def aarch64_elf() -> bytes:
    """A minimal, valid AArch64 ELF executable (exit(0)); an amd64 kernel refuses it: exec format error."""
    header = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    header += struct.pack("<HHIQQQIHHHHHH", 2, 183, 1, 0x400078, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, 0x400000, 0x400000, 0x84, 0x84, 0x1000)
    code = struct.pack("<III", 0xD2800000, 0xD2800BA8, 0xD4000001)  # mov x0,#0; mov x8,#93; svc #0
    return header + phdr + code


def arm64_image(tag: str) -> str:
    """An image whose config says linux/arm64 and whose command is an arm64 binary: `docker import` does not keep
    --platform on this daemon, so the config is rewritten in a `docker save` archive and loaded back."""
    if docker("image", "inspect", tag, check=False).returncode == 0:
        return tag
    docker("import", "-c", "ENV PATH=/bin", "-c", 'CMD ["/app/server"]', "-", tag,
           input=rootfs_tar({"app/server": aarch64_elf()}))
    saved = docker("save", tag).stdout
    with tempfile.TemporaryDirectory() as d:
        with tarfile.open(fileobj=io.BytesIO(saved)) as tar:
            tar.extractall(d)
        manifest = json.loads(Path(d, "manifest.json").read_text())
        config_name = manifest[0]["Config"]
        config = json.loads(Path(d, config_name).read_text())
        config["architecture"], config["variant"] = "arm64", "v8"
        data = json.dumps(config).encode()
        new_name = hashlib.sha256(data).hexdigest() + ".json"
        Path(d, config_name).unlink()
        Path(d, new_name).write_bytes(data)
        manifest[0]["Config"] = new_name
        Path(d, "manifest.json").write_text(json.dumps(manifest))
        docker("rmi", "-f", tag)
        docker("load", input=subprocess.run(["tar", "-C", d, "-c", "."], capture_output=True, check=True).stdout)
    return tag


def arch_mismatch(name: str) -> None:
    tag = arm64_image(f"{PREFIX}arm64:1")
    _run(name, tag)
    wait_state(name, "exited")


def missing_library(name: str) -> None:
    """A real dynamically linked program whose library is not in the image: the loader says so, exit 127."""
    if shutil.which("gcc") is None:
        raise RuntimeError("gcc is needed to build the missing-library scenario (apt-get install gcc)")
    tag = f"{PREFIX}missing-lib:1"
    with tempfile.TemporaryDirectory() as d:
        Path(d, "lib.c").write_text("int ts_lib(void){return 0;}\n")
        Path(d, "main.c").write_text("int ts_lib(void);\nint main(void){return ts_lib();}\n")
        subprocess.run(["gcc", "-shared", "-fPIC", "-o", f"{d}/libtsorders.so.1", f"{d}/lib.c",
                        "-Wl,-soname,libtsorders.so.1"], check=True)
        subprocess.run(["gcc", "-o", f"{d}/server", f"{d}/main.c", f"-L{d}", "-l:libtsorders.so.1"], check=True)
        loader = subprocess.run(["gcc", "-print-file-name=ld-linux-x86-64.so.2"], capture_output=True, text=True).stdout.strip()
        libc = subprocess.run(["gcc", "-print-file-name=libc.so.6"], capture_output=True, text=True).stdout.strip()
        files = {"server": Path(d, "server").read_bytes(), "ld.so": Path(loader).resolve().read_bytes(),
                 "libc.so.6": Path(libc).resolve().read_bytes()}
    build(tag, f"FROM {BASE}\nCOPY ld.so /lib64/ld-linux-x86-64.so.2\nCOPY libc.so.6 /lib/x86_64-linux-gnu/libc.so.6\n"
               "COPY server /app/server\nCMD [\"/app/server\"]\n", files)
    _run(name, tag)
    wait_state(name, "exited")


def command_not_found(name: str) -> None:
    docker("rm", "-f", name, check=False)
    docker("create", "--name", name, BASE, "node", "server.js")
    docker("start", name, check=False)  # fails: executable file not found in $PATH
    wait_for(lambda: inspect(name)["State"]["ExitCode"] == 127, 30, f"{name} to fail")


def port_conflict(name: str) -> None:
    port = free_port()
    holder = f"{name}-holder"
    _run(holder, *GOOD, "-p", f"127.0.0.1:{port}:80", BASE, "sleep", "600")
    docker("rm", "-f", name, check=False)
    docker("create", "--name", name, *GOOD, "-p", f"127.0.0.1:{port}:80", BASE, "sleep", "600")
    docker("start", name, check=False)  # fails: port is already allocated
    wait_for(lambda: "allocated" in inspect(name)["State"]["Error"], 30, f"{name} to fail on its port")


def mutable_tag(name: str) -> None:
    docker("tag", BASE, f"{PREFIX}mutable:latest")
    _run(name, *GOOD, f"{PREFIX}mutable", "sleep", "600")  # no tag written: implicitly latest
    wait_state(name, "healthy")


def image_drift(name: str) -> None:
    """The seed RCA: order-service runs from `:latest`; then `latest` is built and pushed again for testing, so the
    tag now names other code than what runs. (mutable-tag is silenced so the drift is the only finding.)"""
    tag = f"{PREFIX}order-service:latest"
    build(tag, f"FROM {BASE}\nLABEL version=2.8.4\nCMD [\"sleep\", \"600\"]\n")
    _run(name, *GOOD, "--label", "troubleshoot.ignore=mutable-tag", tag)
    wait_state(name, "healthy")
    build(tag, f"FROM {BASE}\nLABEL version=testing-build\nCMD [\"sleep\", \"600\"]\n")


def secrets_in_image(name: str) -> None:
    tag = f"{PREFIX}secrets:1"
    build(tag, f"FROM {BASE}\nENV API_TOKEN=tok_live_7f3a9c2b1e API_HOST=api.internal\nCOPY .env /app/.env\n"
               "CMD [\"sleep\", \"600\"]\n", {".env": b"DB_PASSWORD=hunter2-prod\n"})
    _run(name, *GOOD, tag)
    wait_state(name, "healthy")


def image_too_large(name: str) -> None:
    tag = f"{PREFIX}large:1"
    if docker("image", "inspect", tag, check=False).returncode != 0:
        build(tag, f"FROM {BASE}\nRUN mkdir -p /opt && dd if=/dev/zero of=/opt/toolchain.bin bs=1M count=1100\nCMD [\"sleep\", \"600\"]\n")
    _run(name, *GOOD, tag)
    wait_state(name, "healthy")


def crashed(name: str) -> None:
    _run(name, BASE, "sh", "-c", "echo 'unexpected reply from ledger service' >&2; exit 3")
    wait_state(name, "exited")


def control(name: str) -> None:
    """Healthy: healthcheck, memory limit, pinned tag, running."""
    _run(name, *GOOD, BASE, "sleep", "600")
    wait_state(name, "healthy")


SCENARIOS = {
    "exits-immediately": exits_immediately,
    "oom-killed": oom_killed,
    "missing-env": missing_env,
    "unhealthy": unhealthy,
    "no-healthcheck": no_healthcheck,
    "no-memory-limit": no_memory_limit,
    "restart-loop": restart_loop,
    "arch-mismatch": arch_mismatch,
    "missing-library": missing_library,
    "command-not-found": command_not_found,
    "port-conflict": port_conflict,
    "mutable-tag": mutable_tag,
    "image-drift": image_drift,
    "secrets-in-image": secrets_in_image,
    "image-too-large": image_too_large,
    "crashed": crashed,
}


def create(playbook: str) -> str:
    ensure_base()
    name = name_for(playbook)
    (control if playbook == "control" else SCENARIOS[playbook])(name)
    return name
