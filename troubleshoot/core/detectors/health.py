"""Health checks: status, failing streak, what the last probes printed."""
from ..facts import Host, Observation
from ..secrets import mask_text
from ..signals import SignalSpec, detector


@detector(
    SignalSpec("health_status", "str", "State.Health.Status", "starting, healthy, unhealthy, or none"),
    SignalSpec("health_failing_streak", "int", "State.Health.FailingStreak", "consecutive failed probes"),
    SignalSpec("health_output", "list", "last probe", "exit code and output of the last probes, newest last"),
    SignalSpec("has_healthcheck", "bool", "healthcheck defined", "the container (or its image) defines a probe"),
)
def detect(obs: Observation, host: Host):
    c = obs.container
    probes = c.health.probes[-3:] if c.health else ()
    return {
        "health_status": c.health.status if c.health else "none",
        "health_failing_streak": c.health.failing_streak if c.health else 0,
        "health_output": [f"exit {p.exit_code}: {mask_text(p.output)[:300] or '(no output)'}" for p in probes],
        "has_healthcheck": c.has_healthcheck,
    }
