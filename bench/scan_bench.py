#!/usr/bin/env python3
"""Scan benchmark: `troubleshoot scan --json` against the docker CLI doing the same reads, on the same daemon.

    .venv/bin/python bench/scan_bench.py [--containers 300,1000] [--runs 5] [--same-reads] [--keep]

Creates N containers named bench-NNNN in mixed states (running, exited 0, exited 1 with log lines, created), then
times, alternately, `troubleshoot scan --json` (a new process each run, as a user runs it) and two docker CLI
baselines: the issue's own, `docker ps -a && docker inspect $(docker ps -aq)` (three commands: the list a person
reads, then the ids and their inspects), and a stricter one, `docker ps -a -q` + `docker inspect <every id>` (two).
Prints each median and both ratios (goal: <= 1.0 the issue's baseline; the stricter ratio is printed beside it).
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

from bench.containers import create, remove, trim  # noqa: E402


def time_troubleshoot() -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one `troubleshoot scan --json`, a new process as a user runs it."""
    import os
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "troubleshoot", "scan", "--json", "--no-user-playbooks"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    if code not in (0, 1):
        raise SystemExit(f"scan failed ({code}): {proc.stderr.read().decode() if proc.stderr else ''}")
    if proc.stderr:
        proc.stderr.close()
    return elapsed, usage.ru_maxrss / 1024


def time_docker_cli() -> float:
    t = time.perf_counter()
    ids = subprocess.run(["docker", "ps", "-a", "-q", "--no-trunc"], capture_output=True, check=True).stdout.split()
    # not checked: on a shared daemon a container can go between the list and its inspect (the rest are inspected)
    subprocess.run(["docker", "inspect", *[i.decode() for i in ids]], capture_output=True)
    return time.perf_counter() - t


def time_docker_cli_issue() -> float:
    """The issue's baseline, as a shell runs `docker ps -a && docker inspect $(docker ps -aq)`: the table, the ids,
    their inspects (three processes, one after the other)."""
    t = time.perf_counter()
    subprocess.run(["docker", "ps", "-a"], capture_output=True, check=True)
    ids = subprocess.run(["docker", "ps", "-aq"], capture_output=True, check=True).stdout.split()
    subprocess.run(["docker", "inspect", *[i.decode() for i in ids]], capture_output=True)
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


def measure(n: int, runs: int) -> dict:
    time_troubleshoot(), time_docker_cli(), time_docker_cli_issue()  # warm the daemon and the page cache
    ours, rss, cli, issue = [], [], [], []
    for _ in range(runs):  # alternated: the same load for all
        took, peak = time_troubleshoot()
        ours.append(took)
        rss.append(peak)
        cli.append(time_docker_cli())
        issue.append(time_docker_cli_issue())
    return {"n": n, "ours": ours, "cli": cli, "issue": issue, "rss": max(rss)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--containers", default="300", help="how many bench containers; several: 300,1000 (each size, "
                                                         "measured in turn, the containers added as it grows)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--same-reads", action="store_true", help="also time the docker CLI making every read the scan "
                                                               "makes (slow: one `docker logs` per container)")
    ap.add_argument("--keep", action="store_true", help="leave the bench containers for the next run")
    args = ap.parse_args()
    sizes = sorted((int(x) for x in str(args.containers).split(",")), reverse=True)  # the biggest first: trimmed down
    # a user's install has its bytecode compiled (pip does it); an editable checkout may not (PYTHONDONTWRITEBYTECODE)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "troubleshoot")], check=True,
                   stdout=subprocess.DEVNULL)
    rows = []
    try:
        for n in sizes:
            t = time.perf_counter()
            trim(n)
            create(n)
            total = len(docker("ps", "-aq").stdout.split())
            print(f"setup: {n} bench containers ({total} on the daemon) in {time.perf_counter() - t:.1f}s")
            row = measure(n, args.runs)
            row["total"] = total
            rows.append(row)
            m_ours, m_cli = statistics.median(row["ours"]), statistics.median(row["cli"])
            print(f"  troubleshoot scan --json      median {m_ours:.3f}s  (runs: {', '.join(f'{x:.3f}' for x in row['ours'])})")
            m_issue = statistics.median(row["issue"])
            print(f"  docker ps -a && docker inspect $(docker ps -aq) (the issue's baseline) median {m_issue:.3f}s  "
                  f"(runs: {', '.join(f'{x:.3f}' for x in row['issue'])})")
            print(f"  docker ps -a -q + docker inspect (stricter) median {m_cli:.3f}s  "
                  f"(runs: {', '.join(f'{x:.3f}' for x in row['cli'])})")
            if args.same_reads:
                same = statistics.median(time_docker_cli_same_reads() for _ in range(max(1, args.runs // 2)))
                print(f"  docker CLI making the same reads as the scan (logs, images, history, info too): {same:.3f}s; "
                      f"ratio {m_ours / same:.2f}")
        print()
        print("baselines: issue = `docker ps -a && docker inspect $(docker ps -aq)`; strict = `docker ps -a -q` + "
              "`docker inspect <ids>`")
        print(f"{'containers':>10}  {'on daemon':>9}  {'scan':>7}  {'issue CLI':>9}  {'ratio':>5}  {'goal':>6}  "
              f"{'strict CLI':>10}  {'ratio':>5}  {'scan RSS':>8}")
        for row in rows:
            m_ours, m_cli = statistics.median(row["ours"]), statistics.median(row["cli"])
            m_issue = statistics.median(row["issue"])
            print(f"{row['n']:>10}  {row['total']:>9}  {m_ours:>6.3f}s  {m_issue:>8.3f}s  {m_ours / m_issue:>5.2f}  "
                  f"{'<= 1.0':>6}  {m_cli:>9.3f}s  {m_ours / m_cli:>5.2f}  {row['rss']:>6.0f}MB")
    finally:
        if not args.keep:
            remove()


if __name__ == "__main__":
    main()
