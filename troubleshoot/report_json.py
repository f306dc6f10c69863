"""The `scan --json` document (schema 1). Plain data from a Report; secrets are already masked by the detectors."""
from __future__ import annotations

from typing import Any

from .core.diagnose import TRAINING_LABEL, Report
from .core.facts import Observation

SCHEMA = 1


def asdict(host) -> dict[str, Any]:
    """The host's facts by name (its fields are all plain values)."""
    return {name: getattr(host, name) for name in host.__struct_fields__}


def _iso(dt) -> str | None:
    return dt.isoformat() if dt else None


def container_json(obs: Observation, report: Report) -> dict[str, Any]:
    c = obs.container
    top = report.top(c.id)
    return {
        "id": c.id,
        "name": c.name,
        "state": c.state,
        "exit_code": c.exit_code,
        "oom_killed": c.oom_killed,
        "health": c.health.status if c.health else None,
        "restart_count": c.restart_count,
        "started_at": _iso(c.started_at),
        "finished_at": _iso(c.finished_at),
        "image": c.image_ref,
        "image_id": c.image_id,
        "memory_limit": c.memory_limit,
        "env_keys": list(c.env_keys),
        "top_finding": top.playbook_id if top else None,
        "severity": top.severity if top else None,
        "training": bool(c.label(TRAINING_LABEL)),  # made by `troubleshoot lab up`
        "project": c.compose.project if c.compose is not None else None,  # its Compose project (None: loose)
        "service": (c.compose.service or None) if c.compose is not None else None,
    }


def report_json(report: Report, host_name: str | None = None) -> dict[str, Any]:
    """`host_name`: the host every container and finding is on (`host` in each), as the many-host document names
    it."""
    host = asdict(report.host)
    compose = {o.container.id: o.container.compose for o in report.observations}

    def finding(f) -> dict[str, Any]:
        c = compose.get(f.container_id) if f.container_id else None
        return {**f.to_json(), "project": c.project if c is not None else None,
                "service": (c.service or None) if c is not None else None}
    containers = [container_json(o, report) for o in report.observations]
    findings = [finding(f) for f in report.findings]
    if host_name is not None:
        for item in containers + findings:
            item["host"] = host_name
    return {
        "schema": SCHEMA,
        "host": host,
        "containers": containers,
        "findings": findings,
    }


def many_json(reports: list[tuple[str, Report]], states: list[Any]) -> dict[str, Any]:
    """The `scan --json` document over several hosts: each container and finding names its host (`host`); `hosts`
    says each host's state (up, or unreachable and why); `host` is the first answering host's facts, as with one."""
    docs = [report_json(r, name) for name, r in reports]
    facts = {name: asdict(r.host) for name, r in reports}
    return {
        "schema": SCHEMA,
        "host": docs[0]["host"] if docs else None,
        "hosts": [{"name": s.name, "url": s.url, "state": s.state, "error": s.why or None,
                   "containers": s.count, "facts": facts.get(s.name)} for s in states],
        "containers": [c for d in docs for c in d["containers"]],
        "findings": [f for d in docs for f in d["findings"]],
    }


def forensics_json(image, f) -> dict[str, Any]:
    from .core.forensics import instruction
    return {
        "schema": 1, "image": image.id, "tags": list(image.tags), "size": image.size,
        "layers": [{"layer": l.index, "size": l.size, "files": l.files, "instruction": instruction(l.created_by)}
                   for l in f.layers],
        "wasted_bytes": f.wasted_bytes,
        "wasted": [{"path": p, "bytes": b, "why": why} for p, b, why in f.wasted[:50]],
        "build_tools": [{"what": w, "bytes": b, "files": n} for w, b, n in f.build_tools],
        "secret_files": [{"path": s.path, "size": s.size, "layer": s.layer, "instruction": instruction(s.created_by),
                          "deleted_in": s.deleted_in, "holds_credential": s.has_token} for s in f.secret_files],
        "truncated": f.truncated,
    }
