"""Resources: cgroup v1/v2 parsing on recorded file contents, the local and remote probes on fakes, and detection on
the scenarios recorded from the engine (tests/record_fixtures.py). Table-driven: a row per layout, file, framework."""
from __future__ import annotations

import json
import os

import pytest

from tests.unit.conftest import fixture, observe
from troubleshoot.boundary import convert, read_snapshot_bytes
from troubleshoot.core import schema
from troubleshoot.core.diagnose import diagnose_container
from troubleshoot.core.signals import container_signals
from troubleshoot.probes import resources as probe

CID = "4f72ec72f3d60705e1145d64db808857d8944dc23a2741330f00a774d6c39eec"

# /proc/<pid>/cgroup as each layout writes it
V1 = "\n".join(f"{n}:{c}:/docker/{CID}" for n, c in [(9, "name=systemd"), (8, "pids"), (7, "blkio"), (4, "memory"),
                                                     (2, "cpuacct"), (1, "cpu")]) + f"\n0::/docker/{CID}\n"
V2_SYSTEMD = f"0::/system.slice/docker-{CID}.scope\n"
V2_CGROUPFS = f"0::/docker/{CID}\n"
V2_NAMESPACED = "0::/\n"  # read from inside a cgroup namespace: the path says nothing


@pytest.mark.parametrize("text, version, path", [
    (V1, 1, f"/docker/{CID}"),
    (V2_SYSTEMD, 2, f"/system.slice/docker-{CID}.scope"),
    (V2_CGROUPFS, 2, f"/docker/{CID}"),
    (V2_NAMESPACED, 2, "/"),
    ("", 0, None),
])
def test_proc_cgroup_layouts(text, version, path):
    got_version, paths = probe.parse_proc_cgroup(text)
    assert got_version == version
    if path is not None:
        assert paths.get("memory" if version == 1 else "") == path


# files of one cgroup, recorded: v1 from this host's engine (cgroupfs driver), v2 as a v2 kernel writes them
V1_FILES = {
    f"/cg/memory/docker/{CID}/memory.usage_in_bytes": "38400000\n",
    f"/cg/memory/docker/{CID}/memory.limit_in_bytes": "41943040\n",
    f"/cg/memory/docker/{CID}/memory.max_usage_in_bytes": "41600000\n",
    f"/cg/memory/docker/{CID}/memory.failcnt": "3\n",
    f"/cg/memory/docker/{CID}/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
    f"/cg/memory/docker/{CID}/memory.stat": "cache 1000\ninactive_file 4096\ntotal_inactive_file 8192\n",
    f"/cg/cpu/docker/{CID}/cpu.stat": "nr_periods 351\nnr_throttled 222\nthrottled_time 15600000000\nnr_bursts 0\n",
    f"/cg/cpu/docker/{CID}/cpu.cfs_quota_us": "10000\n",
    f"/cg/cpu/docker/{CID}/cpu.cfs_period_us": "100000\n",
    f"/cg/pids/docker/{CID}/pids.current": "7\n",
    f"/cg/pids/docker/{CID}/pids.max": "8\n",
    f"/cg/pids/docker/{CID}/pids.events": "max 281\n",
}
V2_DIR = f"/cg/system.slice/docker-{CID}.scope"
V2_FILES = {
    f"{V2_DIR}/memory.current": "38400000\n",
    f"{V2_DIR}/memory.max": "41943040\n",
    f"{V2_DIR}/memory.peak": "41600000\n",
    f"{V2_DIR}/memory.events": "low 0\nhigh 0\nmax 3\noom 2\noom_kill 2\noom_group_kill 0\n",
    f"{V2_DIR}/memory.stat": "anon 36000000\nfile 2400000\ninactive_file 8192\nactive_file 0\n",
    f"{V2_DIR}/cpu.stat": "usage_usec 15000000\nuser_usec 1\nsystem_usec 1\nnr_periods 351\nnr_throttled 222\n"
                          "throttled_usec 15600000\nnr_bursts 0\nburst_usec 0\n",
    f"{V2_DIR}/cpu.max": "10000 100000\n",
    f"{V2_DIR}/pids.current": "7\n",
    f"{V2_DIR}/pids.max": "8\n",
    f"{V2_DIR}/pids.events": "max 281\n",
}
EXPECTED = {"memory_usage": 38400000 - 8192, "memory_limit": 41943040, "memory_peak": 41600000, "memory_failcnt": 3,
            "oom_kills": 2, "cpu_periods": 351, "cpu_throttled": 222, "cpu_throttled_usec": 15600000,
            "cpu_quota_usec": 10000, "cpu_period_usec": 100000, "pids_current": 7, "pids_max": 8,
            "pids_limit_hit": 281}


@pytest.mark.parametrize("version, files, paths", [
    (1, V1_FILES, probe.parse_proc_cgroup(V1)[1]),
    (2, V2_FILES, probe.parse_proc_cgroup(V2_SYSTEMD)[1]),
])
def test_cgroup_readings_both_layouts(version, files, paths):
    assert probe.cgroup_readings(version, files.get, paths, root="/cg") == EXPECTED


@pytest.mark.parametrize("version, files, paths", [
    (1, {**V1_FILES, f"/cg/memory/docker/{CID}/memory.limit_in_bytes": "9223372036854771712\n",
         f"/cg/cpu/docker/{CID}/cpu.cfs_quota_us": "-1\n", f"/cg/pids/docker/{CID}/pids.max": "max\n"},
     probe.parse_proc_cgroup(V1)[1]),
    (2, {**V2_FILES, f"{V2_DIR}/memory.max": "max\n", f"{V2_DIR}/cpu.max": "max 100000\n",
         f"{V2_DIR}/pids.max": "max\n"}, probe.parse_proc_cgroup(V2_SYSTEMD)[1]),
])
def test_no_limit_is_none_never_a_huge_number(version, files, paths):
    got = probe.cgroup_readings(version, files.get, paths, root="/cg")
    assert got["memory_limit"] is None and got["cpu_quota_usec"] is None and got["pids_max"] is None


def test_v2_without_memory_peak_or_events_leaves_them_unknown():
    files = {k: v for k, v in V2_FILES.items() if not k.endswith(("memory.peak", "memory.events"))}
    got = probe.cgroup_readings(2, files.get, probe.parse_proc_cgroup(V2_SYSTEMD)[1], root="/cg")
    assert got["memory_peak"] is None and "oom_kills" not in got


@pytest.mark.parametrize("text, expected", [
    ("25038 (sleep) S 25016 25038 25038 0 -1 4194560 972", (25038, "S", "sleep", 25016)),
    ("7 (my app) Z 1 7 7", (7, "Z", "my app", 1)),
    ("8 (a) b) c) R 2 8", (8, "R", "a) b) c", 2)),  # a name may hold ") "
    ("garbage", None),
    ("", None),
])
def test_proc_stat(text, expected):
    got = probe.parse_stat(text)
    assert (None if got is None else (got.pid, got.state, got.name, got.ppid)) == expected


@pytest.mark.parametrize("text, soft", [
    ("Limit                     Soft Limit           Hard Limit           Units     \n"
     "Max open files            32                   32                   files     \n", 32),
    ("Max open files            unlimited            unlimited            files     \n", None),
    ("", None),
])
def test_proc_limits_nofile(text, soft):
    assert probe.parse_nofile(text) == soft


def _inspect(**state) -> schema.ContainerInspect:
    raw = {"Id": CID, "Name": "/svc", "Config": {}, "LogPath": "",
           "State": {"Status": "running", "Running": True, "Pid": 100, **state},
           "HostConfig": {"Memory": 41943040, "LogConfig": {"Type": "json-file", "Config": {}}}}
    return convert(raw, schema.ContainerInspect, "inspect")


def _fake_host(tmp_path, cgroup_text: str, children: str = "101 102 103") -> tuple[str, str]:
    """A /proc and a v2 cgroup tree: PID 100 (`app`, 40 fds of 64), children 101-103 zombies, 104 alive."""
    proc, cg = tmp_path / "proc", tmp_path / "cg"
    scope = cg / f"system.slice/docker-{CID}.scope"
    scope.mkdir(parents=True)
    for name, text in V2_FILES.items():
        (scope / name.rsplit("/", 1)[1]).write_text(text)
    (scope / "cgroup.procs").write_text("100\n104\n")
    procs = {100: ("app", "S", 1), 101: ("worker", "Z", 100), 102: ("worker", "Z", 100), 103: ("worker", "Z", 100),
             104: ("helper", "S", 100)}
    for pid, (name, state, ppid) in procs.items():
        d = proc / str(pid)
        (d / "task" / str(pid)).mkdir(parents=True)
        (d / "stat").write_text(f"{pid} ({name}) {state} {ppid} 1 1 0")
        (d / "task" / str(pid) / "children").write_text(children if pid == 100 else "")
        (d / "limits").write_text("Max open files            64                   64                   files\n")
        (d / "fd").mkdir()
        for i in range(40 if pid == 100 else 3 if state != "Z" else 0):
            os.symlink("/dev/null", d / "fd" / str(i))
    (proc / "100" / "cgroup").write_text(cgroup_text)
    return str(proc), str(cg)


def test_local_probe_reads_usage_processes_zombies_and_fds(tmp_path):
    proc, cg = _fake_host(tmp_path, V2_SYSTEMD)
    raw = probe.probe_local(_inspect(), proc=proc, cgroup_root=cg)
    res = convert(raw, schema.Resources, "resources")
    assert res.source == f"cgroup v2 /system.slice/docker-{CID}.scope" and res.unavailable == []
    assert (res.memory_usage, res.pids_current, res.pids_max, res.oom_kills) == (38400000 - 8192, 7, 8, 2)
    assert sorted((p.pid, p.state) for p in res.processes) == [(100, "S"), (101, "Z"), (102, "Z"), (103, "Z"),
                                                               (104, "S")]
    assert (res.pid1_name, res.fd_count, res.fd_limit, res.fd_process) == ("app", 40, 64, "pid 100 (app)")


@pytest.mark.parametrize("cgroup_text, why", [
    ("0::/system.slice/docker-0000000000000000.scope\n", "is not this container's process"),  # another PID namespace
    (None, "not readable here"),
])
def test_local_probe_says_why_it_could_not_read(tmp_path, cgroup_text, why):
    proc, cg = _fake_host(tmp_path, cgroup_text or "")
    if cgroup_text is None:
        os.remove(os.path.join(proc, "100", "cgroup"))
    res = convert(probe.probe_local(_inspect(), proc=proc, cgroup_root=cg), schema.Resources, "r")
    assert res.memory_usage is None and res.processes == [] and any(why in u for u in res.unavailable)


class _FakeDaemon:
    def __init__(self, stats: dict | None):
        self.stats, self.asked = stats, 0

    def stats_once(self, cid):
        self.asked += 1
        return convert(self.stats, schema.Stats, "stats") if self.stats is not None else None


STATS = {"memory_stats": {"usage": 38400000, "limit": 41943040, "max_usage": 41600000, "failcnt": 3,
                          "stats": {"total_inactive_file": 8192}},
         "cpu_stats": {"throttling_data": {"periods": 351, "throttled_periods": 222, "throttled_time": 15600000000}},
         "pids_stats": {"current": 7, "limit": 8}}


@pytest.mark.parametrize("api, memory, asked, values, why", [
    ("1.41", 41943040, 1, {"memory_usage": 38400000 - 8192, "memory_limit": 41943040, "pids_current": 7,
                           "pids_max": 8, "cpu_throttled": 222}, "need the daemon on this machine"),
    ("1.40", 41943040, 0, {"memory_usage": None, "pids_current": None}, "older than 1.41"),
    ("1.43", 0, 0, {"memory_usage": None}, "no memory, CPU or pids limit"),
])
def test_remote_probe_uses_one_shot_stats_only_when_it_can_and_should(api, memory, asked, values, why):
    daemon = _FakeDaemon(STATS)
    data = _inspect()
    data.HostConfig.Memory = memory
    res = convert(probe.probe_stats(daemon, data, api), schema.Resources, "r")
    assert daemon.asked == asked
    for key, value in values.items():
        assert getattr(res, key) == value, key
    assert any(why in u for u in res.unavailable)
    assert res.processes == [] and res.fd_count is None  # never guessed


# -- detection on the scenarios recorded from the engine ---------------------------------------------------------
@pytest.mark.parametrize("playbook, evidence", [
    ("unbounded-logs", ["LogPath size=", "HostConfig.LogConfig.Type=json-file", "no max-size (never rotated)=true"]),
    ("memory-near-limit", ["memory usage / limit=", "memory usage=", "HostConfig.Memory=41.9 MB"]),
    ("cpu-throttled", ["nr_throttled/nr_periods=", "cpu.stat nr_periods=", "CPU limit=0.10"]),
    ("fd-limit", ["Too many open files", "open fds=32", "Max open files=32", "process=pid "]),
    ("pids-limit", ["pids.events max=", "pids.current=7", "pids.max=8", "log: sh: can't fork"]),
    ("zombie-processes", ["zombies=10", "PID 1 is an init=false", "PID 1=sleep"]),
])
def test_recorded_resource_incident_names_its_evidence(catalog, playbook, evidence):
    obs, host = observe(fixture(playbook))
    top = diagnose_container(obs, host, catalog)[0]
    assert top.playbook_id == playbook and top.confidence == "certain"
    for part in evidence:
        assert any(part in line for line in top.evidence), (part, top.evidence)


@pytest.mark.parametrize("playbook, signal, check", [
    ("unbounded-logs", "log_file_bytes", lambda v: v >= 55_000_000),
    ("memory-near-limit", "memory_usage_percent", lambda v: 85 <= v < 100),
    ("cpu-throttled", "cpu_throttled_percent", lambda v: v >= 25),
    ("fd-limit", "open_files_percent", lambda v: v >= 90),
    ("pids-limit", "pids_percent", lambda v: v >= 85),
    ("zombie-processes", "zombie_count", lambda v: v == 10),
    ("memory-near-limit", "cgroup_oom_kills", lambda v: v == 0),  # the per-container OOM evidence oom-killed can use
    ("control", "zombie_count", lambda v: v is None),  # recorded before probes: unknown, not zero
])
def test_recorded_signal_values(playbook, signal, check):
    obs, host = observe(fixture(playbook))
    assert check(container_signals(obs, host)[signal])


@pytest.mark.parametrize("playbook, mutate, gone", [
    # raised limits: the same readings are no longer an incident
    ("memory-near-limit", lambda r: r["resources"].update(memory_limit=256 * 2 ** 20), "memory-near-limit"),
    # (no longer near its limit, a running container's logs are not read: scan.observe_records)
    ("pids-limit", lambda r: r["resources"].update(pids_max=256, pids_limit_hit=0) or r.update(logs=[]), "pids-limit"),
    ("fd-limit", lambda r: r["resources"].update(fd_limit=65536) or r.update(logs=[]), "fd-limit"),
    ("zombie-processes", lambda r: r["resources"].update(pid1_name="docker-init"), "zombie-processes"),
    ("unbounded-logs", lambda r: r["inspect"]["HostConfig"]["LogConfig"].update(Config={"max-size": "10m"}),
     "unbounded-logs"),
    # a snapshot or remote daemon with no readings: nothing is guessed
    ("cpu-throttled", lambda r: r.pop("resources"), "cpu-throttled"),
    ("zombie-processes", lambda r: r.pop("resources"), "zombie-processes"),
])
def test_fixed_or_unread_is_not_reported(catalog, playbook, mutate, gone):
    obs, host = observe(fixture(playbook), mutate)
    assert gone not in [f.playbook_id for f in diagnose_container(obs, host, catalog)]


def test_fd_errors_of_an_exited_container_are_a_likely_fd_limit(catalog):
    def exited(rec):
        rec.pop("resources")
        rec["inspect"]["State"].update(Status="exited", Running=False, Pid=0, ExitCode=1)
    obs, host = observe(fixture("fd-limit"), exited)
    top = diagnose_container(obs, host, catalog)[0]
    assert (top.playbook_id, top.confidence) == ("fd-limit", "likely")
    assert "Max open files=32" in top.evidence  # HostConfig.Ulimits still names the limit


# one row per framework: what each prints when the limit is hit
@pytest.mark.parametrize("line, signal", [
    ("Error: EMFILE: too many open files, open '/app/data/1.json'", "open_files_errors"),  # Node
    ("OSError: [Errno 24] Too many open files: '/tmp/x'", "open_files_errors"),  # Python
    ("java.io.IOException: Too many open files", "open_files_errors"),  # Java
    ("http: Accept error: accept tcp [::]:8080: accept4: too many open files; retrying in 5ms", "open_files_errors"),
    ("Errno::EMFILE: Too many open files @ rb_sysopen - /tmp/x", "open_files_errors"),  # Ruby
    ("PHP Warning:  fopen(/tmp/x): Failed to open stream: Too many open files", "open_files_errors"),  # PHP
    ("System.IO.IOException: Too many open files", "open_files_errors"),  # .NET
    ("Os { code: 24, kind: Uncategorized, message: \"Too many open files\" }", "open_files_errors"),  # Rust
    ("2026/11/24 [crit] 7#7: *1 open() \"/usr/share/nginx/html/a\" failed (24: Too many open files)",
     "open_files_errors"),  # nginx
    ("LOG:  out of file descriptors: Too many open files; release and retry", "open_files_errors"),  # PostgreSQL
    ("sh: can't fork: Resource temporarily unavailable", "fork_errors"),  # busybox
    ("bash: fork: retry: Resource temporarily unavailable", "fork_errors"),  # bash
    ("java.lang.OutOfMemoryError: unable to create native thread: possibly out of memory or process/resource limits "
     "reached", "fork_errors"),  # Java
    ("runtime/cgo: pthread_create failed: Resource temporarily unavailable", "fork_errors"),  # Go
    ("Error: spawn EAGAIN", "fork_errors"),  # Node
    ("RuntimeError: can't start new thread", "fork_errors"),  # Python
    ("thread 'main' panicked at 'failed to spawn thread: Os { code: 11, kind: WouldBlock, message: \"Resource "
     "temporarily unavailable\" }'", "fork_errors"),  # Rust
    ("2026/11/24 [alert] 1#1: fork() failed while spawning \"worker process\" (11: Resource temporarily unavailable)",
     "fork_errors"),  # nginx
    ("LOG:  could not fork new process for connection: Resource temporarily unavailable", "fork_errors"),  # PostgreSQL
])
def test_limit_messages_across_frameworks(line, signal):
    def logs(rec):
        rec["logs"] = [line]
    obs, host = observe(fixture("crashed"), logs)
    assert container_signals(obs, host)[signal] == [line]


@pytest.mark.parametrize("line", [
    "read: Resource temporarily unavailable (EAGAIN on a non-blocking socket)",
    "opened 24 files",
])
def test_unrelated_lines_are_not_limit_errors(line):
    def logs(rec):
        rec["logs"] = [line]
    obs, host = observe(fixture("crashed"), logs)
    signals = container_signals(obs, host)
    assert signals["open_files_errors"] == [] and signals["fork_errors"] == []


@pytest.mark.parametrize("playbook", ["memory-near-limit", "zombie-processes", "unbounded-logs"])
def test_a_snapshot_keeps_the_readings_and_diagnoses_the_same(catalog, playbook):
    doc = fixture(playbook)
    raw = json.dumps({"format": "troubleshoot-snapshot", "version": 1, "taken_at": "2026-11-24T00:00:00Z",
                      "host": doc["host"], "containers": [doc["record"]]}).encode()
    from troubleshoot.core.records import host_from_record, observation_from_record
    from troubleshoot.core.snapshot import FORMAT, VERSION
    raw = raw.replace(b'"troubleshoot-snapshot", "version": 1', f'"{FORMAT}", "version": {VERSION}'.encode())
    snap = read_snapshot_bytes(raw, "s.json")
    assert snap.containers[0].resources == convert(doc["record"]["resources"], schema.Resources, "r")
    found = diagnose_container(observation_from_record(snap.containers[0]), host_from_record(snap.host), catalog)
    assert found[0].playbook_id == playbook


@pytest.mark.parametrize("readings, pressure", [
    ({"fd_count": 30, "fd_limit": 32}, True),
    ({"fd_count": 10, "fd_limit": 32}, False),
    ({"pids_current": 7, "pids_max": 8}, True),
    ({"pids_current": 2, "pids_max": 8, "pids_limit_hit": 1}, True),
    ({"pids_current": 2, "pids_max": 8}, False),
    ({"memory_usage": 10, "memory_limit": 11}, False),  # memory speaks through the cgroup, not the logs
    ({}, False),
])
def test_logs_of_a_running_container_are_read_near_its_fd_or_pids_limit(readings, pressure):
    assert probe.under_pressure(convert(readings, schema.Resources, "r")) is pressure


def test_pid1_unknown_is_not_called_a_missing_init(catalog):
    def no_pid1(rec):
        rec["resources"]["pid1_name"] = ""
    obs, host = observe(fixture("zombie-processes"), no_pid1)
    signals = container_signals(obs, host)
    assert signals["pid1_is_init"] is None and signals["zombie_count"] == 10
    assert "zombie-processes" not in [f.playbook_id for f in diagnose_container(obs, host, catalog)]
