import copy
import json
from pathlib import Path

import pytest

from troubleshoot.core.playbooks import load_catalog
from troubleshoot.boundary import fixture_host, fixture_record
from troubleshoot.core.records import host_from_record, observation_from_record

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def observe(doc: dict, mutate=None):
    """Facts from a recorded fixture, through the boundary as a live scan's records are; `mutate(record)` may edit
    a deep copy of the raw JSON first."""
    record = copy.deepcopy(doc["record"])
    if mutate:
        mutate(record)
    obs = observation_from_record(*fixture_record(record))
    if doc.get("peers"):  # the containers it depends on, scanned with it: the scan's index of names
        from troubleshoot.core.peers import with_peers
        others = [observation_from_record(*fixture_record(copy.deepcopy(p))) for p in doc["peers"]]
        obs = with_peers([obs, *others])[0]
    return obs, host_from_record(fixture_host(doc["host"]))


@pytest.fixture(scope="session")
def catalog():
    c = load_catalog()
    assert not c.errors, [str(e) for e in c.errors]
    return c
