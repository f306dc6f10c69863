"""State, exit code, how long the last run lasted, restarts."""
from ..facts import Host, Observation
from ..signals import SignalSpec, detector


@detector(
    SignalSpec("state", "str", "State.Status", "created, running, paused, restarting, removing, exited or dead"),
    SignalSpec("running", "bool", "State.Running", "the main process is running (false while restarting)"),
    SignalSpec("exit_code", "int", "State.ExitCode", "exit code of the last run (0 while it never ran)"),
    SignalSpec("state_error", "str", "State.Error", "the daemon's error when it could not start the container"),
    SignalSpec("seconds_ran", "seconds", "ran for", "how long the last run lasted (unknown while running)"),
    SignalSpec("restart_count", "int", "RestartCount", "restarts done by the restart policy"),
    SignalSpec("restart_policy", "str", "HostConfig.RestartPolicy.Name", "no, always, unless-stopped, on-failure"),
    SignalSpec("restarting", "bool", "State.Restarting", "the daemon is between two restarts"),
    SignalSpec("command", "str", "Path+Args", "the command the container runs"),
)
def detect(obs: Observation, host: Host):
    c = obs.container
    return {
        "state": c.state,
        "running": c.state == "running",
        "exit_code": c.exit_code,
        "state_error": c.error,
        "seconds_ran": c.seconds_ran,
        "restart_count": c.restart_count,
        "restart_policy": c.restart_policy,
        "restarting": c.state == "restarting",
        "command": " ".join(c.command),
    }
