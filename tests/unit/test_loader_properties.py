"""Property-based tests (hypothesis) of the playbook loader: malformed YAML, schema violations and random
mutations of the shipped playbooks never raise out of the loader; every failure is one LoadError naming the file,
a line inside it and the field, in one line."""
import string
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from troubleshoot.core.playbooks import LoadError, load_file, load_text

SHIPPED = sorted((Path(__file__).resolve().parents[2] / "playbooks").glob("*.yaml"))
PATH = "team/playbooks/bad.yaml"
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=30), st.sampled_from(["{container}", "{nope}", "a | b", "$(id)", "10s", "1GB",
                                                           "critical", "incident", "oom_killed", "[/]", "~"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(string.ascii_lowercase + "_", min_size=1,
                                                                                max_size=10), inner, max_size=4)),
                      max_leaves=12)


def check(result, text: str) -> None:
    pb, errors = result
    if pb is not None:
        assert errors == []
        return
    assert len(errors) == 1, errors
    err = errors[0]
    assert isinstance(err, LoadError) and err.path == PATH
    assert 1 <= err.line <= max(1, text.count("\n") + 1), (err, text)
    assert err.field and err.message
    assert str(err).startswith(f"{PATH}:{err.line}: {err.field}: ")
    assert "\n" not in str(err)


@SETTINGS
@given(st.text(max_size=400))
def test_any_text_is_a_playbook_or_one_clear_error(text):
    check(load_text(text, PATH), text)


yaml_chars = st.sampled_from(list(":-[]{},#&*!|>'\"%@`? \n\t") + list("abcdefgh0123456789"))


@SETTINGS
@given(st.lists(yaml_chars, max_size=300).map("".join))
def test_yaml_punctuation_soup_never_escapes(text):
    check(load_text(text, PATH), text)


@st.composite
def mutated_playbook(draw):
    """A shipped playbook with one to three random changes: a field dropped, replaced by any value, or added."""
    source = draw(st.sampled_from(SHIPPED))
    doc = yaml.safe_load(source.read_text())
    for _ in range(draw(st.integers(1, 3))):
        target = doc
        # walk into the document a few levels to change something nested (steps, match) as well
        for _depth in range(draw(st.integers(0, 3))):
            children = [k for k, v in (target.items() if isinstance(target, dict) else enumerate(target))
                        if isinstance(v, (dict, list)) and v]
            if not children:
                break
            target = target[draw(st.sampled_from(children))]
        keys = list(target.keys()) if isinstance(target, dict) else list(range(len(target)))
        action = draw(st.sampled_from(["drop", "replace", "add"]))
        if action == "add" or not keys:
            if isinstance(target, dict):
                target[draw(st.text(string.ascii_lowercase + "_", min_size=1, max_size=12))] = draw(values)
            else:
                target.append(draw(values))
        elif action == "drop":
            del target[draw(st.sampled_from(keys))]
        else:
            target[draw(st.sampled_from(keys))] = draw(values)
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


@SETTINGS
@given(mutated_playbook())
def test_schema_violations_name_the_field(text):
    result = load_text(text, PATH)
    check(result, text)
    pb, errors = result
    if errors and errors[0].field not in ("(yaml)", "(top)", "(empty key)"):
        # the field named is a path into the document: its first part is a key the file has (or the required one
        # that is missing, which the message says)
        head = errors[0].field.split(".")[0].split("[")[0]
        top = yaml.safe_load(text)
        assert head in top or "required" in errors[0].message or "needs" in errors[0].message, errors[0]


@SETTINGS
@given(st.binary(max_size=200))
def test_any_file_bytes_never_escape(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("pb") / "bad.yaml"
    path.write_bytes(data)
    pb, errors = load_file(path)
    assert pb is not None or (len(errors) == 1 and errors[0].path == str(path) and "\n" not in str(errors[0]))
