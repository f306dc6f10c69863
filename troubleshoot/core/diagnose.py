"""From facts to ranked findings. Pure: observations + host + catalog in, a Report out.

Ranking, per container, most likely root cause first:
  1. an incident before a preventive warning (something is broken now beats something could break);
  2. the generic fallback (`crashed`) last, and only when no specific incident explains the container;
  3. severity (critical, warning, info);
  4. certain before likely (`likely:` expressions: e.g. exit 137 without State.OOMKilled);
  5. priority (0-100, playbook data: a root cause such as missing-env outranks its symptom restart-loop);
  6. playbook id, so the order is stable.
A container can silence playbooks with the label `troubleshoot.ignore=ID[,ID...]`.
"""
from __future__ import annotations

import functools
import msgspec
import msgspec.structs
from typing import Any, Callable, Iterable, Sequence

from .facts import Container, Host, Observation
from .match import evaluate_raw
from .peers import with_peers
from .playbooks import Catalog, Playbook
from .signals import container_signals, evidence_line, host_signals

SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
IGNORE_LABEL = "troubleshoot.ignore"
TRAINING_LABEL = "troubleshoot.lab"


class Finding(msgspec.Struct, frozen=True):
    playbook_id: str
    title: str
    severity: str
    kind: str
    confidence: str  # certain | likely
    evidence: tuple[str, ...]
    container: str | None = None  # None: about the host
    container_id: str | None = None
    priority: int = 50
    fallback: bool = False

    def rank_key(self) -> tuple:
        return (0 if self.kind == "incident" else 1, self.fallback, SEVERITY_ORDER[self.severity],
                0 if self.confidence == "certain" else 1, -self.priority, self.playbook_id)

    def to_plain(self) -> tuple:
        """The fields in order, as plain data (Finding.from_plain makes it again): a finding sent between processes."""
        return (self.playbook_id, self.title, self.severity, self.kind, self.confidence, self.evidence, self.container,
                self.container_id, self.priority, self.fallback)

    @classmethod
    def from_plain(cls, data: Any) -> "Finding":
        pid, title, severity, kind, confidence, evidence, container, container_id, priority, fallback = data
        if severity not in SEVERITY_ORDER or not all(isinstance(e, str) for e in evidence):
            raise ValueError("not a finding")
        return cls(pid, title, severity, kind, confidence, tuple(evidence), container, container_id, priority,
                   fallback)

    def to_json(self) -> dict[str, Any]:
        return {"container": self.container, "container_id": self.container_id, "playbook": self.playbook_id,
                "title": self.title, "severity": self.severity, "kind": self.kind, "confidence": self.confidence,
                "evidence": list(self.evidence)}


class Report(msgspec.Struct, frozen=True, dict=True):  # dict: for its cached index (_by_container)
    host: Host
    observations: tuple[Observation, ...]
    findings: tuple[Finding, ...]  # host findings first, then containers worst first, each ranked

    def for_container(self, container_id: str) -> list[Finding]:
        return list(self._by_container.get(container_id, ()))

    @functools.cached_property
    def _by_container(self) -> dict[str, list[Finding]]:
        """Each container's findings in the report's order (one pass, not one per container: 1,000 containers
        asked for their top finding walked 1,000 x 2,000 findings)."""
        index: dict[str, list[Finding]] = {}
        for f in self.findings:
            if f.container_id is not None:
                index.setdefault(f.container_id, []).append(f)
        return index

    def top(self, container_id: str) -> Finding | None:
        found = self.for_container(container_id)
        return found[0] if found else None

    @property
    def host_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.container is None]

    @property
    def has_problems(self) -> bool:
        return any(f.severity in ("critical", "warning") for f in self.findings)


def _finding(pb: Playbook, signals: dict[str, Any], container: Container | None) -> Finding | None:
    ok, why = evaluate_raw(pb.match, signals)
    confidence = "certain"
    if not ok and pb.likely is not None:
        ok, why = evaluate_raw(pb.likely, signals)
        confidence = "likely"
    if not ok:
        return None
    lines = list(dict.fromkeys(evidence_line(*w) for w in why))
    for name in pb.evidence:
        value = signals.get(name)
        if value in (None, "", [], ()):
            continue
        line = evidence_line(name, value, value if isinstance(value, (list, tuple)) else None)
        if line not in lines:
            lines.append(line)
    return Finding(pb.id, pb.title, pb.severity, pb.kind, confidence, tuple(lines),
                   container.name if container else None, container.id if container else None,
                   pb.priority, pb.fallback)


def ignored_playbooks(container: Container) -> set[str]:
    return {p.strip() for p in container.label(IGNORE_LABEL).split(",") if p.strip()}


def diagnose_container(obs: Observation, host: Host, catalog: Catalog,
                       host_values: dict[str, Any] | None = None, peers: Any = None) -> list[Finding]:
    """`peers` (core.peers.Peers): the scan's index of who answers to which name, when `obs` does not carry it."""
    if peers is not None and obs.peers is None:
        obs = msgspec.structs.replace(obs, peers=peers)
    signals = container_signals(obs, host, host_values)
    ignored = ignored_playbooks(obs.container)
    found = []
    for pb in catalog:
        if pb.scope != "container" or pb.id in ignored:
            continue
        f = _finding(pb, signals, obs.container)
        if f is not None:
            found.append(f)
    if any(f.kind == "incident" and not f.fallback for f in found):
        found = [f for f in found if not f.fallback]
    return sorted(found, key=Finding.rank_key)


def diagnose_host(host: Host, catalog: Catalog, host_values: dict[str, Any] | None = None) -> list[Finding]:
    signals = host_values if host_values is not None else host_signals(host)
    found = [f for pb in catalog if pb.scope == "host" for f in [_finding(pb, signals, None)] if f is not None]
    return sorted(found, key=Finding.rank_key)


Each = Callable[[Callable[[Observation], list[Finding]], Sequence[Observation]], list[list[Finding]]]


def diagnose(observations: Iterable[Observation], host: Host, catalog: Catalog, each: Each | None = None) -> Report:
    """`each(fn, observations)`: how the per-container diagnosis is mapped over them (the CLI's scan splits it over
    two processes, forkmap.py); the list's own order, as `[fn(o) for o in observations]` gives it."""
    observations = with_peers(observations)  # who answers to which name, across the scan
    host_values = host_signals(host)

    def one(obs: Observation) -> list[Finding]:
        return diagnose_container(obs, host, catalog, host_values)
    found = each(one, observations) if each is not None else [one(obs) for obs in observations]
    per_container = list(zip(observations, found))
    per_container.sort(key=lambda pair: (pair[1][0].rank_key() if pair[1] else (9,), pair[0].container.name))
    findings = diagnose_host(host, catalog, host_values) + [f for _obs, fs in per_container for f in fs]
    return Report(host, tuple(obs for obs, _ in per_container), tuple(findings))
