"""The app inspects the visibly broken first (backend.urgency, from the sparse list alone)."""
import pytest

from troubleshoot.backend import Row, batches, hint, inspect_order, load_batches, load_order, urgency


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


def test_the_first_load_takes_the_broken_and_stopped_then_the_visible_rows_then_the_rest():
    """Broken (urgency 0) and stopped or created (1) first, in the list's order; then the rows the board shows next
    (those not inspected yet are listed by name); then the rest by urgency."""
    spec = [("zeta", "running", "Up 1 hour"), ("beta", "running", "Up 2 hours (health: starting)"),
            ("alpha", "running", "Up 1 hour"), ("omega", "exited", "Exited (0) 1 hour ago"),
            ("gamma", "running", "Up 1 hour"), ("delta", "exited", "Exited (3) 1 hour ago"),
            ("eta", "created", "Created")]
    rows = [Row(f"{i}" * 64, name, s, st, "img") for i, (name, s, st) in enumerate(spec)]
    assert [r.name for r in load_order(rows, visible=2)] == ["delta", "omega", "eta", "alpha", "beta", "zeta", "gamma"]
    assert [r.name for r in load_order(rows)] == ["delta", "omega", "eta", "beta", "zeta", "alpha", "gamma"]
    assert sorted(r.id for r in load_order(rows, visible=100)) == sorted(r.id for r in rows)


def test_batches_start_small_then_double_up_to_a_bound():
    ids = [str(i) for i in range(1000)]
    sizes = [len(b) for b in batches(ids, 25, 200)]
    assert sizes == [25, 50, 100, 200, 200, 200, 200, 25]
    assert [i for b in batches(ids, 25, 200) for i in b] == ids
    assert list(batches([], 25, 200)) == []


def test_the_first_load_reads_every_broken_container_in_its_second_batch():
    """However many are broken, the worst finding is on screen after two reads: the first batch, then every other
    broken container at once; then the rest in growing batches."""
    rows = ([Row(f"r{i:063d}", f"run-{i}", "running", "Up 1 hour", "img") for i in range(300)]
            + [Row(f"b{i:063d}", f"broken-{i}", "exited", "Exited (1) 1 hour ago", "img") for i in range(251)]
            + [Row(f"s{i:063d}", f"stopped-{i}", "exited", "Exited (0) 1 hour ago", "img") for i in range(100)])
    plan = load_batches(rows, visible=40, first=25, most=200)
    assert [len(b) for b in plan] == [25, 226, 50, 100, 200, 50]
    assert {i[0] for b in plan[:2] for i in b} == {"b"} and plan[1][-1] == rows[550].id  # the last broken one
    assert sorted(i for b in plan for i in b) == sorted(r.id for r in rows)
    few = rows[:3] + rows[300:302]
    assert [len(b) for b in load_batches(few, first=25)] == [5]
    assert load_batches([], first=25) == []


@pytest.mark.parametrize("status, level", [
    ("Exited (137) 2 minutes ago", 0), ("Restarting (137) 1 second ago", 0),
    ("Exited (139) 1 hour ago", 1), ("Exited (134) 1 hour ago", 1), ("Restarting (139) 2 seconds ago", 1),
    ("Exited (1) 1 hour ago", 2), ("Restarting (1) 2 seconds ago", 2), ("Up 5 minutes (unhealthy)", 2),
    ("Exited (0) 1 hour ago", 2), ("Up 2 hours", 2), ("Dead", 2), ("", 2),
])
def test_the_hint_from_the_lists_status(status, level):
    assert hint(Row("x" * 64, "c", "exited", status, "img")) == level


def test_the_killed_one_behind_many_broken_ones_is_in_the_first_batch():
    """The bench's list (bench/tui_bench.py, 1,000 fillers): the OOM-killed container is 704th of 1004 in the
    daemon's list, behind 175 other exited non-zero ones. Its Status says 'Exited (137)': it is in the first read,
    before those 175 (a segfault's 139 next), so its finding is on screen after one batch instead of two."""
    rows = []
    for i in range(703):
        kind = i % 4
        status = ["Up 1 hour", "Exited (0) 1 hour ago", "Exited (1) 1 hour ago", "Created"][kind]
        state = ["running", "exited", "exited", "created"][kind]
        rows.append(Row(f"f{i:063d}", f"bench-{i:04d}", state, status, "img"))
    rows.insert(600, Row("s" * 64, "segv", "exited", "Exited (139) 3 hours ago", "img"))
    rows.append(Row("w" * 64, "tui-bench-worst", "exited", "Exited (137) 3 hours ago", "img"))
    rows += [Row(f"g{i:063d}", f"old-{i}", "running", "Up 3 hours", "img") for i in range(300)]
    plan = load_batches(rows, visible=40, first=25, most=200)
    assert plan[0][:2] == ["w" * 64, "s" * 64]
    assert sorted(i for b in plan for i in b) == sorted(r.id for r in rows)
