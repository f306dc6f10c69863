"""A real sshd on 127.0.0.1 for ssh:// tests and benchmarks (Debian's openssh-server): its own host key, an
authorized key and an ssh config made here, run as the caller's own child on a free port."""
from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
from pathlib import Path

from tests.engine import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
SSHD = "/usr/sbin/sshd"


def _need(tool: str) -> None:
    import pytest
    if shutil.which(tool) is None or (tool == SSHD and not os.path.exists(SSHD)):
        message = f"{tool} is not installed (make test installs openssh-server: scripts/ensure-engine.sh)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


class Sshd:
    """sshd -D on 127.0.0.1:PORT as this test's own child; an ssh config (`-F`) naming it `tsh-alias`; a `ssh` on
    PATH that reads that config (ssh reads ~/.ssh/config from the passwd entry, not $HOME)."""

    def __init__(self, root: Path, forwarding: bool = True):
        _need(SSHD)
        _need("ssh")
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation directory (absent on a fresh box)
        for key in ("host_key", "id"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / key)], check=True)
        (root / "authorized_keys").write_text((root / "id.pub").read_text())
        (root / "authorized_keys").chmod(0o600)
        self.port = free_port()
        (root / "sshd_config").write_text(
            f"HostKey {root}/host_key\nAuthorizedKeysFile {root}/authorized_keys\nPidFile none\nUsePAM no\n"
            f"StrictModes no\nListenAddress 127.0.0.1\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            f"PermitRootLogin prohibit-password\nAllowStreamLocalForwarding {'yes' if forwarding else 'no'}\n"
            f"LogLevel ERROR\n")
        user = getpass.getuser()
        self.config = root / "ssh_config"
        self.config.write_text(
            f"Host tsh-alias\n  HostName 127.0.0.1\n  Port {self.port}\n  User {user}\n  IdentityFile {root}/id\n"
            f"  IdentitiesOnly yes\n  StrictHostKeyChecking accept-new\n  UserKnownHostsFile {root}/known_hosts\n"
            f"Host tsh-strict\n  HostName 127.0.0.1\n  Port {self.port}\n  User {user}\n  IdentityFile {root}/id\n"
            f"  IdentitiesOnly yes\n  StrictHostKeyChecking yes\n  UserKnownHostsFile {root}/empty_known_hosts\n"
            f"Host tsh-nokey\n  HostName 127.0.0.1\n  Port {self.port}\n  User {user}\n  IdentityFile {root}/host_key\n"
            f"  IdentitiesOnly yes\n  StrictHostKeyChecking accept-new\n  UserKnownHostsFile {root}/known_hosts\n"
            f"Host *\n  PasswordAuthentication yes\n")
        (root / "bin").mkdir(exist_ok=True)
        wrapper = root / "bin" / "ssh"
        wrapper.write_text(f"#!/bin/sh\nexec {shutil.which('ssh')} -F {self.config} \"$@\"\n")
        wrapper.chmod(0o755)
        self.run_dir = root / "run"  # TMPDIR of the product: its private socket directories are made here
        self.run_dir.mkdir(exist_ok=True)
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(root / "sshd_config"), "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=open(root / "sshd.log", "wb"))
        wait_for(self._listening, timeout=20, what=f"sshd on 127.0.0.1:{self.port}")

    def _listening(self) -> bool:
        assert self.proc.poll() is None, (self.root / "sshd.log").read_text()
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def env(self) -> dict[str, str]:
        return {**os.environ, "PATH": f"{self.root}/bin:{os.environ['PATH']}", "TMPDIR": str(self.run_dir),
                "PYTHONPATH": str(ROOT)}

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
