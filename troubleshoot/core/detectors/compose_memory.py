"""The memory limit an OOM-killed container ran with, found in its Compose service (core/compose_file.py):
`mem_limit` or `deploy.resources.limits.memory`, named by file, service and key, so that the fix is made where the
limit comes from (a `docker update` is undone by the next `docker compose up`)."""
from __future__ import annotations

from ..compose_file import memory_bytes
from ..facts import Host, Observation
from ..signals import SignalSpec, detector


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} bytes"


@detector(
    SignalSpec("compose_memory_limit", "str", "compose file",
               "an OOM-killed container's memory limit as its Compose service sets it: `mem_limit` or "
               "`deploy.resources.limits.memory`, with file, line and service (or the value the file has now, when "
               "it differs from the container's: not recreated since)"),
)
def detect(obs: Observation, host: Host):
    spec, c = obs.compose_service, obs.container
    if spec is None or spec.why or not c.oom_killed or c.memory_limit <= 0:
        return {"compose_memory_limit": ""}
    for key, value in (("mem_limit", spec.mem_limit), ("deploy.resources.limits.memory", spec.deploy_memory)):
        size = memory_bytes(value) if value else None
        if size is None:
            continue
        at = spec.where.get(key) or spec.where.get("service", "")
        if size == c.memory_limit:
            return {"compose_memory_limit": f"{at} service {spec.service}: `{key}: {value}` is the "
                                            f"{_size(size)} limit it was killed at; raise it there"}
        return {"compose_memory_limit": f"{at} service {spec.service}: `{key}: {value}` ({_size(size)}), but the "
                                        f"container runs with {_size(c.memory_limit)}: not recreated since the "
                                        f"file changed"}
    return {"compose_memory_limit": ""}
