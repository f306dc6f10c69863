"""The benchmarks' containers: N named bench-NNNN (or PREFIX-NNNN) in mixed states, made with the docker CLI, removed
after."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.engine import BASE, docker, ensure_base

PREFIX = "bench-"


def create(n: int, prefix: str = PREFIX) -> None:
    """A quarter each: running (with a memory limit), exited 0, exited 1 with log lines naming a missing variable,
    and created (never started). Existing bench containers are kept (--keep between runs)."""
    ensure_base()
    have = set(docker("ps", "-a", "--format", "{{.Names}}", "--filter", f"name=^/{prefix}").stdout.decode().split())

    def make(i: int) -> None:
        name = f"{prefix}{i:04d}"
        if name in have:
            return
        kind = i % 4
        if kind == 0:
            docker("run", "-d", "--name", name, "--memory=32m", BASE, "sleep", "3600")
        elif kind == 1:
            docker("run", "-d", "--name", name, BASE, "true")
        elif kind == 2:
            docker("run", "-d", "--name", name, BASE, "sh", "-c",
                   "for i in 1 2 3 4 5 6 7 8 9 10; do echo line $i; done; echo 'Error: DB_URL is not set' >&2; exit 1")
        else:
            docker("create", "--name", name, BASE, "sleep", "3600")
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(make, range(n)))


def remove(prefix: str = PREFIX) -> None:
    ids = docker("ps", "-aq", "--filter", f"name=^/{prefix}").stdout.decode().split()
    for i in range(0, len(ids), 100):
        docker("rm", "-f", *ids[i:i + 100], check=False)


def trim(n: int) -> None:
    """Remove the bench containers numbered n and above (a smaller size measured after a bigger one was kept)."""
    names = docker("ps", "-a", "--format", "{{.Names}}", "--filter", f"name=^/{PREFIX}").stdout.decode().split()
    extra = [x for x in names if x.removeprefix(PREFIX).isdigit() and int(x.removeprefix(PREFIX)) >= n]
    for i in range(0, len(extra), 100):
        docker("rm", "-f", *extra[i:i + 100], check=False)
