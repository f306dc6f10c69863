"""The command line's answer to bad input: one line naming the value (cut when long), exit 2, nothing scanned."""
from __future__ import annotations

import os

import pytest

from troubleshoot import cli, lab


@pytest.mark.parametrize("argv", [["scan", "--project", ""], ["scan", "--project", "shop", "--project", ""],
                                  ["scan", "--project", "  "], ["scan", "--json", "--project", "a b"]])
def test_an_empty_or_blank_project_is_bad_input_not_no_filter(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "--project" in err, err


def test_a_long_value_is_cut_in_the_one_line_error(capsys):
    code = cli.main(["scan", "--project", "x" * 5000 + " y"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert len(err) < 200 and "…" in err, len(err)
    assert len(cli._quoted("p" * 5000)) == cli.QUOTE_MAX and cli._quoted("shop") == "'shop'"


def test_a_lab_instance_given_as_project_is_told_the_labs_project_name():
    lab.save_state({"compose": "/x/docker-compose.yml"}, "shop1")
    try:
        hint = cli._lab_hint(["shop1"], ["tslab-shop1", "other"])
        assert "'shop1' is a lab instance: its Compose project is tslab-shop1" in hint
        assert "not up here" in cli._lab_hint(["shop1"], ["other"])
        assert cli._lab_hint(["web"], ["other"]) == ""  # no such lab instance: no hint
    finally:
        lab.save_state({}, "shop1")


def test_lab_down_leaves_no_empty_state_file():
    lab.save_state({"pulled": ["busybox:latest"]}, "gone1")
    assert os.path.exists(lab.state_file("gone1"))
    lab.save_state({}, "gone1")  # what `lab down --instance gone1` writes
    assert not os.path.exists(lab.state_file("gone1"))
    lab.save_state({}, "gone1")  # and again: nothing to remove is fine


def test_a_scan_turns_the_garbage_collector_off_only_while_it_runs(capsys):
    """cmd_scan runs without the cyclic GC (its process ends with os._exit); a caller in the same process gets it
    back as it was."""
    import gc
    seen = []
    real = cli._scan
    try:
        cli._scan = lambda args: seen.append(gc.isenabled()) or real(args)
        assert gc.isenabled()
        assert cli.main(["scan", "--json", "--demo"]) in (0, 1)
        assert seen == [False] and gc.isenabled()
        gc.disable()
        cli.main(["scan", "--json", "--demo"])
        assert not gc.isenabled(), "off before: left off"
    finally:
        gc.enable()
        cli._scan = real
