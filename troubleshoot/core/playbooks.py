"""Playbooks are data: one YAML file per incident, validated on load.

Every problem is reported as `file:line: field: message`; a bad file never stops the others from loading.
Directories are layered: shipped playbooks first, then the user's config dir, then each `--playbooks DIR`;
a later playbook with the same id overrides an earlier one.
"""
from __future__ import annotations

import re
import msgspec
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Protocol

from ..clean import clean_text
from .match import Expr, MatchError, compile_expr
from .readonly import change_reason
from .signals import REGISTRY, _load_detectors
from .yaml_bounded import Refused, check_events, loader, yaml_module

SEVERITIES = ("critical", "warning", "info")
KINDS = ("incident", "preventive")
SCOPES = ("container", "host")
PLACEHOLDERS = {
    "container": "the container's name",
    "container_id": "the container's full id",
    "image": "the image reference the container was created from (Config.Image)",
    "image_id": "the image id the container runs",
    "missing_env": "the first variable named by the `missing_env` signal",
    "library": "the first shared library named by the `missing_library` signal",
    "docker_root": "the daemon's Docker root dir",
    "host_port": "the first host port the container publishes",
    "peer": "the other container a dependency signal names (name_unresolved, localhost_dependency, "
            "dependency_not_ready)",
    "peer_network": "a user-defined network that container answers on (name_unresolved, localhost_dependency)",
    "peer_host": "the name to dial that container by (name_unresolved: the host that did not resolve)",
    "env_var": "the env variable that names localhost (localhost_dependency)",
    "host_ip": "the host address of that first published port (0.0.0.0 when it was not given; [::1] for IPv6)",
    "container_port": "the container port of that first published port (a number: 8080)",
    "pid": "the container's main process id on the daemon's host (State.Pid; running containers only)",
    "listen_port": "the first port the container listens on, reachable and not published (`listening_unpublished`)",
    "entrypoint": "the file the container execs, when it was read (the `entrypoint_file` signal)",
    "bind_source": "the host path of a bind mount made as a directory where a file was meant (`bind_source`)",
    "bind_target": "where that bind mount is mounted in the container (`bind_target`)",
    "mount_source": "the host source of the mount a denied path is on (`denied_mount_source`)",
    "user": "the numeric uid[:gid] the container runs as (Config.User)",
    "write_dir": "the directory a write failed in: read-only (`read_only_dir`) or full (`full_dir`)",
    "port_holder": "the other container that publishes the same host port (port-conflict)",
    "bind_env": "the env variable whose value binds the server to localhost (127.0.0.1, localhost, ::1)",
}
# Values the engineer decides, asked in the confirmation dialog (a step's `ask:`), each with a suggestion from the
# evidence (core/suggest.py); also placeholders of that step's `run` and `recreate`.
ASKABLE = {
    "memory": "the new memory limit (256m, 1g)",
    "cpus": "the new CPU limit in CPUs (0.5, 2)",
    "shm_size": "the new /dev/shm size (64m)",
    "tmpfs_size": "the new size of the tmpfs the write failed on (64m)",
    "nofile": "the new open-files limit, soft[:hard] (65536:65536)",
    "pids": "the new process limit (--pids-limit)",
    "free_port": "a host port nothing publishes yet",
    "env_value": "the value of the missing variable",
    "health_cmd": "the health probe (run by /bin/sh in the container)",
    "command": "the container's command (shell words, as `docker run IMAGE ...` takes them)",
    "new_image": "the image to recreate it from",
    "pin_tag": "an immutable tag for the image it runs now (repo:version)",
    "log_max_size": "the largest a log file may grow before it is rotated (10m)",
    "volume": "the named volume to keep the directory's data in",
}
# What a `recreate:` step may change; everything else the container had is kept (core/fixplan.py).
RECREATE_CHANGES = {
    "env": "KEY=VALUE: set one variable",
    "memory": "the memory limit (its swap follows)",
    "cpus": "the CPU limit",
    "shm_size": "the /dev/shm size",
    "tmpfs_size": "PATH=SIZE: the size of the tmpfs on PATH",
    "volume": "NAME:PATH: a named volume on PATH",
    "unbind": "PATH: drop the bind mount onto PATH (the image's own file or directory shows again)",
    "container_port": "OLD=NEW: publish container port NEW on the host port(s) OLD was published on",
    "host_port": "OLD=NEW: publish on host port NEW instead of OLD",
    "health_cmd": "the health probe (CMD-SHELL)",
    "command": "the command (shell words)",
    "init": "true: docker-init as PID 1 (signals forwarded, zombies reaped)",
    "log_max_size": "the json-file/local log rotation size (max-file 3 when none is set)",
    "nofile": "soft[:hard] open-files ulimit",
    "pids": "the process limit",
    "image": "the image (its own defaults replace the old image's)",
    "network": "a network to join as well (kept when it is already on it)",
}
CAUSE_EXTRAS = {
    "probe": "the container's health check command (Config.Healthcheck.Test)",
    "probe_output": "exit code and output of its last health probe",
    "last_log": "the last line of its log tail",
    "port_holder": "the container holding the host port it publishes (when it is known)",
}
# A `cause:` template names these: the command placeholders, every signal (by its name), and the cause-only values.
# Checked when a playbook is loaded (cause_placeholders(), as signals register on import).
_PLACEHOLDER = re.compile(r"(?<!\{)\{([a-z_]+)\}(?!\})")
CAUSE_VALUE = re.compile(r"(?<!\{)\{([a-z_][a-z0-9_]*)\}(?!\})")  # signal names may hold digits (pid1_name)
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
if TYPE_CHECKING:
    import yaml


_yaml = yaml_module  # PyYAML, imported when a playbook is parsed (not when every one came from the cache)
_loader = loader
_SHELL_TOKENS = {"|", "||", "&&", ";", ">", ">>", "<", "&", "2>&1", "$(", "`"}


class Step(msgspec.Struct, frozen=True):
    title: str
    run: tuple[str, ...] = ()  # argv template; rendered per container, run without a shell
    read_only: bool = True
    interactive: bool = False
    look_for: str = ""
    dockerfile: str = ""  # a Dockerfile fragment (fix steps)
    changes: bool = False  # running it changes the system: needs confirmation
    recreate: tuple[tuple[str, str], ...] = ()  # (change, value template): recreate the container with these changes
    ask: tuple[str, ...] = ()  # ASKABLE values the engineer decides in the confirmation dialog
    expect: str = ""  # verify: the output must match this pattern (RE2; write word boundaries: \bhealthy\b)
    action: str = ""  # "fix-script": rewrite the script the container execs (CRLF, a missing interpreter)

    @property
    def run_text(self) -> str:
        import shlex
        return shlex.join(self.run)

    @property
    def change_reason(self) -> str:
        """Why running this step may change something; "" when it is read-only. The one rule every gate uses: the
        command itself (`core/readonly.py`) AND the playbook must both say read-only. A playbook's labels
        (`changes: true`, `read_only: false`, `interactive: true`) can only make a step stricter, never looser."""
        if self.recreate:
            return "it recreates the container (the old one is kept, stopped, until the re-check passes)"
        if self.action:
            return "it rewrites a file in the container"
        if not self.run:
            return ""  # nothing runs (a Dockerfile fragment, a guide)
        if self.interactive:
            return "interactive: it gets a terminal, where anything can be typed"
        if self.changes:
            return "the playbook says it changes the system"
        if not self.read_only:
            return "the playbook marks it read_only: false"
        return change_reason(self.run)

    @property
    def is_change(self) -> bool:
        return bool(self.change_reason)

    @property
    def kind(self) -> str:
        """What the step's label says: read-only only when it is."""
        if self.recreate or self.action:
            return "changes"
        if not self.run:
            return "guide"
        if self.interactive:
            return "interactive"
        if self.changes:
            return "changes"
        return "may change" if self.is_change else "read-only"

    @property
    def needs_input(self) -> bool:
        """`<...>` marks a value the engineer must fill in: such a command is shown and copied, never run as is."""
        return any("<" in token and ">" in token for token in self.run)


class Playbook(msgspec.Struct, frozen=True):
    id: str
    title: str
    severity: str
    symptom: str
    root_cause: tuple[str, ...]
    match: Expr
    diagnose: tuple[Step, ...]
    kind: str = "incident"
    scope: str = "container"
    priority: int = 50
    fallback: bool = False
    likely: Expr | None = None
    evidence: tuple[str, ...] = ()
    fix: tuple[Step, ...] = ()
    verify: tuple[Step, ...] = ()
    prevent: tuple[str, ...] = ()
    lesson: str = ""
    source: str = ""
    path: str = ""
    settle: int = 5  # seconds the fixed state must hold before verify passes
    exit_ok: tuple[int, ...] = ()  # exit codes that mean "done" rather than "down" (a stop in time: 0, 143)
    cause: tuple[str, ...] = ()  # templates of the incident's own root cause, tried in order (core/incident.py)


class LoadError(msgspec.Struct, frozen=True):
    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.message}"


class Catalog(msgspec.Struct, dict=True):  # dict: its sorted order kept as a plain attribute, not a field
    playbooks: dict[str, Playbook] = msgspec.field(default_factory=dict)
    errors: list[LoadError] = msgspec.field(default_factory=list)
    overridden: list[tuple[str, str, str]] = msgspec.field(default_factory=list)  # (id, old path, new path)

    def get(self, pid: str) -> Playbook | None:
        return self.playbooks.get(pid)

    def __iter__(self):
        """By id. Sorted once (a scan iterates once per container), again after the playbooks changed."""
        now = tuple(self.playbooks.values())
        order: tuple = self.__dict__.get("_order", ((), ()))  # (the playbooks it was sorted from, sorted)
        if len(now) != len(order[0]) or any(a is not b for a, b in zip(now, order[0])):
            order = self.__dict__["_order"] = (now, tuple(sorted(now, key=lambda p: p.id)))
        return iter(order[1])

    def __len__(self) -> int:
        return len(self.playbooks)


class _Invalid(Exception):
    def __init__(self, field_path: str, message: str, line: int | None = None):
        super().__init__(message)
        self.field = field_path
        self.message = message
        self.line = line


def _to_data(node: yaml.Node, path: str, lines: dict[str, int], constructor: yaml.constructor.SafeConstructor) -> Any:
    """YAML node -> plain data, recording the line of every field path; rejects duplicate and non-string keys."""
    yaml = _yaml()
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                raise _Invalid(path or "(top)", f"keys must be strings, got {key_node.value!r}",
                               key_node.start_mark.line + 1)
            sub = f"{path}.{key}" if path else key
            if key in out:
                raise _Invalid(sub, "duplicate key", key_node.start_mark.line + 1)
            lines[sub] = key_node.start_mark.line + 1
            out[key] = _to_data(value_node, sub, lines, constructor)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            sub = f"{path}[{i}]"
            lines[sub] = item.start_mark.line + 1
            items.append(_to_data(item, sub, lines, constructor))
        return items
    value = constructor.construct_object(node, deep=True)
    # Playbook text is untrusted (a team's directory, a file someone shared): every string is cleaned of terminal
    # controls here, after YAML decoding (a double-quoted "\e[2J" is an ESC only once decoded).
    return clean_text(value, keep_newlines=True) if isinstance(value, str) else value


def _line_for(lines: dict[str, int], field_path: str) -> int:
    probe = field_path
    while probe:
        if probe in lines:
            return lines[probe]
        cut = max(probe.rfind("."), probe.rfind("["))
        probe = probe[:cut] if cut > 0 else ""
    return lines.get("", 1)


def _text(d: dict, key: str, path: str, required: bool = True, default: str = "") -> str:
    if key not in d:
        if required:
            raise _Invalid(f"{path}{key}" if path else key, "is required")
        return default
    value = d[key]
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or str(value).strip() == "":
        raise _Invalid(f"{path}{key}", "expected a non-empty string")
    return str(value).strip()


def _choice(d: dict, key: str, choices: Iterable[str], default: str | None = None) -> str:
    if key not in d:
        if default is None:
            raise _Invalid(key, f"is required (one of: {', '.join(choices)})")
        return default
    value = d[key]
    if value not in choices:
        raise _Invalid(key, f"{value!r} is not one of: {', '.join(choices)}")
    return value


def _bool(d: dict, key: str, path: str, default: bool) -> bool:
    if key not in d:
        return default
    if not isinstance(d[key], bool):
        raise _Invalid(f"{path}{key}", f"expected true or false, got {d[key]!r}")
    return d[key]


def _strings(d: dict, key: str) -> tuple[str, ...]:
    value = d.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise _Invalid(key, "expected a list of strings")
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise _Invalid(f"{key}[{i}]", "expected a non-empty string")
    return tuple(v.strip() for v in value)


_SHLEX_PLAIN = re.compile(r"[^'\"\\]*")  # no quote, no backslash: shlex.split is a split on its whitespace
_SHLEX_SPACE = re.compile(r"[ \t\r\n]+")


# A word of a text without backslashes, as POSIX shlex reads it: unquoted characters, '...' and "..." (with no
# backslash, a double-quoted part is as literal as a single-quoted one). Linear: each alternative starts with its own
# character, and the quoted ones end at their first closing quote.
_SHLEX_WORD = re.compile(r"""(?:[^ \t\r\n'"]|'[^']*'|"[^"]*")+""")
_SHLEX_QUOTED = re.compile("'([^']*)'|\"([^\"]*)\"")


def split_command(text: str) -> list[str]:
    """`shlex.split(text)`, the same list; a text without quotes or backslashes (most steps) split on shlex's four
    whitespace characters directly, ~20x faster (a scan loads ~175 steps as it starts); one with quotes but no
    backslash read word by word (_SHLEX_WORD), its quotes removed; anything else (a backslash, a quote left open)
    by shlex itself."""
    if _SHLEX_PLAIN.fullmatch(text):
        return [t for t in _SHLEX_SPACE.split(text) if t]
    if "\\" not in text:
        words, at = [], 0
        for m in _SHLEX_WORD.finditer(text):
            if text[at:m.start()].strip(" \t\r\n"):
                break  # something between two words that is not shlex's whitespace: a quote left open
            words.append(_SHLEX_QUOTED.sub(lambda q: q.group(1) if q.group(1) is not None else q.group(2), m.group()))
            at = m.end()
        else:
            if not text[at:].strip(" \t\r\n"):
                return words
    import shlex  # (the rare text the fast path above cannot split)
    return shlex.split(text)


def parse_command(text: str, field_path: str, asked: tuple[str, ...] = ()) -> tuple[str, ...]:
    """A command template as an argument list. No shell runs it, so shell syntax is refused here."""
    try:
        argv = tuple(split_command(text))
    except ValueError as exc:
        raise _Invalid(field_path, f"cannot split command {text!r}: {exc}") from None
    if not argv:
        raise _Invalid(field_path, "empty command")
    for token in argv:
        if token in _SHELL_TOKENS or token.startswith("$(") or "`" in token:
            raise _Invalid(field_path, f"commands run without a shell: {token!r} is shell syntax; split it into "
                                       f"separate steps")
        _check_template(token, field_path, asked)
    return argv


_STEP_KEYS = {"title", "run", "read_only", "interactive", "look_for", "dockerfile", "changes", "recreate", "ask",
              "expect", "action"}
ACTIONS = ("fix-script",)


def _check_template(value: str, field_path: str, asked: tuple[str, ...]) -> None:
    for name in _PLACEHOLDER.findall(value):
        if name not in PLACEHOLDERS and name not in asked:
            known = [*PLACEHOLDERS, *asked]
            raise _Invalid(field_path, f"unknown placeholder {{{name}}}"
                                       + (" (an ASKABLE value: list it under `ask:`)" if name in ASKABLE else "")
                                       + f"; known: {', '.join('{' + p + '}' for p in known)}")


def _fix_parts(raw: dict, path: str, fix: bool) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...], str, str]:
    """recreate, ask, expect, action of one step, validated."""
    for key in ("recreate", "ask", "action"):
        if key in raw and not fix:
            raise _Invalid(f"{path}{key}", "only fix steps recreate, ask or act")
    if "expect" in raw and fix:
        raise _Invalid(f"{path}expect", "only verify and diagnose steps expect an output")
    try:
        ask = _strings(raw, "ask") if "ask" in raw else ()
    except _Invalid as exc:
        raise _Invalid(f"{path}{exc.field}", exc.message) from None
    for i, name in enumerate(ask):
        if name not in ASKABLE and name not in PLACEHOLDERS:
            raise _Invalid(f"{path}ask[{i}]", f"{name!r} is not a value to ask; one of: {', '.join(ASKABLE)} "
                                               "(or a placeholder, to let the engineer correct the evidence's value)")
    recreate: list[tuple[str, str]] = []
    spec = raw.get("recreate")
    if spec is not None:
        if not isinstance(spec, dict) or not spec:
            raise _Invalid(f"{path}recreate", "expected a mapping of changes, e.g. {shm_size: '{shm_size}'}")
        for key, value in spec.items():
            if key not in RECREATE_CHANGES:
                raise _Invalid(f"{path}recreate.{key}", f"unknown change; one of: {', '.join(RECREATE_CHANGES)}")
            if isinstance(value, bool):
                value = "true" if value else "false"
            if not isinstance(value, (str, int)) or not str(value).strip():
                raise _Invalid(f"{path}recreate.{key}", "expected a value (a string)")
            _check_template(str(value), f"{path}recreate.{key}", ask)
            recreate.append((key, str(value).strip()))
    action = raw.get("action", "")
    if action and action not in ACTIONS:
        raise _Invalid(f"{path}action", f"{action!r}: one of {', '.join(ACTIONS)}")
    expect = ""
    if "expect" in raw:
        expect = _text(raw, "expect", path)
        from .regex import RegexError, compile_linear
        try:
            compile_linear(expect)
        except RegexError as exc:
            raise _Invalid(f"{path}expect", str(exc)) from None
    return tuple(recreate), ask, expect, action


def _steps(d: dict, key: str, fix: bool) -> tuple[Step, ...]:
    value = d.get(key, [])
    if not isinstance(value, list):
        raise _Invalid(key, "expected a list of steps")
    steps = []
    for i, raw in enumerate(value):
        path = f"{key}[{i}]."
        if isinstance(raw, str):  # shorthand: just the command
            raw = {"title": raw, "run": raw}
        if not isinstance(raw, dict):
            raise _Invalid(f"{key}[{i}]", "expected a step: {title, run, read_only, look_for} or a command string")
        unknown = sorted(set(raw) - _STEP_KEYS)
        if unknown:
            raise _Invalid(f"{path}{unknown[0]}", f"unknown field; a step takes: {', '.join(sorted(_STEP_KEYS))}")
        if not fix and "dockerfile" in raw:
            raise _Invalid(f"{path}dockerfile", "only fix steps carry a Dockerfile fragment")
        if not fix and "changes" in raw:
            raise _Invalid(f"{path}changes", "only fix steps change anything; use read_only: false here")
        recreate, ask, expect, action = _fix_parts(raw, path, fix)
        run = parse_command(_text(raw, "run", path), f"{path}run", ask) if "run" in raw else ()
        if (recreate or action) and run:
            raise _Invalid(f"{path}run", "a step either runs a command or recreates/acts, not both")
        dockerfile = raw.get("dockerfile", "")
        if dockerfile and not isinstance(dockerfile, str):
            raise _Invalid(f"{path}dockerfile", "expected a Dockerfile fragment (a string)")
        if fix and not run and not dockerfile and not recreate and not action:
            raise _Invalid(f"{key}[{i}]", "a fix step needs `run` (a command), `recreate` (changes), `action` or "
                                          "`dockerfile` (a fragment)")
        if fix and (recreate or action) and raw.get("changes") is False:
            raise _Invalid(f"{path}changes", "recreating a container or rewriting its file changes the system")
        if fix and run and "changes" not in raw:
            raise _Invalid(f"{path}changes", "a fix step with a command must say whether it changes anything "
                                             "(changes: true|false)")
        changes = _bool(raw, "changes", path, False) or bool(recreate or action)
        read_only = _bool(raw, "read_only", path, not changes)
        if changes and read_only:
            raise _Invalid(f"{path}read_only", "a step that changes something cannot be read_only")
        steps.append(Step(
            title=_text(raw, "title", path),
            run=run,
            read_only=read_only,
            interactive=_bool(raw, "interactive", path, False),
            look_for=_text(raw, "look_for", path, required=False),
            dockerfile=dockerfile.rstrip() + "\n" if dockerfile else "",
            changes=changes,
            recreate=recreate,
            ask=ask,
            expect=expect,
            action=action,
        ))
    return tuple(steps)


def cause_placeholders() -> set[str]:
    """The names a `cause:` template may use."""
    _load_detectors()
    return set(PLACEHOLDERS) | set(REGISTRY) | set(CAUSE_EXTRAS)


def _cause(d: dict) -> tuple[str, ...]:
    """`cause:` one template or a list of them (tried in order: the first whose values are all known is written),
    each on one line, naming only known values."""
    templates = tuple(" ".join(t.split()) for t in _strings(d, "cause"))
    known = cause_placeholders()
    for i, template in enumerate(templates):
        for name in CAUSE_VALUE.findall(template):
            if name not in known:
                raise _Invalid(f"cause[{i}]" if isinstance(d.get("cause"), list) else "cause",
                               f"unknown value {{{name}}}; a cause names a command placeholder "
                               f"({', '.join(sorted(PLACEHOLDERS))}), a signal, or one of "
                               f"{', '.join(sorted(CAUSE_EXTRAS))}")
    return templates


_TOP_KEYS = {"id", "title", "severity", "kind", "scope", "priority", "fallback", "symptom", "root_cause", "cause",
             "match", "likely", "evidence", "diagnose", "fix", "verify", "prevent", "lesson", "source",
             "settle", "exit_ok"}


def _build(d: Any, path: str) -> Playbook:
    if not isinstance(d, dict):
        raise _Invalid("(top)", "a playbook file holds one mapping (id, title, severity, match, ...)")
    unknown = sorted(set(d) - _TOP_KEYS)
    if unknown:
        raise _Invalid(unknown[0], f"unknown field; a playbook takes: {', '.join(sorted(_TOP_KEYS))}")
    pid = _text(d, "id", "")
    if not _ID.match(pid):
        raise _Invalid("id", f"{pid!r}: ids are lower-case words joined by '-' (e.g. oom-killed)")
    title = _text(d, "title", "")
    severity = _choice(d, "severity", SEVERITIES)
    kind = _choice(d, "kind", KINDS, "incident")
    scope = _choice(d, "scope", SCOPES, "container")
    priority = d.get("priority", 50)
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 100:
        raise _Invalid("priority", f"expected a whole number from 0 to 100, got {priority!r}")
    if "match" not in d:
        raise _Invalid("match", "is required")
    try:
        match = compile_expr(d["match"], "match", scope)
        likely = compile_expr(d["likely"], "likely", scope) if "likely" in d else None
    except MatchError as exc:
        raise _Invalid(exc.field, exc.message) from None
    evidence = _strings(d, "evidence")
    for i, name in enumerate(evidence):
        if name not in REGISTRY:
            raise _Invalid(f"evidence[{i}]", f"unknown signal {name!r}")
    root_cause = _strings(d, "root_cause")
    if not root_cause:
        raise _Invalid("root_cause", "is required")
    diagnose = _steps(d, "diagnose", fix=False)
    if not diagnose:
        raise _Invalid("diagnose", "needs at least one step")
    settle = d.get("settle", 5)
    if isinstance(settle, bool) or not isinstance(settle, int) or not 0 <= settle <= 600:
        raise _Invalid("settle", f"expected whole seconds from 0 to 600, got {settle!r}")
    exit_ok = d.get("exit_ok", [])
    if not isinstance(exit_ok, list) or any(isinstance(x, bool) or not isinstance(x, int) or not 0 <= x <= 255
                                            for x in exit_ok):
        raise _Invalid("exit_ok", "expected a list of exit codes (0-255)")
    return Playbook(
        id=pid,
        title=title,
        severity=severity,
        kind=kind,
        scope=scope,
        priority=priority,
        fallback=_bool(d, "fallback", "", False),
        symptom=_text(d, "symptom", ""),
        root_cause=root_cause,
        match=match,
        likely=likely,
        evidence=evidence,
        diagnose=diagnose,
        fix=_steps(d, "fix", fix=True),
        verify=_steps(d, "verify", fix=False),
        prevent=_strings(d, "prevent"),
        lesson=_text(d, "lesson", "", required=False),
        source=_text(d, "source", "", required=False),
        path=path,
        settle=settle,
        exit_ok=tuple(exit_ok),
        cause=_cause(d),
    )


def load_text(text: str, path: str = "<string>", cache: "PlaybookCache | None" = None,
              key: str = "") -> tuple[Playbook | None, list[LoadError]]:
    pb, errors = _load_text(text, path, cache, key)
    last = text.count("\n") + 1  # YAML marks an error at end of file on the line after it: name a line that exists
    return pb, [LoadError(e.path, min(max(1, e.line), last), e.field if e.field.strip() else "(empty key)",
                          " ".join(e.message.split())) for e in errors]


class PlaybookCache(Protocol):
    """What earlier runs decoded from a playbook file's bytes (the data `_to_data` made of them), by `key(bytes)`."""

    def key(self, raw: bytes) -> str: ...

    def get(self, key: str) -> Any: ...

    def put(self, key: str, data: Any) -> None: ...


def _from_cache(data: Any) -> dict[str, Any] | None:
    """A cached playbook's data, held to what `_to_data` makes (string keys; lists, strings, numbers, booleans,
    null) and to the YAML bounds, every string cleaned again: the cache file is not trusted more than the playbook
    it came from. None when it is not such data (then the file is parsed)."""
    nodes = 0

    def walk(value: Any, depth: int) -> Any:
        nonlocal nodes
        nodes += 1
        if nodes > MAX_NODES or depth > MAX_DEPTH:
            raise ValueError
        if isinstance(value, str):
            return clean_text(value, keep_newlines=True)
        if value is None or isinstance(value, (bool, int, float)):
            return value
        if isinstance(value, list):
            return [walk(v, depth + 1) for v in value]
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {clean_text(k, keep_newlines=True): walk(v, depth + 1) for k, v in value.items()}
        raise ValueError

    if not isinstance(data, dict):
        return None
    try:
        return walk(data, 0)
    except ValueError:
        return None


MAX_BYTES = 256 * 1024  # the largest shipped playbook is ~3 KB
MAX_DEPTH = 64  # nested mappings/lists; a playbook needs ~8
MAX_NODES = 20_000  # scalars, lists and mappings


_Refused = Refused  # core/yaml_bounded.py: the same bounded walk reads Compose files (with bounded aliases)


def _check_events(text: str) -> None:
    """Refuse, before anything is composed (core/yaml_bounded.py): anchors and aliases (a 272-byte "billion laughs"
    file expands to gigabytes), nesting deeper than MAX_DEPTH and more than MAX_NODES nodes. Costs one extra parse
    of a small file."""
    check_events(text, MAX_DEPTH, MAX_NODES, kind="playbook",
                 no_alias_message="anchors and aliases are not allowed in playbooks (write the value out)")


def _load_text(text: str, path: str, cache: "PlaybookCache | None" = None,
               key: str = "") -> tuple[Playbook | None, list[LoadError]]:
    _load_detectors()
    if cache is not None and key:
        cached = _from_cache(cache.get(key))
        if cached is not None:
            try:
                return _build(cached, path), []
            except _Invalid:
                pass  # valid when cached, not by these rules: parsed again below, for the error's line
    yaml = _yaml()
    lines: dict[str, int] = {}
    size = len(text.encode("utf-8", "surrogatepass")) if len(text) * 4 > MAX_BYTES else len(text)
    if size > MAX_BYTES:
        return None, [LoadError(path, 1, "(file)", f"{size:,} bytes: larger than {MAX_BYTES // 1024} KB, "
                                                   f"not a playbook")]
    try:
        _check_events(text)
        node = yaml.compose(text, Loader=_loader())
    except _Refused as exc:
        return None, [LoadError(path, exc.line, "(yaml)", exc.message)]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        return None, [LoadError(path, line, "(yaml)", f"{exc.problem or exc.context or 'not valid YAML'}")]
    except yaml.YAMLError as exc:
        return None, [LoadError(path, 1, "(yaml)", str(exc).splitlines()[0] if str(exc) else "not valid YAML")]
    if node is None:
        return None, [LoadError(path, 1, "(top)", "empty file")]
    try:
        data = _to_data(node, "", lines, yaml.constructor.SafeConstructor())
        built = _build(data, path)
        if cache is not None and key:
            cache.put(key, data)
        return built, []
    except _Invalid as exc:
        line = exc.line if exc.line is not None else _line_for(lines, exc.field)
        return None, [LoadError(path, line, exc.field, exc.message)]
    except yaml.YAMLError as exc:  # a scalar the constructor refuses (e.g. a bad timestamp)
        mark = getattr(exc, "problem_mark", None)
        return None, [LoadError(path, mark.line + 1 if mark else 1, "(yaml)", getattr(exc, "problem", None) or str(exc))]
    except RecursionError:
        return None, [LoadError(path, 1, "(yaml)", "nested too deeply")]


def load_file(path: Path, cache: "PlaybookCache | None" = None) -> tuple[Playbook | None, list[LoadError]]:
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)  # a huge file is never read whole
        if len(raw) > MAX_BYTES:
            return None, [LoadError(str(path), 1, "(file)", f"larger than {MAX_BYTES // 1024} KB: not a playbook")]
        text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as read_text() would
    except UnicodeDecodeError as exc:
        return None, [LoadError(str(path), 1, "(file)", f"not UTF-8 text: {exc.reason} at byte {exc.start}")]
    except OSError as exc:
        return None, [LoadError(str(path), 1, "(file)", exc.strerror or str(exc))]
    return load_text(text, str(path), cache, cache.key(raw) if cache is not None else "")


def playbook_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def shipped_dir() -> Path:
    here = Path(__file__).resolve().parent.parent
    packaged = here / "_shipped_playbooks"
    return packaged if packaged.is_dir() else here.parent / "playbooks"


def load_catalog(extra_dirs: Iterable[Path] = (), user_dir: Path | None = None,
                 include_shipped: bool = True, cache: "PlaybookCache | None" = None) -> Catalog:
    """Shipped playbooks, then the user's dir, then each extra dir: a later file with the same id overrides.
    `cache` (playbook_cache.py): what earlier runs decoded from the same bytes, so that YAML is parsed only for a
    file that changed; every playbook is validated (`_build`) either way."""
    catalog = Catalog()
    layers: list[Path] = []
    if include_shipped:
        layers.append(shipped_dir())
    if user_dir is not None and _is_dir(user_dir):
        layers.append(user_dir)
    for d in extra_dirs:
        d = Path(d)
        if not _is_dir(d):
            catalog.errors.append(LoadError(str(d), 0, "(dir)", "no such directory"))
            continue
        layers.append(d)
    for directory in layers:
        seen_here: dict[str, str] = {}
        try:
            files = playbook_files(directory)
        except OSError as exc:
            catalog.errors.append(LoadError(str(directory), 0, "(dir)", exc.strerror or str(exc)))
            continue
        for f in files:
            pb, errors = load_file(f, cache)
            catalog.errors.extend(errors)
            if pb is None:
                continue
            if pb.id in seen_here:
                catalog.errors.append(LoadError(str(f), 1, "id", f"{pb.id!r} is also defined in {seen_here[pb.id]}"))
                continue
            seen_here[pb.id] = str(f)
            if pb.id in catalog.playbooks:
                catalog.overridden.append((pb.id, catalog.playbooks[pb.id].path, str(f)))
            catalog.playbooks[pb.id] = pb
    return catalog
