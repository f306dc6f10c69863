"""The bounded log tail (already cleaned and cut by the adapter); secrets in it are masked here."""
from ..facts import Host, Observation
from ..secrets import mask_known, secret_values
from ..signals import SignalSpec, detector


@detector(
    SignalSpec("logs", "list", "log", "the last log lines (stdout and stderr); `matches` finds a line"),
    SignalSpec("logs_tail", "list", "last log lines", "the last 8 log lines, for evidence"),
)
def detect(obs: Observation, host: Host):
    known = secret_values(obs.container.env + (obs.image.env if obs.image else ()))
    lines = [mask_known(line, known) for line in obs.logs]
    return {"logs": lines, "logs_tail": lines[-8:] or ([f"({obs.logs_error})"] if obs.logs_error else [])}
