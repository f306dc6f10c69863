"""The `docker run` core/fixform.py rebuilds from a loose container's typed (masked) record, run for real: the new
container's inspect equals the old one's in ports, mounts, networks, env, limits, restart policy and the rest. The
masked env value is put back only here, in the test, from what the test itself set."""
from __future__ import annotations

import shlex
import subprocess
import tempfile

import pytest

from tests.engine import PREFIX, docker, inspect
from tests.fixform_cases import SECRET, cleanup, make
from troubleshoot.core.fixform import docker_run
from troubleshoot.daemon import Daemon
from troubleshoot.scan import observe_records


def _comparable(d: dict) -> dict:
    cid = d["Id"]
    hc, cfg = d["HostConfig"], d["Config"]
    nets = {name: sorted(a for a in ep.get("Aliases") or [] if not cid.startswith(a))
            for name, ep in d["NetworkSettings"]["Networks"].items()}
    return {
        "ports": hc.get("PortBindings"),
        "mounts": sorted((m["Type"], m.get("Name") or m["Source"], m["Destination"], m["RW"]) for m in d["Mounts"]),
        "networks": nets, "network_mode": hc["NetworkMode"],
        "env": sorted(cfg["Env"] or []),
        "limits": {k: hc.get(k) for k in ("Memory", "MemorySwap", "MemoryReservation", "NanoCpus", "CpuQuota",
                                          "PidsLimit", "ShmSize", "Ulimits", "Tmpfs", "Init", "ReadonlyRootfs")},
        "restart": hc["RestartPolicy"], "log": hc["LogConfig"],
        "user": cfg["User"], "workdir": cfg["WorkingDir"], "hostname": cfg["Hostname"] if cfg["Hostname"] != cid[:12] else "",
        "labels": cfg["Labels"], "health": cfg.get("Healthcheck"), "stop_timeout": cfg.get("StopTimeout"),
        "runs": [d["Path"], *d["Args"]], "image": cfg["Image"],
    }


@pytest.mark.parametrize("case", ["full", "plain", "anon-volume"])
def test_rebuilt_docker_run_makes_the_same_container(case):
    prefix = f"{PREFIX}{case[:3]}-"
    cleanup(prefix)
    volumes: list[str] = []
    with tempfile.TemporaryDirectory() as hostdir:
        try:
            name = make(case, prefix, hostdir)
            volumes = [m["Name"] for m in inspect(name)["Mounts"] if m["Type"] == "volume" and len(m["Name"]) == 64]
            rec, secrets = next((r, s) for r, s in observe_records(Daemon().connect(), [name])
                                if r.inspect.Name == f"/{name}")
            if case == "full":
                assert SECRET in secrets and SECRET not in repr(rec.inspect.Config.Env)  # the record is masked
            shown = docker_run(rec.inspect, [], rec.image.Config if rec.image else None)
            text = "\n".join(shlex.join(a) for a in shown)
            assert SECRET not in text
            if case == "full":
                assert "DB_PASSWORD=<secret: kept from the container>" in text
            real = docker_run(rec.inspect, [], rec.image.Config if rec.image else None,
                              env_value=lambda k, v: SECRET if k == "DB_PASSWORD" else v)
            before = _comparable(inspect(name))
            docker("rm", "-f", name)  # its named volumes and networks stay, as they do for a recreate
            for argv in real:
                proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
                assert proc.returncode == 0, (shlex.join(argv), proc.stderr)
            after = _comparable(inspect(name))
            assert after == before
        finally:
            cleanup(prefix)
            if volumes:  # the anonymous volume, mounted by name into the new container: not removed with it
                docker("volume", "rm", *volumes, check=False)


def test_rebuilt_docker_run_applies_the_fix_change():
    prefix = f"{PREFIX}chg-"
    cleanup(prefix)
    with tempfile.TemporaryDirectory() as hostdir:
        try:
            name = make("full", prefix, hostdir)
            rec, _ = next((r, s) for r, s in observe_records(Daemon().connect(), [name]) if r.inspect.Name == f"/{name}")
            real = docker_run(rec.inspect, [("env", "DB_HOST=db"), ("memory", "128m"), ("shm_size", "256m")],
                              rec.image.Config if rec.image else None,
                              env_value=lambda k, v: SECRET if k == "DB_PASSWORD" else v)
            before = _comparable(inspect(name))
            docker("rm", "-f", name)
            for argv in real:
                assert subprocess.run(argv, capture_output=True, timeout=60).returncode == 0
            after = _comparable(inspect(name))
            assert after["limits"]["Memory"] == 128 * 1024 ** 2 and after["limits"]["MemorySwap"] == 128 * 1024 ** 2
            assert after["limits"]["ShmSize"] == 256 * 1024 ** 2
            assert after["env"] == sorted(before["env"] + ["DB_HOST=db"])
            for key in ("ports", "mounts", "networks", "restart", "log", "health", "runs"):
                assert after[key] == before[key], key
        finally:
            cleanup(prefix)
