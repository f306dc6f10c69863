import pytest

from troubleshoot.clean import clean_json, clean_line, clean_text
from troubleshoot.core.commands import UnsafeValue, render
from troubleshoot.core.match import compile_expr, evaluate, parse_duration, parse_size
from troubleshoot.core.playbooks import Step, parse_command
from troubleshoot.core.secrets import mask, mask_text


@pytest.mark.parametrize("text, value", [("1GB", 1e9), ("512MiB", 512 * 2 ** 20), ("300m", 300 * 2 ** 20),
                                         (1024, 1024), ("1.5 GB", 1.5e9)])
def test_sizes(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize("text, value", [("10s", 10), ("5m", 300), ("2h", 7200), (3, 3), ("250ms", 0.25)])
def test_durations(text, value):
    assert parse_duration(text) == value


def test_all_any_not_and_unknown_values():
    expr = compile_expr({"all": [{"signal": "exit_code", "in": [126, 127]},
                                 {"not": {"signal": "oom_killed", "is": True}},
                                 {"any": [{"signal": "logs", "matches": "not found"},
                                          {"signal": "state_error", "matches": "not found"}]}]})
    ok, evidence = evaluate(expr, {"exit_code": 127, "oom_killed": False, "logs": ["sh: node: not found"],
                                   "state_error": ""})
    assert ok and evidence == ["State.ExitCode=127", "log: sh: node: not found"]
    assert evaluate(expr, {"exit_code": 1, "oom_killed": False, "logs": [], "state_error": ""}) == (False, [])
    # an unknown value (None) never matches, except `present: false`
    assert evaluate(compile_expr({"signal": "seconds_ran", "lt": "10s"}), {"seconds_ran": None})[0] is False
    assert evaluate(compile_expr({"signal": "image_size", "present": False}), {"image_size": None})[0] is True


@pytest.mark.parametrize("raw, clean", [
    ("\x1b]0;PWNED\x07hello", "hello"),  # OSC 0 title
    ("\x1b]52;c;ZXZpbA==\x07x", "x"),  # OSC 52 clipboard write
    ("\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\", "click"),  # OSC 8 hidden link
    ("q\x1b[6n\x1b[21t", "q"),  # terminal queries that answer as if typed
    ("a\x1b[2J\x1b[1;1Hb", "ab"),  # clear screen, cursor move
    ("\x9b31mC1\x9dtitle\x9c", "C1"),  # 8-bit C1 CSI and OSC
    ("abc\u202eevil\u2066", "abcevil"),  # bidi override / isolate
    ("bell\x07 nul\x00 del\x7f", "bell nul del"),
    ("[/] [@click=app.quit]", "[/] [@click=app.quit]"),  # markup is not a control: it is rendered as text
])
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


def test_clean_json_cleans_keys_values_and_keeps_newlines_in_values():
    doc = clean_json({"Name\x1b[31m": ["\x1b]0;t\x07a\nb"], "n": 3})
    assert doc == {"Name": ["a\nb"], "n": 3}


def test_long_lines_are_cut_with_a_count():
    assert clean_line("x" * 5000, 100) == "x" * 100 + " ...[cut 4900 chars]"


def test_masking():
    assert mask("hunter2-prod") == "hu****(12 chars)"
    assert mask("short") == "****(5 chars)"
    masked = mask_text("DB_PASSWORD=s3cr3tvalue AKIAIOSFODNN7EXAMPLE user=bob")
    assert "s3cr3tvalue" not in masked and "AKIAIOSFODNN7EXAMPLE" not in masked and "user=bob" in masked


def test_commands_render_to_argv_and_refuse_bad_values():
    step = Step("logs", parse_command("docker logs --tail 5 {container}", "run"))
    assert render(step, {"container": "api-1"}) == ["docker", "logs", "--tail", "5", "api-1"]
    with pytest.raises(UnsafeValue):
        render(step, {"container": "api; rm -rf /"})
    with pytest.raises(UnsafeValue):
        render(step, {"container": "--privileged"})
    # Go templates in docker --format are kept as they are
    fmt = Step("f", parse_command('docker inspect --format "{{.State.Error}}" {container}', "run"))
    assert render(fmt, {"container": "db"})[3] == "{{.State.Error}}"


HOSTILE = ["\x1b]0;PWNED\x07", "\x1b]52;c;ZXZpbA==\x07", "\x1b[6n", "\x9b31m", "\x9d0;t\x9c", "a\u202eb", "x\u2066y",
           "tab\there", "cr\rhere", "bell\x07", "del\x7f", "\u061cmark", "lrm\u200e"]


@pytest.mark.parametrize("ensure_ascii", [True, False])
@pytest.mark.parametrize("hostile", HOSTILE)
def test_loads_clean_fast_path_never_skips_a_hostile_string(hostile, ensure_ascii):
    import json as _json
    from troubleshoot.clean import loads_clean
    raw = _json.dumps({"Name": f"/web{hostile}", "Labels": {hostile: hostile}, "Env": [f"K={hostile}"]},
                      ensure_ascii=ensure_ascii).encode()
    doc = loads_clean(raw)
    for text in [doc["Name"], *doc["Labels"], *doc["Labels"].values(), *doc["Env"]]:
        assert text == clean_text(text, keep_newlines=True), repr(text)
        assert not any(ch in text for ch in "\x1b\x07\x7f\x9b\x9d\t\u202e\u2066\u061c\u200e")


def test_loads_clean_leaves_go_escaped_markup_characters_alone():
    from troubleshoot.clean import loads_clean
    assert loads_clean(b'{"Cmd": "a \\u0026\\u0026 b \\u003e c"}') == {"Cmd": "a && b > c"}
