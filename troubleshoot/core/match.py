"""The declarative `match` language of playbooks: conditions over named signals, combined with all/any/not.

    match:
      all:
        - {signal: state, in: [exited, restarting]}
        - {signal: exit_code, equals: 0}
        - {signal: seconds_ran, lt: 10s}

Compiled once at load time (every signal name, operator, value type and regex checked), evaluated per container.
Evaluation returns whether it holds and the evidence lines that quote the signals that made it hold.
"""
from __future__ import annotations

import re
import msgspec
from typing import Any, Union

from .regex import Linear, RegexError, compile_linear
from .signals import REGISTRY, evidence_line

NUMERIC = ("int", "float", "bytes", "seconds", "percent")
OPS = {
    "equals": ("bool", "int", "float", "bytes", "seconds", "percent", "str"),
    "not_equals": ("bool", "int", "float", "bytes", "seconds", "percent", "str"),
    "in": ("int", "str"),
    "gt": NUMERIC, "ge": NUMERIC, "lt": NUMERIC, "le": NUMERIC,
    "matches": ("str", "list"),
    "contains": ("str", "list"),
    "is": ("bool",),
    "present": ("bool", "int", "float", "bytes", "seconds", "percent", "str", "list"),
}

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|kB|KB|MB|GB|TB|KiB|MiB|GiB|TiB|k|K|m|M|g|G)?\s*$")
_SIZE_UNITS = {None: 1, "B": 1, "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "KiB": 2 ** 10,
               "MiB": 2 ** 20, "GiB": 2 ** 30, "TiB": 2 ** 40, "k": 2 ** 10, "K": 2 ** 10, "m": 2 ** 20,
               "M": 2 ** 20, "g": 2 ** 30, "G": 2 ** 30}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_DURATION_UNITS = {None: 1, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}


class MatchError(ValueError):
    """A match expression that cannot be compiled; `field` is the path inside `match`."""

    def __init__(self, field: str, message: str, line: int | None = None):
        super().__init__(message)
        self.field = field
        self.message = message
        self.line = line


def parse_size(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("a size, not a boolean")
    if isinstance(value, (int, float)):
        return float(value)
    m = _SIZE.match(str(value))
    if not m:
        raise ValueError(f"{value!r} is not a size (examples: 1GB, 512MiB, 300m)")
    return float(m.group(1)) * _SIZE_UNITS[m.group(2)]


def parse_duration(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("a duration, not a boolean")
    if isinstance(value, (int, float)):
        return float(value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"{value!r} is not a duration (examples: 10s, 5m, 2h)")
    return float(m.group(1)) * _DURATION_UNITS[m.group(2)]


class Condition(msgspec.Struct, frozen=True):
    signal: str
    op: str
    value: Any
    regex: Linear | None = None  # RE2: linear in the text, whatever the playbook says


class All(msgspec.Struct, frozen=True):
    items: tuple["Expr", ...]


class AnyOf(msgspec.Struct, frozen=True):
    items: tuple["Expr", ...]


class Not(msgspec.Struct, frozen=True):
    item: "Expr"


Expr = Union[Condition, All, AnyOf, Not]


def compile_expr(raw: Any, field: str = "match", scope: str = "container") -> Expr:
    """Compile plain data (from YAML) into an expression; a MatchError names the field path that is wrong."""
    line = None
    if not isinstance(raw, dict):
        raise MatchError(field, "expected a mapping: {signal: NAME, OP: VALUE} or all/any/not", line)
    combinators = [k for k in ("all", "any", "not") if k in raw]
    if combinators:
        if len(raw) != 1:
            extra = sorted(set(raw) - {combinators[0]})
            raise MatchError(field, f"'{combinators[0]}' must stand alone, found also: {', '.join(map(str, extra))}", line)
        key = combinators[0]
        body = raw[key]
        if key == "not":
            return Not(compile_expr(body, f"{field}.not", scope))
        if not isinstance(body, list) or not body:
            raise MatchError(f"{field}.{key}", f"'{key}' takes a non-empty list of conditions", line)
        items = tuple(compile_expr(item, f"{field}.{key}[{i}]", scope) for i, item in enumerate(body))
        return All(items) if key == "all" else AnyOf(items)
    if "signal" not in raw:
        raise MatchError(field, f"unknown key(s) {', '.join(sorted(map(str, raw)))}: expected 'signal' with one "
                                f"operator ({', '.join(OPS)}), or all/any/not", line)
    name = raw["signal"]
    spec = REGISTRY.get(name) if isinstance(name, str) else None
    if spec is None:
        close = [s for s in REGISTRY if isinstance(name, str) and (name in s or s in name)]
        hint = f" (did you mean {', '.join(close[:3])}?)" if close else ""
        raise MatchError(f"{field}.signal", f"unknown signal {name!r}{hint}; see docs/playbooks.md for the list", line)
    if scope == "host" and spec.scope != "host":
        raise MatchError(f"{field}.signal", f"signal {name!r} is about a container; a host playbook can only use "
                                            f"host_* signals", line)
    ops = [k for k in raw if k != "signal"]
    if len(ops) != 1:
        raise MatchError(field, f"a condition takes exactly one operator ({', '.join(OPS)}), found "
                                f"{len(ops)}: {', '.join(map(str, ops)) or 'none'}", line)
    op = ops[0]
    if op not in OPS:
        raise MatchError(f"{field}.{op}", f"unknown operator {op!r}; known: {', '.join(OPS)}", line)
    if spec.type not in OPS[op]:
        raise MatchError(f"{field}.{op}", f"operator {op!r} does not apply to {spec.type} signal {name!r}", line)
    value = raw[op]
    where = f"{field}.{op}"
    try:
        return _compile_value(name, spec.type, op, value)
    except (ValueError, re.error) as exc:
        raise MatchError(where, str(exc)) from None


def _compile_value(name: str, typ: str, op: str, value: Any) -> Condition:
    if op in ("is", "present"):
        if not isinstance(value, bool):
            raise ValueError(f"'{op}' takes true or false, got {value!r}")
        return Condition(name, op, value)
    if op == "matches":
        if not isinstance(value, str) or not value:
            raise ValueError("'matches' takes a regular expression (a non-empty string)")
        try:
            return Condition(name, op, value, compile_linear(value))
        except RegexError as exc:
            raise ValueError(f"bad regular expression {value!r}: {exc}") from None
    if op == "in":
        if not isinstance(value, list) or not value:
            raise ValueError("'in' takes a non-empty list")
        return Condition(name, op, tuple(_scalar(typ, v) for v in value))
    if op in ("gt", "ge", "lt", "le"):
        return Condition(name, op, _scalar(typ, value))
    if op == "contains":
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise ValueError("'contains' takes a string")
        return Condition(name, op, str(value))
    return Condition(name, op, _scalar(typ, value))


def _scalar(typ: str, value: Any) -> Any:
    if isinstance(value, (list, dict)) or value is None:
        raise ValueError(f"expected a single {typ} value, got {type(value).__name__ if value is not None else 'nothing'}")
    if typ == "bytes":
        return parse_size(value)
    if typ == "seconds":
        return parse_duration(value)
    if typ in ("int", "float", "percent"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number, got {value!r}")
        return value
    if typ == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return value
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ValueError(f"expected a string, got {value!r}")
    return str(value)


def evaluate(expr: Expr, signals: dict[str, Any]) -> tuple[bool, list[str]]:
    """Whether the expression holds, and the evidence lines that show why."""
    ok, why = evaluate_raw(expr, signals)
    return ok, [evidence_line(*w) for w in why]


Why = tuple  # (signal, value, items): an evidence line, written (evidence_line) only for a playbook that matched


def evaluate_raw(expr: Expr, signals: dict[str, Any]) -> tuple[bool, list[Why]]:
    """`evaluate`, the evidence not yet written: most conditions that hold are in a playbook that does not match
    in the end (its next condition fails), and their lines would be written for nothing."""
    if isinstance(expr, Condition):
        return _condition(expr, signals)
    if isinstance(expr, All):
        evidence: list[Why] = []
        for item in expr.items:
            ok, ev = evaluate_raw(item, signals)
            if not ok:
                return False, []
            evidence.extend(ev)
        return True, evidence
    if isinstance(expr, AnyOf):
        for item in expr.items:
            ok, ev = evaluate_raw(item, signals)
            if ok:
                return True, ev
        return False, []
    ok, _ev = evaluate_raw(expr.item, signals)
    return (not ok), []


def _condition(c: Condition, signals: dict[str, Any]) -> tuple[bool, list[Why]]:
    value = signals.get(c.signal)
    if c.op == "present":
        has = value is not None and value != "" and value != [] and value != ()
        ok = has == c.value
        return ok, ([(c.signal, value, value if isinstance(value, (list, tuple)) else None)] if ok and has else [])
    if value is None:
        return False, []
    items = None
    if c.op == "equals":
        ok = value == c.value
    elif c.op == "not_equals":
        ok = value != c.value
    elif c.op == "in":
        ok = value in c.value
    elif c.op == "is":
        ok = bool(value) == c.value
    elif c.op in ("gt", "ge", "lt", "le"):
        ok = {"gt": value > c.value, "ge": value >= c.value, "lt": value < c.value, "le": value <= c.value}[c.op]
    elif c.op == "matches":
        rx = c.regex if c.regex is not None else compile_linear(str(c.value))  # a Condition made without compile_expr
        if isinstance(value, (list, tuple)):
            items = rx.lines([str(v) for v in value])[-3:]
            ok = bool(items)
        else:
            ok = bool(rx.search(str(value)))
    else:  # contains
        if isinstance(value, (list, tuple)):
            ok = c.value in [str(v) for v in value]
            items = [c.value] if ok else None
        else:
            ok = c.value in str(value)
    return ok, ([(c.signal, value, items)] if ok else [])
