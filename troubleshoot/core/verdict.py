"""Verify as a check with a verdict: on fresh facts, after a fix, is the incident closed? Pure.

Pass: the playbook's condition no longer holds, and the container is running (healthy, when it has a probe) and has
been for the playbook's settling time, or it exited with a code the playbook calls done (`exit_ok`). Fail: the
condition still holds, or it is down (exited, restarting, never started, unhealthy). Settling: running but not for
long enough yet, or its probe has not answered yet; look again in `wait` seconds.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from .diagnose import Finding
from .facts import Observation
from .playbooks import Playbook
from .signals import human_seconds


@dataclass(frozen=True)
class Verdict:
    status: str  # pass | fail | settling
    reasons: tuple[str, ...]
    wait: float = 0.0  # settling: seconds until it can be decided

    @property
    def line(self) -> str:
        word = {"pass": "PASS", "fail": "FAIL", "settling": "SETTLING"}[self.status]
        return f"verify {word}: " + "; ".join(self.reasons)

    def to_json(self, playbook: str) -> dict:
        return {"playbook": playbook, "status": self.status, "reasons": list(self.reasons)}


def verdict(pb: Playbook, obs: Observation | None, found: Iterable[Finding], now: datetime,
            since: datetime | None = None) -> Verdict:
    """`found`: this container's findings on the same fresh facts; `since`: when the last fix was applied."""
    if obs is None:
        return Verdict("fail", ("the container is gone",))
    c = obs.container
    still = [f for f in found if f.playbook_id == pb.id]
    if still:
        evidence = "; ".join(still[0].evidence[:2])
        return Verdict("fail", (f"{pb.id} still found" + (f": {evidence}" if evidence else ""),))
    gone = f"{pb.id} no longer found"
    if c.state == "restarting":
        return Verdict("fail", (gone, f"but it is restarting (exit {c.exit_code}, {c.restart_count} restarts)"))
    if c.state == "created":
        return Verdict("fail", (gone, "but it never started" + (f": {c.error}" if c.error else "")))
    if c.state == "paused":
        return Verdict("fail", (gone, "but it is paused"))
    if c.state in ("exited", "dead"):
        if c.exit_code in pb.exit_ok and not c.oom_killed:
            return Verdict("pass", (gone, f"it exited {c.exit_code}, which {pb.id} counts as done"))
        return Verdict("fail", (gone, f"but it is down: exited with code {c.exit_code}"
                                      + (" (OOMKilled)" if c.oom_killed else "")))
    if c.state != "running":
        return Verdict("fail", (gone, f"but it is {c.state}"))
    reasons = [gone]
    if c.health is not None:
        if c.health.status == "unhealthy":
            out = c.health.probes[-1].output.strip() if c.health.probes else ""
            return Verdict("fail", (gone, "but its health check fails" + (f": {out[:120]}" if out else "")))
        if c.health.status != "healthy":
            return Verdict("settling", (gone, f"its health check has not passed yet ({c.health.status})"), 2.0)
        reasons.append("healthy")
    start = c.started_at
    if since is not None and (start is None or since > start):
        start = since
    up = (now - start).total_seconds() if start is not None else None
    if up is not None and up < pb.settle:
        return Verdict("settling", (*reasons, f"running for {human_seconds(max(up, 0))} of the "
                                              f"{pb.settle} s it must hold"), max(pb.settle - up, 0.5))
    reasons.append(f"running for {human_seconds(up)}" if up is not None else "running")
    return Verdict("pass", tuple(reasons))
