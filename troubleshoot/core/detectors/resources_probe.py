"""Where the resource readings come from (cgroup v1/v2 and /proc on a local host, the one-shot stats API on a remote
one), and what could not be read: the other resource signals are unknown then, never guessed."""
from ..facts import Host, Observation
from ..signals import SignalSpec, detector


@detector(
    SignalSpec("resources_source", "str", "resources read from",
               "where usage was read: `cgroup v1 /docker/<id>`, `cgroup v2 ...` (local host), `stats API (one-shot)` "
               "(remote, API >= 1.41); empty when not probed (not running, a snapshot made before probes)"),
    SignalSpec("resources_unavailable", "list", "not read",
               "what the resource probe could not read, and why (remote daemon, API older than 1.41, not root...)"),
)
def detect(obs: Observation, host: Host):
    res = obs.resources
    return {"resources_source": res.source if res else "", "resources_unavailable": list(res.unavailable) if res else []}
