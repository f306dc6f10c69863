"""Processes and threads against the container's pids limit (`--pids-limit`), and the fork failures it causes.

The log patterns run with RE2 (core/regex.py): linear in the line."""
from ..facts import Host, Observation
from ..regex import compile_linear
from ..signals import SignalSpec, detector

# busybox/ash `can't fork`, bash `fork: retry: Resource temporarily unavailable`, nginx `fork() failed`, PostgreSQL
# `could not fork new process`, Java `unable to create native thread`, Go `pthread_create failed`, Node `spawn
# EAGAIN`, Rust `failed to spawn thread`, Python `BlockingIOError: [Errno 11]` around a fork or thread
_FORK = compile_linear(r"can'?t fork|fork: retry|fork\(\) failed|could not fork|fork failed|cannot fork|"
                       r"unable to create (new )?native thread|pthread_create failed|spawn EAGAIN|"
                       r"failed to spawn thread|can't start new thread|"
                       r"(fork|thread|spawn|clone)[^\n]*Resource temporarily unavailable", ignore_case=True)


@detector(
    SignalSpec("pids_current", "int", "pids.current", "processes and threads in the container's cgroup (running; local "
               "cgroup, or the stats API >= 1.41)"),
    SignalSpec("pids_max", "int", "pids.max", "its pids limit (--pids-limit), unknown when unlimited"),
    SignalSpec("pids_percent", "percent", "pids.current/pids.max", "processes and threads, % of the pids limit"),
    SignalSpec("pids_limit_hit", "int", "pids.events max", "forks the pids limit refused (local cgroup)"),
    SignalSpec("fork_errors", "list", "log", "log lines of a failed fork or thread start (can't fork, fork: retry, "
               "unable to create native thread, pthread_create failed...)"),
)
def detect(obs: Observation, host: Host):
    res = obs.resources
    current = res.pids_current if res else None
    limit = (res.pids_max if res else None) or None
    return {
        "pids_current": current,
        "pids_max": limit,
        "pids_percent": 100.0 * current / limit if current is not None and limit else None,
        "pids_limit_hit": res.pids_limit_hit if res else None,
        "fork_errors": [line[:300] for line in _FORK.lines(obs.logs)][-3:],
    }
