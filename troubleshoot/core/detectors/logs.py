"""The bounded log tail: already cleaned, cut and masked by the boundary (token shapes and the container's own
secret values)."""
from ..facts import Host, Observation
from ..signals import SignalSpec, detector


@detector(
    SignalSpec("logs", "list", "log", "the last log lines (stdout and stderr); `matches` finds a line"),
    SignalSpec("logs_tail", "list", "last log lines", "the last 8 log lines, for evidence"),
)
def detect(obs: Observation, host: Host):
    lines = list(obs.logs)
    return {"logs": lines, "logs_tail": lines[-8:] or ([f"({obs.logs_error})"] if obs.logs_error else [])}
