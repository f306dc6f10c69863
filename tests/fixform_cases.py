"""Loose containers made with many `docker run` options, for core/fixform.py: the recorder writes their typed,
masked records to tests/fixtures/fixform/ (unit tests), and the integration test makes them again, rebuilds the
`docker run` from the record, runs it and compares the two inspects.

    PYTHONPATH=. .venv/bin/python -m tests.fixform_cases      # record (needs the engine)
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.engine import docker, ensure_base

OUT = Path(__file__).resolve().parent / "fixtures" / "fixform"
SECRET = "hunter2-very-secret"


def specs(prefix: str, hostdir: str) -> dict[str, list[str]]:
    """case -> the `docker run` arguments after `docker run -d --name PREFIXcase` (the image is the test base)."""
    base = ensure_base()
    return {
        "full": ["--network", f"{prefix}fx-net1", "--network-alias", "api", "--network-alias", "api.internal",
                 "-p", "127.0.0.1::80", "-p", "81/udp", "-v", f"{prefix}fx-data:/data", "-v", f"{hostdir}:/host:ro",
                 "--tmpfs", "/run:size=1m", "-e", f"DB_PASSWORD={SECRET}", "-e", "MODE=prod",
                 "-e", "GREETING=hello world", "--restart", "on-failure:3", "--memory", "64m", "--memory-swap", "64m",
                 "--cpus", "0.5", "--pids-limit", "100", "--shm-size", "128m", "--user", "1000:1000", "-w", "/srv",
                 "--label", "team=ops", "--log-opt", "max-size=5m", "--log-opt", "max-file=2",
                 "--health-cmd", "test -d /data || exit 1", "--health-interval", "5s", "--health-retries", "2",
                 "--ulimit", "nofile=512:1024", "--init", "--hostname", "myhost", "--stop-timeout", "3",
                 "--entrypoint", "/bin/sh", base, "-c", "sleep 1000"],
        "plain": [base, "sleep", "1000"],
        "anon-volume": ["-v", "/cache", "--restart", "always", "--memory", "32m", base, "sleep", "1000"],
    }


def make(case: str, prefix: str, hostdir: str) -> str:
    """Create and start the case's container (its network and volume first); its name."""
    name = f"{prefix}fx-{case}"
    if case == "full":
        docker("network", "create", f"{prefix}fx-net1", check=False)
        docker("network", "create", f"{prefix}fx-net2", check=False)
    docker("run", "-d", "--name", name, *specs(prefix, hostdir)[case])
    if case == "full":
        docker("network", "connect", "--alias", "api-two", f"{prefix}fx-net2", name)
    return name


def cleanup(prefix: str) -> None:
    for case in ("full", "plain", "anon-volume"):
        docker("rm", "-f", "-v", f"{prefix}fx-{case}", check=False)
    docker("network", "rm", f"{prefix}fx-net1", f"{prefix}fx-net2", check=False)
    docker("volume", "rm", f"{prefix}fx-data", check=False)


def record(case: str, name: str) -> dict:
    from troubleshoot.core import schema
    from troubleshoot.daemon import Daemon
    from troubleshoot.scan import observe_records
    daemon = Daemon().connect()
    rec = next(r for r, _ in observe_records(daemon, [name]) if r.inspect.Name == f"/{name}")
    return {"case": case, "record": schema.to_builtins(rec)}


def main() -> None:
    import tempfile
    OUT.mkdir(parents=True, exist_ok=True)
    prefix = "rec-"  # stable names in the committed fixtures
    cleanup(prefix)
    with tempfile.TemporaryDirectory() as hostdir:
        try:
            for case in sys.argv[1:] or ["full", "plain", "anon-volume"]:
                doc = record(case, make(case, prefix, hostdir))
                (OUT / f"{case}.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
                print(f"recorded {case}")
        finally:
            cleanup(prefix)




def record_compose() -> None:
    """The Compose lab's `api` (missing DB_HOST, which its project's .env has), as a live scan reads it."""
    import os
    import tempfile
    from troubleshoot import lab_compose
    from troubleshoot.core import schema
    from troubleshoot.daemon import Daemon
    from troubleshoot.lab import Lab, down
    from troubleshoot.scan import observe_records
    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="fixform-")
    daemon = Daemon().connect()
    lab = Lab(daemon, instance="rec", say=print, stop_timeout=1)
    try:
        lab_compose.up(lab)
        records = observe_records(daemon, [lab_compose.project_name("rec")])
        rec = next(r for r, _ in records if (r.inspect.Config.Labels or {}).get("com.docker.compose.service") == "api")
        (OUT / "compose-api.json").write_text(json.dumps({"case": "compose-api", "record": schema.to_builtins(rec)},
                                                         indent=1, sort_keys=True) + "\n")
        print("recorded compose-api")
    finally:
        lab_compose.down(daemon, "rec")
        down(daemon, (), "rec")


if __name__ == "__main__":
    if sys.argv[1:] == ["compose-api"]:
        record_compose()
    else:
        main()
