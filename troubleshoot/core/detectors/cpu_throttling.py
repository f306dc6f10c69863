"""CPU throttling: how many scheduler periods the container's CPU quota ran out in (cumulative, this run)."""
from ..facts import Host, Observation
from ..signals import SignalSpec, detector


@detector(
    SignalSpec("cpu_limit", "float", "CPU limit", "the CPU quota in CPUs (--cpus; cfs quota / period), unknown when none"),
    SignalSpec("cpu_periods", "int", "cpu.stat nr_periods", "scheduler periods the container ran in (this run)"),
    SignalSpec("cpu_throttled_periods", "int", "cpu.stat nr_throttled", "periods in which its quota ran out"),
    SignalSpec("cpu_throttled_percent", "percent", "nr_throttled/nr_periods",
               "throttled periods, % of periods (local cgroup, or the stats API >= 1.41 when a limit is set)"),
    SignalSpec("cpu_throttled_seconds", "seconds", "cpu.stat throttled time", "time spent throttled"),
)
def detect(obs: Observation, host: Host):
    res = obs.resources
    limit = None
    if res is not None and res.cpu_quota_usec and res.cpu_period_usec:
        limit = res.cpu_quota_usec / res.cpu_period_usec
    periods = res.cpu_periods if res else None
    throttled = res.cpu_throttled if res else None
    return {
        "cpu_limit": limit,
        "cpu_periods": periods,
        "cpu_throttled_periods": throttled,
        "cpu_throttled_percent": 100.0 * throttled / periods if periods and throttled is not None else None,
        "cpu_throttled_seconds": res.cpu_throttled_usec / 1e6 if res and res.cpu_throttled_usec is not None else None,
    }
