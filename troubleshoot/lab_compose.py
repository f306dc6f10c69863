"""The training lab's Compose scenario set (`troubleshoot lab up --compose`): one real Compose project, its file
written where the engineer reads and edits it (the user's data dir, one directory per lab instance), brought up with
the Compose this machine has (`docker compose`, else `docker-compose`), and taken down with its containers,
networks and volumes by `lab down`.

Its incidents are the ones Compose users meet most:
- `web` depends on `db` without a health condition, and `db` starts slower: web dials it once, is refused, exits;
- `api` needs DB_HOST, which the project's `.env` has and the service's `environment` does not pass;
- `worker` has a memory limit too small for what it loads: the kernel OOM-kills it.

Every service carries the lab's labels (`troubleshoot.lab`, `troubleshoot.lab.instance`), so the board marks it
`[lab]` and `lab down` of another instance never touches it. The images are the lab's base (Lab.ensure_base: busybox,
or one imported from this host's static busybox when no registry answers): nothing is pulled by Compose.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import Callable

from .core.diagnose import TRAINING_LABEL
from .daemon import Daemon
from .lab import DEFAULT_INSTANCE, INSTANCE_LABEL, Lab, LabError, _exited, check_instance

SCENARIOS = {  # service -> (the playbook it trains, what breaks)
    "web": ("dependency-not-ready", "depends_on db without `condition: service_healthy`; db takes 60 s to listen"),
    "api": ("missing-env", "DB_HOST is in the project's .env, not in the service's environment"),
    "worker": ("oom-killed", "mem_limit 24m; it loads 120 MB at start"),
}
_DIAL = ('echo "connecting to database at $$DB_HOST:$$DB_PORT"; '
         'if nc -w 3 "$$DB_HOST" "$$DB_PORT" </dev/null; then echo "connected to $$DB_HOST:$$DB_PORT"; '
         'exec sleep 86400; fi; '
         'echo "FATAL: cannot reach the database at $$DB_HOST:$$DB_PORT, exiting" >&2; exit 1')
_CHECK = ('if [ -z "$$DB_HOST" ]; then echo "connecting to database at localhost:5432"; '
          'echo "Error: DB_HOST is not set. Database connection failed" >&2; exit 1; fi; ' + _DIAL)


def project_name(instance: str) -> str:
    """The Compose project of a lab instance (Compose's rule: lowercase letters, digits, `-` and `_`)."""
    return "tslab-" + re.sub(r"[^a-z0-9_-]", "-", check_instance(instance))


def project_dir(instance: str = DEFAULT_INSTANCE) -> str:
    """Where the instance's compose file and .env are written, for the engineer to read and edit."""
    from .dirs import user_data_dir
    return os.path.join(user_data_dir(), "lab-compose", check_instance(instance))


def compose_file(instance: str = DEFAULT_INSTANCE) -> str:
    return os.path.join(project_dir(instance), "docker-compose.yml")


def compose_yaml(base: str, instance: str) -> str:
    """The project's file. Plain Compose (no `version:`): Compose v2 and docker-compose 1.27+ read it alike."""
    def labels(service: str) -> str:
        return (f"    labels:\n      {TRAINING_LABEL}: compose-{service}\n      {INSTANCE_LABEL}: {instance}\n"
                f"    stop_grace_period: 1s\n")
    q = f'"{base}"'
    return f"""# troubleshoot's training lab, Compose set (instance {instance}). Edit it to fix what `troubleshoot` finds,
# then apply with: docker compose -p {project_name(instance)} -f {compose_file(instance)} up -d SERVICE
services:
  db:
    image: {q}
    command: ["sh", "-c", "echo 'loading data...'; sleep 60; echo 'ready to accept connections'; exec httpd -f -p 5432 -h /"]
    mem_limit: 64m
    healthcheck:
      test: ["CMD-SHELL", "nc -w 1 127.0.0.1 5432 </dev/null"]
      interval: 1s
      retries: 3
      start_period: 300s
    volumes:
      - db-data:/data
{labels("db")}
  web:
    image: {q}
    command: ["sh", "-c", {_json(_DIAL)}]
    environment:
      DB_HOST: db
      DB_PORT: "5432"
    mem_limit: 64m
    depends_on:
      - db
{labels("web")}
  orders-db:
    image: {q}
    command: ["httpd", "-f", "-p", "5432", "-h", "/"]
    mem_limit: 64m
    healthcheck:
      test: ["CMD-SHELL", "true"]
      interval: 1s
{labels("orders-db")}
  api:
    image: {q}
    command: ["sh", "-c", {_json(_CHECK)}]
    environment:
      APP_PORT: "3000"
      DB_PORT: "5432"
    mem_limit: 64m
    depends_on:
      - orders-db
{labels("api")}
  worker:
    image: {q}
    command: ["sh", "-c", "echo loading cache; dd if=/dev/zero of=/dev/null bs=120M count=1 && exec sleep 86400"]
    mem_limit: 24m
    memswap_limit: 24m
{labels("worker")}
volumes:
  db-data:
    labels:
      {TRAINING_LABEL}: compose-db
      {INSTANCE_LABEL}: {instance}
"""


def _json(text: str) -> str:
    import json
    return json.dumps(text)


ENV_FILE = """# the project's settings (Compose reads this file for ${VAR} in the compose file; a service gets only what its
# `environment` or `env_file` passes)
DB_HOST=orders-db
DB_PORT=5432
"""


def compose_cli() -> list[str]:
    """`docker compose` when this machine has Compose v2, else `docker-compose`; LabError when neither."""
    if shutil.which("docker"):
        try:
            if subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=10,
                              stdin=subprocess.DEVNULL).returncode == 0:
                return ["docker", "compose"]
        except (OSError, subprocess.TimeoutExpired):
            pass
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise LabError("neither `docker compose` (Compose v2) nor `docker-compose` is installed here: the Compose lab "
                   "needs one (apt-get install docker-compose)")


def _env(daemon: Daemon) -> dict[str, str]:
    env = dict(os.environ)
    if daemon.endpoint.context:
        env["DOCKER_CONTEXT"] = daemon.endpoint.context
        env.pop("DOCKER_HOST", None)
    else:
        url = daemon.endpoint.url
        env["DOCKER_HOST"] = url if "://" in url else f"unix://{url}"
        env.pop("DOCKER_CONTEXT", None)
    return env


def _compose(daemon: Daemon, instance: str, *args: str, timeout: float = 300) -> str:
    argv = [*compose_cli(), "-p", project_name(instance), "-f", compose_file(instance), *args]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=_env(daemon),
                              cwd=project_dir(instance), stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise LabError(f"`{' '.join(argv[:3])} ... {' '.join(args)}` did not finish in {timeout:.0f}s") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise LabError(f"`{' '.join(argv[:len(argv) - len(args)])} {' '.join(args)}` failed: {last[:300]}")
    return proc.stdout


def _service_container(daemon: Daemon, instance: str, service: str) -> str:
    rows = daemon.containers(all=True, label=f"com.docker.compose.project={project_name(instance)}")
    for row in rows:
        if (row.Labels or {}).get("com.docker.compose.service") == service:
            return row.Id
    raise LabError(f"Compose made no container for service {service}")


def up(lab: Lab, base_image: str | None = None, say: Callable[[str], None] = print) -> str:
    """Write the project (kept when the engineer already edited it), bring it up, wait for its three incidents.
    Returns the compose file's path."""
    lab.ensure_base(base_image)
    os.makedirs(project_dir(lab.instance), exist_ok=True)
    path = compose_file(lab.instance)
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as f:
            f.write(compose_yaml(lab.base, lab.instance))
        with open(os.path.join(project_dir(lab.instance), ".env"), "w", encoding="utf-8") as f:
            f.write(ENV_FILE)
        say(f"wrote {path} (and .env beside it): read it, and edit it to fix what you find")
    else:
        say(f"kept {path} as it is (remove it, or `lab down`, for a fresh one)")
    _compose(lab.daemon, lab.instance, "up", "-d")
    web = _service_container(lab.daemon, lab.instance, "web")
    api = _service_container(lab.daemon, lab.instance, "api")
    worker = _service_container(lab.daemon, lab.instance, "worker")
    lab.wait(web, _exited, "web to fail on db, which is not ready")
    lab.wait(api, _exited, "api to exit without DB_HOST")
    lab.wait_oom_killed(worker, "worker")
    return path


def down(daemon: Daemon, instance: str = DEFAULT_INSTANCE) -> list[str]:
    """`down -v` of the instance's project (its containers, networks, volumes), then its directory. Returns what it
    could not remove. Nothing when the instance has no Compose project."""
    path = compose_file(instance)
    kept = []
    made = daemon.containers(all=True, label=f"com.docker.compose.project={project_name(instance)}")
    if os.path.exists(path):
        try:
            _compose(daemon, instance, "down", "-v", "--remove-orphans", "-t", "1")
        except LabError as exc:
            kept.append(str(exc))
    elif made:
        kept.append(f"{path} is gone: the project's {len(made)} container(s) are removed by the lab's own labels")
    if not kept:
        shutil.rmtree(project_dir(instance), ignore_errors=True)
    return kept
