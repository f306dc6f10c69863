"""What a container uses against its limits: memory, CPU throttling, pids, open files, its processes (zombies, PID 1)
and the size of its log file. Read-only, bounded, and only for the containers that need it (`needs_probe`).

On a local daemon (this machine, as root or in the docker group) everything comes from `/proc/<State.Pid>` and the
container's cgroup, found from `/proc/<pid>/cgroup` (v1: one hierarchy per controller; v2: one unified path). On a
remote daemon: the one-shot stats API (`stream=false&one-shot=true`, API 1.41: no wait for a second sample) for
memory, CPU throttling and pids, only for a container with a limit to compare against. What cannot be read is said
in `Resources.unavailable`, never guessed. The readings pass through the boundary (typed, bounded, cleaned) like
every other answer. The parsers are pure functions of a file's text, so both cgroup layouts are unit-tested on
recorded contents.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Optional, Sequence

from ..core import schema
from ..daemon import Daemon, DaemonError

MAX_READ = 64 * 1024  # any one /proc or cgroup file
MAX_PROCESSES = 256  # processes (and zombies) listed per container
MAX_FD_PROCESSES = 32  # processes whose descriptors are counted
MAX_FDS = 1 << 20  # descriptors counted per process before stopping
UNLIMITED = 1 << 62  # cgroup v1 writes "no limit" as a huge number
STATS_API = (1, 41)

Reader = Callable[[str], Optional[str]]


# -- parsers: pure functions of a file's text -----------------------------------------------------------------------

def parse_proc_cgroup(text: str) -> tuple[int, dict[str, str]]:
    """`/proc/<pid>/cgroup` as (version, {controller: path}). v1 lines are `N:memory,...:/docker/<id>`; a v2 host
    has only `0::/path` (returned under the key ""). A hybrid host (v1 controllers and an empty v2 line) is v1."""
    paths: dict[str, str] = {}
    unified = None
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":
            unified = path
            continue
        for ctrl in controllers.split(","):
            paths[ctrl.removeprefix("name=")] = path
    if any(c in paths for c in ("memory", "pids", "cpu")):
        return 1, paths
    return (2, {"": unified}) if unified is not None else (0, {})


def parse_int(text: str | None) -> int | None:
    """A one-number file; `max` (v2) or a huge v1 number is None: no limit."""
    if text is None:
        return None
    word = text.strip().split(" ")[0] if text.strip() else ""
    if word in ("", "max", "-1"):
        return None
    try:
        value = int(word)
    except ValueError:
        return None
    return None if value >= UNLIMITED or value < 0 else value


def parse_keyed(text: str | None) -> dict[str, int]:
    """`key value` lines (cpu.stat, memory.stat, memory.events, pids.events, memory.oom_control)."""
    out: dict[str, int] = {}
    for line in (text or "").splitlines():
        key, _, value = line.strip().partition(" ")
        try:
            out[key] = int(value.strip())
        except ValueError:
            continue
    return out


def parse_cpu_max(text: str | None) -> tuple[int | None, int | None]:
    """v2 `cpu.max`: `max 100000` (no quota) or `10000 100000`."""
    words = (text or "").split()
    if len(words) != 2:
        return None, None
    return parse_int(words[0]), parse_int(words[1])


def parse_nofile(text: str | None) -> int | None:
    """The soft `Max open files` of `/proc/<pid>/limits` (None: unlimited or unreadable)."""
    for line in (text or "").splitlines():
        if line.startswith("Max open files"):
            words = line[len("Max open files"):].split()
            return parse_int(words[0]) if words else None
    return None


def parse_stat(text: str | None) -> schema.ProcessState | None:
    """`/proc/<pid>/stat`: pid (name) state ppid ...; the name may hold spaces and parentheses."""
    if not text or "(" not in text or ")" not in text:
        return None
    head, _, rest = text.partition(" (")
    name, _, tail = rest.rpartition(") ")
    words = tail.split()
    try:
        return schema.ProcessState(pid=int(head), state=words[0], name=name, ppid=int(words[1]))
    except (ValueError, IndexError):
        return None


def cgroup_readings(version: int, read: Reader, paths: dict[str, str], root: str = "/sys/fs/cgroup") -> dict[str, Any]:
    """Memory, CPU and pids of one cgroup from its files (`read(path)` -> text or None)."""
    out: dict[str, Any] = {}
    if version == 2:
        base = root + paths[""]
        f = lambda name: read(f"{base}/{name}")  # noqa: E731
        stat = parse_keyed(f("memory.stat"))
        usage = parse_int(f("memory.current"))
        if usage is not None:
            out["memory_usage"] = max(0, usage - stat.get("inactive_file", 0))
        out["memory_limit"] = parse_int(f("memory.max"))
        out["memory_peak"] = parse_int(f("memory.peak"))
        events = parse_keyed(f("memory.events"))
        if events:
            out["memory_failcnt"] = events.get("max")
            out["oom_kills"] = events.get("oom_kill")
        cpu = parse_keyed(f("cpu.stat"))
        if "nr_periods" in cpu:
            out.update(cpu_periods=cpu["nr_periods"], cpu_throttled=cpu.get("nr_throttled"),
                       cpu_throttled_usec=cpu.get("throttled_usec"))
        out["cpu_quota_usec"], out["cpu_period_usec"] = parse_cpu_max(f("cpu.max"))
        out["pids_current"] = parse_int(f("pids.current"))
        out["pids_max"] = parse_int(f("pids.max"))
        out["pids_limit_hit"] = parse_keyed(f("pids.events")).get("max")
        return out
    mem = f"{root}/memory{paths.get('memory', '')}"
    stat = parse_keyed(read(f"{mem}/memory.stat"))
    usage = parse_int(read(f"{mem}/memory.usage_in_bytes"))
    if usage is not None:
        out["memory_usage"] = max(0, usage - stat.get("total_inactive_file", stat.get("inactive_file", 0)))
    out["memory_limit"] = parse_int(read(f"{mem}/memory.limit_in_bytes"))
    out["memory_peak"] = parse_int(read(f"{mem}/memory.max_usage_in_bytes"))
    out["memory_failcnt"] = parse_int(read(f"{mem}/memory.failcnt"))
    out["oom_kills"] = parse_keyed(read(f"{mem}/memory.oom_control")).get("oom_kill")
    cpu_dir = f"{root}/cpu{paths.get('cpu', '')}"
    cpu = parse_keyed(read(f"{cpu_dir}/cpu.stat"))
    if "nr_periods" in cpu:
        out.update(cpu_periods=cpu["nr_periods"], cpu_throttled=cpu.get("nr_throttled"),
                   cpu_throttled_usec=cpu["throttled_time"] // 1000 if "throttled_time" in cpu else None)
    out["cpu_quota_usec"] = parse_int(read(f"{cpu_dir}/cpu.cfs_quota_us"))
    out["cpu_period_usec"] = parse_int(read(f"{cpu_dir}/cpu.cfs_period_us"))
    pids = f"{root}/pids{paths.get('pids', '')}"
    out["pids_current"] = parse_int(read(f"{pids}/pids.current"))
    out["pids_max"] = parse_int(read(f"{pids}/pids.max"))
    out["pids_limit_hit"] = parse_keyed(read(f"{pids}/pids.events")).get("max")
    return out


def procs_file(version: int, paths: dict[str, str], root: str = "/sys/fs/cgroup") -> str:
    if version == 2:
        return f"{root}{paths['']}/cgroup.procs"
    ctrl = next((c for c in ("pids", "memory", "cpu") if c in paths), "")
    return f"{root}/{ctrl}{paths.get(ctrl, '')}/cgroup.procs"


# -- which containers, and what to read -----------------------------------------------------------------------------

def log_unbounded(data: schema.ContainerInspect) -> bool:
    """Its logs are files the daemon writes (json-file, local) with no max-size."""
    log = (data.HostConfig.LogConfig if data.HostConfig else None) or schema.LogConfig()
    return log.Type in ("json-file", "local") and not (log.Config or {}).get("max-size")


def has_limit(data: schema.ContainerInspect) -> bool:
    hc = data.HostConfig or schema.HostConfig()
    return bool(hc.Memory or hc.NanoCpus or hc.CpuQuota or (hc.PidsLimit or 0) > 0)


def needs_probe(data: schema.ContainerInspect, local: bool) -> bool:
    """Running containers (their usage), and on a local host the ones whose log file may grow without bound."""
    return (data.State.Running and data.State.Pid > 0) or (local and log_unbounded(data) and bool(data.LogPath))


def _read(path: str) -> str | None:
    """The first MAX_READ bytes of a /proc or cgroup file (os.read: no buffered file object for ~17 small files a
    running container, a quarter cheaper), None when it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        data = os.read(fd, MAX_READ)
        while data and len(data) < MAX_READ:  # a seq_file answers a page at a time: read on until its end
            more = os.read(fd, MAX_READ - len(data))
            if not more:
                break
            data += more
        return data.decode("utf-8", "replace")
    except OSError:
        return None
    finally:
        os.close(fd)


def _count_fds(pid: int, proc: str) -> int | None:
    n = 0
    try:
        with os.scandir(f"{proc}/{pid}/fd") as it:
            for _ in it:
                n += 1
                if n >= MAX_FDS:
                    break
    except OSError:
        return None
    return n


def probe_local(data: schema.ContainerInspect, proc: str = "/proc", cgroup_root: str = "/sys/fs/cgroup",
                read: Reader = _read) -> dict[str, Any]:
    """Readings of a container whose daemon runs on this machine (plain data, for the boundary)."""
    out: dict[str, Any] = {"unavailable": []}
    why: list[str] = out["unavailable"]
    if data.LogPath and log_unbounded(data):
        try:
            out["log_bytes"] = os.stat(data.LogPath).st_size
        except OSError as exc:
            why.append(f"log file {data.LogPath}: {exc.strerror or exc}")
    pid = data.State.Pid
    if not (data.State.Running and pid > 0):
        return out
    text = read(f"{proc}/{pid}/cgroup")
    if text is None:
        why.append(f"{proc}/{pid}/cgroup: not readable here (the daemon runs in a VM or another PID namespace, or "
                   "troubleshoot is not root)")
        return out
    version, paths = parse_proc_cgroup(text)
    cid = data.Id
    if version == 0 or not any(cid in p for p in paths.values()):
        why.append(f"{proc}/{pid} is not this container's process on this machine (the daemon runs in a VM or "
                   "another PID namespace)")
        return out
    out["source"] = f"cgroup v{version} {next(iter(p for p in paths.values() if cid in p))}"
    out.update({k: v for k, v in cgroup_readings(version, read, paths, cgroup_root).items() if v is not None})
    if "memory_usage" not in out and "pids_current" not in out:
        why.append(f"cgroup files under {cgroup_root}: not readable here")
    # processes: the cgroup's live ones, and their children (a zombie is no longer listed in cgroup.procs)
    pids: list[int] = []
    for word in (read(procs_file(version, paths, cgroup_root)) or str(pid)).split():
        if word.isdigit() and len(pids) < MAX_PROCESSES:
            pids.append(int(word))
    seen = set(pids)
    for p in list(pids):
        for word in (read(f"{proc}/{p}/task/{p}/children") or "").split():
            if word.isdigit() and int(word) not in seen and len(pids) < MAX_PROCESSES:
                seen.add(int(word))
                pids.append(int(word))
    processes = [s for s in (parse_stat(read(f"{proc}/{p}/stat")) for p in pids) if s is not None]
    out["processes"] = [schema.to_builtins(s) for s in processes]
    out["processes_truncated"] = len(pids) >= MAX_PROCESSES
    first = next((s for s in processes if s.pid == pid), None)
    if first is not None:
        out["pid1_name"] = first.name
    # open files: the process closest to its own limit
    best: tuple[float, int, int | None, str] | None = None
    for s in [s for s in processes if s.state != "Z"][:MAX_FD_PROCESSES]:
        count = _count_fds(s.pid, proc)
        if count is None:
            continue
        limit = parse_nofile(read(f"{proc}/{s.pid}/limits"))
        ratio = count / limit if limit else 0.0
        if best is None or (ratio, count) > (best[0], best[1]):
            best = (ratio, count, limit, f"pid {s.pid} ({s.name})")
    if best is not None:
        out.update(fd_count=best[1], fd_process=best[3])
        if best[2] is not None:
            out["fd_limit"] = best[2]
    elif processes:
        why.append(f"{proc}/<pid>/fd: not readable (troubleshoot is not root?)")
    return out


def _api(version: str) -> tuple[int, int]:
    try:
        major, minor = version.split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return 0, 0


def probe_stats(daemon: Daemon, data: schema.ContainerInspect, api_version: str, asked: Any = None) -> dict[str, Any]:
    """A remote daemon: one stats sample for memory, CPU throttling and pids (`asked`: that sample, or the
    DaemonError it met, read already by Prober.ask_stats)."""
    why = ["open files, processes, zombies and the log file's size need the daemon on this machine (/proc)"]
    out: dict[str, Any] = {"unavailable": why}
    if not (data.State.Running and data.State.Pid > 0):
        return out
    if not has_limit(data):
        why.append("no memory, CPU or pids limit: the stats API was not asked")
        return out
    if _api(api_version) < STATS_API:
        why.append(f"the daemon's API {api_version or '?'} is older than 1.41: no one-shot stats, so memory, CPU and "
                   "pids were not read (a stats call would wait for a second sample)")
        return out
    try:
        stats = daemon.stats_once(data.Id) if asked is None else asked
        if isinstance(stats, DaemonError):
            raise stats
    except DaemonError as exc:
        why.append(f"stats API: {exc}")
        return out
    if stats is None:
        why.append("stats API: the container is gone")
        return out
    out["source"] = "stats API (one-shot)"
    hc = data.HostConfig or schema.HostConfig()
    mem = stats.memory_stats
    if mem is not None and mem.usage is not None:
        extra = mem.stats or {}
        out["memory_usage"] = max(0, mem.usage - extra.get("total_inactive_file", extra.get("inactive_file", 0)))
        if hc.Memory:
            out["memory_limit"] = mem.limit or hc.Memory
        if mem.max_usage:
            out["memory_peak"] = mem.max_usage
        if mem.failcnt is not None:
            out["memory_failcnt"] = mem.failcnt
        if "oom_kill" in extra:
            out["oom_kills"] = extra["oom_kill"]
    thr = stats.cpu_stats.throttling_data if stats.cpu_stats else None
    if thr is not None and thr.periods:
        out.update(cpu_periods=thr.periods, cpu_throttled=thr.throttled_periods,
                   cpu_throttled_usec=thr.throttled_time // 1000)
    if hc.NanoCpus:
        out.update(cpu_quota_usec=hc.NanoCpus // 10_000, cpu_period_usec=100_000)
    elif hc.CpuQuota > 0:
        out.update(cpu_quota_usec=hc.CpuQuota, cpu_period_usec=hc.CpuPeriod or 100_000)
    pids = stats.pids_stats
    if pids is not None and pids.current is not None:
        out["pids_current"] = pids.current
        if pids.limit and pids.limit < UNLIMITED:
            out["pids_max"] = pids.limit
    return out


class Prober:
    """One scan's resource probe: local or remote decided once, the API version read at most once."""

    def __init__(self, daemon: Daemon):
        self.daemon = daemon
        self.local = daemon.endpoint.is_local
        self._api: str | None = None
        self._asked: Any = None  # ask_stats(): (ids, the call that reads their answers)
        self._stats: dict[str, Any] = {}  # ... and those answers, once read

    def _api_version(self) -> str:
        if self._api is None:
            try:
                self._api = self.daemon.version().ApiVersion
            except DaemonError:
                self._api = ""
        return self._api

    def ask_stats(self, inspected: Sequence[schema.ContainerInspect]) -> None:
        """A remote daemon: the stats sample of every container `probe` will ask one of, asked now, all at once;
        read by `take_stats()` (before the per-container work is split between processes)."""
        if self.local or _api(self._api_version()) < STATS_API:
            return
        ids = [d.Id for d in inspected if d.State.Running and d.State.Pid > 0 and has_limit(d)]
        if len(ids) > 1:
            self._asked = (ids, self.daemon.ask_stats(ids))

    def take_stats(self) -> None:
        asked, self._asked = self._asked, None
        if asked is not None:
            ids, read = asked
            self._stats.update(zip(ids, read()))

    def probe(self, data: schema.ContainerInspect) -> schema.Resources | None:
        """None when the container needs no probe (not running, and no unbounded log file to measure here)."""
        from ..boundary import convert
        if not needs_probe(data, self.local):
            return None
        if self.local:
            raw = probe_local(data)
        else:
            self.take_stats()
            raw = probe_stats(self.daemon, data, self._api_version(), self._stats.pop(data.Id, None))
        return convert(raw, schema.Resources, "resource readings")


def under_pressure(res: schema.Resources | None) -> bool:
    """Close to a limit that makes an app fail with a log line (open files, pids): its logs are then worth reading."""
    if res is None:
        return False
    if res.fd_count is not None and res.fd_limit and res.fd_count >= 0.9 * res.fd_limit:
        return True
    if res.pids_limit_hit:
        return True
    return bool(res.pids_current is not None and res.pids_max and res.pids_current >= 0.85 * res.pids_max)
