"""OOM kills and memory limits."""
from ..facts import Host, Observation
from ..signals import SignalSpec, detector


@detector(
    SignalSpec("oom_killed", "bool", "State.OOMKilled", "the kernel's OOM killer ended the main process"),
    SignalSpec("memory_limit", "bytes", "HostConfig.Memory", "the memory limit in bytes, 0 when unlimited"),
    SignalSpec("has_memory_limit", "bool", "memory limit set", "a memory limit is set"),
)
def detect(obs: Observation, host: Host):
    c = obs.container
    return {"oom_killed": c.oom_killed, "memory_limit": c.memory_limit, "has_memory_limit": c.memory_limit > 0}
