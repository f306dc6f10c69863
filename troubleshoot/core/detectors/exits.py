"""Exit semantics: what an exit code says (128+N: ended by signal N), and what the daemon's event history says about
how the last run ended (who stopped it, with which signal, when).

- 137 is a SIGKILL: an OOM only with OOM evidence for this container (State.OOMKilled, an `oom` event); the host's
  OOM counter is never evidence for one container.
- A stop timeout: `docker stop` sent the stop signal (SIGTERM), waited, then sent SIGKILL, and the run ended 137.
- A deliberate stop (a `stop` or `kill` event, then exit 0, 130, 143, 128+the signal sent, or 137 without a stop
  timeout) and a finished one-off job (compose `oneoff=True`, exit 0) are information, not incidents.
No event history (a remote read that failed, an older snapshot): these say false, never a guess.
"""
from __future__ import annotations

from ..facts import ContainerEvent, Host, Observation
from ..signals import SignalSpec, detector

SIGNALS = {1: ("SIGHUP", "hangup"), 2: ("SIGINT", "interrupt, Ctrl-C"), 3: ("SIGQUIT", "quit"),
           4: ("SIGILL", "illegal instruction"), 5: ("SIGTRAP", "trap"), 6: ("SIGABRT", "abort"),
           7: ("SIGBUS", "bus error"), 8: ("SIGFPE", "arithmetic error"), 9: ("SIGKILL", "killed"),
           10: ("SIGUSR1", "user signal 1"), 11: ("SIGSEGV", "segmentation fault"), 12: ("SIGUSR2", "user signal 2"),
           13: ("SIGPIPE", "broken pipe"), 14: ("SIGALRM", "alarm"), 15: ("SIGTERM", "terminated")}
ONEOFF_LABEL = "com.docker.compose.oneoff"
MIN_GRACE = 0.5  # seconds between the stop signal and SIGKILL for a stop that waited (`docker stop -t 0` does not)
ENDED = ("exited", "dead", "restarting")


def signal_name(n: int | None) -> str:
    if n is None:
        return "a signal not said"
    name = SIGNALS.get(n, (f"signal {n}", ""))[0]
    return f"{name} ({n})"


def exit_meaning(code: int, oom: bool = False) -> str:
    """`SIGSEGV (139 = 128+11, segmentation fault)`; "" when the code is not 128+a signal. `oom`: the daemon says
    OOMKilled (a SIGKILL is then the kernel's)."""
    n = code - 128
    if n not in SIGNALS:
        return ""
    name, what = SIGNALS[n]
    extra = (": the kernel's OOM killer (OOMKilled)" if oom else ": not an OOM without OOM evidence") if n == 9 else ""
    return f"{name} ({code} = 128+{n}, {what}{extra})"


def last_run(events: tuple[ContainerEvent, ...]) -> tuple[ContainerEvent, ...]:
    """The events since the last start (all of them when no start is in the window)."""
    starts = [i for i, e in enumerate(events) if e.action == "start"]
    return events[starts[-1]:] if starts else events


def describe(e: ContainerEvent, first: ContainerEvent | None) -> str:
    when = e.at.strftime("%Y-%m-%dT%H:%M:%SZ") if e.at else "?"
    if first is not None and first.at and e.at and e is not first:
        when += f" (+{(e.at - first.at).total_seconds():.1f}s)"
    if e.action == "kill":
        return f"{when} kill {signal_name(e.signal)}"
    if e.action == "die":
        code = "?" if e.exit_code is None else str(e.exit_code)
        meaning = exit_meaning(e.exit_code) if e.exit_code is not None else ""
        return f"{when} die exit {code}" + (f" {meaning.split(' (')[0]}" if meaning else "")
    if e.action == "health_status":
        return f"{when} health {e.status or '?'}"
    return f"{when} {e.action}"


def stop_grace(run: tuple[ContainerEvent, ...]) -> float | None:
    """Seconds `docker stop` waited between the stop signal and SIGKILL, when the run ended that way."""
    kills = [e for e in run if e.action == "kill"]
    killed = [e for e in kills if e.signal == 9]
    if not killed and len(kills) >= 2 and kills[-1].signal is None:
        # a label named `signal` forged the attribute away (dropped when read): a stop's kills are still the stop
        # signal, then SIGKILL when the timeout ends, so the last of two or more kills around a stop is the SIGKILL
        killed = [kills[-1]]
    if not killed:
        return None
    sigkill = killed[-1]
    before = [e for e in kills if e is not sigkill and e.signal != 9 and e.at and sigkill.at and e.at <= sigkill.at]
    if not before or not any(e.action in ("stop", "restart") for e in run):
        return None
    return (sigkill.at - before[-1].at).total_seconds() if sigkill.at and before[-1].at else None


@detector(
    SignalSpec("exit_signal", "str", "exit signal",
               "the signal an exit code 128+N names, with its number: SIGINT (130), SIGABRT (134, abort), "
               "SIGKILL (137), SIGSEGV (139, segmentation fault), SIGTERM (143); empty otherwise"),
    SignalSpec("events", "list", "events",
               "the daemon's event history of the last run (kill with its signal, stop, die with its exit code, oom, "
               "health transitions, restart), oldest first; needs API 1.41+ events with until (any local or remote "
               "daemon), only the window the daemon still holds"),
    SignalSpec("events_error", "str", "event history", "why the daemon's event history could not be read"),
    SignalSpec("oom_event", "bool", "oom event", "the daemon's history holds an `oom` event for this container in its "
               "last run (a process of its cgroup was OOM-killed)"),
    SignalSpec("stop_timeout", "bool", "stop timeout", "the last run ended 137 because `docker stop` sent SIGKILL "
               "after the stop signal was not obeyed within the timeout (kill events, then a stop)"),
    SignalSpec("stop_grace", "seconds", "waited before SIGKILL", "how long `docker stop` waited between the stop "
               "signal and SIGKILL"),
    SignalSpec("sigkill_unexplained", "bool", "SIGKILL with no event history left",
               "the last run ended 137 (SIGKILL) with no OOM flag, and the daemon's event history holds nothing of "
               "that run, or not its start and no stop timeout (its buffer is small: 256 events on Engine 20.10, a "
               "few minutes on a host with frequent health checks; the stop signal may have fallen out before the "
               "SIGKILL), or on Podman with no kill event (it records a stop only at times, and never its signals): a "
               "stop timeout or a `kill -9`, no longer provable"),
    SignalSpec("stopped_on_purpose", "bool", "stopped on purpose", "a `stop` or `kill` event ended the last run, "
               "and the exit code is what that stop gives (0, 130, 143, 128+the signal sent, 137 without a stop "
               "timeout, from a history that holds the run's start): information, not an incident"),
    SignalSpec("finished_oneoff", "bool", "finished one-off job",
               "a compose one-off container (label com.docker.compose.oneoff=True) that exited 0"),
)
def detect(obs: Observation, host: Host):
    c = obs.container
    ended = c.state in ENDED
    history = obs.events
    run = last_run(history.events) if history is not None else ()
    first = run[0] if run else None
    oom_event = any(e.action == "oom" for e in run)
    dies = [e for e in run if e.action == "die"]
    exit_code = dies[-1].exit_code if dies and dies[-1].exit_code is not None else c.exit_code
    grace = stop_grace(run) if ended and exit_code == 137 and not c.oom_killed and not oom_event else None
    stop_timeout = grace is not None and grace >= MIN_GRACE
    # the window holds the run from its start: else its first events (a stop's SIGTERM) may have fallen out
    whole = bool(run) and run[0].action == "start"
    # Podman (4.3) records a stop (`podman stop`, or `docker stop` through its API) only at times, as a `stop` after
    # the fact, and never the signals it sent (a `podman kill` is a `kill` without its signal): a 137 without a kill
    # event is a SIGKILL it does not explain (a stop timeout, `stop -t 0`, a `kill -9` from outside)
    podman = host.engine == "Podman"
    podman_sigkill = podman and not any(e.action == "kill" for e in run)
    silent_stop = podman and not any(e.action in ("kill", "stop") for e in run)  # nothing says who ended it
    # ... and Podman 4.3 on cgroup v1 flags no OOM kill (no OOMKilled, no oom event): with a memory limit and nothing
    # said of a stop, a SIGKILL may as well be the kernel's; not told apart, so not called a stop timeout
    unflagged_oom = (silent_stop and ended and c.exit_code == 137 and c.memory_limit > 0 and not c.oom_killed
                     and not oom_event)
    unexplained = (ended and c.exit_code == 137 and not c.oom_killed and not oom_event
                   and (not run or not (whole or stop_timeout) or podman_sigkill) and not unflagged_oom)
    stopped = False
    if ended and c.state != "restarting" and not c.oom_killed and not oom_event and dies:
        die_at = dies[-1].at
        asked = [e for e in run if e.action in ("kill", "stop") and (e.action == "stop" or (
            e.at is not None and die_at is not None and e.at <= die_at))]
        sent = {128 + e.signal for e in asked if e.action == "kill" and e.signal}
        expected = {0, 130, 143} | sent | (set() if stop_timeout else {137})
        stopped = (bool(asked) and exit_code in expected and exit_code == c.exit_code and not stop_timeout
                   and not unexplained)
    described = [describe(e, first) for e in run][-10:]
    if silent_stop and ended and dies and not stopped and c.exit_code in (0, 130, 137, 143):
        described.append("no stop or kill event: Podman records a stop only at times, so a stop on purpose cannot be "
                         "told apart from an exit by itself (`podman kill` does record one)"
                         + ("; with its memory limit, this SIGKILL may also be an OOM kill that Podman did not flag "
                            "(Podman 4.3 on cgroup v1 sets no OOMKilled and sends no oom event)" if unflagged_oom else ""))
    return {
        "exit_signal": exit_meaning(c.exit_code, c.oom_killed) if ended else "",
        "events": described,
        "events_error": history.error if history is not None else "",
        "oom_event": oom_event,
        "stop_timeout": stop_timeout,
        "stop_grace": grace,
        "sigkill_unexplained": unexplained,
        "stopped_on_purpose": stopped,
        "finished_oneoff": (c.state == "exited" and c.exit_code == 0
                            and c.label(ONEOFF_LABEL).lower() == "true"),
    }
