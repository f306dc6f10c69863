"""The scan's JSON on stdout (jsonout.write_json): msgspec's bytes, the document json.dumps gives (indent 2), UTF-8;
json.dumps' escaped ASCII where msgspec refuses a value (a lone surrogate from undecodable bytes)."""
import json

from troubleshoot.jsonout import write_json

DOC = {"schema": 1, "containers": [{"name": "web", "logs": ["café ☕ ready", 'quote " and \\ back', "\t"]}],
       "n": [1, 2.5, None, True], "empty": {}, "none": []}


def test_the_same_document_as_json_dumps(capsysbinary):
    write_json(DOC)
    out = capsysbinary.readouterr().out
    assert json.loads(out.decode("utf-8")) == DOC
    assert out.decode("utf-8") == json.dumps(DOC, indent=2, ensure_ascii=False) + "\n"


def test_a_lone_surrogate_is_escaped_as_json_dumps_does(capsysbinary):
    doc = {"line": "bad byte \udcff here"}
    write_json(doc)
    out = capsysbinary.readouterr().out
    assert out == (json.dumps(doc, indent=2) + "\n").encode("ascii")
