"""Named signals: the vocabulary a playbook's `match` speaks.

Each detector (one module per concern in `core/detectors/`) declares the signals it computes and is a pure
function of the facts. A playbook can only name a signal declared here, so the loader checks every `match`.
"""
from __future__ import annotations

import msgspec
from typing import Any, Callable, Iterable

from .facts import Host, Observation

TYPES = ("bool", "int", "float", "bytes", "seconds", "percent", "str", "list")


class SignalSpec(msgspec.Struct, frozen=True):
    name: str
    type: str  # one of TYPES
    source: str  # how evidence names where the value comes from, e.g. "State.OOMKilled"
    doc: str
    scope: str = "container"  # container | host


REGISTRY: dict[str, SignalSpec] = {}
_CONTAINER_DETECTORS: list[Callable[[Observation, Host], dict[str, Any]]] = []
_HOST_DETECTORS: list[Callable[[Host], dict[str, Any]]] = []


def detector(*specs: SignalSpec, scope: str = "container"):
    """Register a detector and the signals it computes."""
    def register(fn):
        for spec in specs:
            if spec.name in REGISTRY:
                raise ValueError(f"signal {spec.name!r} declared twice")
            if spec.type not in TYPES:
                raise ValueError(f"signal {spec.name!r}: unknown type {spec.type!r}")
            REGISTRY[spec.name] = SignalSpec(spec.name, spec.type, spec.source, spec.doc, scope)
        (_HOST_DETECTORS if scope == "host" else _CONTAINER_DETECTORS).append(fn)
        fn.signals = tuple(s.name for s in specs)
        return fn
    return register


def host_signals(host: Host) -> dict[str, Any]:
    _load_detectors()
    out: dict[str, Any] = {}
    for fn in _HOST_DETECTORS:
        out.update(fn(host))
    return out


def container_signals(obs: Observation, host: Host, host_values: dict[str, Any] | None = None) -> dict[str, Any]:
    """All signals for one container; host signals are included so a container playbook may use them."""
    _load_detectors()
    out: dict[str, Any] = dict(host_values if host_values is not None else host_signals(host))
    for fn in _CONTAINER_DETECTORS:
        out.update(fn(obs, host))
    return out


def _load_detectors() -> None:
    from . import detectors  # noqa: F401  (registers on import)


def human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000.0
    return f"{n} B"


def human_seconds(s: float) -> str:
    if s < 60:
        return f"{s:.1f}s"
    if s < 3600:
        return f"{s / 60:.1f}m"
    if s < 86400:
        return f"{s / 3600:.1f}h"
    return f"{s / 86400:.1f}d"


def format_value(spec: SignalSpec, value: Any) -> str:
    if value is None:
        return "unknown"
    if spec.type == "bool":
        return "true" if value else "false"
    if spec.type == "bytes":
        return human_bytes(value) if value else "0 (none)"
    if spec.type == "seconds":
        return human_seconds(value)
    if spec.type == "percent":
        return f"{value:.1f}%"
    if spec.type == "float":
        return f"{value:.2f}"
    if spec.type == "list":
        return ", ".join(str(v) for v in value) if value else "(none)"
    return str(value)


def evidence_line(name: str, value: Any, items: Iterable[Any] | None = None) -> str:
    """`State.OOMKilled=true`; for list signals, the items that made the condition true."""
    spec = REGISTRY[name]
    if spec.type == "list" and items is not None:
        items = list(items)
        if len(items) == 1:
            return f"{spec.source}: {items[0]}"
        return f"{spec.source}: " + " | ".join(str(i) for i in items)
    return f"{spec.source}={format_value(spec, value)}"
