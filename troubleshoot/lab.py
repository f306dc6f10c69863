"""The training lab: one real broken container per shipped container playbook, on the local daemon, so that a new
on-call engineer practises each walkthrough on a real failure.

Everything the lab makes carries the labels `troubleshoot.lab=<scenario>` and `troubleshoot.lab.instance=<name>` and
is made through the adapter (no docker CLI). Several labs share one daemon as instances (`--instance NAME`, default
`default`: a user's lab, a colleague's, a test run's): `down` removes exactly what carries its own instance's label,
and the images its `up` pulled itself (kept in a small state file per instance). The base image: `--base-image`,
else busybox:latest (pulled if missing); when no registry answers, the base is imported from this host's static
busybox, and the lab says so. The test suite builds its incidents from these
same recipes (tests/scenarios.py), so the lab is exercised by every integration test.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import re
import shutil
import socket
import struct
import subprocess
import tarfile
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from .core.diagnose import IGNORE_LABEL, TRAINING_LABEL
from .core import schema
from .core.peers import LAB_INSTANCE_LABEL
from .daemon import ApiError, Daemon

DEFAULT_BASE = "busybox:latest"
INSTANCE_LABEL = LAB_INSTANCE_LABEL  # core/peers.py: an instance groups its containers, as a Compose project does
DEFAULT_INSTANCE = "default"
_INSTANCE_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,39}")
SECOND = 1_000_000_000  # the Engine API counts health intervals in nanoseconds
MB = 1024 * 1024


class LabError(Exception):
    """One line: what the lab could not do, and why (the daemon's own words)."""


def check_instance(name: str) -> str:
    if not _INSTANCE_NAME.fullmatch(name or ""):
        raise LabError(f"lab instance {name!r}: use lowercase letters, digits, '.', '_' or '-' (at most 40)")
    return name


def instance_of(labels: dict | None) -> str | None:
    """The lab instance an object belongs to (None: not the lab's). Objects of labs made before instances existed
    belong to the default one."""
    labels = labels or {}
    if TRAINING_LABEL not in labels:
        return None
    return labels.get(INSTANCE_LABEL) or DEFAULT_INSTANCE


@dataclass
class Lab:
    """Where lab objects go. The defaults are the user's lab (`lab-NAME`, `troubleshoot-lab/NAME`); another instance
    gets `lab-INSTANCE-NAME` and `troubleshoot-lab/INSTANCE/NAME`. The tests give their own prefixes and base."""
    daemon: Daemon
    base: str = ""  # resolved by ensure_base()
    container_prefix: str = ""
    image_prefix: str = ""
    say: Callable[[str], None] = print
    pulled: list[str] = field(default_factory=list)
    instance: str = DEFAULT_INSTANCE
    # Config.StopTimeout of what `run` makes (None: Docker's 10 s). PID 1 of most lab containers is `sleep` or
    # `httpd`, which ignore SIGTERM as PID 1: `docker stop` (and a recreate fix, which stops the old container)
    # waits the whole timeout. The test suite sets 1 s; the stop-timeout scenario keeps Docker's own.
    stop_timeout: int | None = None

    def __post_init__(self) -> None:
        check_instance(self.instance)
        default = self.instance == DEFAULT_INSTANCE
        self.container_prefix = self.container_prefix or ("lab-" if default else f"lab-{self.instance}-")
        self.image_prefix = self.image_prefix or ("troubleshoot-lab/" if default else f"troubleshoot-lab/{self.instance}/")

    def labels(self, scenario: str) -> dict[str, str]:
        return {TRAINING_LABEL: scenario, INSTANCE_LABEL: self.instance}

    def name(self, scenario: str) -> str:
        return f"{self.container_prefix}{scenario}"

    def image(self, name: str) -> str:
        return f"{self.image_prefix}{name}"

    # -- making things ---------------------------------------------------------------------------------------
    def run(self, name: str, scenario: str, cmd: list[str] | None, *, image: str | None = None,
            env: tuple[str, ...] = (), memory: int = 0, restart: str = "", health: tuple[str, int] | None = None,
            port: int | None = None, labels: dict[str, str] | None = None, good: bool = False,
            may_fail_to_start: bool = False, network: str = "", aliases: tuple[str, ...] = (),
            expose: tuple[str, ...] = (), health_start: int = 0, container_port: int = 80,
            host: dict | None = None, user: str = "") -> tuple[str, str]:
        """Create and start one container (replacing an earlier one of the same name that this lab instance made).
        `good`: a healthcheck and a memory limit, so that only the scenario's own trouble shows. `port`: a host port
        (on 127.0.0.1) published to `container_port`. `host`: more HostConfig (the Engine API's own fields: Binds,
        Tmpfs, ShmSize, ReadonlyRootfs, NanoCpus, PidsLimit, Ulimits, LogConfig, Init...); `user`: Config.User.
        Returns (id, the daemon's reason if it refused to start it). A refusal is the scenario's failure only with
        `may_fail_to_start`; otherwise it is a LabError at once, in the daemon's words."""
        if good:
            memory, health = memory or 64 * MB, health or ("true", 1)
        old = self.daemon.inspect(name)
        if old is not None:
            owner = instance_of(old.Config.Labels)
            if owner is None:
                raise LabError(f"a container named {name} exists and is not a lab container; remove or rename it")
            if owner != self.instance:
                raise LabError(f"a container named {name} belongs to lab instance {owner!r}; use another --instance")
            self.daemon.remove_container(old.Id)
        host_config: dict = {}
        if memory:
            host_config.update(Memory=memory, MemorySwap=memory)
        if restart:
            host_config["RestartPolicy"] = {"Name": restart}
        host_config.update(host or {})
        config: dict = {"Image": image or self.base, "Env": list(env),
                        "Labels": {**self.labels(scenario), **(labels or {})}, "HostConfig": host_config}
        if cmd is not None:
            config["Cmd"] = cmd
        if self.stop_timeout is not None and scenario != "stop-timeout":
            config["StopTimeout"] = self.stop_timeout
        if user:
            config["User"] = user
        if health:
            config["Healthcheck"] = {"Test": ["CMD-SHELL", health[0]], "Interval": SECOND, "Retries": health[1]}
            if health_start:
                config["Healthcheck"]["StartPeriod"] = health_start * SECOND
        if network:  # a user-defined network (Lab.network), with the names the container answers to there
            host_config["NetworkMode"] = network
            config["NetworkingConfig"] = {"EndpointsConfig": {network: {"Aliases": list(aliases)}}}
        if expose:
            config["ExposedPorts"] = {p: {} for p in expose}
        if port:
            config["ExposedPorts"] = {f"{container_port}/tcp": {}}
            host_config["PortBindings"] = {f"{container_port}/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}
        try:
            cid = self.daemon.create_container(name, config)
        except ApiError as exc:
            raise LabError(f"cannot create {name}: {exc}") from None
        refused = self.daemon.start_container(cid)
        if refused and not may_fail_to_start:
            raise LabError(f"the daemon cannot start {name}: {refused}")
        return cid, refused

    def network(self, name: str, scenario: str) -> str:
        """A user-defined network of this lab instance (kept when it exists already: it may have containers)."""
        for row in self.daemon.networks(label=TRAINING_LABEL):
            if row.Name == name:
                owner = instance_of(row.Labels)
                if owner != self.instance:
                    raise LabError(f"a network named {name} belongs to lab instance {owner!r}; use another --instance")
                return row.Id
        try:
            return self.daemon.create_network(name, self.labels(scenario))
        except ApiError as exc:
            raise LabError(f"cannot create network {name}: {exc}") from None

    def host_dir(self, scenario: str) -> str:
        """A directory of this host for a scenario's bind mounts, under the lab's state dir: made empty here, removed
        by `down` (this instance's whole `mounts/` directory)."""
        path = os.path.join(mounts_dir(self.instance), scenario)
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, 0o755)
        os.chmod(path, 0o755)
        return path

    def build(self, tag: str, scenario: str, dockerfile: str, files: dict[str, bytes] | None = None) -> str:
        """Build `tag` FROM the base with the classic builder; the image is labelled as the lab's."""
        context = _tar({"Dockerfile": dockerfile.replace("{base}", self.base).encode(), **(files or {})})
        try:
            self.daemon.build_image(tag, context, self.labels(scenario))
        except ApiError as exc:
            raise LabError(f"cannot build {tag}: {exc}") from None
        return tag

    def wait(self, cid: str, predicate: Callable[[schema.ContainerInspect], bool], what: str,
             timeout: float = 60) -> schema.ContainerInspect:
        """Wait until `predicate(inspect)`; a container the daemon could not run (State.Error) fails at once."""
        def done(d: schema.ContainerInspect) -> bool:
            return predicate(d) or bool(d.State.Error)
        data = self.daemon.wait_until(done, timeout, cid)
        if data is not None and not predicate(data) and data.State.Error:
            raise LabError(f"the daemon cannot run {data.Name.lstrip('/') or cid[:12]}: {data.State.Error}")
        if data is None or not predicate(data):
            raise LabError(f"timed out after {timeout:.0f}s waiting for {what}")
        return data

    def wait_oom_killed(self, cid: str, name: str, runs: int = 5) -> schema.ContainerInspect:
        """Until it exited with State.OOMKilled. The daemon sets that flag only when the kernel's `oom` notice comes
        before the exit, and on a loaded host it sometimes comes after it, or never (2 runs in 16 beside stress-ng:
        exit 137, OOMKilled=false, and no `oom` event or one after `die`). Such a run leaves no lasting OOM evidence,
        so it is started again (at most `runs` runs) until the daemon records the flag."""
        for _ in range(runs):
            data = self.wait(cid, _exited, f"{name} to be killed")
            if data.State.OOMKilled:
                return data
            why = self.daemon.start_container(cid)  # returns once it runs (or has run): the next wait sees this run
            if why:
                raise LabError(f"the daemon cannot start {name} again: {why}")
        raise LabError(f"{name} exited {runs} times and the daemon never recorded OOMKilled")

    def wait_state(self, cid: str, *states: str, timeout: float = 60) -> schema.ContainerInspect:
        def ok(d: schema.ContainerInspect) -> bool:
            return d.State.Status in states or (d.State.Health is not None and d.State.Health.Status in states)
        data = self.wait(cid, lambda d: ok(d) or d.State.Status in ("exited", "dead"),
                         f"{cid[:12]} to be {'/'.join(states)}", timeout)
        if not ok(data):  # it stopped instead: say so now, not after the timeout
            raise LabError(f"{data.Name.lstrip('/') or cid[:12]} {data.State.Status} (exit code "
                           f"{data.State.ExitCode}) instead of becoming {'/'.join(states)}")
        return data

    # -- the base image --------------------------------------------------------------------------------------
    def ensure_base(self, wanted: str | None = None) -> str:
        """`wanted` (--base-image) or busybox:latest, pulled when missing; with no registry, imported from the
        host's static busybox. Says which."""
        built = self.image("base:1")
        candidates = [wanted] if wanted else [DEFAULT_BASE, built]
        for ref in candidates:
            if self.daemon.image(ref) is not None:
                self.base = ref
                return ref
        ref = wanted or DEFAULT_BASE
        try:
            self.daemon.pull_image(ref)
            self.pulled.append(ref)
            self.say(f"pulled {ref}")
            self.base = ref
            return ref
        except ApiError as exc:
            if wanted:
                raise LabError(f"base image {wanted} is not on this daemon and cannot be pulled: {exc}") from None
            why = str(exc)
        bb = static_busybox()
        if bb is None:
            raise LabError(f"cannot pull {DEFAULT_BASE} ({why}) and this host has no static busybox to build a base "
                           "from: install busybox-static, or give --base-image an image the daemon has")
        repo, tag = built.rsplit(":", 1)
        try:
            self.daemon.import_image(repo, tag, busybox_rootfs(bb), ["ENV PATH=/bin", 'CMD ["/bin/sh"]',
                                                                     f"LABEL {TRAINING_LABEL}=base",
                                                                     f"LABEL {INSTANCE_LABEL}={self.instance}"])
        except ApiError as exc:
            raise LabError(f"cannot import the base image: {exc}") from None
        self.say(f"no registry reachable ({why[:120]}); built the base image {built} from this host's static "
                 f"busybox ({bb})")
        self.base = built
        return built


# -- scenarios: one per container playbook --------------------------------------------------------------------
def _exited(d: schema.ContainerInspect) -> bool:
    return d.State.Status == "exited"


def exits_immediately(lab: Lab, name: str) -> None:
    """busybox httpd without -f forks into the background: PID 1 returns 0 at once and the container stops."""
    tag = lab.build(lab.image("web-daemon:1"), "exits-immediately",
                    'FROM {base}\nRUN mkdir -p /www && echo ok > /www/index.html\nCMD ["httpd", "-p", "8080", "-h", "/www"]\n')
    cid, _ = lab.run(name, "exits-immediately", None, image=tag)
    lab.wait(cid, _exited, f"{name} to exit")


def oom_killed(lab: Lab, name: str) -> None:
    cid, _ = lab.run(name, "oom-killed", ["sh", "-c", "echo loading cache; dd if=/dev/zero of=/dev/null bs=120M count=1 "
                                                  "&& exec sleep 86400"],
                     memory=24 * MB)
    lab.wait_oom_killed(cid, name)


def missing_env(lab: Lab, name: str) -> None:
    """DB_HOST not passed: the app says so and exits. Its database runs beside it (`orders-db` on their network)."""
    lab.network(f"{name}-net", "missing-env")
    db, _ = lab.run(f"{name}-db", "missing-env", _DB, network=f"{name}-net", aliases=("orders-db",),
                    expose=("5432/tcp",), good=True)
    lab.wait_state(db, "healthy")
    check = ('if [ -z "$DB_HOST" ]; then echo "connecting to database at localhost:5432"; '
             'echo "Error: DB_HOST is not set. Database connection failed" >&2; exit 1; fi; ')
    cid, _ = lab.run(name, "missing-env", ["sh", "-c", check + _DIAL], env=("APP_PORT=3000", "DB_PORT=5432"),
                     network=f"{name}-net")
    lab.wait(cid, _exited, f"{name} to exit")


def unhealthy(lab: Lab, name: str) -> None:
    """It serves on 8080; its probe asks 8081, where nothing listens: unhealthy, connection refused."""
    tag = lab.build(lab.image("health-port:1"), "unhealthy",
                    'FROM {base}\nRUN mkdir -p /srv && echo ok > /srv/health\n'
                    'CMD ["httpd", "-f", "-p", "8080", "-h", "/srv"]\n')
    cid, _ = lab.run(name, "unhealthy", None, image=tag, memory=64 * MB,
                     health=("wget -q -O /dev/null http://127.0.0.1:8081/health || exit 1", 2))
    lab.wait_state(cid, "unhealthy")


def no_healthcheck(lab: Lab, name: str) -> None:
    cid, _ = lab.run(name, "no-healthcheck", ["sleep", "86400"], memory=64 * MB)
    lab.wait_state(cid, "running")


def no_memory_limit(lab: Lab, name: str) -> None:
    cid, _ = lab.run(name, "no-memory-limit", ["sleep", "86400"], health=("true", 1))
    lab.wait_state(cid, "healthy")


def restart_loop(lab: Lab, name: str) -> None:
    cid, _ = lab.run(name, "restart-loop", ["sh", "-c", "echo 'panic: worker pool exhausted'; exit 2"],
                     restart="always", good=True)
    lab.wait(cid, lambda d: d.RestartCount >= 3, f"{name} to restart 3 times")


def arch_mismatch(lab: Lab, name: str) -> None:
    """An image whose config says another architecture and whose command is a binary for it: exec format error."""
    arch = lab.daemon.info().Architecture or platform.machine()
    other, elf = ("amd64", x86_64_elf()) if arch in ("aarch64", "arm64") else ("arm64", aarch64_elf())
    tag = lab.image(f"{other}-only:1")
    archive = image_archive(tag, {"app/server": elf}, {"Env": ["PATH=/bin"], "Cmd": ["/app/server"],
                                                       "Labels": lab.labels("arch-mismatch")},
                            architecture=other, created_by=f"COPY server /app/server  # a {other} binary")
    try:
        lab.daemon.load_image(archive)
    except ApiError as exc:
        raise LabError(f"cannot load {tag}: {exc}") from None
    cid, _ = lab.run(name, "arch-mismatch", None, image=tag, may_fail_to_start=True)  # exec format error
    lab.wait(cid, _exited, f"{name} to fail")


def missing_library(lab: Lab, name: str) -> None:
    """A dynamically linked program of this host, copied with its loader but without the libraries it needs (the
    classic: a binary built on Debian copied into a minimal image). The loader says which library is missing."""
    binary, interp = host_dynamic_binary()
    tag = lab.build(lab.image("missing-lib:1"), "missing-library",
                    f"FROM {{base}}\nCOPY ld.so {interp}\nCOPY server /app/server\nCMD [\"/app/server\"]\n",
                    {"server": binary, "ld.so": _read_resolved(interp)})
    cid, _ = lab.run(name, "missing-library", None, image=tag)
    lab.wait(cid, _exited, f"{name} to fail")


def command_not_found(lab: Lab, name: str) -> None:
    cid, _ = lab.run(name, "command-not-found", ["node", "server.js"],  # the daemon refuses: not in $PATH
                     may_fail_to_start=True)
    lab.wait(cid, lambda d: d.State.ExitCode in (126, 127), f"{name} to fail")


def port_conflict(lab: Lab, name: str) -> None:
    port = free_port()
    holder, _ = lab.run(f"{name}-holder", "port-conflict", ["httpd", "-f", "-p", "80"], port=port, good=True)
    lab.wait_state(holder, "healthy", "running")
    cid, _ = lab.run(name, "port-conflict", ["sleep", "86400"], port=port, good=True, may_fail_to_start=True)
    lab.wait(cid, lambda d: "allocated" in d.State.Error, f"{name} to fail on its port")


def mutable_tag(lab: Lab, name: str) -> None:
    tag = lab.build(lab.image("mutable:latest"), "mutable-tag", "FROM {base}\n")
    cid, _ = lab.run(name, "mutable-tag", ["sleep", "86400"], image=tag.removesuffix(":latest"), good=True)
    lab.wait_state(cid, "healthy")


def image_drift(lab: Lab, name: str) -> None:
    """The seed RCA: order-service runs from `:latest`; then `latest` is built again for testing, so the tag names
    other code than what runs. (mutable-tag is silenced so that the drift is the only finding.)"""
    tag = lab.image("order-service:latest")
    lab.build(tag, "image-drift", "FROM {base}\nLABEL version=2.8.4\nCMD [\"sleep\", \"86400\"]\n")
    cid, _ = lab.run(name, "image-drift", None, image=tag, good=True, labels={IGNORE_LABEL: "mutable-tag"})
    lab.wait_state(cid, "healthy")
    lab.build(tag, "image-drift", "FROM {base}\nLABEL version=testing-build\nCMD [\"sleep\", \"86400\"]\n")


def secrets_in_image(lab: Lab, name: str) -> None:
    tag = lab.build(lab.image("secrets:1"), "secrets-in-image",
                    "FROM {base}\nENV API_TOKEN=tok_live_7f3a9c2b1e API_HOST=api.internal\nCOPY .env /app/.env\n"
                    "CMD [\"sleep\", \"86400\"]\n", {".env": b"DB_PASSWORD=hunter2-prod\n"})
    cid, _ = lab.run(name, "secrets-in-image", None, image=tag, good=True)
    lab.wait_state(cid, "healthy")


def image_too_large(lab: Lab, name: str) -> None:
    tag = lab.image("large:1")
    if lab.daemon.image(tag) is None:
        lab.build(tag, "image-too-large", "FROM {base}\nRUN mkdir -p /opt && dd if=/dev/zero of=/opt/toolchain.bin "
                                          "bs=1M count=1100\nCMD [\"sleep\", \"86400\"]\n")
    cid, _ = lab.run(name, "image-too-large", None, image=tag, good=True)
    lab.wait_state(cid, "healthy")


# A small web server whose address and port come from the environment, as most frameworks' do (HOST/PORT,
# --host, server.address, ASPNETCORE_URLS...). Its health check asks it on 127.0.0.1 inside, where it answers.
_WEB = ("FROM {{base}}\nRUN mkdir -p /www && echo ok > /www/index.html\nENV HOST={host} PORT={port}\nEXPOSE {port}\n"
        "HEALTHCHECK --interval=1s --timeout=3s --retries=3 CMD wget -q -O /dev/null http://127.0.0.1:$PORT/ || exit 1\n"
        'CMD ["sh", "-c", "echo listening on $HOST:$PORT; exec httpd -f -h /www -p $HOST:$PORT"]\n')


def listens_on_localhost(lab: Lab, name: str) -> None:
    """A server bound to 127.0.0.1 inside its container, its port published: the health check (inside) passes,
    the published port is dead."""
    tag = lab.build(lab.image("web-localhost:1"), "listens-on-localhost", _WEB.format(host="127.0.0.1", port=8080))
    cid, _ = lab.run(name, "listens-on-localhost", None, image=tag, memory=64 * MB, port=free_port(),
                     container_port=8080)
    lab.wait_state(cid, "healthy")


def published_port_unused(lab: Lab, name: str) -> None:
    """Publishes 8080; the server listens on 9090 (its PORT default): nothing answers the published port."""
    tag = lab.build(lab.image("web-9090:1"), "published-port-unused", _WEB.format(host="0.0.0.0", port=9090))
    cid, _ = lab.run(name, "published-port-unused", None, image=tag, memory=64 * MB, port=free_port(),
                     container_port=8080)
    lab.wait_state(cid, "healthy")
# -- files and mounts: the image has the file, the container cannot use it ----------------------------------------
LAB_UID = "4242:4242"  # a non-root user that owns nothing on the host or in the image


def entrypoint_interpreter(lab: Lab, name: str, variant: str = "crlf") -> None:
    """`exec /entrypoint.sh: no such file or directory` although the script is there: saved with Windows line
    endings (`#!/bin/sh\r`), or (variant "bash") asking for /bin/bash, which busybox does not have."""
    script = (b"#!/bin/sh\r\necho starting worker\r\nexec sleep 86400\r\n" if variant == "crlf"
              else b"#!/bin/bash\necho starting worker\nexec sleep 86400\n")
    tag = lab.build(lab.image(f"entrypoint-{variant}:1"), "entrypoint-interpreter",
                    "FROM {base}\nCOPY entrypoint.sh /entrypoint.sh\nENTRYPOINT [\"/entrypoint.sh\"]\n",
                    {"entrypoint.sh": script})
    cid, _ = lab.run(name, "entrypoint-interpreter", None, image=tag, may_fail_to_start=True)
    lab.wait(cid, lambda d: _exited(d) or d.State.ExitCode in (126, 127), f"{name} to fail")


def bind_mount_mismatch(lab: Lab, name: str) -> None:
    """`-v HOST/config.json:/app/config.json` with a host path that does not exist: Docker makes it as a directory,
    and a directory cannot be mounted onto the image's file."""
    source = os.path.join(lab.host_dir("bind-mount-mismatch"), "config.json")  # not made: that is the incident
    tag = lab.build(lab.image("config-app:1"), "bind-mount-mismatch",
                    'FROM {base}\nCOPY config.json /app/config.json\n'
                    'CMD ["sh", "-c", "cat /app/config.json; exec sleep 86400"]\n', {"config.json": b'{"port": 80}\n'})
    cid, _ = lab.run(name, "bind-mount-mismatch", None, image=tag, host={"Binds": [f"{source}:/app/config.json"]},
                     may_fail_to_start=True)
    lab.wait(cid, lambda d: "mount" in d.State.Error or _exited(d), f"{name} to fail on its mount")


def permission_denied(lab: Lab, name: str) -> None:
    """A non-root user writing a volume whose source is a root-owned directory (mode 755)."""
    source = lab.host_dir("permission-denied")
    tag = lab.build(lab.image("state-writer:1"), "permission-denied",
                    'FROM {base}\nCMD ["sh", "-c", "echo saving state to /data/state.json; '
                    'touch /data/state.json && exec sleep 86400"]\n')
    cid, _ = lab.run(name, "permission-denied", None, image=tag, user=LAB_UID, host={"Binds": [f"{source}:/data"]})
    lab.wait(cid, _exited, f"{name} to fail")


def read_only_filesystem(lab: Lab, name: str) -> None:
    """--read-only, and the app writes /data (no volume or tmpfs there)."""
    tag = lab.build(lab.image("cache-writer:1"), "read-only-filesystem",
                    'FROM {base}\nRUN mkdir /data\nCMD ["sh", "-c", "echo warming cache; '
                    'touch /data/cache.db && exec sleep 86400"]\n')
    cid, _ = lab.run(name, "read-only-filesystem", None, image=tag, host={"ReadonlyRootfs": True})
    lab.wait(cid, _exited, f"{name} to fail")


def disk_full(lab: Lab, name: str) -> None:
    """A 1 MB tmpfs on /data, and the app writes 2 MB there: No space left on device."""
    tag = lab.build(lab.image("spooler:1"), "disk-full",
                    'FROM {base}\nCMD ["sh", "-c", "echo spooling to /data/spool.bin; '
                    'dd if=/dev/zero of=/data/spool.bin bs=64k count=32 && exec sleep 86400"]\n')
    cid, _ = lab.run(name, "disk-full", None, image=tag, host={"Tmpfs": {"/data": "size=1m"}})
    lab.wait(cid, _exited, f"{name} to fail")


def shm_exhausted(lab: Lab, name: str) -> None:
    """--shm-size 1m, and the app puts 4 MB in /dev/shm (what PostgreSQL's parallel workers or Chromium do)."""
    tag = lab.build(lab.image("shm-user:1"), "shm-exhausted",
                    'FROM {base}\nCMD ["sh", "-c", "echo allocating shared segment; '
                    'dd if=/dev/zero of=/dev/shm/segment bs=64k count=64 && exec sleep 86400"]\n')
    cid, _ = lab.run(name, "shm-exhausted", None, image=tag, host={"ShmSize": MB})
    lab.wait(cid, _exited, f"{name} to fail")


def crashed(lab: Lab, name: str) -> None:
    cid, _ = lab.run(name, "crashed", ["sh", "-c", "echo 'unexpected reply from ledger service' >&2; exit 3"])
    lab.wait(cid, _exited, f"{name} to exit")


def stop_timeout(lab: Lab, name: str) -> None:
    """A worker whose PID 1 is a shell (CMD in shell form): it never hears SIGTERM, so `docker stop` waits its
    timeout (2 s here) and SIGKILLs it: exit 137, OOMKilled=false. The image carries the lab's labels, so the
    playbook's fix (`docker run --init` from the same image) stays in the lab."""
    tag = lab.build(lab.image("worker:1"), "stop-timeout",
                    "FROM {base}\nCMD echo worker started, polling the queue; while true; do sleep 1; done\n")
    cid, _ = lab.run(name, "stop-timeout", None, image=tag)
    lab.wait_state(cid, "running")
    lab.wait(cid, lambda d: d.State.Pid > 0, f"{name} to run")
    lab.daemon.stop_container(cid, 2)
    lab.wait(cid, _exited, f"{name} to be stopped")


def segfault(lab: Lab, name: str) -> None:
    """A native worker that writes through a null pointer: SIGSEGV, exit 139 (128+11). Its previous build (`:1`,
    which works) is on the host too: the rollback the playbook's fix runs."""
    arch = lab.daemon.info().Architecture or platform.machine()
    elf = aarch64_null_write() if arch in ("aarch64", "arm64") else x86_64_null_write()
    lab.build(lab.image("native-worker:1"), "segfault", "FROM {base}\nCMD [\"sleep\", \"86400\"]\n")
    tag = lab.build(lab.image("native-worker:2"), "segfault",
                    "FROM {base}\nCOPY worker /app/worker\n"
                    "CMD echo worker 2: decoding frame 42 >&2; exec /app/worker\n", {"worker": elf})
    cid, _ = lab.run(name, "segfault", None, image=tag)
    lab.wait(cid, _exited, f"{name} to crash")
# An app that dials its database ($DB_HOST:$DB_PORT) once at start, and exits when it cannot (busybox nc prints the
# real resolver or connection error); when it connects, it serves (sleeps).
_DIAL = ('echo "connecting to database at $DB_HOST:$DB_PORT"; '
         'if nc -w 3 "$DB_HOST" "$DB_PORT" </dev/null; then echo "connected to $DB_HOST:$DB_PORT"; exec sleep 86400; fi; '
         'echo "FATAL: cannot reach the database at $DB_HOST:$DB_PORT, exiting" >&2; exit 1')
_DB = ["httpd", "-f", "-p", "5432", "-h", "/"]  # something that accepts connections on 5432


def name_resolution(lab: Lab, name: str) -> None:
    """The app on one user-defined network dials `orders-db`, an alias of a container on another: no such host."""
    lab.network(f"{name}-back", "name-resolution")
    lab.network(f"{name}-front", "name-resolution")
    db, _ = lab.run(f"{name}-db", "name-resolution", _DB, network=f"{name}-back", aliases=("orders-db",),
                    expose=("5432/tcp",), good=True)
    lab.wait_state(db, "healthy")
    cid, _ = lab.run(name, "name-resolution", ["sh", "-c", _DIAL], env=("DB_HOST=orders-db", "DB_PORT=5432"),
                     network=f"{name}-front", memory=64 * MB)
    lab.wait(cid, _exited, f"{name} to fail on the name")


def localhost_dependency(lab: Lab, name: str) -> None:
    """The app's DB_HOST says localhost; its database runs in the container `postgres` beside it."""
    lab.network(f"{name}-net", "localhost-dependency")
    db, _ = lab.run(f"{name}-db", "localhost-dependency", _DB, network=f"{name}-net", aliases=("postgres",),
                    expose=("5432/tcp",), good=True)
    lab.wait_state(db, "healthy")
    tag = lab.build(lab.image("orders-api:1"), "localhost-dependency",
                    'FROM {base}\nENV DB_PORT=5432\nCOPY app.sh /app.sh\nCMD ["sh", "/app.sh"]\n',
                    {"app.sh": _DIAL.encode()})
    cid, _ = lab.run(name, "localhost-dependency", None, image=tag, env=("DB_HOST=localhost",),
                     network=f"{name}-net", memory=64 * MB)
    lab.wait(cid, _exited, f"{name} to fail on localhost")


def dependency_not_ready(lab: Lab, name: str) -> None:
    """A database that takes 60 s to accept connections (health `starting` meanwhile), and an app started beside it
    that dials it once and exits: connection refused."""
    lab.network(f"{name}-net", "dependency-not-ready")
    lab.run(f"{name}-db", "dependency-not-ready",
            ["sh", "-c", "echo 'loading data...'; sleep 60; echo 'ready to accept connections'; exec " + " ".join(_DB)],
            network=f"{name}-net", aliases=("inventory-db",), expose=("5432/tcp",), memory=64 * MB,
            health=("nc -w 1 127.0.0.1 5432 </dev/null", 3), health_start=300)
    cid, _ = lab.run(name, "dependency-not-ready", ["sh", "-c", _DIAL], env=("DB_HOST=inventory-db", "DB_PORT=5432"),
                     network=f"{name}-net", memory=64 * MB)
    lab.wait(cid, _exited, f"{name} to fail on its dependency")


def unhealthy_probe_broken(lab: Lab, name: str) -> None:
    """A variant of `unhealthy`: the app serves, but its probe calls curl, which busybox does not have."""
    tag = lab.build(lab.image("health-api:1"), "unhealthy",
                    'FROM {base}\nRUN mkdir -p /srv && echo ok > /srv/health\n'
                    'CMD ["httpd", "-f", "-p", "8080", "-h", "/srv"]\n')
    cid, _ = lab.run(name, "unhealthy", None, image=tag, memory=64 * MB,
                     health=("curl -fsS http://127.0.0.1:8080/health || exit 1", 2))
    lab.wait_state(cid, "unhealthy")


# -- resources: one limit reached each, kept small (a few MB, a tenth of a CPU) on a shared machine ---------------
def _resources(lab: Lab, cid: str) -> "schema.Resources | None":
    from .probes.resources import Prober
    data = lab.daemon.inspect(cid)
    return Prober(lab.daemon).probe(data) if data is not None else None


def _wait_resources(lab: Lab, cid: str, predicate: Callable[[schema.Resources], bool], what: str,
                    timeout: float = 90) -> None:
    """Wait until the container's resource readings (probes/resources.py) show the incident."""
    deadline = time.monotonic() + timeout
    while True:
        data = lab.daemon.inspect(cid)
        if data is None or not data.State.Running:
            raise LabError(f"{cid[:12]} stopped (exit code {data.State.ExitCode if data else '?'}) before {what}")
        res = _resources(lab, cid)
        if res is not None and predicate(res):
            return
        if time.monotonic() > deadline:
            why = "; ".join(res.unavailable) if res is not None and res.unavailable else "readings below it"
            raise LabError(f"timed out after {timeout:.0f}s waiting for {what} ({why})")
        time.sleep(0.3)


_LOG_LINE = "x" * 999  # with json-file's ~60 bytes of framing, 56 MB of output is a ~60 MB log file


def unbounded_logs(lab: Lab, name: str) -> None:
    """json-file with no max-size, and a burst of output: a 60 MB log file (it never rotates)."""
    script = (f"yes {_LOG_LINE} | head -c 56000000\necho 'batch export finished'\nexec sleep 86400\n").encode()
    tag = lab.build(lab.image("chatty:1"), "unbounded-logs", 'FROM {base}\nCOPY export.sh /app/export.sh\n'
                    'CMD ["sh", "/app/export.sh"]\n', {"export.sh": script})
    cid, _ = lab.run(name, "unbounded-logs", None, image=tag, good=True,
                     host={"LogConfig": {"Type": "json-file", "Config": {}}})
    _wait_resources(lab, cid, lambda r: (r.log_bytes or 0) >= 55_000_000, f"{name}'s log file to pass 55 MB")


def memory_near_limit(lab: Lab, name: str) -> None:
    """36 MB held in /dev/shm (tmpfs: charged to the container, never reclaimed) under a 40 MB limit: ~90%."""
    cid, _ = lab.run(name, "memory-near-limit", ["sh", "-c", "dd if=/dev/zero of=/dev/shm/cache bs=1M count=36 "
                                                 "2>/dev/null; echo 'cache warmed: 36 MB'; exec sleep 86400"],
                     memory=40 * MB, health=("true", 1))
    _wait_resources(lab, cid, lambda r: bool(r.memory_limit and (r.memory_usage or 0) >= 0.86 * r.memory_limit),
                    f"{name} to use 86% of its memory limit")


def cpu_throttled(lab: Lab, name: str) -> None:
    """Bursts of CPU work (then a 1 s pause) under --cpus 0.1: most of its scheduler periods throttled, and at most
    a tenth of a CPU used on the host."""
    cid, _ = lab.run(name, "cpu-throttled", ["sh", "-c", "echo 'worker: crunching batches'; while :; do i=0; "
                                             "while [ $i -lt 60000 ]; do i=$((i+1)); done; sleep 1; done"],
                     good=True, host={"NanoCpus": 100_000_000})
    _wait_resources(lab, cid, lambda r: (r.cpu_periods or 0) >= 30 and (r.cpu_throttled or 0) >= 0.4 * (r.cpu_periods or 1),
                    f"{name} to be throttled in 40% of 30 periods")


def fd_limit(lab: Lab, name: str) -> None:
    """--ulimit nofile=32:32 and a follower that opens 40 files: EMFILE after 29, and it keeps the 32 open."""
    files = " ".join(f"/tmp/feed{i}.log" for i in range(40))
    script = (f"for f in {files}; do echo started > $f; done\necho 'following 40 feeds'\nexec tail -f {files}\n").encode()
    tag = lab.build(lab.image("follower:1"), "fd-limit", 'FROM {base}\nCOPY follow.sh /app/follow.sh\n'
                    'CMD ["sh", "/app/follow.sh"]\n', {"follow.sh": script})
    cid, _ = lab.run(name, "fd-limit", None, image=tag, good=True,
                     host={"Ulimits": [{"Name": "nofile", "Soft": 32, "Hard": 32}]})
    _wait_resources(lab, cid, lambda r: (r.fd_count or 0) >= 30, f"{name} to hold 30 open files")


def pids_limit(lab: Lab, name: str) -> None:
    """--pids-limit 8 and a service that starts 12 workers: the fork fails at the limit (`can't fork`)."""
    cid, _ = lab.run(name, "pids-limit", ["sh", "-c", "echo 'starting 12 workers'; (for i in 1 2 3 4 5 6 7 8 9 10 11 "
                                          "12; do sleep 86400 & done); exec sleep 86400"],
                     memory=64 * MB, host={"PidsLimit": 8})  # no health probe: its exec would fight for the pids
    _wait_resources(lab, cid, lambda r: (r.pids_limit_hit or 0) >= 1, f"{name} to reach its pids limit")


def zombie_processes(lab: Lab, name: str) -> None:
    """PID 1 is a plain program (no init); helpers started in a subshell are orphaned to it, exit, and stay zombies."""
    script = b"echo 'spawning 10 helpers'\n(for i in 1 2 3 4 5 6 7 8 9 10; do sleep 2 & done)\nexec sleep 86400\n"
    tag = lab.build(lab.image("spawner:1"), "zombie-processes", 'FROM {base}\nCOPY spawn.sh /app/spawn.sh\n'
                    'CMD ["sh", "/app/spawn.sh"]\n', {"spawn.sh": script})
    cid, _ = lab.run(name, "zombie-processes", None, image=tag, good=True)
    _wait_resources(lab, cid, lambda r: sum(p.state == "Z" for p in r.processes) >= 10, f"{name}'s 10 zombies")


def control(lab: Lab, name: str) -> None:
    """Healthy: healthcheck, memory limit, pinned tag, running. (Tests use it; not a lab scenario.)"""
    cid, _ = lab.run(name, "control", ["sleep", "86400"], good=True)
    lab.wait_state(cid, "healthy")


@dataclass(frozen=True)
class Scenario:
    id: str  # the playbook it reproduces
    make: Callable[[Lab, str], None]
    what: str


SCENARIOS: dict[str, Scenario] = {s.id: s for s in (
    Scenario("exits-immediately", exits_immediately, "a worker that starts in the background and exits 0 at once"),
    Scenario("oom-killed", oom_killed, "24 MB limit, allocates 120 MB: killed by the kernel"),
    Scenario("missing-env", missing_env, "DB_HOST not set: connects to localhost and exits 1"),
    Scenario("unhealthy", unhealthy, "runs, but its health probe fails"),
    Scenario("no-healthcheck", no_healthcheck, "runs with no HEALTHCHECK"),
    Scenario("no-memory-limit", no_memory_limit, "runs with no memory limit"),
    Scenario("restart-loop", restart_loop, "--restart=always and a panic at start"),
    Scenario("arch-mismatch", arch_mismatch, "an image built for another CPU: exec format error"),
    Scenario("missing-library", missing_library, "a host binary copied without its shared libraries"),
    Scenario("command-not-found", command_not_found, "CMD is `node`, which the image does not have"),
    Scenario("port-conflict", port_conflict, "two containers on one host port (a holder and the victim)"),
    Scenario("mutable-tag", mutable_tag, "runs from an image tagged only `latest`"),
    Scenario("image-drift", image_drift, "order-service:latest rebuilt under the running container (the seed RCA)"),
    Scenario("secrets-in-image", secrets_in_image, "an API token in ENV and a .env file copied in"),
    Scenario("image-too-large", image_too_large, "a 1.1 GB layer (writes 1.1 GB on this host)"),
    Scenario("listens-on-localhost", listens_on_localhost,
             "a web server bound to 127.0.0.1:8080 inside, published: healthy, and its port dead"),
    Scenario("published-port-unused", published_port_unused, "publishes 8080; its server listens on 9090"),
    Scenario("entrypoint-interpreter", entrypoint_interpreter, "/entrypoint.sh saved with CRLF line endings"),
    Scenario("bind-mount-mismatch", bind_mount_mismatch, "a missing host path bound onto the image's config file"),
    Scenario("permission-denied", permission_denied, "user 4242 writes a volume owned by root (mode 755)"),
    Scenario("read-only-filesystem", read_only_filesystem, "--read-only, and the app writes /data"),
    Scenario("disk-full", disk_full, "a 1 MB tmpfs on /data, 2 MB written to it"),
    Scenario("shm-exhausted", shm_exhausted, "--shm-size 1m, 4 MB written to /dev/shm"),
    Scenario("crashed", crashed, "exits 3 for a reason no specific playbook knows"),
    Scenario("stop-timeout", stop_timeout, "PID 1 is a shell that ignores SIGTERM: docker stop kills it (137)"),
    Scenario("segfault", segfault, "a native worker writes through a null pointer: SIGSEGV (139)"),
    Scenario("name-resolution", name_resolution, "dials orders-db, a container on another user-defined network"),
    Scenario("localhost-dependency", localhost_dependency, "DB_HOST=localhost while its database runs beside it"),
    Scenario("dependency-not-ready", dependency_not_ready, "exits: its database was still starting (60 s)"),


    Scenario("unbounded-logs", unbounded_logs, "json-file with no max-size: a 60 MB log file"),
    Scenario("memory-near-limit", memory_near_limit, "36 MB in /dev/shm under a 40 MB limit (~90%)"),
    Scenario("cpu-throttled", cpu_throttled, "bursts of CPU work under --cpus 0.1"),
    Scenario("fd-limit", fd_limit, "--ulimit nofile=32:32, a follower opening 40 files: Too many open files"),
    Scenario("pids-limit", pids_limit, "--pids-limit 8, a service starting 12 workers: can't fork"),
    Scenario("zombie-processes", zombie_processes, "no init: orphaned helpers exit and stay zombies of PID 1"),
)}
# Second recipes of a playbook (`lab up unhealthy-probe-broken`): the same id, another cause it must tell apart.
VARIANTS: dict[str, Scenario] = {
    "unhealthy-probe-broken": Scenario("unhealthy", unhealthy_probe_broken, "serves, but its probe calls curl, "
                                       "which the image does not have"),
    "entrypoint-interpreter-bash": Scenario("entrypoint-interpreter",
                                            lambda lab, name: entrypoint_interpreter(lab, name, variant="bash"),
                                            "/entrypoint.sh asks for #!/bin/bash, which busybox does not have"),
}
NOT_IN_LAB = {"host-memory-pressure": "would starve this host's memory", "host-disk-pressure": "would fill this host's disk"}


def up(lab: Lab, ids: list[str] | None = None, base_image: str | None = None,
       progress: Callable[[str, float], None] | None = None) -> list[str]:
    """Create the scenarios (all when `ids` is empty); returns the containers made."""
    unknown = [i for i in ids or () if i not in SCENARIOS and i not in VARIANTS]
    if unknown:
        raise LabError(f"no lab scenario {', '.join(unknown)}; `troubleshoot lab list` shows them")
    lab.ensure_base(base_image)
    made = []
    for sid in ids or list(SCENARIOS):
        start = time.monotonic()
        try:
            (SCENARIOS.get(sid) or VARIANTS[sid]).make(lab, lab.name(sid))
        except LabError as exc:
            raise LabError(f"{sid}: {exc}") from None
        made.append(lab.name(sid))
        if progress:
            progress(sid, time.monotonic() - start)
    return made


def _mine(rows: list, instance: str) -> list:
    """The rows (containers or images) of this instance. An object of a lab made before instances existed (no
    instance label) is the default instance's only when it is named like the default lab's (`lab-...`,
    `troubleshoot-lab/...`): never a test run's, which used to carry the bare lab label too."""
    out = []
    for r in rows:
        labels = r.Labels or {}
        if INSTANCE_LABEL in labels:
            if labels[INSTANCE_LABEL] == instance:
                out.append(r)
        elif instance == DEFAULT_INSTANCE and TRAINING_LABEL in labels and (
                any(n.lstrip("/").startswith("lab-") for n in getattr(r, "Names", None) or ())
                or any(t.startswith("troubleshoot-lab/") for t in getattr(r, "RepoTags", None) or ())):
            out.append(r)
    return out


def down(daemon: Daemon, pulled: Sequence[str] = (),
         instance: str = DEFAULT_INSTANCE) -> tuple[list[str], list[str], list[str]]:
    """Remove every container, then every image (dangling ones too), of this lab instance, then what its `up`
    pulled (if nothing else uses it). Other instances' objects are never touched. Returns (containers removed,
    images removed, what could not be removed and why)."""
    check_instance(instance)
    containers, images, kept = [], [], []
    for row in _mine(daemon.containers(all=True, label=TRAINING_LABEL), instance):
        try:
            if daemon.remove_container(row.Id):
                containers.append(row.name)
        except ApiError as exc:
            kept.append(f"container {row.Id[:12]}: {exc}")
    for net in daemon.networks(label=TRAINING_LABEL):  # only this instance's (labelled); after their containers
        if (net.Labels or {}).get(INSTANCE_LABEL) == instance:
            try:
                daemon.remove_network(net.Id)
            except ApiError as exc:
                kept.append(f"network {net.Name}: {exc}")
    rows = _mine(daemon.images(label=TRAINING_LABEL), instance)
    in_use = {r.Image for r in daemon.containers(all=True)}
    # images built on the base go before it (the daemon refuses to remove a parent with children)
    ordered = sorted(rows, key=lambda r: (r.Labels or {}).get(TRAINING_LABEL) == "base")
    for ref, row in [(r.Id, r) for r in ordered] + [(p, None) for p in pulled if p not in in_use]:
        tags = [t for t in (row.RepoTags or ()) if t != "<none>:<none>"] if row is not None else []
        name = ", ".join(tags) or (ref[7:19] if row is not None else ref)
        try:
            if daemon.remove_image(ref):
                images.append(name)
        except ApiError as exc:
            kept.append(f"image {name}: {exc}")
    shutil.rmtree(mounts_dir(instance), ignore_errors=True)  # bind sources, once no container uses them
    return containers, images, kept


# -- files and images made here -------------------------------------------------------------------------------
def _tar(files: dict[str, bytes], symlinks: dict[str, str] | None = None, dirs: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for d in dirs:
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755
            tar.addfile(info)
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
        for path, target in (symlinks or {}).items():
            info = tarfile.TarInfo(path)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return buf.getvalue()


def elf_interpreter(data: bytes) -> str | None:
    """The PT_INTERP of a 64-bit little-endian ELF (its dynamic loader), or None for a static one (or not ELF)."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    for i in range(phnum):
        p_type, _flags, p_offset, _va, _pa, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if p_type == 3:
            return data[p_offset:p_offset + p_filesz].rstrip(b"\0").decode()
    return None


def static_busybox() -> str | None:
    for path in ("/bin/busybox", "/usr/bin/busybox", shutil.which("busybox") or ""):
        if path and os.path.isfile(path):
            with open(path, "rb") as f:
                head = f.read(1 << 16)
            if head[:4] == b"\x7fELF" and elf_interpreter(head) is None:
                return path
    return None


def busybox_rootfs(busybox: str) -> bytes:
    """A root filesystem: the static busybox, a symlink per applet, /tmp and /etc/passwd."""
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
    with open(busybox, "rb") as f:
        files = {"bin/busybox": f.read(), "etc/passwd": b"root:x:0:0:root:/root:/bin/sh\n"}
    return _tar(files, {f"bin/{a}": "busybox" for a in applets if a != "busybox"}, dirs=("bin", "etc", "tmp"))


def host_dynamic_binary() -> tuple[bytes, str]:
    for path in ("/bin/true", "/usr/bin/true", "/bin/ls", "/usr/bin/env"):
        if os.path.isfile(path):
            data = _read_resolved(path)
            interp = elf_interpreter(data)
            if interp and os.path.exists(interp):
                return data, interp
    raise LabError("no dynamically linked program found on this host to build the missing-library scenario")


def _read_resolved(path: str) -> bytes:
    with open(os.path.realpath(path), "rb") as f:
        return f.read()


def aarch64_elf() -> bytes:
    """A minimal, valid AArch64 ELF executable (exit(0))."""
    return _tiny_elf(183, struct.pack("<III", 0xD2800000, 0xD2800BA8, 0xD4000001))  # mov x0,#0; mov x8,#93; svc #0


def x86_64_elf() -> bytes:
    """A minimal, valid x86-64 ELF executable (exit(0))."""
    return _tiny_elf(62, bytes.fromhex("b83c00000031ff0f05"))  # mov eax,60; xor edi,edi; syscall


def x86_64_null_write() -> bytes:
    """A minimal x86-64 ELF executable that writes to address 0: SIGSEGV."""
    return _tiny_elf(62, bytes.fromhex("31c08900"))  # xor eax,eax; mov [rax],eax


def aarch64_null_write() -> bytes:
    """A minimal AArch64 ELF executable that writes to address 0: SIGSEGV."""
    return _tiny_elf(183, struct.pack("<II", 0xD2800000, 0xF9000000))  # mov x0,#0; str x0,[x0]


def _tiny_elf(machine: int, code: bytes) -> bytes:
    header = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    header += struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, 0x400078, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    size = 0x78 + len(code)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, 0x400000, 0x400000, size, size, 0x1000)
    return header + phdr + code


def image_archive(tag: str, files: dict[str, bytes], config: dict, architecture: str, created_by: str) -> bytes:
    """A one-layer image archive as `docker save` writes it, for `load_image`: lets the lab make an image whose
    config names another architecture (`import --platform` is not kept by every daemon)."""
    layer = _tar(files)
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    image_config = {"architecture": architecture, "os": "linux", "created": now, "config": config,
                    "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                    "history": [{"created": now, "created_by": created_by}]}
    if architecture == "arm64":
        image_config["variant"] = "v8"
    blob = json.dumps(image_config).encode()
    config_name = hashlib.sha256(blob).hexdigest() + ".json"
    layer_name = diff_id[7:] + "/layer.tar"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [tag], "Layers": [layer_name]}]).encode()
    return _tar({"manifest.json": manifest, config_name: blob, layer_name: layer})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mounts_dir(instance: str = DEFAULT_INSTANCE) -> str:
    """Host directories the scenarios bind (one per scenario), beside the state file; `down` removes it."""
    from .dirs import user_data_dir
    return os.path.join(user_data_dir(), "lab-mounts", check_instance(instance))


def state_file(instance: str = DEFAULT_INSTANCE) -> str:
    from .dirs import user_data_dir
    return os.path.join(user_data_dir(),
                        "lab.json" if instance == DEFAULT_INSTANCE else f"lab-{check_instance(instance)}.json")


def load_state(instance: str = DEFAULT_INSTANCE) -> dict:
    try:
        with open(state_file(instance), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def save_state(state: dict, instance: str = DEFAULT_INSTANCE) -> None:
    """The instance's state file; an empty state (`lab down`) removes it rather than leaving `{}` behind."""
    from .files import private_dir, write_private
    path = state_file(instance)
    if not state:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        return
    private_dir(os.path.dirname(path))
    write_private(path, json.dumps(state))


