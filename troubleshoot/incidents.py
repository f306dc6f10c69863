"""Where incident records live: one JSON-lines file per incident under the user's data dir
(~/.local/share/troubleshoot/incidents/). Every event is appended and fsynced as it happens, so a terminal that dies
loses nothing already done; a line cut short by a killed process is skipped on reading. No textual, no docker."""
from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .core.facts import parse_time
from .core.incident import Incident

RESUME_WITHIN = timedelta(hours=12)  # opening the same container again within this continues its incident


def data_dir() -> Path:
    from .dirs import user_data_dir
    return Path(user_data_dir())


def incidents_dir() -> Path:
    return data_dir() / "incidents"


def reports_dir() -> Path:
    return data_dir() / "reports"


def private_data_dir(directory: Path) -> Path:
    """`directory` made owner-only (0700), and the data dir too when it is under it."""
    from .files import private_dir
    base = data_dir()
    if Path(directory) != base and base in Path(directory).parents:
        private_dir(base)
    return private_dir(directory)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:80] or "container"


class IncidentLog:
    """One incident's file: append events, read them back."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @property
    def id(self) -> str:
        return self.path.stem

    def append(self, event: dict) -> None:
        private_data_dir(self.path.parent)
        line = json.dumps(event, ensure_ascii=False, sort_keys=True) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)  # records may quote output: owner only
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> Incident:
        events = []
        try:
            with open(self.path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    try:
                        event = json.loads(line)
                    except ValueError:
                        continue  # the last line of a killed process, cut short
                    if isinstance(event, dict):
                        events.append(event)
        except FileNotFoundError:
            pass
        return Incident(events)


def all_logs(directory: Path | None = None) -> list[IncidentLog]:
    d = directory or incidents_dir()
    return [IncidentLog(p) for p in sorted(d.glob("*.jsonl"))] if d.is_dir() else []


def latest_for(container: str, directory: Path | None = None, source: str | None = None,
               container_id: str | None = None, service: tuple[str, str] | None = None) -> IncidentLog | None:
    """The newest incident of a container, by exact name or id prefix (at least 4 characters). `source` (the data
    source's label: the daemon's address, a snapshot file, the demo) keeps only records opened from that source;
    `container_id` only records of that very container (a new container of the same name is another incident),
    unless `service` (its Compose project, service) is given: a Compose service's container recreated by `up` is
    the same service's container, so a record of that name opened on the same project and service is its too."""
    found = []
    for log in all_logs(directory):
        incident = log.read()
        opened = incident.opened
        name = opened.get("container", "")
        # the containers the incident was worked on: the one it opened on, and each one a recreate fix made
        ids = [str(opened.get("container_id", ""))] + [str(e["new_id"]) for e in incident.events if e.get("new_id")]
        if source is not None and opened.get("source") != source:
            continue
        compose = opened.get("compose")
        compose = compose if isinstance(compose, dict) else {}
        same_service = service is not None and all(service) and name == container and (
            compose.get("com.docker.compose.project"), compose.get("com.docker.compose.service")) == service
        if container_id is not None and container_id not in ids and not same_service:
            continue
        if container == name or (len(container) >= 4 and any(cid.startswith(container) for cid in ids if cid)):
            found.append((opened.get("at", ""), log))
    return max(found, key=lambda pair: pair[0])[1] if found else None


def open_for(container: str, container_id: str, now: datetime | None = None,
             directory: Path | None = None, source: str | None = None) -> tuple[IncidentLog, bool]:
    """(log, resumed): the container's incident from this source if one was touched within RESUME_WITHIN, else a
    new one. A record of another source (the demo, a snapshot) or of another container of the same name is never
    reused."""
    now = now or datetime.now(timezone.utc)
    log = latest_for(container_id, directory, source=source, container_id=container_id)
    if log is not None:
        incident = log.read()
        last = parse_time(incident.events[-1].get("at")) if incident.events else None
        if last and now - last < RESUME_WITHIN:
            return log, True
    d = directory or incidents_dir()
    path = d / f"{now:%Y%m%d-%H%M%S}-{_safe(container)}.jsonl"
    n = 1
    while path.exists():
        n += 1
        path = d / f"{now:%Y%m%d-%H%M%S}-{_safe(container)}-{n}.jsonl"
    return IncidentLog(path), False
