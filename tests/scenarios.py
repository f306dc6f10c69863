"""Every incident, reproduced for real on the engine: the training lab's own recipes (`troubleshoot/lab.py`), made
with the test prefix and base image: `create(playbook)` makes the container `tst-<id>` (and its image when needed)
and waits until the incident has happened.

Used by the integration tests and by `tests/record_fixtures.py`, which records their inspect JSON for unit tests.
So every integration test also exercises the lab, through the adapter, as `troubleshoot lab up` does.
"""
from __future__ import annotations

from troubleshoot import lab
from troubleshoot.daemon import Daemon

from .engine import BASE, LAB_INSTANCE, PREFIX, ensure_base

SCENARIOS = lab.SCENARIOS


def name_for(playbook: str) -> str:
    return f"{PREFIX}{playbook}"


def make_lab(daemon: Daemon | None = None) -> lab.Lab:
    """A Lab that names things like the tests do, in this run's own lab instance (cleaned up by `engine.remove_all`;
    never touched by a user's `lab down`), and builds on the test base. Its containers stop within 1 s (Lab.stop_timeout:
    a recreate fix stops the old one first, and `sleep` as PID 1 ignores SIGTERM: 10 s per fix with Docker's default)."""
    ensure_base()
    return lab.Lab(daemon or Daemon().connect(), base=BASE, container_prefix=PREFIX, image_prefix=PREFIX,
                   say=lambda _text: None, instance=LAB_INSTANCE, stop_timeout=1)


def create(playbook: str) -> str:
    t = make_lab()
    name = name_for(playbook)
    try:
        make = lab.control if playbook == "control" else (SCENARIOS.get(playbook) or lab.VARIANTS[playbook]).make
        make(t, name)
    finally:
        t.daemon.close()
    return name
