"""Several hosts in one view: the docker command shown or copied for a container says which host it is for
(`docker -H URL ...` / `docker --context NAME ...`), so that pasted it reaches that host, not the local daemon. Light
(no imports): render.py (scan's "next:" lines) and the app both use it."""
from __future__ import annotations

from typing import Sequence


def with_host(argv: list[str], flag: Sequence[str]) -> list[str]:
    """A docker command that says which host it is for: `flag` (`-H URL` or `--context NAME`) after `docker`, when
    the command does not name one already; any other command as it is."""
    if not flag or not argv or argv[0] != "docker" or any(a in ("-H", "--host", "--context", "-c") for a in argv[1:2]):
        return list(argv)
    return [argv[0], *flag, *argv[1:]]


def without_host(argv: list[str], flag: Sequence[str]) -> list[str]:
    """`argv` with `flag` taken out again (with_host): run, the host comes from the environment (DOCKER_HOST, an ssh
    tunnel's socket), as for one host."""
    n = len(flag)
    if flag and len(argv) > n and argv[0] == "docker" and argv[1:1 + n] == list(flag):
        return [argv[0], *argv[1 + n:]]
    return list(argv)
