"""Running a playbook's commands for one daemon: which may run here (`command_refusal`), in what environment
(`docker_env`: the one builder of DOCKER_HOST / DOCKER_CONTEXT), and the run itself (`run_command`: an argument
list, no shell, output cleaned and bounded). Whether a command changes anything is not decided here
(core/readonly.py); the data source (backend.py) asks before it runs one. Blocking; no textual.
"""
from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass

from .clean import MAX_LINE, clean_text
from .daemon import Endpoint, bounded_lines, netloc_parts


@dataclass(frozen=True)
class CommandResult:
    argv: list[str]
    exit_code: int
    lines: tuple[str, ...]  # cleaned, each cut, at most the last N
    timed_out: bool


def docker_host_url(url: str) -> str:
    """An endpoint as DOCKER_HOST must spell it: a bare socket path gets `unix://`."""
    return url if "://" in url else f"unix://{url}"


def docker_env(endpoint: Endpoint, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a `docker` command run against `endpoint` (a step, an interactive shell): the one place
    it is built. A context endpoint is passed as its context (the CLI then finds its TLS files too); any other as
    DOCKER_HOST (DOCKER_TLS_VERIFY / DOCKER_CERT_PATH pass through as they are)."""
    env = dict(os.environ if environ is None else environ)
    if endpoint.context:
        env["DOCKER_CONTEXT"] = endpoint.context
        env.pop("DOCKER_HOST", None)
    else:
        env["DOCKER_HOST"] = docker_host_url(endpoint.url)
        env.pop("DOCKER_CONTEXT", None)
    return env


def command_refusal(endpoint: Endpoint, argv: list[str]) -> str | None:
    """Why `argv` must not run for this endpoint, or None. Only `docker` commands reach a remote daemon; anything
    else (`ss -ltnp`, `df`, `free`) runs on this machine and would describe the wrong host."""
    if not argv or argv[0] == "docker" or not endpoint.is_remote_machine:
        return None
    host = endpoint.host_name
    if endpoint.is_ssh:
        user, _, port = netloc_parts(endpoint.url)
        target = " ".join(([f"-p {port}"] if port else []) + [f"{user}@{host}" if user else host])
        how = f"run it there with `ssh {target} {' '.join(argv)}`"
    else:
        how = "run it on that machine"
    return f"`{argv[0]}` runs on this machine, not on {host} where the daemon is: {how}"


def run_command(endpoint: Endpoint, argv: list[str], timeout: float = 30, max_lines: int = 400,
                max_line: int = MAX_LINE) -> CommandResult:
    """Run one rendered playbook command (an argument list: no shell) against the daemon at `endpoint` and return
    its output cleaned and bounded (the last `max_lines` lines). `docker` commands get this endpoint (`docker_env`);
    other commands are refused for a daemon on another machine (`command_refusal`): they would describe this one."""
    why = command_refusal(endpoint, argv)
    if why:
        return CommandResult(argv, 126, (why,), False)
    env = docker_env(endpoint) if argv and argv[0] == "docker" else dict(os.environ)
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env)
    except OSError as exc:
        return CommandResult(argv, 127, (clean_text(f"cannot run {argv[0]}: {exc.strerror or exc}"),), False)
    stdout = proc.stdout
    assert stdout is not None  # stdout=PIPE
    lines: list[str] = []
    timed_out = False
    try:
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        lines = list(bounded_lines(iter(lambda: stdout.read(65536), b""), max_lines, max_line))
        timer.cancel()
        timed_out = not timer.is_alive() and proc.poll() is None
    finally:
        stdout.close()
        code = proc.wait()
    if code == -9:
        timed_out = True
        lines.append(f"(stopped after {timeout:.0f}s)")
    return CommandResult(argv, code, tuple(lines), timed_out)
