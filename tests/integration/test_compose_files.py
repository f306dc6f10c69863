"""Real Compose projects (Debian's docker-compose 1.29.2, which labels its containers as Compose v2 does): what each
service's files say is the evidence of the finding, named by file and service (probes/compose_file.py,
core/compose_file.py, detectors compose_env / compose_depends / compose_memory)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.engine import BASE, PREFIX, ensure_base, inspect, wait_for, wait_oom_killed, wait_state
from tests.integration.conftest import scan_json
from troubleshoot.backend import LiveBackend
from troubleshoot.core import schema
from troubleshoot.core.playbooks import load_catalog

pytestmark = pytest.mark.engine


def compose(project: str, where: Path, *args: str, timeout: int = 180) -> subprocess.CompletedProcess:
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose is not installed (make test installs it: scripts/ensure-engine.sh)"
    proc = subprocess.run([exe, "-p", project, *args], cwd=where, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"docker-compose {' '.join(args)} failed: {proc.stderr[-2000:]}"
    return proc


class Project:
    """A Compose project in `where`, named with this run's prefix; always `down -v` at the end."""

    def __init__(self, name: str, where: Path, text: str, files: dict[str, str] | None = None):
        ensure_base()
        self.name = f"{PREFIX}{name}".lower()
        self.where = where
        (where / "docker-compose.yml").write_text(text.replace("BASE", BASE))
        for rel, content in (files or {}).items():
            (where / rel).write_text(content)

    def __enter__(self) -> "Project":
        return self

    def __exit__(self, *exc) -> None:
        compose(self.name, self.where, "down", "-v", "--remove-orphans", "-t", "1")

    def container(self, service: str) -> str:
        return f"{self.name}_{service}_1"

    def top(self, service: str) -> dict:
        name = self.container(service)
        doc, _code = scan_json(self.name)  # the whole project: a dependency needs its peer in the scan
        mine = [f for f in doc["findings"] if f["container"] == name]
        assert mine, doc["findings"]
        return mine[0]


def _record(name: str) -> schema.ContainerRecord:
    backend = LiveBackend(load_catalog())
    backend.connect()
    return next(r for r, _s in backend.records(backend.select([name])) if r.inspect.Name == f"/{name}")


DEPENDS = """
services:
  db:
    image: BASE
    command: ["sh", "-c", "echo 'loading data...'; while [ ! -f /ctl/go ]; do sleep 0.2; done; exec httpd -f -p 5432 -h /"]
    volumes: ["./ctl:/ctl"]
    healthcheck:
      test: ["CMD-SHELL", "nc -w 1 127.0.0.1 5432 </dev/null"]
      interval: 1s
      start_period: 300s
  web:
    image: BASE
    command:
      - sh
      - -c
      - >-
        echo "connecting to database at $$DB_HOST:$$DB_PORT";
        if nc -w 3 $$DB_HOST $$DB_PORT </dev/null; then exec sleep 86400; fi;
        echo 'FATAL: cannot reach the database, exiting' >&2; exit 1
    environment:
      DB_HOST: db
      DB_PORT: "5432"
    depends_on: [db]
    restart: "no"
"""


def _line(text: str, key: str) -> int:
    """The 1-based line of `key` in a compose text as written to the file."""
    return text.splitlines().index(key) + 1


def test_a_web_service_whose_database_starts_slower_names_depends_on_without_health(engine, tmp_path):
    (tmp_path / "ctl").mkdir()
    with Project("dep", tmp_path, DEPENDS) as p:
        compose(p.name, tmp_path, "up", "-d")
        wait_state(p.container("web"), "exited")
        assert inspect(p.container("db"))["State"]["Health"]["Status"] == "starting"  # not ready: /ctl/go absent
        top = p.top("web")
        text = " | ".join(top["evidence"])
        assert top["playbook"] == "dependency-not-ready", top
        assert f"is container {p.container('db')}: health starting" in text
        compose_file = tmp_path / "docker-compose.yml"
        at = f"{compose_file}:{_line(DEPENDS, '    depends_on: [db]')}"
        assert (f"compose file: {at} service web: depends_on db (list form: waits for its start only); "
                f"db has a healthcheck; add `depends_on: {{db: {{condition: service_healthy}}}}`") in text
        # the same project with the health condition: nothing to add, no such evidence line
        (tmp_path / "ctl" / "go").write_text("")
        wait_for(lambda: inspect(p.container("db"))["State"]["Health"]["Status"] == "healthy", 60, "db healthy")
        compose_file.write_text(DEPENDS.replace("BASE", BASE).replace(
            "depends_on: [db]", "depends_on: {db: {condition: service_healthy}}"))
        record = _record(p.container("web"))
        assert record.compose_service is not None and not record.compose_service.why
        dep = record.compose_service.depends_on[0]
        assert (dep.service, dep.condition, dep.healthcheck) == ("db", "service_healthy", "present")


def test_a_database_without_healthcheck_that_compose_started_first_is_the_dependency_not_ready(engine, tmp_path):
    """The common case: `depends_on: [db]`, no healthcheck anywhere. The db was started (first, by Compose) before
    the web failed: only the Compose files say that it was a dependency waited for to start, not to be ready."""
    (tmp_path / "ctl").mkdir()
    text = DEPENDS.replace("""    healthcheck:
      test: ["CMD-SHELL", "nc -w 1 127.0.0.1 5432 </dev/null"]
      interval: 1s
      start_period: 300s
""", "")
    assert "healthcheck" not in text
    with Project("nohc", tmp_path, text) as p:
        compose(p.name, tmp_path, "up", "-d")
        wait_state(p.container("web"), "exited")
        (tmp_path / "ctl" / "go").write_text("")  # the db is ready now, as a slow database is by the time one looks
        top = p.top("web")
        evidence = " | ".join(top["evidence"])
        assert top["playbook"] == "dependency-not-ready", top
        assert (f"is container {p.container('db')}: started " in evidence
                and "before this container failed, and its Compose depends_on waits for the start only (list form, "
                    "no healthcheck on db): not ready yet" in evidence)
        assert ("db has no healthcheck; add `depends_on: {db: {condition: service_healthy}}` and a `healthcheck:` "
                "on db") in evidence
        # without the Compose files (a remote daemon, or files gone) nothing says the db was not ready
        (tmp_path / "docker-compose.yml").unlink()
        assert p.top("web")["playbook"] != "dependency-not-ready"
        (tmp_path / "docker-compose.yml").write_text(text)  # for `down`


MISSING = """
services:
  api:
    image: BASE
    command: ["sh", "-c", "echo 'Error: DB_HOST is not set. Database connection failed' >&2; exit 1"]
    environment:
      - APP_PORT=3000
      - DB_PASSWORD=hunter2-compose-77
      - API_TOKEN=${API_TOKEN}
    env_file: [./app.env]
    restart: "no"
    logging:
      driver: json-file
      options: {max-size: 10m}
"""


def test_a_variable_the_projects_env_has_but_the_service_does_not_pass_is_named_with_file_and_service(engine,
                                                                                                  tmp_path):
    with Project("env", tmp_path, MISSING, {".env": "DB_HOST=orders-db.internal\nAPI_TOKEN=tok-from-dotenv-99\n",
                                                "app.env": "LOG_LEVEL=info\n"}) as p:
        compose(p.name, tmp_path, "up", "-d")
        name = p.container("api")
        wait_state(name, "exited")
        top = p.top("api")
        text = " | ".join(top["evidence"])
        assert top["playbook"] == "missing-env", top
        at = f"{tmp_path}/docker-compose.yml:{_line(MISSING, '    environment:')}"
        assert (f"compose file: DB_HOST is not in service api's environment ({at}) nor in "
                f"its env_file {tmp_path}/app.env; the project's {tmp_path}/.env has it, but Compose passes a .env "
                f"variable only where the file names it (`DB_HOST: ${{DB_HOST}}` under environment)") in text
        record = _record(name)
        svc = record.compose_service
        assert svc is not None and svc.service == "api" and svc.project == p.name
        assert svc.files == [str(tmp_path / "docker-compose.yml")]  # the label says `docker-compose.yml`: relative
        assert svc.environment["APP_PORT"] == "3000" and svc.environment["API_TOKEN"] == "${API_TOKEN}"
        assert svc.env_files[0].keys == ["LOG_LEVEL"]
        assert (svc.restart, svc.logging_driver, svc.logging_options) == ("no", "json-file", {"max-size": "10m"})
        stored = json.dumps(schema.to_builtins(record))
        assert "hunter2-compose-77" not in stored and "tok-from-dotenv-99" not in stored  # masked before a record


OOM = """
services:
  cache:
    image: BASE
    command: ["sh", "-c", "echo loading cache; dd if=/dev/zero of=/dev/null bs=120M count=1; echo loaded"]
    mem_limit: 24m
    memswap_limit: 24m
    restart: "no"
"""


@pytest.mark.reads_events
def test_an_oom_killed_service_names_the_mem_limit_in_its_compose_file(engine, tmp_path):
    with Project("oom", tmp_path, OOM) as p:
        compose(p.name, tmp_path, "-f", str(tmp_path / "docker-compose.yml"), "up", "-d")
        name = p.container("cache")
        wait_oom_killed(name)
        top = p.top("cache")
        text = " | ".join(top["evidence"])
        assert top["playbook"] == "oom-killed", top
        at = f"{tmp_path}/docker-compose.yml:{_line(OOM, '    mem_limit: 24m')}"
        assert (f"compose file={at} service cache: `mem_limit: 24m` is the 24 MiB limit it "
                f"was killed at; raise it there") in text
