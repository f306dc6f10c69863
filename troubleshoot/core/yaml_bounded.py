"""Bounded YAML: untrusted YAML (a playbook someone shared, a Compose file on the host) checked on libyaml's event
stream before anything is composed, and turned into plain data without PyYAML's unbounded constructor.

Why: PyYAML's composer recurses (50,000 nested `[` overflow the C stack and kill the process) and its constructor
expands aliases without limit (a 272-byte "billion laughs" file becomes gigabytes). The event stream is a state
machine with its own stack: walking it first bounds nesting, the number of values, and, where aliases are allowed
(Compose files use anchors and `<<` merge keys), the number of values once every alias is expanded. Playbooks allow
no anchor at all (core/playbooks.py); Compose files allow them within these bounds (core/compose_file.py).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    import yaml


def yaml_module():
    """PyYAML, imported when a YAML text is parsed (not when every playbook came from the cache: ~10 ms saved)."""
    import yaml
    return yaml


def loader():
    yaml = yaml_module()
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster, same nodes and marks


class Refused(Exception):
    """The text is over a bound (or uses an alias where none is allowed); `line` is 1-based."""
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def check_events(text: str, max_depth: int, max_nodes: int, max_aliases: int = 0, kind: str = "playbook",
                 no_alias_message: str = "") -> None:
    """Walk the event stream and raise `Refused` on: nesting deeper than `max_depth`, more than `max_nodes` values
    (scalars, lists, mappings) counted with every alias expanded, more than `max_aliases` aliases (with 0, any
    anchor or alias: `no_alias_message` says why), and an alias to a node that encloses it (a cycle)."""
    yaml = yaml_module()
    depth = total = aliases = 0
    sizes: dict[str, int] = {}  # anchor -> values in its node, aliases inside it expanded
    frames: list[list[Any]] = []  # per open collection: [its anchor or None, values so far]
    for event in _events(yaml, text, max_depth):
        line = event.start_mark.line + 1
        anchor = getattr(event, "anchor", None)
        if max_aliases <= 0 and (isinstance(event, yaml.AliasEvent) or anchor is not None):
            what = "an alias (*" if isinstance(event, yaml.AliasEvent) else "an anchor (&"
            raise Refused(line, f"{what}{anchor}): {no_alias_message or 'anchors and aliases are not allowed'}")
        added = 0
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > max_aliases:
                raise Refused(line, f"more than {max_aliases} aliases: not read")
            if anchor not in sizes:
                raise Refused(line, f"the alias *{anchor} names no finished node (an alias inside its own anchor)")
            added = sizes[anchor]
        elif isinstance(event, yaml.ScalarEvent):
            added = 1
            if anchor is not None:
                sizes[anchor] = 1
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > max_depth:
                raise Refused(line, f"nested more than {max_depth} levels deep")
            total += 1
            if total > max_nodes:
                raise Refused(line, f"more than {max_nodes} values: not a {kind}")
            frames.append([anchor, 1])
            continue
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
            own_anchor, count = frames.pop()
            if own_anchor is not None:
                sizes[own_anchor] = count
            if frames:
                frames[-1][1] += count
            continue
        else:
            continue
        total += added
        if total > max_nodes:
            what = "values once its aliases are expanded" if isinstance(event, yaml.AliasEvent) else "values"
            raise Refused(line, f"more than {max_nodes} {what}: not a {kind}")
        if frames:
            frames[-1][1] += added


def _events(yaml: Any, text: str, max_depth: int) -> Iterator[Any]:
    """yaml.parse's events. A libyaml that bounds nesting itself (PyYAML 6.0.4's: "exceeded maximum nesting depth",
    raised while it scans ahead, before our own count reaches `max_depth`) is said in our words, as ours is."""
    try:
        yield from yaml.parse(text, Loader=loader())
    except yaml.YAMLError as exc:
        if "nesting depth" not in str(exc):
            raise
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        raise Refused(mark.line + 1 if mark is not None else 1, f"nested more than {max_depth} levels deep") from None


def compose_text(text: str):
    """The text's root node (None: empty); call `check_events` first. Raises yaml.YAMLError."""
    yaml = yaml_module()
    return yaml.compose(text, Loader=loader())


def to_plain(node: yaml.Node, lines: dict[str, int] | None = None, path: str = "") -> Any:
    """A composed node (checked by `check_events`) as plain data: mappings (string keys; `<<` merge keys applied, the
    mapping's own keys winning, as YAML 1.1 says), lists and scalars (the safe constructor's int, float, bool, None,
    str; anything else as its text). `lines`: the 1-based line of every field path ("services.web.environment").
    Aliased nodes are converted again where they are used: the expanded size was bounded by `check_events`."""
    yaml = yaml_module()
    constructor = yaml.constructor.SafeConstructor()
    return _plain(node, lines, path, constructor, yaml)


def _scalar(node: Any, constructor: Any, yaml: Any) -> Any:
    try:
        value = constructor.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError):
        return str(node.value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(node.value)  # a timestamp, binary...: its text as written


def _plain(node: Any, lines: dict[str, int] | None, path: str, constructor: Any, yaml: Any) -> Any:
    if lines is not None:
        lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        merged: list[dict[str, Any]] = []
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == "tag:yaml.org,2002:merge":
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source in sources:
                    if isinstance(source, yaml.MappingNode):
                        data = _plain(source, None, path, constructor, yaml)
                        if isinstance(data, dict):
                            merged.append(data)
                continue
            key = _scalar(key_node, constructor, yaml) if isinstance(key_node, yaml.ScalarNode) else None
            if key is None or isinstance(key, (dict, list)):
                continue  # a key that is no scalar: not a name Compose reads
            key = str(key) if not isinstance(key, str) else key
            sub = f"{path}.{key}" if path else key
            if lines is not None:
                lines[sub] = key_node.start_mark.line + 1
            out[key] = _plain(value_node, lines, sub, constructor, yaml)
        for data in merged:  # the first merged mapping wins over later ones; the mapping's own keys over all
            for k, v in data.items():
                out.setdefault(k, v)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, lines, f"{path}[{i}]", constructor, yaml) for i, item in enumerate(node.value)]
    return _scalar(node, constructor, yaml)
