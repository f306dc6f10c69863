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


def test_the_results_are_the_serial_loops_and_half_come_from_a_child():
    got = fork_map(square, ITEMS, plain, back, min_items=2)
    assert [v for v, _pid in got] == [x * x for x in ITEMS]
    pids = {pid for _v, pid in got}
    assert PARENT in pids and len(pids) == 2, "one half in this process, the other in a child"
    assert [pid == PARENT for _v, pid in got] == [i % 2 == 0 for i in ITEMS]


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
    return square(x)


def killed_in_child(x: int) -> tuple[int, int]:
    if os.getpid() != PARENT:
        os.kill(os.getpid(), signal.SIGKILL)
    return square(x)


@pytest.mark.parametrize("fn", [fails_in_child, killed_in_child])
def test_a_child_that_fails_is_the_parents_work_again(fn):
    got = fork_map(fn, ITEMS, plain, back, min_items=2)
    assert got == [(x * x, PARENT) for x in ITEMS]


def test_an_answer_of_the_wrong_shape_is_the_parents_work_again():
    calls = []

    def noted(x):
        calls.append(x)
        return square(x)
    got = fork_map(noted, ITEMS, lambda r: "not a pair", back, min_items=2, kind=tuple[int, int])
    assert got == [(x * x, PARENT) for x in ITEMS]
    assert sorted(calls) == ITEMS  # the child's half computed here too, once


def test_the_parents_own_exception_is_raised_and_the_child_killed():
    def boom(x):
        if os.getpid() == PARENT and x == 4:
            raise ValueError("the serial loop's exception")
        return square(x)
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
