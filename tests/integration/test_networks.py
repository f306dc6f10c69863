"""Networks, names and dependencies on the real engine: the finding names the host, the containers and networks of
both sides, and the name-resolution fix really fixes the lab's container; a broken probe is told apart."""
import pytest

from tests.engine import docker, inspect, wait_for
from tests.integration.conftest import scan_json
from tests.scenarios import create

pytestmark = pytest.mark.engine


def _top(name: str) -> dict:
    doc, _code = scan_json(name)
    mine = [f for f in doc["findings"] if f["container"] == name]
    assert mine, doc["findings"]
    return mine[0]


def test_name_resolution_names_host_and_both_networks_and_the_fix_works(engine):
    name = create("name-resolution")
    try:
        top = _top(name)
        text = " | ".join(top["evidence"])
        assert (top["playbook"], top["confidence"]) == ("name-resolution", "certain")
        assert f"orders-db is container {name}-db on {name}-back; this container is on {name}-front" in text
        assert "unresolved host in log: orders-db" in text
        # the playbook's fix, as the app renders it: connect, start; then it resolves and stays up
        docker("network", "connect", f"{name}-back", name)
        docker("start", name)
        wait_for(lambda: "connected to orders-db:5432" in docker("logs", name).stdout.decode(), 30, "the app to connect")
        assert inspect(name)["State"]["Status"] == "running"
    finally:
        docker("rm", "-f", name, f"{name}-db", check=False)


def test_localhost_dependency_names_the_variable_and_the_service(engine):
    name = create("localhost-dependency")
    try:
        top = _top(name)
        text = " | ".join(top["evidence"])
        assert top["playbook"] == "localhost-dependency"
        assert (f"DB_HOST names localhost:5432, this container itself; container {name}-db exposes 5432 "
                f"(postgres on {name}-net)") in text
    finally:
        docker("rm", "-f", name, f"{name}-db", check=False)


def test_dependency_not_ready_names_the_sibling_still_starting(engine):
    name = create("dependency-not-ready")
    try:
        top = _top(name)
        text = " | ".join(top["evidence"])
        assert top["playbook"] == "dependency-not-ready"
        assert f"is container {name}-db: " in text and ("health starting" in text or "after this container failed" in text)
    finally:
        docker("rm", "-f", name, f"{name}-db", check=False)


def test_broken_probe_is_told_from_an_app_that_does_not_answer(engine):
    name = create("unhealthy-probe-broken")
    try:
        top = _top(name)
        assert top["playbook"] == "unhealthy"
        assert "probe broken=curl: not found in the image (probe exit 1)" in top["evidence"]
    finally:
        docker("rm", "-f", name, check=False)
    other = create("unhealthy")  # the app does not answer: no probe blamed
    try:
        top = _top(other)
        assert top["playbook"] == "unhealthy" and not any(e.startswith("probe broken") for e in top["evidence"])
    finally:
        docker("rm", "-f", other, check=False)
