"""Loading playbooks: every problem is one error naming file, line and field; one bad file never stops the rest."""
import textwrap
from pathlib import Path

import pytest

from troubleshoot.core.playbooks import load_catalog, load_text, shipped_dir

GOOD = textwrap.dedent("""\
    id: order-missing-method
    title: Code and image do not match
    severity: critical
    symptom: Missing method error after deploy
    root_cause: The image runs other code than the one deployed.
    match: {signal: logs, matches: "Missing method error"}
    diagnose:
      - title: Read the logs
        run: docker logs --tail 100 {container}
    """)


SHIPPED = Path(__file__).resolve().parents[2] / "playbooks"


def err(text: str):
    pb, errors = load_text(textwrap.dedent(text), "team/pb.yaml")
    assert pb is None and len(errors) == 1, errors
    return errors[0]


def test_a_good_playbook_loads():
    pb, errors = load_text(GOOD, "team/pb.yaml")
    assert errors == [] and pb.id == "order-missing-method"
    assert pb.diagnose[0].run == ("docker", "logs", "--tail", "100", "{container}")
    assert pb.diagnose[0].read_only is True


@pytest.mark.parametrize("text, line, field, words", [
    ("id: x\n  title: [unclosed\n", 2, "(yaml)", "mapping values"),
    ("id: a\ntitle: t\n\tseverity: critical\n", 3, "(yaml)", ""),
    (GOOD + "colour: red\n", 10, "colour", "unknown field"),
    (GOOD.replace("severity: critical", "severity: urgent"), 3, "severity", "not one of"),
    (GOOD.replace("id: order-missing-method", "id: Order Missing"), 1, "id", "lower-case"),
    (GOOD.replace("title: Code and image do not match\n", ""), 1, "title", "is required"),
    (GOOD.replace('{signal: logs, matches: "Missing method error"}', "{signal: log_lines, matches: x}"), 6,
     "match.signal", "unknown signal 'log_lines'"),
    (GOOD.replace('matches: "Missing method error"', "resembles: x"), 6, "match.resembles", "unknown operator"),
    (GOOD.replace('matches: "Missing method error"', 'matches: "(unclosed"'), 6, "match.matches",
     "bad regular expression"),
    (GOOD.replace('{signal: logs, matches: "Missing method error"}', "{signal: exit_code, equals: 1, gt: 0}"), 6,
     "match", "exactly one operator"),
    (GOOD.replace('{signal: logs, matches: "Missing method error"}', "{signal: image_size, gt: huge}"), 6,
     "match.gt", "not a size"),
    (GOOD.replace('{signal: logs, matches: "Missing method error"}', "{signal: oom_killed, gt: 3}"), 6,
     "match.gt", "does not apply to bool"),
    (GOOD.replace('match: {signal: logs, matches: "Missing method error"}',
                  "match:\n  all:\n    - {signal: oom_killed, is: true}\n    - {signal: exit_code, equals: [1]}"),
     9, "match.all[1].equals", "single int"),
    (GOOD.replace('match: {signal: logs, matches: "Missing method error"}', "match:\n  any: []"), 7,
     "match.any", "non-empty list"),
    (GOOD.replace("run: docker logs --tail 100 {container}", "run: docker logs {container} | grep error"), 9,
     "diagnose[0].run", "shell syntax"),
    (GOOD.replace("run: docker logs --tail 100 {container}", "run: docker logs {contianer}"), 9,
     "diagnose[0].run", "unknown placeholder {contianer}"),
    (GOOD + "fix:\n  - title: restart\n    run: docker restart {container}\n", 11, "fix[0].changes",
     "must say whether it changes"),
    (GOOD.replace("severity: critical", "severity: critical\nseverity: info"), 4, "severity", "duplicate key"),
    ("- just\n- a list\n", 1, "(top)", "one mapping"),
    ("", 1, "(top)", "empty file"),
])
def test_errors_name_file_line_and_field(text, line, field, words):
    e = err(text)
    assert (e.path, e.line, e.field) == ("team/pb.yaml", line, field), str(e)
    assert words in e.message
    assert str(e).startswith(f"team/pb.yaml:{line}: {field}: ")


def test_one_bad_file_does_not_stop_the_others(tmp_path: Path):
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text("id: [\n")
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00id")
    catalog = load_catalog([tmp_path])
    assert "order-missing-method" in catalog.playbooks
    assert len(catalog) == len(list(shipped_dir().glob("*.yaml"))) + 1  # every shipped one + this one
    assert sorted(Path(e.path).name for e in catalog.errors) == ["bad.yaml", "binary.yaml"]


def test_a_team_file_overrides_a_shipped_playbook_by_id(tmp_path: Path):
    (tmp_path / "big.yaml").write_text(GOOD.replace("id: order-missing-method", "id: image-too-large")
                                       .replace('{signal: logs, matches: "Missing method error"}',
                                                "{signal: image_size, gt: 5GB}"))
    catalog = load_catalog([tmp_path])
    assert catalog.get("image-too-large").path == str(tmp_path / "big.yaml")
    assert [o[0] for o in catalog.overridden] == ["image-too-large"]


def test_user_dir_then_extra_dirs(tmp_path: Path):
    user, extra = tmp_path / "user", tmp_path / "extra"
    user.mkdir(), extra.mkdir()
    (user / "a.yaml").write_text(GOOD.replace("title: Code and image do not match", "title: from user"))
    (extra / "a.yaml").write_text(GOOD.replace("title: Code and image do not match", "title: from extra"))
    assert load_catalog([extra], user_dir=user).get("order-missing-method").title == "from extra"
    assert load_catalog([], user_dir=user).get("order-missing-method").title == "from user"


def test_same_id_twice_in_one_directory_is_an_error(tmp_path: Path):
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD)
    catalog = load_catalog([tmp_path], include_shipped=False)
    assert len(catalog) == 1
    assert "also defined in" in str(catalog.errors[0])


def test_split_command_is_shlex_split_on_any_text():
    """The fast paths (no quotes, no backslashes; quotes but no backslash) give shlex.split's list, on shlex's own whitespace and on what
    str.split would also call whitespace (vertical tab, form feed, \\x1c, non-breaking and other Unicode spaces)."""
    import random
    import shlex

    from troubleshoot.core.playbooks import split_command
    alphabet = ["a", "b", "-", "{", "}", "#", "=", "$", "|", ";", " ", "  ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c",
                "\x85", "\xa0", "\u2003", "\u3000", "\x00", "é", "'", '"', "\\"]
    rng = random.Random(13)
    texts = ["docker logs --tail 50 {id}", "  docker  inspect\t{id}\n", "", "   ", "a#b # c", "x\x0by\x0cz"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(5000)]
    quoted = ["a", "b", " ", "\t", "'", "'", '"', '"', "{id}", "--x=", "é", "\n"]  # quotes often, no backslash
    texts += ["".join(rng.choice(quoted) for _ in range(rng.randint(0, 14))) for _ in range(5000)]
    texts += ["sh -c 'echo \"$HOME\"'", "docker exec {id} sh -c 'ls -l /data'", "x 'a b'c\"d e\" '' \"\"", "a 'b", 'a "b']
    for text in texts:
        try:
            want = shlex.split(text)
        except ValueError:
            with pytest.raises(ValueError):
                split_command(text)
            continue
        assert split_command(text) == want, repr(text)
