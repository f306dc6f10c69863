"""Exit semantics and the event history, on records recorded from the engine (tests/record_fixtures.py), one row per
case: what a run's events and exit code say, and which playbook that makes."""
import pytest

from tests.unit.conftest import fixture, observe
from troubleshoot.core.detectors.exits import exit_meaning
from troubleshoot.core.diagnose import diagnose_container
from troubleshoot.core.signals import container_signals

S = 1_000_000_000


def events(*seen):
    def mutate(rec):
        rec["events"] = {"seen": [dict(e, time=(i + 1) * S if "time" not in e else e["time"]) for i, e in enumerate(seen)]}
    return mutate


def state(code, oom=False, labels=None, then=None):
    def mutate(rec):
        rec["inspect"]["State"].update(ExitCode=code, OOMKilled=oom, Status="exited", Running=False)
        if labels:
            rec["inspect"]["Config"]["Labels"] = {**(rec["inspect"]["Config"].get("Labels") or {}), **labels}
        if then:
            then(rec)
    return mutate


START, STOP = {"action": "start"}, {"action": "stop"}


def kill(sig, t=None):
    return {"action": "kill", "signal": sig, **({"time": t} if t else {})}


def die(code, t=None):
    return {"action": "die", "exit_code": code, **({"time": t} if t else {})}


@pytest.mark.parametrize("code,meaning", [
    (130, "SIGINT (130 = 128+2, interrupt, Ctrl-C)"),
    (134, "SIGABRT (134 = 128+6, abort)"),
    (137, "SIGKILL (137 = 128+9, killed: not an OOM without OOM evidence)"),
    (139, "SIGSEGV (139 = 128+11, segmentation fault)"),
    (143, "SIGTERM (143 = 128+15, terminated)"),
    (1, ""), (127, ""), (0, ""),
])
def test_exit_codes_name_their_signal_by_number(code, meaning):
    assert exit_meaning(code) == meaning


# (fixture, mutation, top playbook or None for "no incident", signals that must hold)
CASES = [
    ("stop-timeout", None, "stop-timeout", {"stop_timeout": True, "stopped_on_purpose": False}),
    ("segfault", None, "segfault", {"exit_signal": "SIGSEGV (139 = 128+11, segmentation fault)"}),
    # the same 137 without events (an older snapshot, a history that fell out of the daemon's buffer): a SIGKILL
    # of unknown origin, never an OOM
    # no history left (the daemon's buffer moved on): a SIGKILL without OOM evidence is a *likely* stop timeout
    ("stop-timeout", lambda r: r.pop("events"), "stop-timeout", {"stop_timeout": False, "sigkill_unexplained": True}),
    # a stop timeout whose start and SIGTERM fell out of the daemon's buffer (seen beside floods of events): the
    # SIGKILL, die and stop left look like a `docker kill`; without the run's start that is unprovable, never "on
    # purpose" (it was reported as nothing wrong at all)
    ("stop-timeout", state(137, then=events(kill("9", 4 * S), die(137, 4 * S + 1000), STOP)), "stop-timeout",
     {"sigkill_unexplained": True, "stopped_on_purpose": False, "stop_timeout": False}),
    # ... while a stop that handled SIGTERM is still a stop on purpose without its start
    ("stop-timeout", state(143, then=events(kill("15"), die(143), STOP)), None, {"stopped_on_purpose": True}),
    # docker stop -t 0: SIGTERM and SIGKILL at once: no timeout waited, a stop on purpose
    ("stop-timeout", state(137, then=events(START, kill("15", 2 * S), kill("9", 2 * S + 1000), die(137, 3 * S),
                                            STOP)), None, {"stopped_on_purpose": True, "stop_timeout": False}),
    # docker kill: SIGKILL, no stop: on purpose
    ("stop-timeout", state(137, then=events(START, kill("9"), die(137))), None, {"stopped_on_purpose": True}),
    # docker stop of a container that handles SIGTERM: 143 or 0
    ("stop-timeout", state(143, then=events(START, kill("15"), die(143), STOP)), None, {"stopped_on_purpose": True}),
    ("stop-timeout", state(0, then=events(START, kill("15"), die(0), STOP)), None, {"stopped_on_purpose": True}),
    # SIGTERM, then the app failed on its way out: a crash, not a stop
    ("stop-timeout", state(1, then=events(START, kill("15"), die(1), STOP)), "crashed", {"stopped_on_purpose": False}),
    # an oom event is OOM evidence for this container even without the flag
    ("stop-timeout", state(137, then=events(START, {"action": "oom"}, die(137))), "oom-killed", {"oom_event": True}),
    # a stop from an earlier run does not explain this run's crash
    ("crashed", state(3, then=events(START, kill("15"), die(143), STOP, START, die(3))), "crashed",
     {"stopped_on_purpose": False}),
    # a finished compose one-off job
    ("exits-immediately", state(0, labels={"com.docker.compose.oneoff": "True"}), None, {"finished_oneoff": True}),
    ("exits-immediately", None, "exits-immediately", {"finished_oneoff": False}),
    # the kills' signal dropped as forged by a label (`--label signal=9`): a stop's kills are still the stop signal
    # then SIGKILL, so two kills 2 s apart around a stop, then 137, are still a stop timeout (a trial found "ok")
    ("stop-timeout", lambda r: [e.pop("signal", None) for e in r["events"]["seen"]], "stop-timeout",
     {"stop_timeout": True, "stopped_on_purpose": False}),
]


@pytest.mark.parametrize("name,mutate,top,signals", CASES)
def test_exit_semantics(catalog, name, mutate, top, signals):
    obs, host = observe(fixture(name), mutate)
    values = container_signals(obs, host)
    for key, want in signals.items():
        assert values[key] == want, (key, values[key])
    found = diagnose_container(obs, host, catalog)
    incidents = [f for f in found if f.kind == "incident"]
    if top is None:
        assert [f for f in found if f.severity == "critical"] == [] and incidents == [], [f.playbook_id for f in found]
    else:
        assert incidents and incidents[0].playbook_id == top, [f.playbook_id for f in found]


def test_stop_timeout_evidence_is_the_kill_sequence(catalog):
    obs, host = observe(fixture("stop-timeout"))
    top = diagnose_container(obs, host, catalog)[0]
    line = next(e for e in top.evidence if e.startswith("events:"))
    assert "kill SIGTERM (15)" in line and "kill SIGKILL (9)" in line and "die exit 137 SIGKILL" in line
    assert any(e.startswith("waited before SIGKILL=") for e in top.evidence)


def test_a_snapshot_keeps_the_history(catalog):
    """The history is part of the record: what a snapshot stores diagnoses the same."""
    from troubleshoot.boundary import fixture_record
    from troubleshoot.core import schema
    rec, _ = fixture_record(fixture("stop-timeout")["record"])
    again, _ = fixture_record(schema.to_builtins(rec))
    assert again.events == rec.events and rec.events is not None and len(rec.events.seen) >= 4
