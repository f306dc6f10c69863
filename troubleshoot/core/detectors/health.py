"""Health checks: status, failing streak, what the last probes printed."""
from ..facts import Host, Observation
from ..regex import compile_linear
from ..secrets import mask_text
from ..signals import SignalSpec, detector


# The probe itself cannot run: its tool is not in the image (sh: `curl: not found`, exec form: `executable file not
# found in $PATH`, bash: `command not found`), or it never answers within its timeout (the daemon's own words).
_TOOL_MISSING = compile_linear(r"(?:^|[\s:])(?P<tool>[A-Za-z0-9_./-]+): (?:not found|command not found)"
                               r"|exec: \\?\"?(?P<exe>[A-Za-z0-9_./-]+)\\?\"?: executable file not found"
                               r"|(?P<nofile>[A-Za-z0-9_./-]+): (?:No such file or directory)")
_TIMEOUT = compile_linear(r"Health check exceeded timeout \(([^)]*)\)")


def probe_broken(probes) -> str:
    """Why the probe itself is broken, from its last results (newest first), or "" when it ran."""
    for p in reversed(probes):
        out = p.output or ""
        m = _TIMEOUT.search(out)
        if m is not None:
            return f"the probe timed out: Health check exceeded timeout ({m.group(1)})"
        if p.exit_code in (126, 127) or "not found" in out or "No such file" in out:
            m = _TOOL_MISSING.search(out)
            if m is not None:
                tool = m.group("tool") or m.group("exe") or m.group("nofile")
                if tool not in ("sh", "/bin/sh", "bash", "/bin/bash") or p.exit_code in (126, 127):
                    return f"{tool}: not found in the image (probe exit {p.exit_code})"
    return ""


@detector(
    SignalSpec("health_status", "str", "State.Health.Status", "starting, healthy, unhealthy, or none"),
    SignalSpec("health_failing_streak", "int", "State.Health.FailingStreak", "consecutive failed probes"),
    SignalSpec("health_output", "list", "last probe", "exit code and output of the last probes, newest last"),
    SignalSpec("has_healthcheck", "bool", "healthcheck defined", "the container (or its image) defines a probe"),
    SignalSpec("probe_broken", "str", "probe broken",
               "the probe itself cannot run: its tool is not in the image (`curl: not found`, `executable file not "
               "found`) or it exceeds its timeout (`Health check exceeded timeout`); empty when it ran"),
)
def detect(obs: Observation, host: Host):
    c = obs.container
    probes = c.health.probes[-3:] if c.health else ()
    return {
        "health_status": c.health.status if c.health else "none",
        "health_failing_streak": c.health.failing_streak if c.health else 0,
        "health_output": [f"exit {p.exit_code}: {mask_text(p.output)[:300] or '(no output)'}" for p in probes],
        "has_healthcheck": c.has_healthcheck,
        "probe_broken": probe_broken(c.health.probes) if c.health else "",
    }
