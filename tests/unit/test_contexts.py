"""The docker CLI's contexts store read as `docker context ls` lists it (DOCKER_CONFIG honoured)."""
import hashlib
import json

from troubleshoot.contexts import host_specs, stored_contexts


def store(tmp_path, name: str, host: str) -> None:
    d = tmp_path / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    d.mkdir(parents=True)
    (d / "meta.json").write_text(json.dumps({"Name": name, "Endpoints": {"docker": {"Host": host}}}))


def test_contexts_named_all_and_deduplicated(tmp_path):
    env = {"DOCKER_CONFIG": str(tmp_path)}
    store(tmp_path, "b", "tcp://10.0.0.2:2375")
    store(tmp_path, "a", "unix:///run/a.sock")
    store(tmp_path, "same", "unix:///var/run/docker.sock")  # the default socket again: shown once
    (tmp_path / "contexts" / "meta" / "junk").mkdir()
    (tmp_path / "contexts" / "meta" / "junk" / "meta.json").write_text("{not json")
    assert [c.name for c in stored_contexts(env)] == ["a", "b", "same"]
    specs = host_specs(None, ["b,a"], environ=env)
    assert [(s.name, s.endpoint.url) for s in specs] == [("b", "tcp://10.0.0.2:2375"), ("a", "unix:///run/a.sock")]
    every = host_specs(None, None, all_contexts=True, environ=env)
    assert [s.name for s in every] == ["default", "a", "b"]
    missing = host_specs(["unix:///x.sock"], ["nope"], environ=env)
    assert missing[1].endpoint is None and "does not exist" in missing[1].error
    assert host_specs(None, ["default"], environ={**env, "DOCKER_HOST": "tcp://h:1"})[0].endpoint.url == "tcp://h:1"


def test_a_deeply_nested_or_huge_context_file_is_skipped_in_one_line(tmp_path, capsys):
    env = {"DOCKER_CONFIG": str(tmp_path)}
    store(tmp_path, "ok", "unix:///run/ok.sock")
    deep = tmp_path / "contexts" / "meta" / "deep"
    deep.mkdir()
    (deep / "meta.json").write_text('{"Name":"deep","Metadata":' + "[" * 200000 + "]" * 200000 + "}")
    big = tmp_path / "contexts" / "meta" / "big"
    big.mkdir()
    (big / "meta.json").write_text(json.dumps({"Name": "big", "Endpoints": {"docker": {"Host": "unix:///b.sock"}},
                                               "Metadata": {"pad": "x" * (2 << 20)}}))
    assert [c.name for c in stored_contexts(env)] == ["ok"]
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and any("deep" in e and "nested" in e for e in err) and any("big" in e for e in err), err


def test_short_host_names_for_the_host_column():
    from troubleshoot.hosts import short_names
    urls = ["unix:///var/run/docker.sock", "unix:///tmp/d2.sock", "ssh://me@build-1", "tcp://10.0.0.2:2375"]
    assert short_names([(u, u) for u in urls]) + short_names([("prod", "tcp://x:1")]) == [
        "docker.sock", "d2.sock", "build-1", "10.0.0.2", "prod"]
    same = ["unix:///var/run/docker.sock", "unix:///tmp/b/docker.sock", "tcp://h:1", "tcp://h:2"]
    assert short_names([(u, u) for u in same]) == ["run/docker.sock", "b/docker.sock", "h:1", "h:2"]


def test_a_docker_command_carries_its_host_and_runs_without_it():
    from troubleshoot.hostflag import with_host, without_host
    flag = ("-H", "unix:///tmp/d2.sock")
    shown = with_host(["docker", "logs", "--tail", "50", "web"], flag)
    assert shown == ["docker", "-H", "unix:///tmp/d2.sock", "logs", "--tail", "50", "web"]
    assert without_host(shown, flag) == ["docker", "logs", "--tail", "50", "web"]
    assert with_host(["ss", "-ltnp"], flag) == ["ss", "-ltnp"] and with_host(["docker", "ps"], ()) == ["docker", "ps"]
    assert with_host(["docker", "--context", "x", "ps"], flag) == ["docker", "--context", "x", "ps"]
