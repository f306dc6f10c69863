"""Snapshots: everything a diagnosis needs, in one JSON file, secrets masked.

    {"format": "troubleshoot-snapshot", "version": 1, "taken_at": "2026-11-23T12:00:00Z", "tool": "troubleshoot 0.1",
     "source": "unix:///var/run/docker.sock", "host": <host record>, "containers": [<container record>, ...]}

Records are the typed records of `core/schema.py`, masked by the boundary when they were read, so a snapshot holds
no secret value and diagnoses exactly as the live daemon did. Reading one back goes through the boundary too
(`troubleshoot/boundary.py: read_snapshot_bytes`): a snapshot someone hands you is untrusted input.
"""
from __future__ import annotations

from datetime import datetime, timezone

import msgspec

from . import schema
from .facts import parse_time

FORMAT = "troubleshoot-snapshot"
VERSION = 1


def build(records: list[schema.ContainerRecord], host_record: schema.HostRecord, source: str, tool: str,
          taken_at: datetime | None = None) -> schema.Snapshot:
    when = (taken_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return schema.Snapshot(format=FORMAT, version=VERSION, taken_at=when.strftime("%Y-%m-%dT%H:%M:%SZ"), tool=tool,
                           source=source, host=host_record, containers=list(records))


def encode(doc: schema.Snapshot) -> bytes:
    """The file's bytes: indented JSON, keys in a stable order."""
    return msgspec.json.format(msgspec.json.encode(doc, order="sorted"), indent=1) + b"\n"


def taken_at(doc: schema.Snapshot) -> datetime:
    return parse_time(doc.taken_at) or datetime.now(timezone.utc)
