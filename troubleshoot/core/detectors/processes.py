"""The container's processes: zombies (exited, never reaped) and whether PID 1 is an init that reaps them."""
from ..facts import Host, Observation
from ..signals import SignalSpec, detector

INIT_NAMES = frozenset({"tini", "tini-static", "docker-init", "dumb-init", "catatonit", "s6-svscan", "runsvdir",
                        "runit", "systemd", "init", "supervisord", "my_init", "s6-linux-init"})


@detector(
    SignalSpec("process_count", "int", "processes", "the container's processes, zombies included (local host)"),
    SignalSpec("zombie_count", "int", "zombies", "processes in state Z: exited, never reaped by their parent "
               "(/proc/<pid>/stat; local host, running)"),
    SignalSpec("zombies", "list", "zombies", "the first zombies, as `pid N (name), parent M`"),
    SignalSpec("pid1_name", "str", "PID 1", "the name of the container's main process"),
    SignalSpec("pid1_is_init", "bool", "PID 1 is an init",
               "PID 1 is an init that reaps orphans (tini, dumb-init, docker-init from --init...), unknown when the "
               "processes were not read"),
)
def detect(obs: Observation, host: Host):
    res = obs.resources
    if res is None or not res.processes:
        return {"process_count": None, "zombie_count": None, "zombies": [], "pid1_name": "",
                "pid1_is_init": True if obs.init else None}
    zombies = [p for p in res.processes if p.state == "Z"]
    return {
        "process_count": len(res.processes),
        "zombie_count": len(zombies),
        "zombies": [f"pid {p.pid} ({p.name}), parent {p.ppid}" for p in zombies[:5]],
        "pid1_name": res.pid1_name,
        "pid1_is_init": True if obs.init else (res.pid1_name in INIT_NAMES if res.pid1_name else None),
    }
