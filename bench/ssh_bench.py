#!/usr/bin/env python3
"""ssh:// benchmark: a real sshd on 127.0.0.1 (started here, tests/sshd.py: its own keys, an ssh config alias
`tsh-alias`), and the same daemon read through it by

  docker -H ssh://tsh-alias inspect $(docker -H ssh://tsh-alias ps -aq)   (the reference)
  troubleshoot -H ssh://tsh-alias scan --json                             goal <= 2x the reference
  troubleshoot scan --json (the unix socket, for comparison)
  the app over ssh (tmux, 120x40): launch -> names on the board, -> the first finding on screen   goal <= 3 s

and after each, the ssh processes left (goal: none). Read-only: it lists and inspects what is on the daemon (the ~300
bench-NNNN containers of bench/containers.py, if there). A benchmark: it prints, it never fails on a figure.

    .venv/bin/python bench/ssh_bench.py [--runs 3] [--app-runs 3] [--docker-py]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.sshd import Sshd  # noqa: E402

SESSION = "tsh-ssh-bench"
HOST = "ssh://tsh-alias"


def timed(argv: list[str], env: dict[str, str], shell: bool = False) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.run(argv if not shell else " ".join(argv), shell=shell, env=env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - t0, proc


def left(marker: str) -> int:
    n = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if os.path.basename(argv[0]) == "ssh" and (marker in " ".join(argv) or state == "Z"):
            n += 1
    return n


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SESSION, *args], capture_output=True, text=True).stdout


def app_first_finding(env: dict[str, str], playbooks: set[str], timeout: float = 120) -> tuple[float, float]:
    """(launch -> 5 names on the board, launch -> a finding's playbook id on a row) of the app over ssh."""
    tmux("kill-server")
    cmd = " ".join(f"{k}={v!r}" for k, v in env.items() if k in ("PATH", "TMPDIR", "PYTHONPATH", "TERM")) + \
        f" {sys.executable} -m troubleshoot -H {HOST}"
    t0 = time.time()
    tmux("new-session", "-d", "-s", SESSION, "-x", "120", "-y", "40", f"env {cmd}")
    names = first = 0.0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not first:
        text = tmux("capture-pane", "-p", "-t", SESSION)
        now = time.time()
        rows = [line for line in text.splitlines() if "bench-" in line or "tsh-" in line or "tst" in line]
        if not names and len(rows) >= 5:
            names = now - t0
        if any(p in line for line in rows for p in playbooks):
            first = now - t0
        time.sleep(0.01)
    tmux("send-keys", "-t", SESSION, "q")
    end = time.monotonic() + 10
    while time.monotonic() < end and SESSION in tmux("list-sessions"):
        time.sleep(0.05)
    tmux("kill-server")
    return names, first


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--app-runs", type=int, default=3)
    ap.add_argument("--docker-py", action="store_true", help="also the old transport (docker-py: slow, minutes)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tsh-ssh-bench-", dir="/tmp") as tmp:
        server = Sshd(Path(tmp))
        try:
            env = server.env()
            marker = str(server.config)
            ids = subprocess.run(["docker", "-H", HOST, "ps", "-aq"], env=env, capture_output=True, text=True,
                                 check=True).stdout.split()
            print(f"{len(ids)} containers on the daemon, read over ssh://tsh-alias (sshd on 127.0.0.1:{server.port})")
            ref, scan, local = [], [], []
            last = None
            for _ in range(args.runs):
                t, _p = timed(["docker", "-H", HOST, "inspect", "$(docker", "-H", HOST, "ps", "-aq)", ">/dev/null"],
                              env, shell=True)
                ref.append(t)
                t, proc = timed([sys.executable, "-m", "troubleshoot", "-H", HOST, "scan", "--json"], env)
                assert proc.returncode in (0, 1), proc.stderr
                scan.append(t)
                last = proc
                t, _p = timed([sys.executable, "-m", "troubleshoot", "scan", "--json"], env)
                local.append(t)
            med = statistics.median
            print(f"docker -H ssh:// inspect of all (reference): {med(ref):.2f} s  ({', '.join(f'{x:.2f}' for x in ref)})")
            print(f"troubleshoot -H ssh:// scan --json:          {med(scan):.2f} s  ({', '.join(f'{x:.2f}' for x in scan)})"
                  f"  = {med(scan) / med(ref):.2f}x the reference   goal <= 2x")
            print(f"troubleshoot scan --json (unix socket):      {med(local):.2f} s")
            print(f"ssh processes left after the scans: {left(marker)}   goal: 0")
            if args.docker_py:
                t, _p = timed([sys.executable, "-m", "troubleshoot", "-H", HOST, "scan", "--json"],
                              {**env, "TROUBLESHOOT_SSH_TRANSPORT": "docker-py"})
                print(f"the same scan through docker-py's ssh transport: {t:.1f} s")
            assert last is not None
            playbooks = {f["playbook"] for f in json.loads(last.stdout)["findings"]}
            firsts = [app_first_finding(env, playbooks) for _ in range(args.app_runs)]
            print(f"app over ssh: launch -> names on the board: {med([n for n, _f in firsts]):.2f} s; "
                  f"-> the first finding: {med([f for _n, f in firsts]):.2f} s   goal <= 3 s  "
                  f"({', '.join(f'{f:.2f}' for _n, f in firsts)})")
            print(f"ssh processes left after quitting the app: {left(marker)}   goal: 0")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
