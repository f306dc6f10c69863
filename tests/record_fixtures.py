"""Record the raw daemon JSON of every scenario (and the control) into tests/fixtures/, for the unit tests.

    .venv/bin/python -m tests.record_fixtures            # needs the engine (make engine)
    .venv/bin/python -m tests.record_fixtures fd-limit   # only these scenarios (or `control`)

Each fixture is {"playbook": ID, "record": <adapter record>, "host": <host record>}: exactly what the adapter reads
from the engine, so unit tests build facts the same way a live scan does.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.engine import docker, remove_all
from tests.scenarios import SCENARIOS, create
from troubleshoot.core import schema
from troubleshoot.daemon import Daemon
from troubleshoot.scan import host_record, observe_records

OUT = Path(__file__).resolve().parent / "fixtures"


def main(ids: list[str]) -> None:
    unknown = [i for i in ids if i not in SCENARIOS and i != "control"]
    if unknown:
        raise SystemExit(f"no scenario {', '.join(unknown)}")
    OUT.mkdir(exist_ok=True)
    remove_all()
    daemon = Daemon().connect()
    host = schema.to_builtins(host_record(daemon))
    host.get("local", {}).pop("vmstat", None)  # keep fixtures small
    for playbook in ids or [*sorted(SCENARIOS), "control"]:
        name = create(playbook)
        records = [schema.to_builtins(r) for r, _ in observe_records(daemon, [name]) if r.inspect.Name == f"/{name}"]
        path = OUT / f"{playbook}.json"
        path.write_text(json.dumps({"playbook": playbook, "record": records[0], "host": host}, indent=1,
                                   sort_keys=True) + "\n")
        print(f"recorded {path.name}")
        docker("rm", "-f", name, f"{name}-holder", check=False)
    remove_all()


if __name__ == "__main__":
    main(sys.argv[1:])
