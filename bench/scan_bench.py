#!/usr/bin/env python3
"""Scan benchmark: `troubleshoot scan --json` against the docker CLI doing the same reads, on the same daemon.

    .venv/bin/python bench/scan_bench.py [--containers 300] [--runs 5] [--keep]

Creates N containers named bench-NNNN in mixed states (running, exited 0, exited 1 with log lines, created), then
times, alternately, `troubleshoot scan --json` (a new process each run, as a user runs it) and the docker CLI's
`docker ps -a -q` + `docker inspect <every id>`. Prints each median and the ratio (goal: <= 1.0).
The scan also reads the log tails of the containers that need them, the images, their history and the daemon info:
more than that baseline. So it also times the docker CLI making those same reads, and prints that ratio too.
A benchmark, not a test: it prints figures and never fails on them.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.engine import docker  # noqa: E402

from bench.containers import create, remove  # noqa: E402


def time_troubleshoot() -> float:
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "troubleshoot", "scan", "--json", "--no-user-playbooks"],
                          capture_output=True, cwd=ROOT)
    elapsed = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        raise SystemExit(f"scan failed: {proc.stderr.decode()}")
    return elapsed


def time_docker_cli() -> float:
    t = time.perf_counter()
    ids = subprocess.run(["docker", "ps", "-a", "-q", "--no-trunc"], capture_output=True, check=True).stdout.split()
    subprocess.run(["docker", "inspect", *[i.decode() for i in ids]], capture_output=True, check=True)
    return time.perf_counter() - t


def time_docker_cli_same_reads() -> float:
    """The docker CLI making every read the scan makes: the list, every inspect, the log tail of each container the
    scan reads logs of (same rule), each distinct image's inspect and history, the image list, and the daemon info."""
    import json

    from troubleshoot.boundary import convert
    from troubleshoot.core import schema
    from troubleshoot.core.facts import container_from_inspect, wants_logs
    t = time.perf_counter()
    ids = subprocess.run(["docker", "ps", "-a", "-q", "--no-trunc"], capture_output=True, check=True).stdout.split()
    docs = json.loads(subprocess.run(["docker", "inspect", *[i.decode() for i in ids]], capture_output=True,
                                     check=True).stdout)
    for d in docs:
        if wants_logs(container_from_inspect(convert(d, schema.ContainerInspect, "inspect"))):
            subprocess.run(["docker", "logs", "--tail", "200", d["Id"]], capture_output=True)
    images = sorted({d["Image"] for d in docs})
    subprocess.run(["docker", "image", "inspect", *images], capture_output=True, check=True)
    for image in images:
        subprocess.run(["docker", "history", "--no-trunc", image], capture_output=True, check=True)
    subprocess.run(["docker", "images", "-a"], capture_output=True, check=True)
    subprocess.run(["docker", "info"], capture_output=True, check=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--containers", type=int, default=300)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="leave the bench containers for the next run")
    args = ap.parse_args()
    t = time.perf_counter()
    create(args.containers)
    total = len(docker("ps", "-aq").stdout.split())
    print(f"setup: {args.containers} bench containers ({total} on the daemon) in {time.perf_counter() - t:.1f}s")
    try:
        time_troubleshoot(), time_docker_cli()  # warm the daemon and the page cache
        ours, cli = [], []
        for _ in range(args.runs):
            ours.append(time_troubleshoot())
            cli.append(time_docker_cli())
        m_ours, m_cli = statistics.median(ours), statistics.median(cli)
        print(f"troubleshoot scan --json      median {m_ours:.3f}s  (runs: {', '.join(f'{x:.3f}' for x in ours)})")
        print(f"docker ps -a + docker inspect median {m_cli:.3f}s  (runs: {', '.join(f'{x:.3f}' for x in cli)})")
        print(f"ratio troubleshoot/docker CLI: {m_ours / m_cli:.2f}  (goal <= 1.0)")
        same = statistics.median(time_docker_cli_same_reads() for _ in range(max(1, args.runs // 2)))
        print(f"docker CLI making the same reads as the scan (logs, images, history, info too): {same:.3f}s; "
              f"ratio {m_ours / same:.2f}")
    finally:
        if not args.keep:
            remove()


if __name__ == "__main__":
    main()
