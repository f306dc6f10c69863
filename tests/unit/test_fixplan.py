"""A recreate fix keeps everything the container had and changes one thing (core/fixplan.py), on an inspect document
recorded from the engine (tests/fixtures/raw/inspect.json: env with a secret, a read-only bind, an anonymous
volume, a tmpfs, a published port, a user-defined network with an alias, restart on-failure:3, 64 MB with no swap,
a health check, nofile 32, a label)."""
import json
from pathlib import Path

import pytest

from troubleshoot.core.fixplan import PlanError, check_changes, create_body, fix_script

RAW = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "raw" / "inspect.json").read_text())
IMAGE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "raw" / "image.json").read_text())["Config"]
MB = 1024 * 1024


def body(*changes, raw=RAW, image=None):
    return create_body(raw, list(changes), image)


def test_nothing_is_lost():
    b = body()
    c, h = b.create, b.create["HostConfig"]
    assert c["Env"] == RAW["Config"]["Env"] and "DB_PASSWORD=s3cret-raw-fixture" in c["Env"]  # daemon to daemon
    assert c["Cmd"] == ["sleep", "86400"] and c["Labels"]["team"] == "orders"
    assert c["Healthcheck"]["Test"][0] == "CMD-SHELL"
    assert h["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert h["Memory"] == 64 * MB and h["MemorySwap"] == 64 * MB
    assert h["PortBindings"] == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18999"}]}
    assert "/tmp/rawsrc:/conf:ro" in h["Binds"] and h["Tmpfs"] == {"/cache": "size=1m"}
    anon = next(m for m in RAW["Mounts"] if m["Destination"] == "/data")
    assert f"{anon['Name']}:/data" in h["Binds"]  # the anonymous volume's data, by name
    assert h["Ulimits"] == [{"Name": "nofile", "Hard": 32, "Soft": 32}]
    assert b.create["NetworkingConfig"] == {"EndpointsConfig": {"tfr-net": {"Aliases": ["api"]}}}  # no short id
    assert "Hostname" not in c  # the default (its short id) is not carried over


def test_one_change_each():
    assert body(("shm_size", "64m")).create["HostConfig"]["ShmSize"] == 64 * MB
    h = body(("memory", "256m")).create["HostConfig"]
    assert (h["Memory"], h["MemorySwap"]) == (256 * MB, 256 * MB)  # no swap stays no swap
    assert body(("tmpfs_size", "/cache=64m")).create["HostConfig"]["Tmpfs"] == {"/cache": "size=64m"}
    env = body(("env", "APP_PORT=8080")).create["Env"]
    assert "APP_PORT=8080" in env and "APP_PORT=3000" not in env
    assert body(("container_port", "80=9090")).create["HostConfig"]["PortBindings"] == {
        "9090/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18999"}]}
    assert body(("host_port", "18999=19000")).create["HostConfig"]["PortBindings"]["80/tcp"][0]["HostPort"] == "19000"
    assert "/tmp/rawsrc:/conf:ro" not in (body(("unbind", "/conf")).create["HostConfig"]["Binds"] or [])
    assert body(("init", "true")).create["HostConfig"]["Init"] is True
    assert body(("nofile", "65536:65536")).create["HostConfig"]["Ulimits"] == [
        {"Name": "nofile", "Soft": 65536, "Hard": 65536}]
    assert body(("pids", "256")).create["HostConfig"]["PidsLimit"] == 256
    assert body(("cpus", "1.5")).create["HostConfig"]["NanoCpus"] == 1_500_000_000
    assert body(("command", "httpd -f -p 8080")).create["Cmd"] == ["httpd", "-f", "-p", "8080"]
    assert body(("health_cmd", "kill -0 1")).create["Healthcheck"]["Test"] == ["CMD-SHELL", "kill -0 1"]
    logs = body(("log_max_size", "10m")).create["HostConfig"]["LogConfig"]
    assert logs == {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}}
    assert "vol:/state" in body(("volume", "vol:/state")).create["HostConfig"]["Binds"]
    assert body(("network", "other")).connect == (("other", {}),)
    assert body(("network", "tfr-net")).connect == ()  # already on it


def test_a_new_image_brings_its_own_defaults():
    b = body(("image", "app:2"), image={**IMAGE, "Cmd": ["sleep", "86400"]})
    assert b.create["Image"] == "app:2" and "Cmd" not in b.create  # it was the old image's: the new one's applies
    assert "DB_PASSWORD=s3cret-raw-fixture" in b.create["Env"]  # given to the container: kept
    assert not any(e.startswith("PATH=") for e in b.create["Env"] or [])  # the old image's: dropped


@pytest.mark.parametrize("change, why", [
    (("memory", "4m"), "under 6 MB"),
    (("tmpfs_size", "/nowhere=64m"), "no tmpfs is mounted on /nowhere"),
    (("unbind", "/etc/x"), "no bind mount onto /etc/x"),
    (("container_port", "8080=9090"), "not published"),
    (("host_port", "1=2"), "not published"),
    (("command", "'"), "cannot be split"),
])
def test_a_change_that_cannot_be_made_says_why(change, why):
    with pytest.raises(PlanError, match=why):
        body(change)


def test_values_are_checked_before_anything_is_asked():
    with pytest.raises(PlanError):
        check_changes([("shm_size", "lots")])
    with pytest.raises(PlanError):
        check_changes([("env", "NOVALUE")])
    check_changes([("shm_size", "64m"), ("env", "A=b"), ("cpus", "2")])


def test_the_script_fix():
    new, notes = fix_script(b"#!/bin/sh\r\necho hi\r\n", lambda p: True)
    assert new == b"#!/bin/sh\necho hi\n" and "2 carriage returns" in notes[0]
    new, notes = fix_script(b"#!/bin/bash\necho hi\n", lambda p: p == "/bin/sh")
    assert new == b"#!/bin/sh\necho hi\n" and "/bin/bash is not in the image" in notes[0]
    with pytest.raises(PlanError, match="nothing to fix"):
        fix_script(b"#!/bin/sh\necho hi\n", lambda p: True)
