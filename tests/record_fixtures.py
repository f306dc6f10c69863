"""Record the raw daemon JSON of every scenario (and the control) into tests/fixtures/, for the unit tests.

    .venv/bin/python -m tests.record_fixtures                         # all (needs the engine: make engine)
    .venv/bin/python -m tests.record_fixtures stop-timeout segfault   # only these (others' fixtures untouched)

Each fixture is {"playbook": ID, "record": <adapter record>, "host": <host record>}: exactly what the adapter reads
from the engine, so unit tests build facts the same way a live scan does.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.engine import docker, remove_all
from tests.scenarios import SCENARIOS, create
from troubleshoot.lab import VARIANTS
from troubleshoot.core import schema
from troubleshoot.daemon import Daemon
from troubleshoot.scan import host_record, observe_records

OUT = Path(__file__).resolve().parent / "fixtures"


def main(argv: list[str] | None = None) -> None:
    """Record the ids given (scenarios, lab variants written to fixtures/variants/, or `control`); all without."""
    wanted = list(sys.argv[1:] if argv is None else argv) or [*sorted(SCENARIOS), "control"]
    unknown = [w for w in wanted if w not in SCENARIOS and w not in VARIANTS and w != "control"]
    if unknown:
        raise SystemExit(f"no scenario {', '.join(unknown)} (known: {', '.join(sorted(SCENARIOS))}, control)")
    OUT.mkdir(exist_ok=True)
    (OUT / "variants").mkdir(exist_ok=True)
    remove_all()
    daemon = Daemon().connect()
    host = schema.to_builtins(host_record(daemon))
    host.get("local", {}).pop("vmstat", None)  # keep fixtures small
    for playbook in wanted:
        name = create(playbook)
        scanned = [schema.to_builtins(r) for r, _ in observe_records(daemon, [name])]
        records = [r for r in scanned if r["inspect"]["Name"] == f"/{name}"]
        doc = {"playbook": playbook, "record": records[0], "host": host}
        peers = [r for r in scanned if r["inspect"]["Name"] == f"/{name}-db"]  # the containers it depends on
        if peers:
            doc["peers"] = peers
        path = OUT / ("variants" if playbook in VARIANTS else "") / f"{playbook}.json"
        path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        print(f"recorded {path.name}")
        docker("rm", "-f", name, f"{name}-holder", f"{name}-db", check=False)
    remove_all()


if __name__ == "__main__":
    main(sys.argv[1:] or None)
