"""Snapshots: everything a diagnosis needs, in one JSON file, secrets masked. Pure: building the document from
records (what the adapter read), masking, and reading one back with errors that name the file and the field.

    {"format": "troubleshoot-snapshot", "version": 1, "taken_at": "2026-11-23T12:00:00Z", "tool": "troubleshoot 0.1",
     "source": "unix:///var/run/docker.sock", "host": <host record>, "containers": [<container record>, ...]}

Records are those of `core/records.py`, so a snapshot diagnoses exactly as the live daemon did.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from .facts import parse_time
from .facts import split_env
from .secrets import mask_env_value, mask_known, secret_values

FORMAT = "troubleshoot-snapshot"
VERSION = 1


class SnapshotError(Exception):
    """One line naming the file and what is wrong with it."""


def _mask_env_list(items: Any) -> Any:
    if not isinstance(items, list):
        return items
    out = []
    for item in items:
        if isinstance(item, str) and "=" in item:
            key, _, value = item.partition("=")
            out.append(f"{key}={mask_env_value(key, value)}")
        else:
            out.append(mask_strings(item))
    return out


def mask_strings(node: Any, known: tuple[str, ...] = ()) -> Any:
    """Every string of a JSON tree through `mask_known` (token shapes, KEY=secret, the `known` secret values);
    `Env` lists and `Labels` maps by key as well."""
    if isinstance(node, str):
        return mask_known(node, known)
    if isinstance(node, list):
        return [mask_strings(x, known) for x in node]
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "Env":
                out[key] = _mask_env_list(value)
            elif key == "Labels" and isinstance(value, dict):
                out[key] = {k: mask_env_value(k, v) if isinstance(v, str) else v for k, v in value.items()}
            else:
                out[key] = mask_strings(value, known)
        return out
    return node


def mask_record(record: dict[str, Any]) -> dict[str, Any]:
    """A container record with its secrets hidden everywhere: its own secret env values wherever they appear."""
    env = []
    for part in (record.get("inspect"), record.get("image")):
        if isinstance(part, dict):
            env += split_env(((part.get("Config") or {}).get("Env")) or [])
    return mask_strings(record, secret_values(env))


def build(records: list[dict[str, Any]], host_record: dict[str, Any], source: str, tool: str,
          taken_at: datetime | None = None) -> dict[str, Any]:
    when = (taken_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return {"format": FORMAT, "version": VERSION, "taken_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "tool": tool,
            "source": source, "host": mask_record(host_record), "containers": [mask_record(r) for r in records]}


def parse(text: str | bytes, name: str, loads=json.loads) -> dict[str, Any]:
    """A snapshot document, checked; SnapshotError (one line, naming `name`) for anything else. A snapshot is
    untrusted input like the daemon's answers: the caller passes the adapter's cleaning `loads`."""
    try:
        doc = loads(text)
    except UnicodeDecodeError as exc:
        raise SnapshotError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{name}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise SnapshotError(f"{name}: not a troubleshoot snapshot (no \"format\": \"{FORMAT}\"); "
                            "make one with `troubleshoot snapshot -o FILE`")
    version = doc.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise SnapshotError(f"{name}: snapshot version {version!r} is not one this troubleshoot reads "
                            f"(it reads up to {VERSION}); upgrade troubleshoot")
    if parse_time(doc.get("taken_at") if isinstance(doc.get("taken_at"), str) else None) is None:
        raise SnapshotError(f"{name}: taken_at: missing or not a time")
    if not isinstance(doc.get("host"), dict) or not isinstance(doc["host"].get("info"), dict):
        raise SnapshotError(f"{name}: host.info: missing or not an object")
    containers = doc.get("containers")
    if not isinstance(containers, list):
        raise SnapshotError(f"{name}: containers: missing or not a list")
    for i, rec in enumerate(containers):
        where = f"{name}: containers[{i}]"
        if not isinstance(rec, dict) or not isinstance(rec.get("inspect"), dict):
            raise SnapshotError(f"{where}.inspect: missing or not an object")
        d = rec["inspect"]
        for key, kind in (("Id", str), ("Name", str), ("State", dict), ("Config", dict)):
            if not isinstance(d.get(key), kind):
                raise SnapshotError(f"{where}.inspect.{key}: missing or not a {kind.__name__}")
        for key, kind in (("image", dict), ("tag_image", dict), ("history", list), ("logs", list)):
            if rec.get(key) is not None and not isinstance(rec[key], kind):
                raise SnapshotError(f"{where}.{key}: not a {'list' if kind is list else 'object'}")
        if any(not isinstance(x, str) for x in rec.get("logs") or ()):
            raise SnapshotError(f"{where}.logs: every line must be a string")
    return doc


def taken_at(doc: dict[str, Any]) -> datetime:
    return parse_time(doc["taken_at"]) or datetime.now(timezone.utc)
