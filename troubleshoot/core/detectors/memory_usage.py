"""Memory in use against the container's limit, its peak, and its own cgroup's OOM kills."""
from ..facts import Host, Observation
from ..signals import SignalSpec, detector


@detector(
    SignalSpec("memory_usage", "bytes", "memory usage",
               "memory in use by the container's cgroup, page cache left out as `docker stats` does (running; local "
               "cgroup, or the stats API >= 1.41 when a limit is set)"),
    SignalSpec("memory_usage_percent", "percent", "memory usage / limit", "memory in use, % of its limit"),
    SignalSpec("memory_peak", "bytes", "memory peak",
               "the highest usage of this run (v1 memory.max_usage_in_bytes, v2 memory.peak when the kernel has it)"),
    SignalSpec("memory_limit_hits", "int", "memory failcnt",
               "times usage reached the limit (v1 memory.failcnt, v2 memory.events max)"),
    SignalSpec("cgroup_oom_kills", "int", "cgroup oom_kill",
               "processes of this container the kernel OOM-killed in this run (v1 memory.oom_control, v2 "
               "memory.events; local host, running): per-container OOM evidence, unlike host_oom_kills"),
)
def detect(obs: Observation, host: Host):
    res = obs.resources
    limit = (res.memory_limit if res else None) or obs.container.memory_limit or None
    usage = res.memory_usage if res else None
    return {
        "memory_usage": usage,
        "memory_usage_percent": 100.0 * usage / limit if usage is not None and limit else None,
        "memory_peak": res.memory_peak if res else None,
        "memory_limit_hits": res.memory_failcnt if res else None,
        "cgroup_oom_kills": res.oom_kills if res else None,
    }
