"""The daemon's event history, read once per scan and shared out per container (the adapter side of
`schema.EventHistory`).

One bounded read: `GET /events?since=<now - 24 h>&until=<now>&filters={"type":["container"],"event":[...]}` through
the adapter (`Daemon.event_history`: at most MAX_EVENTS messages and MAX_BYTES bytes, within the request timeout). The
daemon only keeps a bounded buffer of past events (256 in Engine 20.10): on a busy host the window is shorter than
24 h, and a container whose events fell out of it simply has none (never a guess).

Event attributes carry the container's labels, and a label overwrites the attribute of the same name (a label
`signal=9` turns every `kill` into a SIGKILL): an attribute whose key is also a label of that container is dropped,
and its key kept in `forged`. Blocking; no textual.
"""
from __future__ import annotations

import time
from typing import Iterable

from ..core import schema
from ..daemon import Daemon, DaemonError

WINDOW = 24 * 3600  # seconds of history asked for
MAX_EVENTS = 5000  # messages read at most (the daemon's own buffer is smaller)
MAX_BYTES = 4 * 1024 * 1024  # bytes read at most
MAX_PER_CONTAINER = 64  # the newest kept per container
ACTIONS = ("start", "kill", "stop", "die", "oom", "health_status", "restart")


def read_history(daemon: Daemon, containers: Iterable[schema.ContainerInspect],
                 now: float | None = None) -> dict[str, schema.EventHistory]:
    """Container id -> its event history, for `containers` (one read for all of them). When the read fails, each
    gets a history that says why."""
    wanted = {c.Id: dict(c.Config.Labels or {}) for c in containers}
    if not wanted:
        return {}
    until = time.time() if now is None else now
    since = until - WINDOW
    try:
        events, truncated = daemon.event_history(since, until, ACTIONS, MAX_EVENTS, MAX_BYTES)
    except DaemonError as exc:
        why = f"the daemon's event history could not be read: {exc}"
        return {cid: schema.EventHistory(since=int(since), until=int(until), error=why) for cid in wanted}
    per: dict[str, list[schema.EventSeen]] = {cid: [] for cid in wanted}
    for event in events:
        cid = event.container_id
        if cid not in per:
            continue
        seen = seen_event(event, wanted[cid])
        if seen is not None:
            per[cid].append(seen)
    return {cid: schema.EventHistory(seen=seen[-MAX_PER_CONTAINER:], since=int(since), until=int(until),
                                     truncated=truncated)
            for cid, seen in per.items()}


def seen_event(event: schema.Event, labels: dict[str, str]) -> schema.EventSeen | None:
    """One event as evidence, without the attributes a label of the container could have forged."""
    action, _, rest = (event.Action or event.status or "").partition(":")
    action = action.strip()
    if action not in ACTIONS:
        return None
    attrs = dict(event.Actor.Attributes or {}) if event.Actor else {}
    forged: list[str] = sorted(k for k in ("signal", "exitCode") if k in attrs and k in labels)
    for key in forged:
        attrs.pop(key)
    exit_code = None
    if action == "die" and "exitCode" in attrs:
        try:
            exit_code = int(attrs["exitCode"])
        except ValueError:
            exit_code = None
    stamp = event.timeNano or event.time * 1_000_000_000
    return schema.EventSeen(action=action, time=stamp, signal=attrs.get("signal", "")[:16] if action == "kill" else "",
                            exit_code=exit_code, status=rest.strip()[:32] if action == "health_status" else "",
                            forged=forged)
