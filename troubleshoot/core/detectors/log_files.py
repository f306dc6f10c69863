"""Logs kept as files by the daemon (json-file, local): a rotation limit, and how big the file already is."""
from ..facts import Host, Observation
from ..signals import SignalSpec, detector


@detector(
    SignalSpec("log_driver", "str", "HostConfig.LogConfig.Type", "the logging driver (json-file, local, journald...)"),
    SignalSpec("log_max_size", "str", "HostConfig.LogConfig.Config.max-size", "the log rotation size, empty when none"),
    SignalSpec("log_unbounded", "bool", "no max-size (never rotated)",
               "the daemon writes the logs to a file (json-file or local) with no max-size"),
    SignalSpec("log_file_bytes", "bytes", "LogPath size",
               "the size of the container's log file (json-file, no max-size; local host only)"),
)
def detect(obs: Observation, host: Host):
    res = obs.resources
    return {
        "log_driver": obs.log_driver,
        "log_max_size": obs.log_max_size,
        "log_unbounded": obs.log_driver in ("json-file", "local") and not obs.log_max_size,
        "log_file_bytes": res.log_bytes if res else None,
    }
