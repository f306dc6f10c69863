"""A variable missing from a Compose service is suggested from its project's `.env` (probes/compose_env.py), with
the labels Compose puts on every container; a secret in that file is masked before it is a record."""
import json

import pytest

from tests.engine import BASE, PREFIX, docker, ensure_base
from troubleshoot.backend import LiveBackend
from troubleshoot.core import schema
from troubleshoot.core.playbooks import load_catalog
from troubleshoot.core.signals import container_signals
from troubleshoot.core.suggest import suggestions

pytestmark = pytest.mark.engine


def test_the_missing_variable_is_suggested_from_the_projects_env_file(engine, tmp_path):
    ensure_base()
    (tmp_path / ".env").write_text("# the project's settings\nDB_HOST=orders-db.internal\n"
                                   "export DB_PASSWORD='hunter2-dotenv-77'\nAPP_PORT=3000 # comment\n")
    name = f"{PREFIX}compose-env"
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, "--label", "com.docker.compose.project=tcx",
           "--label", "com.docker.compose.service=api", "--label", f"com.docker.compose.project.working_dir={tmp_path}",
           "--label", "troubleshoot.test=1", BASE, "sh", "-c",
           'echo "Error: DB_HOST is not set. Database connection failed" >&2; exit 1')
    try:
        docker("wait", name)
        backend = LiveBackend(load_catalog())
        backend.connect()
        records = backend.records(backend.select([name]))
        record, _ = next(r for r in records if r[0].inspect.Name == f"/{name}")
        assert record.compose_env is not None and record.compose_env.path == str(tmp_path / ".env")
        assert record.compose_env.values["DB_HOST"] == "orders-db.internal"
        assert record.compose_env.values["APP_PORT"] == "3000"
        assert "hunter2-dotenv-77" not in json.dumps(schema.to_builtins(record))  # masked before it was a record
        obs = backend.observe(backend.select([name]))[0]
        host = backend.host()
        got = suggestions(obs, host, container_signals(obs, host))
        assert got["env_value"].value == "orders-db.internal" and ".env has DB_HOST" in got["env_value"].why
    finally:
        docker("rm", "-f", name, check=False)
