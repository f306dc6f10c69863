"""`depends_on` in the container's Compose service (core/compose_file.py) that waits for a start, not for readiness:
the list form or `condition: service_started`, or a dependency without a healthcheck to wait for. The evidence of
dependency-not-ready names the file, the service and the YAML to add."""
from __future__ import annotations

from ..facts import Host, Observation
from ..signals import SignalSpec, detector


@detector(
    SignalSpec("compose_depends_on", "list", "compose file",
               "each `depends_on` entry of the container's Compose service that does not wait for the dependency to "
               "be healthy (no `condition: service_healthy`, or the dependency has no healthcheck), with the file, "
               "the service and the YAML to add"),
)
def detect(obs: Observation, host: Host):
    spec = obs.compose_service
    if spec is None or spec.why:
        return {"compose_depends_on": []}
    where = spec.where.get("depends_on") or spec.where.get("service", "")
    out = []
    for dep in spec.depends_on:
        if dep.condition == "service_healthy" and dep.healthcheck == "present":
            continue
        if dep.condition == "service_completed_successfully":
            continue  # a one-off job that must finish first: waiting for health is not what it needs
        how = (f"depends_on {dep.service} with condition: {dep.condition}" if dep.condition
               else f"depends_on {dep.service} (list form: waits for its start only)")
        health = {"present": f"{dep.service} has a healthcheck",
                  "disabled": f"{dep.service}'s healthcheck is disabled",
                  "none": f"{dep.service} has no healthcheck",
                  "unknown": f"{dep.service} is not defined in these files"}.get(dep.healthcheck, "")
        add = f"`depends_on: {{{dep.service}: {{condition: service_healthy}}}}`"
        if dep.healthcheck != "present":
            add += f" and a `healthcheck:` on {dep.service}"
        out.append(f"{where} service {spec.service}: {how}; {health}; add {add}")
    return {"compose_depends_on": out}
