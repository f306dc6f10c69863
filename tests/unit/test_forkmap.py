"""forkmap.fork_map: the serial loop's results in its order, every other item computed by a forked child; any
failure of the child is the parent's work again, never an error or a wrong result."""
import os
import signal

import pytest

from troubleshoot import forkmap
from troubleshoot.forkmap import fork_map

PARENT = os.getpid()
ITEMS = list(range(301))


def square(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def plain(r):
    return list(r)


def back(p):
    return tuple(p)


def slow_square(x: int) -> tuple[int, int]:
    import time
    time.sleep(0.0003)  # long enough that the child takes chunks before this process has taken them all
    return square(x)


def test_the_results_are_the_serial_loops_and_half_come_from_a_child():
    got = fork_map(slow_square, ITEMS, plain, back, min_items=2)
    assert [v for v, _pid in got] == [x * x for x in ITEMS]
    pids = {pid for _v, pid in got}
    assert PARENT in pids and len(pids) == 2, "some chunks in this process, the others in a child"
    chunks = [{pid for _v, pid in got[i:i + forkmap.CHUNK]} for i in range(0, len(ITEMS), forkmap.CHUNK)]
    assert all(len(c) == 1 for c in chunks), "a chunk is computed by one process"


def test_the_chunks_go_to_whichever_process_is_free():
    """Uneven work (every other item 50x the cost, as running containers beside stopped ones): neither process
    is left with the expensive half; each takes chunks as it gets free."""
    import time

    def uneven(x):
        time.sleep(0.002 if x % 2 else 0.00004)
        return square(x)
    got = fork_map(uneven, ITEMS, plain, back, min_items=2)
    assert [v for v, _pid in got] == [x * x for x in ITEMS]
    mine = sum(1 for _v, pid in got if pid == PARENT)
    assert 0.25 * len(ITEMS) < mine < 0.75 * len(ITEMS)


def test_few_items_stay_in_this_process():
    got = fork_map(square, ITEMS[:5], plain, back)  # below MIN_ITEMS
    assert {pid for _v, pid in got} == {PARENT}


def test_the_child_is_reaped():
    fork_map(square, ITEMS, plain, back, min_items=2)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def fails_in_child(x: int) -> tuple[int, int]:
    if os.getpid() != PARENT:
        raise RuntimeError("only in the child")
    return slow_square(x)


def killed_in_child(x: int) -> tuple[int, int]:
    if os.getpid() != PARENT:
        os.kill(os.getpid(), signal.SIGKILL)
    return slow_square(x)


@pytest.mark.parametrize("fn", [fails_in_child, killed_in_child])
def test_a_child_that_fails_is_the_parents_work_again(fn):
    got = fork_map(fn, ITEMS, plain, back, min_items=2)
    assert got == [(x * x, PARENT) for x in ITEMS]


def test_an_answer_of_the_wrong_shape_is_the_parents_work_again():
    calls = []

    def noted(x):
        calls.append(x)
        return slow_square(x)
    got = fork_map(noted, ITEMS, lambda r: "not a pair", back, min_items=2, kind=tuple[int, int])
    assert got == [(x * x, PARENT) for x in ITEMS]
    assert sorted(calls) == ITEMS  # the child's half computed here too, once


def test_the_parents_own_exception_is_raised_and_the_child_killed():
    def boom(x):
        if os.getpid() == PARENT:  # whichever chunk this process takes first
            raise ValueError("the serial loop's exception")
        return slow_square(x)
    with pytest.raises(ValueError, match="serial loop"):
        fork_map(boom, ITEMS, plain, back, min_items=2)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_one_cpu_is_one_process(monkeypatch):
    monkeypatch.setattr(forkmap, "cpus", lambda: 1)
    assert {pid for _v, pid in fork_map(square, ITEMS, plain, back, min_items=2)} == {PARENT}


def test_a_stuck_child_is_killed_and_its_half_computed_here(monkeypatch):
    monkeypatch.setattr(forkmap, "MIN_PATIENCE", 0.5)

    def stuck_in_child(x):
        if os.getpid() != PARENT:
            signal.pause()  # as on a lock another thread held when it was forked
        return square(x)
    got = fork_map(stuck_in_child, ITEMS, plain, back, min_items=2)
    assert got == [(x * x, PARENT) for x in ITEMS]
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)
