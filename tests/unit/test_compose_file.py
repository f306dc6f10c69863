"""Compose files as evidence (core/compose_file.py, core/yaml_bounded.py, probes/compose_file.py, the boundary's
compose_service_record, the compose_* detectors): hostile YAML is refused within bounds, never expanded; every shape
Compose accepts is read; secrets are masked and terminal controls cleaned before a record."""
from __future__ import annotations

import json
import os
import time

import pytest

from tests.unit.conftest import fixture, observe
from troubleshoot.boundary import compose_service_record
from troubleshoot.core import compose_file as cf
from troubleshoot.core import schema
from troubleshoot.core.diagnose import diagnose_container
from troubleshoot.core.signals import container_signals
from troubleshoot.probes import compose_file as probe

PATH = "/srv/shop/docker-compose.yml"


def _laughs(levels: int = 9, fan: int = 9) -> str:
    text = "x-a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for i in range(1, levels):
        text += f"x-a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fan) + "]\n"
    return text + "services: {web: {image: x}}\n"


HOSTILE = [  # (what, text, the reason's words)
    ("billion laughs (9 levels of 9 aliases: 387 million values)", _laughs(), "once its aliases are expanded"),
    ("quadratic blow-up: one alias used 2,000 times", "x-a: &a {k: v}\nservices:\n  web:\n    x-l: ["
     + ", ".join(["*a"] * 2000) + "]\n", "more than 1000 aliases"),
    ("an alias inside its own anchor (a cycle)", "services: &s {web: *s}\n", "names no finished node"),
    ("50,000 nested lists", "[" * 50_000 + "]" * 50_000, "nested more than 64 levels deep"),
    ("deep nested mappings", "".join(f"{'  ' * i}k{i}:\n" for i in range(200)) + "  " * 200 + "v: 1\n",
     "nested more than 64 levels deep"),
    ("60,000 values", "services:\n  web:\n    x-big: [" + ", ".join(["1"] * 60_000) + "]\n",
     "more than 50000 values"),
    ("huge file (600 KB)", "services: {web: {image: x}}\n" + "# " + "x" * 600_000 + "\n", "larger than 512 KB"),
    ("a list at the top", "- web\n- db\n", "the top level is a list, not a mapping"),
    ("a scalar at the top", "just text\n", "the top level is a str, not a mapping"),
    ("empty file", "", "empty file"),
    ("only a comment", "# nothing\n", "empty file"),
    ("not YAML", "services: {web: [unclosed\n", "not valid YAML"),
    ("a tab where YAML wants spaces", "services:\n\tweb: {}\n", "not valid YAML"),
]


@pytest.mark.parametrize("what,text,why", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_yaml_is_refused_within_bounds(what, text, why):
    start = time.monotonic()
    with pytest.raises(cf.ComposeError) as err:
        cf.load(text, PATH)
    assert why in str(err.value) and str(err.value).startswith(PATH)
    assert time.monotonic() - start < 5  # refused on the event stream: never expanded, never composed deep


def test_python_tags_are_text_never_run(tmp_path):
    marker = tmp_path / "ran"
    text = (f"services: !!python/object/apply:os.system\n  web:\n    image: !!python/object/apply:os.system "
            f"['touch {marker}']\n    environment: {{A: !!binary aGVsbG8=, B: !!python/name:os.system x}}\n")
    svc = _web(text)
    assert not marker.exists() and not svc.why
    assert svc.environment == {"A": "aGVsbG8=", "B": "x"}  # the scalars' text, as written


SERVICES_SHAPES = [  # (what, text, the service's reason)
    ("services is a list", "services: [web, db]\n", "`services` is not a mapping"),
    ("the service is a string", "services: {web: nginx}\n", "service web is a str, not a mapping"),
    ("the service is a list", "services: {web: [1, 2]}\n", "service web is a list, not a mapping"),
    ("the service is absent", "services: {db: {image: pg}}\n", f"no service web in {PATH}"),
    ("services is null", "services:\n", "`services` is not a mapping"),
]


@pytest.mark.parametrize("what,text,why", SERVICES_SHAPES, ids=[s[0] for s in SERVICES_SHAPES])
def test_services_that_are_not_mappings_say_why(what, text, why):
    top, lines = cf.load(text, PATH)
    reading = cf.service_reading([(PATH, top, lines)], "web")
    assert why in reading["why"]
    record = compose_service_record(reading, ())
    assert why in record.why and record.environment == {}


def _web(text: str, service: str = "web", files: list[tuple[str, str]] | None = None) -> schema.ComposeService:
    loaded = [(p, *cf.load(t, p)) for p, t in (files or [(PATH, text)])]
    return compose_service_record(cf.service_reading(loaded, service, "shop"), ())


READS = [  # (what, service text under `services: web:`, what the record holds)
    ("environment, list form", "environment: [A=1, B=, C]", lambda s: s.environment == {"A": "1", "B": "", "C": None}),
    ("environment, map form", "environment: {A: 1, B: true, C: null, D: 1.5}",
     lambda s: s.environment == {"A": "1", "B": "true", "C": None, "D": "1.5"}),
    ("${VAR} kept as written", "environment: {DB_URL: '${DB_URL:-postgres://db}', H: $HOST, P: '${DB_PASSWORD}'}",
     lambda s: s.environment == {"DB_URL": "${DB_URL:-postgres://db}", "H": "$HOST", "P": "${DB_PASSWORD}"}),
    ("env_file, a string, relative", "env_file: app.env", lambda s: [f.path for f in s.env_files] == ["/srv/shop/app.env"]),
    ("env_file, a list and the path form", "env_file: [./a.env, {path: ../b.env, required: false}, /etc/c.env]",
     lambda s: [f.path for f in s.env_files] == ["/srv/shop/a.env", "/srv/b.env", "/etc/c.env"]),
    ("mem_limit as a size", "mem_limit: 64m", lambda s: s.mem_limit == "64m" and "mem_limit" in s.where),
    ("mem_limit in bytes", "mem_limit: 268435456", lambda s: cf.memory_bytes(s.mem_limit) == 256 << 20),
    ("deploy memory", "deploy: {resources: {limits: {memory: 1.5g}}}",
     lambda s: s.deploy_memory == "1.5g" and cf.memory_bytes(s.deploy_memory) == 3 << 29),
    ("healthcheck, list test", "healthcheck: {test: [CMD, curl, -f, http://x/]}",
     lambda s: s.healthcheck == schema.ComposeHealthcheck(test="CMD curl -f http://x/")),
    ("healthcheck, string test", "healthcheck: {test: pg_isready}", lambda s: s.healthcheck.test == "pg_isready"),
    ("healthcheck disabled", "healthcheck: {disable: true}", lambda s: s.healthcheck.disabled),
    ("healthcheck NONE", "healthcheck: {test: [NONE]}", lambda s: s.healthcheck.disabled),
    ("no healthcheck", "image: x", lambda s: s.healthcheck is None),
    ("depends_on, list form", "depends_on: [db]",
     lambda s: [(d.service, d.condition, d.healthcheck) for d in s.depends_on] == [("db", "", "present")]),
    ("depends_on, map form, every condition",
     "depends_on: {db: {condition: service_healthy}, cache: {condition: service_started}, "
     "migrate: {condition: service_completed_successfully}, ghost: null}",
     lambda s: [(d.service, d.condition, d.healthcheck) for d in s.depends_on] == [
         ("db", "service_healthy", "present"), ("cache", "service_started", "none"),
         ("migrate", "service_completed_successfully", "disabled"), ("ghost", "service_started", "unknown")]),
    ("restart", "restart: unless-stopped", lambda s: s.restart == "unless-stopped"),
    ("logging", "logging: {driver: json-file, options: {max-size: 10m, max-file: 3}}",
     lambda s: (s.logging_driver, s.logging_options) == ("json-file", {"max-size": "10m", "max-file": "3"})),
    ("x- keys of the service", "x-team: payments\n    x-owner: {name: a}", lambda s: s.extensions == ["x-owner", "x-team"]),
    ("merge key, one mapping", "<<: *defaults\n    restart: always",
     lambda s: (s.restart, s.mem_limit, s.logging_driver) == ("always", "32m", "local")),
    ("merge key, a list of mappings", "<<: [*defaults, *more]",
     lambda s: (s.restart, s.mem_limit, s.environment) == ("on-failure", "32m", {"FROM_MORE": "1"})),
    ("lines: FILE:LINE of each key", "image: x\n    mem_limit: 8m",
     lambda s: s.where["mem_limit"] == f"{PATH}:23" and s.where["service"] == f"{PATH}:21"),
]

_DOC = """x-defaults: &defaults
  restart: on-failure
  mem_limit: 32m
  logging: {driver: local}
x-more: &more
  environment: [FROM_MORE=1]
  restart: "no"
services:
  db:
    image: pg
    healthcheck: {test: [CMD-SHELL, pg_isready]}
  cache:
    image: redis
  migrate:
    image: app
    healthcheck: {disable: true}
  extra:
    image: x
    x-note: &note {a: 1}
    labels: *note
  web:
    %s
"""


@pytest.mark.parametrize("what,body,check", READS, ids=[r[0] for r in READS])
def test_every_shape_compose_accepts_is_read(what, body, check):
    svc = _web(_DOC % body)
    assert not svc.why, svc.why
    assert check(svc), svc


def test_several_files_merge_as_compose_merges_them():
    base = "services:\n  web:\n    environment: {A: '1', B: '2'}\n    env_file: a.env\n    mem_limit: 64m\n" \
           "    depends_on: [db]\n  db: {image: pg}\n"
    override = "services:\n  web:\n    environment: {B: '3'}\n    env_file: b.env\n    mem_limit: 128m\n" \
               "    depends_on: {db: {condition: service_healthy}}\n  db:\n    healthcheck: {test: pg_isready}\n"
    svc = _web("", files=[(PATH, base), ("/srv/shop/docker-compose.override.yml", override)])
    assert svc.environment == {"A": "1", "B": "3"}
    assert [f.path for f in svc.env_files] == ["/srv/shop/a.env", "/srv/shop/b.env"]
    assert svc.mem_limit == "128m" and svc.where["mem_limit"] == "/srv/shop/docker-compose.override.yml:5"
    assert [(d.condition, d.healthcheck) for d in svc.depends_on] == [("service_healthy", "present")]
    assert svc.files == [PATH, "/srv/shop/docker-compose.override.yml"]


def test_a_version_1_file_has_its_services_at_the_top():
    svc = _web("web:\n  image: x\n  mem_limit: 16m\n")
    assert svc.mem_limit == "16m" and not svc.why


SECRETS = [  # (what, environment YAML, the raw value that must not be in the record, what the key then holds)
    ("by name, list form", "[DB_PASSWORD=hunter2-compose-1]", "hunter2-compose-1", "DB_PASSWORD"),
    ("by name, map form", "{API_SECRET: s3cr3t-value-22}", "s3cr3t-value-22", "API_SECRET"),
    ("by shape (a GitHub token under a plain name)", "{GREETING: ghp_0123456789abcdefghijABCDEFGHIJ012345}",
     "ghp_0123456789abcdefghijABCDEFGHIJ012345", "GREETING"),
    ("a password in a URL", "{DATABASE_URL: 'postgres://app:pw-in-url-77@db:5432/app'}", "pw-in-url-77",
     "DATABASE_URL"),
]


@pytest.mark.parametrize("what,env,raw,key", SECRETS, ids=[s[0] for s in SECRETS])
def test_secrets_in_environment_are_masked_in_the_record(what, env, raw, key):
    svc = _web(f"services:\n  web:\n    environment: {env}\n    environment_ref: x\n")
    stored = json.dumps(schema.to_builtins(svc))
    assert raw not in stored and key in svc.environment and "****" in svc.environment[key]


def test_references_stay_and_the_containers_own_secret_is_masked_everywhere():
    text = ("services:\n  web:\n    environment: {DB_PASSWORD: '${DB_PASSWORD}'}\n"
            "    healthcheck: {test: [CMD-SHELL, 'mysqladmin ping -uroot -ptopsecret-own-1', --password=pw-flag-9]}\n"
            "    logging: {driver: splunk, options: {splunk-token: tok-log-55, splunk-url: 'https://x'}}\n")
    top, lines = cf.load(text, PATH)
    svc = compose_service_record(cf.service_reading([(PATH, top, lines)], "web"), ("topsecret-own-1",))
    stored = json.dumps(schema.to_builtins(svc))
    assert svc.environment["DB_PASSWORD"] == "${DB_PASSWORD}"  # a reference, not a secret
    for raw in ("topsecret-own-1", "pw-flag-9", "tok-log-55"):
        assert raw not in stored, raw
    assert svc.logging_options["splunk-url"] == "https://x"


MARKUP = [  # names and values with terminal controls and Rich markup: cleaned, one line, markup kept as text
    ("ESC in an env key", 'environment: {"\\e[2JEVIL": "x"}', lambda s: all("\x1b" not in k for k in s.environment)),
    ("ESC and newline in a value", 'environment: {A: "red\\e[31m\\nline2"}',
     lambda s: "\x1b" not in s.environment["A"] and "\n" not in s.environment["A"]),
    ("OSC 52 in a healthcheck", 'healthcheck: {test: "\\e]52;c;ZXZpbA==\\a curl x"}',
     lambda s: "\x1b" not in s.healthcheck.test and "\x07" not in s.healthcheck.test),
    ("bidi marks in a dependency", 'depends_on: ["d\\u202eb"]', lambda s: "\u202e" not in s.depends_on[0].service),
    ("Rich markup in a name", 'depends_on: ["[bold red]db[/]"]', lambda s: s.depends_on[0].service == "[bold red]db[/]"),
]


@pytest.mark.parametrize("what,body,check", MARKUP, ids=[m[0] for m in MARKUP])
def test_markup_and_escape_sequences_are_cleaned(what, body, check):
    svc = _web(f"services:\n  web:\n    {body}\n")
    assert check(svc), svc


@pytest.mark.parametrize("text,size", [("8m", 8 << 20), ("8M", 8 << 20), ("512k", 512 << 10), ("1g", 1 << 30),
                                       ("1gb", 1 << 30), ("2GiB", 2 << 30), ("100", 100), ("100b", 100),
                                       ("1.5g", 3 << 29), ("lots", None), ("", None), ("8 m", 8 << 20)])
def test_memory_sizes_as_docker_reads_them(text, size):
    assert cf.memory_bytes(text) == size


@pytest.mark.parametrize("labels,paths", [
    ({cf.CONFIG_FILES: "/a/docker-compose.yml,/a/override.yml"}, ["/a/docker-compose.yml", "/a/override.yml"]),
    ({cf.CONFIG_FILES: "docker-compose.yml", cf.WORKING_DIR: "/srv/p"}, ["/srv/p/docker-compose.yml"]),
    ({cf.CONFIG_FILES: "docker-compose.yml"}, []),  # relative, no working dir: nowhere to read
    ({cf.CONFIG_FILES: "/a/x.yml, /a/x.yml ,"}, ["/a/x.yml"]),
    ({}, []),
])
def test_config_paths_from_the_labels(labels, paths):
    assert cf.config_paths(labels) == paths


# -- the probe: regular files only, bounded -----------------------------------------------------------------------

def _inspect(labels: dict[str, str]) -> schema.ContainerInspect:
    return schema.ContainerInspect(Id="c" * 64, Name="/web", State=schema.ContainerState(), Config=schema.ContainerConfig(Labels=labels))


def _labels(path: str) -> dict[str, str]:
    return {cf.CONFIG_FILES: path, cf.SERVICE: "web", cf.PROJECT: "shop"}


def test_the_probe_reads_the_service_and_its_env_file_names_only(tmp_path):
    (tmp_path / "app.env").write_text("LOG_LEVEL=info\nDB_PASSWORD=env-file-secret-3\n")
    path = tmp_path / "compose.yaml"
    path.write_text("services:\n  web:\n    env_file: app.env\n    mem_limit: 8m\n")
    reading = probe.probe(_inspect(_labels(str(path))))
    assert reading["env_files"] == [{"path": str(tmp_path / "app.env"), "keys": ["LOG_LEVEL", "DB_PASSWORD"]}]
    assert "env-file-secret-3" not in json.dumps(reading)  # values are never kept
    assert probe.wanted(_inspect(_labels(str(path))), local=True)
    assert not probe.wanted(_inspect(_labels(str(path))), local=False)  # a remote daemon's paths are not here


def test_a_projects_file_is_parsed_once_for_its_members_and_again_once_edited(tmp_path, monkeypatch):
    parses = []
    real = cf.load
    monkeypatch.setattr(cf, "load", lambda text, path: parses.append(path) or real(text, path))
    path = tmp_path / "compose.yaml"
    path.write_text("services:\n  web:\n    mem_limit: 8m\n  worker:\n    mem_limit: 16m\n")
    web = probe.probe(_inspect(_labels(str(path))))
    worker = probe.probe(_inspect({**_labels(str(path)), cf.SERVICE: "worker"}))
    assert parses == [str(path)]  # one parse for both members
    assert (web["service"], worker["service"]) == ("web", "worker")
    assert web != worker  # each its own service's reading from the shared parse
    path.write_text("services:\n  web:\n    mem_limit: 32m\n")  # edited: parsed anew, read as it is now
    again = probe.probe(_inspect(_labels(str(path))))
    assert parses == [str(path), str(path)]
    assert again != web
    assert probe.probe(_inspect(_labels(str(path)))) == again and len(parses) == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("services: [\n")  # a refusal is not kept: said for each member
    assert probe.probe(_inspect(_labels(str(bad))))["why"] == probe.probe(_inspect(_labels(str(bad))))["why"]
    assert parses.count(str(bad)) == 2


def test_the_probe_reads_no_fifo_no_symlink_no_huge_file(tmp_path):
    fifo = tmp_path / "fifo.yml"
    os.mkfifo(fifo)
    assert "is not a regular file" in probe.probe(_inspect(_labels(str(fifo))))["why"]
    real = tmp_path / "real.yml"
    real.write_text("services: {web: {image: x}}\n")
    link = tmp_path / "link.yml"
    link.symlink_to(real)
    assert "cannot read" in probe.probe(_inspect(_labels(str(link))))["why"]
    big = tmp_path / "big.yml"
    big.write_bytes(b"# " + b"x" * (cf.MAX_BYTES + 10))
    assert "larger than 512 KB" in probe.probe(_inspect(_labels(str(big))))["why"]
    assert "cannot read" in probe.probe(_inspect(_labels(str(tmp_path / "gone.yml"))))["why"]
    binary = tmp_path / "bin.yml"
    binary.write_bytes(b"services: \xff\xfe\n")
    assert "not UTF-8" in probe.probe(_inspect(_labels(str(binary))))["why"]
    env_fifo = tmp_path / "e.env"
    os.mkfifo(env_fifo)
    good = tmp_path / "good.yml"
    good.write_text("services: {web: {env_file: e.env}}\n")
    assert probe.probe(_inspect(_labels(str(good))))["env_files"][0]["why"].endswith("is not a regular file")


# -- the detectors, on recorded fixtures with a Compose service beside them ------------------------------------------

def _with_service(name: str, service: dict, dotenv: dict | None = None):
    def mutate(rec):
        rec["compose_service"] = service
        if dotenv is not None:
            rec["compose_env"] = {"path": "/srv/shop/.env", "values": dotenv}
    return observe(fixture(name), mutate)


def test_missing_env_names_the_service_its_files_and_the_dotenv(catalog):
    obs, host = observe(fixture("missing-env"))
    missing = container_signals(obs, host)["missing_env"]
    assert missing
    var = missing[0]
    service = {"project": "shop", "service": "api", "files": [PATH], "environment": {"APP_PORT": "3000"},
               "env_files": [{"path": "/srv/shop/app.env", "keys": ["LOG_LEVEL"]}],
               "where": {"service": f"{PATH}:3", "environment": f"{PATH}:5"}}
    obs, host = _with_service("missing-env", service, {var: "db.internal"})
    found = diagnose_container(obs, host, catalog)[0]
    assert found.playbook_id == "missing-env"
    line = next(e for e in found.evidence if e.startswith("compose file: "))
    assert f"{var} is not in service api's environment ({PATH}:5) nor in its env_file /srv/shop/app.env" in line
    assert "the project's /srv/shop/.env has it" in line
    # set in the env_file: the container predates it
    service["env_files"][0]["keys"].append(var)
    obs, host = _with_service("missing-env", service)
    found = diagnose_container(obs, host, catalog)[0]
    assert any("/srv/shop/app.env (env_file of service api" in e and "created before" in e for e in found.evidence)
    # no Compose service read: no such line
    obs, host = observe(fixture("missing-env"))
    assert not any(e.startswith("compose file") for e in diagnose_container(obs, host, catalog)[0].evidence)


def test_oom_names_the_key_only_when_it_is_the_limit_it_was_killed_at(catalog):
    obs, host = observe(fixture("oom-killed"))
    limit = obs.container.memory_limit
    assert limit > 0
    for key, field in (("mem_limit", "mem_limit"), ("deploy.resources.limits.memory", "deploy_memory")):
        service = {"service": "cache", "files": [PATH], field: f"{limit // 1024}k", "where": {key: f"{PATH}:9"}}
        obs, host = _with_service("oom-killed", service)
        signals = container_signals(obs, host)
        assert signals["compose_memory_limit"] == (f"{PATH}:9 service cache: `{key}: {limit // 1024}k` is the "
                                                   f"{limit / (1 << 20):g} MiB limit it was killed at; raise it there")
        found = diagnose_container(obs, host, catalog)[0]
        assert found.playbook_id == "oom-killed" and any(e.startswith("compose file=") for e in found.evidence)
    service = {"service": "cache", "files": [PATH], "mem_limit": "1g", "where": {"mem_limit": f"{PATH}:9"}}
    obs, host = _with_service("oom-killed", service)
    assert "not recreated since the file changed" in container_signals(obs, host)["compose_memory_limit"]
    obs, host = _with_service("missing-env", service)  # not OOM-killed: nothing said
    assert container_signals(obs, host)["compose_memory_limit"] == ""


def test_depends_on_without_health_is_evidence_of_dependency_not_ready(catalog):
    service = {"service": "web", "files": [PATH], "where": {"depends_on": f"{PATH}:12"},
               "depends_on": [{"service": "db", "healthcheck": "none"},
                              {"service": "cache", "condition": "service_started", "healthcheck": "present"},
                              {"service": "ok", "condition": "service_healthy", "healthcheck": "present"},
                              {"service": "job", "condition": "service_completed_successfully"}]}
    obs, host = _with_service("dependency-not-ready", service)
    lines = container_signals(obs, host)["compose_depends_on"]
    assert lines == [
        f"{PATH}:12 service web: depends_on db (list form: waits for its start only); db has no healthcheck; add "
        "`depends_on: {db: {condition: service_healthy}}` and a `healthcheck:` on db",
        f"{PATH}:12 service web: depends_on cache with condition: service_started; cache has a healthcheck; add "
        "`depends_on: {cache: {condition: service_healthy}}`"]
    found = diagnose_container(obs, host, catalog)[0]
    assert found.playbook_id == "dependency-not-ready"
    assert any("depends_on db (list form" in e for e in found.evidence)
    assert any("condition: service_healthy" in p for p in catalog.get("dependency-not-ready").prevent)


def test_a_service_the_files_could_not_give_says_nothing():
    for name in ("missing-env", "oom-killed", "dependency-not-ready"):
        obs, host = _with_service(name, {"service": "web", "why": f"{PATH}:1: nested more than 64 levels deep"})
        signals = container_signals(obs, host)
        assert (signals["compose_env_missing"], signals["compose_depends_on"], signals["compose_memory_limit"]) == \
               ([], [], "")
