"""Compose labels -> the small record the board and the CLI group by (core/compose.py), table-driven, and on the
inspect and list JSON recorded from a real project made by docker-compose 1.29 (tests/fixtures/compose/: project
`shop`, web x2, worker exited 1, a `run` one-off of worker; paths and project name renamed when recorded)."""
import json
from datetime import datetime, timezone
from io import StringIO

import pytest
from rich.console import Console
from rich.text import Text

from tests.unit.conftest import FIXTURES, fixture
from troubleshoot.backend import Row, _rows_from_list
from troubleshoot.boundary import decode, fixture_host, fixture_record
from troubleshoot.core import compose, schema
from troubleshoot.core.compose import Compose, from_labels, group, member_label
from troubleshoot.core.diagnose import diagnose
from troubleshoot.core.records import host_from_record, observation_from_record
from troubleshoot.render import grouped_ids, print_scan
from troubleshoot.report_json import report_json
from troubleshoot.tui.rows import cells, matches_filter, project_cells, project_summary

P, S, F, W, O, N = (compose.PROJECT, compose.SERVICE, compose.CONFIG_FILES, compose.WORKING_DIR, compose.ONEOFF,
                    compose.NUMBER)

CASES = [
    ("loose", {"maintainer": "x"}, None),
    ("no labels", None, None),
    ("empty project", {P: "", S: "web"}, None),
    ("blank project", {P: "   ", S: "web"}, None),
    ("project only", {P: "shop"}, Compose("shop")),
    ("replica 2", {P: "shop", S: "web", N: "2", O: "False", F: "docker-compose.yml", W: "/srv/shop"},
     Compose("shop", "web", ("docker-compose.yml",), "/srv/shop", False, 2)),
    ("one-off (compose run)", {P: "shop", S: "worker", O: "True"}, Compose("shop", "worker", oneoff=True)),
    ("several files", {P: "shop", F: "a.yml, /etc/b.yml,,"}, Compose("shop", config_files=("a.yml", "/etc/b.yml"))),
    ("number not a number", {P: "shop", N: "two"}, Compose("shop")),
    ("number negative", {P: "shop", N: "-1"}, Compose("shop")),
    ("number too large", {P: "shop", N: "99999999999999999999"}, Compose("shop")),
    ("number unicode digits", {P: "shop", N: "²"}, Compose("shop")),
    ("oneoff odd case", {P: "shop", O: "TRUE"}, Compose("shop", oneoff=True)),
    ("pairs, not a dict", [(P, "shop"), (S, "db")], Compose("shop", "db")),
]


@pytest.mark.parametrize("labels, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_labels_make_the_record(labels, expected):
    assert from_labels(labels) == expected


def test_every_field_is_bounded():
    got = from_labels({P: "p" * 20_000, S: "s" * 20_000, W: "/" + "d" * 20_000,
                       F: ",".join(f"f{i}.yml" for i in range(500)) + "," + "x" * 20_000})
    assert got is not None
    assert len(got.project) == compose.MAX_NAME and got.project.endswith("…")
    assert len(got.service) == compose.MAX_NAME
    assert len(got.working_dir) == compose.MAX_PATH
    assert len(got.config_files) == compose.MAX_FILES


def recorded() -> list[dict]:
    return json.loads((FIXTURES / "compose" / "inspect.json").read_text())


EXPECTED = {  # recorded from the real project (docker-compose -p shop up -d --scale web=2; run -d worker true)
    "/shop_web_1": Compose("shop", "web", ("docker-compose.yml",), "/srv/shop", False, 1),
    "/shop_web_2": Compose("shop", "web", ("docker-compose.yml",), "/srv/shop", False, 2),
    "/shop_worker_1": Compose("shop", "worker", ("docker-compose.yml",), "/srv/shop", False, 1),
}


def test_recorded_inspects_through_the_boundary():
    seen = {}
    for item in recorded():
        record, _ = fixture_record({"inspect": item})
        seen[record.inspect.Name] = observation_from_record(record).container.compose
    run = [name for name in seen if name.startswith("/shop_worker_run_")]
    assert len(run) == 1 and seen.pop(run[0]) == Compose("shop", "worker", ("docker-compose.yml",), "/srv/shop",
                                                         oneoff=True, number=0)
    assert seen == EXPECTED


def test_the_sparse_list_gives_the_same_record_as_the_inspect():
    raw = (FIXTURES / "compose" / "list.json").read_bytes()
    rows = _rows_from_list(decode(raw, list[schema.ListRow], "list"))
    by_inspect = {}
    for item in recorded():
        record, _ = fixture_record({"inspect": item})
        by_inspect[record.inspect.Id] = observation_from_record(record).container.compose
    assert len(rows) == 4 and {r.id: r.compose for r in rows} == by_inspect
    assert {r.project for r in rows} == {"shop"}


def test_group_keeps_worst_first_and_puts_each_project_where_its_worst_member_is():
    ordered = ["a1", "loose1", "b1", "a2", "loose2", "b2", "a3"]
    project_of = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B"}
    got = group(ordered, project_of)
    assert [(g.project, g.members) for g in got] == [("A", ("a1", "a2", "a3")), ("", ("loose1",)),
                                                     ("B", ("b1", "b2")), ("", ("loose2",))]
    assert group([], {}) == []
    assert [g.members for g in group(["x", "y"], {})] == [("x",), ("y",)]  # no project: as it was


@pytest.mark.parametrize("record, replicas, label", [
    (Compose("p", "web", number=1), 1, "web"),
    (Compose("p", "web", number=1), 2, "web #1"),
    (Compose("p", "web", number=3), 1, "web #3"),  # scaled down to its third replica
    (Compose("p", "worker", oneoff=True), 3, "worker run"),
    (Compose("p", ""), 1, "?"),
])
def test_member_label(record, replicas, label):
    assert member_label(record, replicas) == label


def report_of_recorded(catalog):
    host = host_from_record(fixture_host(fixture("control")["host"]))
    return diagnose([observation_from_record(*fixture_record({"inspect": i})) for i in recorded()], host, catalog)


def test_scan_json_gives_project_and_service_of_every_container_and_finding(catalog):
    doc = report_of_recorded(catalog)
    out = report_json(doc)
    assert {c["name"]: (c["project"], c["service"]) for c in out["containers"] if "run" not in c["name"]} == {
        "shop_web_1": ("shop", "web"), "shop_web_2": ("shop", "web"), "shop_worker_1": ("shop", "worker")}
    worker = [f for f in out["findings"] if f["container"] == "shop_worker_1"]
    assert worker and all((f["project"], f["service"]) == ("shop", "worker") for f in worker)
    assert all(f["project"] is None and f["service"] is None for f in out["findings"] if f["container_id"] is None)


def test_scan_json_says_null_for_a_loose_container(catalog):
    obs, host = observation_from_record(*fixture_record(fixture("control")["record"])), None
    host = host_from_record(fixture_host(fixture("control")["host"]))
    out = report_json(diagnose([obs], host, catalog))
    assert [(c["project"], c["service"]) for c in out["containers"]] == [(None, None)]
    assert all(f["project"] is None and f["service"] is None for f in out["findings"])


def test_scan_text_groups_by_project(catalog):
    report = report_of_recorded(catalog)
    ids = grouped_ids(report)
    assert ids[0] == "compose:shop" and len(ids) == 5  # one project line, then its four containers
    console = Console(file=StringIO(), width=120, color_system=None)
    print_scan(console, report, catalog)
    text = console.file.getvalue()
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if "▾ shop " in line)
    assert "2/4 up" in lines[head]  # how many of its containers run, of how many
    assert "CRIT" in lines[head] and "crashed" in lines[head]  # the project's worst finding, on its line
    assert "  shop_worker_1" in lines[head + 1]  # its worst member first, under it
    assert "shop_worker_1 · shop/worker" in text  # each finding names its project and service


def test_board_project_line_and_members(catalog):
    report = report_of_recorded(catalog)
    now = datetime.now(timezone.utc)
    members = []
    for obs in report.observations:
        c = obs.container
        members.append((Row(c.id, c.name, c.state, c.state, c.image_ref, c.compose), obs, report.for_container(c.id)))
    line = project_cells("shop", members, folded=False)
    assert line[0].plain == "▾ shop (4)" and line[1].plain == "2/4 up"
    assert line[4].plain.strip().startswith("CRIT") and "crashed" in line[4].plain
    assert line[5].plain == "/srv/shop/docker-compose.yml"
    assert project_cells("shop", members, folded=True)[0].plain == "▸ shop (4)"
    row, obs, found = members[0]
    assert cells(row, obs, found, now, "worker")[0].plain == "  worker"
    assert matches_filter("shop", row, found) and matches_filter("worker", row, found)
    assert not matches_filter("nothing-like-it", row, found)
    summary = "\n".join(t.plain for t in project_summary("shop", members))
    assert "working dir: /srv/shop" in summary and "shop_worker_1 (worker)" in summary


def test_a_markup_project_name_is_text_never_markup():
    hostile = Compose("[@click=app.quit]", "[bold]svc[/bold]", ("[link=http://evil.example]f[/link]",), "/x")
    row = Row("c" * 64, "evil", "exited", "Exited (1)", "img", hostile)
    line = project_cells(hostile.project, [(row, None, [])], folded=False)
    assert line[0].plain == "▾ [@click=app.quit] (1)"
    assert "[link=http://evil.example]f[/link]" in line[5].plain
    for cell in line:
        assert isinstance(cell, Text)
        assert not any("@click" in str(span.style) or "link" in str(span.style) for span in cell.spans)
    summary = project_summary(hostile.project, [(row, None, [])])
    assert "[@click=app.quit]" in summary[0].plain and "([bold]svc[/bold])" in summary[-2].plain
