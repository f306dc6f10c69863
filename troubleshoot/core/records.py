"""Raw records: the daemon's JSON for one container (inspect, image, history, logs, what its tag points to now)
and for the host. This is what the adapter reads, what fixtures and snapshots store, and what facts are built from.

    {"inspect": {...}, "image": {...} | null, "history": [...], "logs": ["..."], "logs_error": "why no logs" | "",
     "tag_image": {...} | null, "layers": {...}  (only with `scan --deep`: Daemon.image_layers)}
    host: {"info": {...}, "version": {...}, "local": {...} | null}
"""
from __future__ import annotations

from typing import Any, Mapping

from .forensics import analyze
from .facts import Host, Observation, container_from_inspect, host_from_info, image_from_inspect


def observation_from_record(rec: Mapping[str, Any]) -> Observation:
    image = rec.get("image")
    tag_image = rec.get("tag_image")
    return Observation(
        container=container_from_inspect(rec["inspect"]),
        image=image_from_inspect(image, rec.get("history") or []) if image else None,
        logs=tuple(rec.get("logs") or ()),
        logs_error=rec.get("logs_error") or "",
        tag_image=image_from_inspect(tag_image) if tag_image else None,
        forensics=analyze(rec["layers"]) if rec.get("layers") else None,
    )


def host_from_record(rec: Mapping[str, Any]) -> Host:
    return host_from_info(rec.get("info") or {}, rec.get("version") or {}, rec.get("local"))
