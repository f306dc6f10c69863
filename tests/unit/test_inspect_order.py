"""The app inspects the visibly broken first (backend.urgency, from the sparse list alone)."""
import pytest

from troubleshoot.backend import Row, inspect_order, urgency


@pytest.mark.parametrize("state, status, level", [
    ("restarting", "Restarting (2) 3 seconds ago", 0),
    ("running", "Up 5 minutes (unhealthy)", 0),
    ("exited", "Exited (137) 2 minutes ago", 0),
    ("dead", "Dead", 0),
    ("created", "Created", 1),
    ("exited", "Exited (0) 1 second ago", 1),
    ("paused", "Up 1 hour (Paused)", 1),
    ("running", "Up 3 seconds (health: starting)", 2),
    ("running", "Up 2 hours (healthy)", 3),
    ("running", "Up 2 hours", 3),
])
def test_urgency_from_the_list(state, status, level):
    assert urgency(Row("x" * 64, "c", state, status, "img")) == level


def test_the_order_keeps_the_lists_own_within_a_level():
    rows = [Row(f"{i}" * 64, f"c{i}", s, st, "img") for i, (s, st) in enumerate([
        ("running", "Up 1 hour"), ("created", "Created"), ("exited", "Exited (1) 1 hour ago"),
        ("running", "Up 2 hours"), ("exited", "Exited (2) 2 hours ago")])]
    assert [r.name for r in inspect_order(rows)] == ["c2", "c4", "c1", "c0", "c3"]
