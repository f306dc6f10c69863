"""core/fixform.py: Compose or loose, the Compose fragment and command, the `docker run` rebuilt from inspect records
recorded from the real engine (tests/fixtures/fixform/, written by tests/fixform_cases.py)."""
from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import yaml

from troubleshoot.boundary import fixture_record
from troubleshoot.core.fixform import (SECRET_KEPT, ComposeTarget, changes_from_argv, compose_commands,
                                       compose_fragment, compose_target, compose_up, docker_run)
from troubleshoot.core.fixplan import PlanError
from troubleshoot.core.secrets import mask_env_value

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "fixform"


def record(case: str):
    rec, _ = fixture_record(json.loads((FIX / f"{case}.json").read_text())["record"])
    return rec


def run_text(case: str, changes=(), with_image: bool = True) -> str:
    rec = record(case)
    return "\n".join(shlex.join(a) for a in docker_run(rec.inspect, list(changes),
                                                       rec.image.Config if with_image and rec.image else None))


LABELS = {"com.docker.compose.project": "shop", "com.docker.compose.service": "web",
          "com.docker.compose.project.config_files": "/srv/shop/docker-compose.yml,/srv/shop/override.yml",
          "com.docker.compose.project.working_dir": "/srv/shop"}


@pytest.mark.parametrize("labels, want", [
    (LABELS, ComposeTarget("shop", "web", ("/srv/shop/docker-compose.yml", "/srv/shop/override.yml"), "/srv/shop")),
    ({**LABELS, "com.docker.compose.project.config_files": "compose.yaml"},
     ComposeTarget("shop", "web", ("/srv/shop/compose.yaml",), "/srv/shop")),
    ({**LABELS, "com.docker.compose.oneoff": "True"}, None),  # `compose run`: not the service's container
    ({"com.docker.compose.project": "shop"}, None),
    ({}, None),
    (None, None),
])
def test_compose_or_loose(labels, want):
    assert compose_target(labels) == want


def test_compose_command_v2_and_v1():
    t = compose_target(LABELS)
    assert t is not None and t.file == "/srv/shop/override.yml"
    assert compose_up(t) == ["docker", "compose", "-p", "shop", "-f", "/srv/shop/docker-compose.yml",
                             "-f", "/srv/shop/override.yml", "up", "-d", "web"]
    assert compose_up(t, v1=True)[0] == "docker-compose"
    assert len(compose_commands(t, have_v2=True, have_v1=True)) == 1
    both = compose_commands(t, have_v2=False, have_v1=True)
    assert both[0].startswith("docker compose -p shop") and both[1].startswith("docker-compose -p shop")


def secret(name: str, value: str) -> str:
    return mask_env_value(name, value)


@pytest.mark.parametrize("changes, want", [
    ([("env", "DB_HOST=db")], {"environment": {"DB_HOST": "db"}}),
    ([("env", "DB_PASSWORD=hunter2-long")], {"environment": {"DB_PASSWORD": "<value>"}}),  # never a masked string
    ([("env", "MODE=yes")], {"environment": {"MODE": "yes"}}),  # quoted: not YAML's boolean
    ([("memory", "256m")], {"mem_limit": "256m", "memswap_limit": "256m"}),
    ([("shm_size", "256m")], {"shm_size": "256m"}),
    ([("cpus", "2")], {"cpus": "2"}),
    ([("pids", "256")], {"pids_limit": 256}),
    ([("restart", "on-failure:5")], {"restart": "on-failure:5"}),
    ([("env_file", "./prod.env")], {"env_file": ["./prod.env"]}),
    ([("health_cmd", "wget -q -O /dev/null http://127.0.0.1:80/ || exit 1")],
     {"healthcheck": {"test": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:80/ || exit 1"], "interval": "2s",
                      "retries": 3}}),
    ([("command", "httpd -f -p 80")], {"command": ["httpd", "-f", "-p", "80"]}),
    ([("init", "true")], {"init": True}),
    ([("log_max_size", "10m")], {"logging": {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}}}),
    ([("nofile", "4096:4096")], {"ulimits": {"nofile": {"soft": 4096, "hard": 4096}}}),
    ([("image", "shop/web:1.4")], {"image": "shop/web:1.4"}),
    ([("tmpfs_size", "/run=64m")], {"tmpfs": ["/run:size=64m"]}),
])
def test_fragment_is_yaml_of_the_service(changes, want):
    t = compose_target(LABELS)
    assert t is not None
    doc = yaml.safe_load(compose_fragment(t, changes, secret))
    assert doc == {"services": {"web": want}}


def test_fragment_volume_and_network_declare_them_at_top_level():
    t = compose_target(LABELS)
    assert t is not None
    doc = yaml.safe_load(compose_fragment(t, [("volume", "web-data:/data"), ("network", "backend")], secret))
    assert doc["services"]["web"] == {"volumes": ["web-data:/data"], "networks": ["backend"]}
    assert doc["volumes"] == {"web-data": {}} and doc["networks"] == {"backend": {"external": True}}


def test_fragment_refuses_unknown_change():
    with pytest.raises(PlanError):
        compose_fragment(ComposeTarget("p", "s"), [("bogus", "1")], secret)


@pytest.mark.parametrize("argv, want", [
    ("docker update --memory 512m --memory-swap 512m web", [("memory", "512m")]),
    ("docker update --restart=no web", [("restart", "no")]),
    ("docker update --restart on-failure:5 web", [("restart", "on-failure:5")]),
    ("docker run --env-file ./prod.env shop/web:1", [("env_file", "./prod.env")]),
    ("docker run --rm -it --entrypoint sh img", None),  # a throwaway shell, not the container recreated
    ("docker update --blkio-weight 300 web", None),  # not expressible: said as it is
    ("docker start web", None),
    ("docker logs web", None),
])
def test_changes_from_argv(argv, want):
    assert changes_from_argv(shlex.split(argv)) == want


@pytest.mark.parametrize("case, changes, present, absent", [
    ("full", [], [
        "docker run -d --name rec-fx-full", "--hostname myhost", "--user 1000:1000", "--workdir /srv",
        "--label team=ops", "--stop-timeout 3", "--network rec-fx-net1", "--network-alias api",
        "--network-alias api.internal", "-p 127.0.0.1::80", "-p 81/udp", "-v rec-fx-data:/data", ":/host:ro",
        "--tmpfs /run:size=1m", f"-e 'DB_PASSWORD={SECRET_KEPT}'", "-e MODE=prod", "-e 'GREETING=hello world'",
        "--restart on-failure:3", "--memory 64m --memory-swap 64m", "--cpus 0.5", "--pids-limit 100",
        "--shm-size 128m", "--ulimit nofile=512:1024", "--init", "--log-opt max-file=2", "--log-opt max-size=5m",
        "--health-cmd 'test -d /data || exit 1'", "--health-interval 5s", "--health-retries 2",
        "--entrypoint /bin/sh tst-base:1 -c 'sleep 1000'",
        "docker network connect --alias api-two rec-fx-net2 rec-fx-full"],
     ["hunter2", "PATH=/bin", "--network-alias myhost", "aabf47159cfe", "--log-driver"]),
    ("full", [("env", "DB_HOST=db"), ("memory", "256m")],
     ["-e DB_HOST=db", "--memory 256m --memory-swap 256m"], ["--memory 64m"]),
    ("full", [("env", "MODE=staging")], ["-e MODE=staging"], ["MODE=prod"]),
    ("full", [("shm_size", "256m"), ("pids", "400"), ("restart", "no")],
     ["--shm-size 256m", "--pids-limit 400"], ["--restart", "--shm-size 128m"]),
    ("full", [("health_cmd", "true"), ("log_max_size", "10m"), ("nofile", "4096:8192")],
     ["--health-cmd true", "--health-interval 5s", "--log-opt max-size=10m", "--log-opt max-file=3",
      "--ulimit nofile=4096:8192"], ["test -d", "max-size=5m", "max-file=2"]),
    ("full", [("container_port", "80=8080")], ["-p 127.0.0.1::8080", "-p 81/udp"], ["::80 "]),
    ("full", [("unbind", "/host"), ("volume", "data2:/data")], ["-v data2:/data"], [":/host:ro", "rec-fx-data"]),
    ("full", [("network", "extra")], ["docker network connect extra rec-fx-full"], []),
    ("full", [("image", "shop/web:2"), ("command", "httpd -f")], ["--entrypoint /bin/sh shop/web:2 httpd -f"], []),
    ("full", [("env_file", "./prod.env")], ["--env-file ./prod.env"], []),
    ("plain", [], ["docker run -d --name rec-fx-plain tst-base:1 sleep 1000"], ["--restart", "--memory", "-e"]),
    ("plain", [("memory", "256m")], ["--memory 256m tst-base:1"], ["--memory-swap"]),
    ("anon-volume", [], ["--restart always", "--memory 32m tst-base:1", ":/cache"], ["--memory-swap"]),
    ("anon-volume", [("memory", "64m")], ["--memory 64m"], ["--memory-swap", "--memory 32m"]),
])
def test_docker_run_from_inspect(case, changes, present, absent):
    text = run_text(case, changes)
    for want in present:
        assert want in text, (want, text)
    for bad in absent:
        assert bad not in text, (bad, text)


def test_docker_run_without_image_config_writes_everything():
    text = run_text("plain", with_image=False)
    assert "-e PATH=/bin" in text and text.endswith("tst-base:1 sleep 1000")


def test_docker_run_is_shell_words_that_split_back():
    rec = record("full")
    argv = docker_run(rec.inspect, [("env", "NOTE=it's \"quoted\" $HOME")], rec.image.Config if rec.image else None)[0]
    assert shlex.split(shlex.join(argv)) == argv
    assert "NOTE=it's \"quoted\" $HOME" in argv


def test_docker_run_env_value_hook_is_the_only_way_to_real_values():
    rec = record("full")
    argv = docker_run(rec.inspect, [], None, env_value=lambda k, v: "REAL" if k == "DB_PASSWORD" else v)[0]
    assert "DB_PASSWORD=REAL" in argv


# -- a Compose container recorded from the lab's Compose project (docker-compose 1.29.2) ---------------------------
def compose_obs():
    from tests.unit.conftest import fixture
    from troubleshoot.boundary import fixture_host
    from troubleshoot.core.records import host_from_record, observation_from_record
    obs = observation_from_record(*fixture_record(json.loads((FIX / "compose-api.json").read_text())["record"]))
    return obs, host_from_record(fixture_host(fixture("missing-env")["host"]))


def test_compose_container_fixes_are_fragments_of_its_file(catalog):
    from troubleshoot.core.signals import container_signals
    from troubleshoot.core.suggest import suggestions
    from troubleshoot.core.incident import evidence_values
    obs, host = compose_obs()
    labels = dict(obs.container.labels)
    target = compose_target(labels)
    assert target is not None and target.service == "api" and target.file.endswith("/rec/docker-compose.yml")
    signals = container_signals(obs, host)
    values = {**evidence_values(obs, host, signals),
              **{k: s.value for k, s in suggestions(obs, host, signals).items()}}
    pb = catalog.get("missing-env")
    from troubleshoot.core.fixform import compose_fix, step_changes
    assert values["env_value"] == "orders-db"  # the .env's value, suggested for a loose recreate's dialog ...
    dotenv = tuple(obs.compose_env.values)
    got = [compose_fix(labels, step_changes(s, values), secret, obs.inspect, have_v2=False, have_v1=True,
                       dotenv=dotenv) for s in pb.fix]
    # ... but the file names it: Compose interpolates it from .env on `up`, its value is never copied
    assert got[0] is not None and got[0].fragment == ("services:\n  api:\n    environment:\n"
                                                      "      DB_HOST: ${DB_HOST}  # from the project's .env")
    assert "orders-db" not in got[0].text()
    assert got[0].argv[0] == "docker-compose" and got[0].argv[-3:] == ("up", "-d", "api")
    assert got[1] is not None and "env_file:\n      - ./prod.env" in got[1].fragment
    oom = catalog.get("oom-killed")  # `docker update --memory`: in the file; `docker start`: nothing to undo
    forms = [compose_fix(labels, step_changes(s, {**values, "memory": "256m"}), secret) for s in oom.fix]
    assert forms[0] is not None and "mem_limit: 256m" in forms[0].fragment
    assert forms[1] is None and forms[2] is None
    loose, _ = observe_loose()
    assert compose_fix(dict(loose.container.labels), [("env", "A=1")], secret) is None


def observe_loose():
    from tests.unit.conftest import fixture, observe
    return observe(fixture("missing-env"))


def test_rca_of_a_compose_container_gives_the_fragment_and_the_compose_prevention(catalog):
    from datetime import datetime, timezone
    from troubleshoot.core.diagnose import diagnose_container
    from troubleshoot.core.incident import Incident, evidence_values, opened_event, render_rca
    from troubleshoot.core.signals import container_signals
    obs, host = compose_obs()
    found = diagnose_container(obs, host, catalog)
    assert found[0].playbook_id == "missing-env"
    values = evidence_values(obs, host, container_signals(obs, host))
    rca = render_rca(Incident([opened_event(obs, found[0], found, datetime.now(timezone.utc), "test", values)]),
                     catalog, recorded=False)
    fixes = rca.split("## Fix Applied", 1)[1].split("## Preventive Actions", 1)[0]
    assert "service `api`" in fixes and "env_file:" in fixes and "up -d api" in fixes
    assert "docker run --env-file" not in fixes
    prevent = rca.split("## Preventive Actions", 1)[1].split("## Lesson", 1)[0]
    assert "docker-compose.yml" in prevent and "undone by the project's" in prevent
    loose, lhost = observe_loose()
    lfound = diagnose_container(loose, lhost, catalog)
    lrca = render_rca(Incident([opened_event(loose, lfound[0], lfound, datetime.now(timezone.utc), "t",
                                             evidence_values(loose, lhost, container_signals(loose, lhost)))]),
                      catalog, recorded=False)
    assert "docker run --env-file" in lrca and "undone by the project's" not in lrca


def _env_fragment(var: str, value: str, dotenv=(), hints=None) -> str:
    from troubleshoot.core.fixform import compose_fix
    cfix = compose_fix(LABELS, [("env", f"{var}={value}")], secret, dotenv=dotenv, hints=hints)
    assert cfix is not None
    return cfix.fragment


def test_compose_env_fragment_names_the_dotenv_variable_or_a_readable_placeholder():
    # in the project's .env: `${VAR}`, the value never in the fragment (a secret name as well)
    assert "PAYMENT_URL: ${PAYMENT_URL}" in _env_fragment("PAYMENT_URL", "https://pay.internal", ("PAYMENT_URL",))
    assert "https://pay.internal" not in _env_fragment("PAYMENT_URL", "https://pay.internal", ("PAYMENT_URL",))
    assert "DB_PASSWORD: ${DB_PASSWORD}" in _env_fragment("DB_PASSWORD", "<env_value>", ("DB_PASSWORD",))
    # not in .env: a placeholder the engineer replaces, never passed through masking
    for var, value in (("DB_PASSWORD", "<env_value>"), ("DB_PASSWORD", "hunter2hunter2"), ("API_TOKEN", "")):
        frag = _env_fragment(var, value)
        assert f'{var}: "<value>"' in frag and "****" not in frag and "hunter2" not in frag, frag
        assert yaml.safe_load(frag)["services"]["web"]["environment"][var] == "<value>"
    # a value suggested elsewhere that is no secret: given as a comment, the placeholder is what YAML reads
    frag = _env_fragment("DB_HOST", "<env_value>", hints={"DB_HOST": "orders-db"})
    assert 'DB_HOST: "<value>"  # e.g. orders-db' in frag
    assert "e.g." not in _env_fragment("DB_PASSWORD", "<env_value>", hints={"DB_PASSWORD": "hunter2"})
    assert 'HOST: "0.0.0.0"' in _env_fragment("HOST", "0.0.0.0")  # the fix's own value


def test_masking_never_eats_a_placeholder():
    assert mask_env_value("DB_PASSWORD", "<env_value>") == "<env_value>"
    assert mask_env_value("DB_PASSWORD", "<value>") == "<value>"
    assert mask_env_value("DB_PASSWORD", "hunter2") != "hunter2"
    rec = record("full")
    text = "\n".join(shlex.join(a) for a in docker_run(rec.inspect, [("env", "NEW_SECRET=<env_value>")]))
    assert "NEW_SECRET=<env_value>" in text  # for the engineer to write, not `<secret: kept ...>`


def test_a_key_already_set_in_one_file_is_changed_there_not_added_to_the_last():
    from troubleshoot.core.fixform import compose_fix
    where = {"service": "/srv/shop/docker-compose.yml:20", "mem_limit": "/srv/shop/docker-compose.yml:25"}
    cfix = compose_fix(LABELS, [("memory", "256m")], secret, set_in=where)
    assert cfix is not None and cfix.file == "/srv/shop/docker-compose.yml" and cfix.at.endswith(":25")
    assert cfix.text().startswith("/srv/shop/docker-compose.yml:25: service web's mem_limit is set here")
    assert "override.yml" not in cfix.text().splitlines()[0]
    plain = compose_fix(LABELS, [("memory", "256m")], secret)  # set nowhere: added to the last file given
    assert plain is not None and plain.file == "/srv/shop/override.yml" and plain.text().startswith(
        "/srv/shop/override.yml: add to service web")
    deploy = compose_fix(LABELS, [("memory", "256m")], secret,
                         set_in={"deploy.resources.limits.memory": "/srv/shop/override.yml:9"})
    assert deploy is not None and yaml.safe_load(deploy.fragment)["services"]["web"] == {
        "deploy": {"resources": {"limits": {"memory": "256m"}}}}


def test_the_services_new_container_after_up_is_followed():
    from datetime import datetime, timedelta, timezone
    from troubleshoot.core.compose import Compose
    from troubleshoot.core.fixform import successor
    since = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
    old = Compose("pay", "pay", number=1)
    later, before = since + timedelta(seconds=2), since - timedelta(minutes=5)
    rows = [("old", old, before), ("db", Compose("pay", "db", number=1), later),
            ("other-number", Compose("pay", "pay", number=2), later), ("oneoff", Compose("pay", "pay", oneoff=True),
                                                                       later),
            ("other-project", Compose("shop", "pay", number=1), later), ("stale", Compose("pay", "pay", number=1),
                                                                          before)]
    assert successor(old, "old", rows, since) == "old"  # `up` changed nothing: the same container, verified
    assert successor(old, "old", [r for r in rows if r[0] != "old"], since) is None  # gone, nothing new
    new = ("new", Compose("pay", "pay", number=1), later)
    assert successor(old, "old", [*rows, new], since) == "new"
    assert successor(old, "old", [new, ("newer", Compose("pay", "pay", number=1), later + timedelta(seconds=1))],
                     since) == "newer"
    assert successor(None, "old", [new], since) is None


def test_the_fragment_is_read_back_from_the_file():
    from troubleshoot.core import schema
    from troubleshoot.core.fixform import missing_in_file
    where = {"service": "/p/docker-compose.yml:10", "environment": "/p/docker-compose.yml:12",
             "mem_limit": "/p/docker-compose.yml:25"}
    svc = schema.ComposeService(project="p", service="pay", files=["/p/docker-compose.yml", "/p/override.yml"],
                                environment={"A": "1", "PAYMENT_URL": "${PAYMENT_URL}", "HOLD": "<value>",
                                             "SHELL_ONLY": None},
                                env_files=[schema.ComposeEnvFile(path="/p/prod.env", keys=["DB_PASSWORD"])],
                                mem_limit="256m", where=where)
    assert missing_in_file(svc, [("env", "PAYMENT_URL=<env_value>")]) == ""
    assert missing_in_file(svc, [("env", "DB_PASSWORD=<env_value>")]) == ""  # in an env_file with the key
    assert missing_in_file(svc, [("memory", "256m")]) == "" and missing_in_file(svc, [("memory", "268435456")]) == ""
    assert missing_in_file(svc, [("env_file", "./prod.env")]) == ""
    line = missing_in_file(svc, [("env", "NEW_VAR=<env_value>")])
    assert line and "NEW_VAR" in line and "/p/docker-compose.yml:12" in line
    assert "placeholder <value>" in (missing_in_file(svc, [("env", "HOLD=x")]) or "")
    assert "without a value" in (missing_in_file(svc, [("env", "SHELL_ONLY=x")]) or "")
    line = missing_in_file(svc, [("memory", "512m")])
    assert line == "service pay's mem_limit is 256m (/p/docker-compose.yml:25), not 512m"
    assert missing_in_file(svc, [("cpus", "2")]) is None  # not checked: the caller's fallback decides
    assert missing_in_file(schema.ComposeService(why="not read"), [("memory", "1g")]) is None
    assert missing_in_file(None, [("memory", "1g")]) is None
