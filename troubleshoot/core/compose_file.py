"""A Compose project's files as data about one service: what the service sets (environment, env_file, memory limits,
healthcheck, depends_on, restart, logging), never run and never interpolated.

Pure: the text comes from probes/compose_file.py (regular files of the project, on the daemon's own host, bounded),
the result is plain data that the boundary (boundary.compose_service_record) checks, cleans and masks into a
`schema.ComposeService`. The YAML is read by core/yaml_bounded.py, the walk the playbooks use, here with anchors and
`<<` merge keys allowed within bounds (a "billion laughs" file or 10,000 nested lists is refused, not expanded).
Several files merge as Compose merges them: a later file's key wins; `environment` and `depends_on` merge by name;
`env_file` lists add up.
"""
from __future__ import annotations

import posixpath
import re
from typing import Any

from .yaml_bounded import Refused, check_events, compose_text, to_plain, yaml_module

MAX_BYTES = 512 * 1024  # one compose file; a large real one is ~30 KB
MAX_FILES = 8  # config files of one project (-f a -f b ...)
MAX_DEPTH = 64
MAX_NODES = 50_000  # values, every alias expanded
MAX_ALIASES = 1_000
MAX_ENV = 1_000  # environment entries of one service
MAX_DEPENDS = 200
MAX_ENV_FILES = 16

CONFIG_FILES = "com.docker.compose.project.config_files"
WORKING_DIR = "com.docker.compose.project.working_dir"
PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
CONDITIONS = ("service_healthy", "service_started", "service_completed_successfully")


class ComposeError(Exception):
    """A compose file that cannot be used: one line saying why (with the line number when there is one)."""


def load(text: str, path: str) -> tuple[dict[str, Any], dict[str, int]]:
    """One compose file's text as (its top mapping, line of every field path). Raises ComposeError."""
    yaml = yaml_module()
    if len(text) > MAX_BYTES:
        raise ComposeError(f"{path}: larger than {MAX_BYTES // 1024} KB: not read")
    lines: dict[str, int] = {}
    try:
        check_events(text, MAX_DEPTH, MAX_NODES, MAX_ALIASES, kind="compose file")
        node = compose_text(text)
        data = to_plain(node, lines) if node is not None else None
    except Refused as exc:
        raise ComposeError(f"{path}:{exc.line}: {exc.message}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ComposeError(f"{path}:{mark.line + 1 if mark else 1}: not valid YAML: "
                           f"{exc.problem or exc.context or 'syntax error'}") from None
    except yaml.YAMLError as exc:
        raise ComposeError(f"{path}: not valid YAML: {str(exc).splitlines()[0] if str(exc) else 'syntax error'}") \
            from None
    except RecursionError:
        raise ComposeError(f"{path}: nested too deeply") from None
    if data is None:
        raise ComposeError(f"{path}: empty file")
    if not isinstance(data, dict):
        raise ComposeError(f"{path}: the top level is a {type(data).__name__}, not a mapping")
    return data, lines


def _services(data: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """(the services mapping, its field-path prefix); version 1 files have their services at the top."""
    if "services" in data:
        services = data["services"]
        return (services, "services.") if isinstance(services, dict) else (None, "services.")
    return {k: v for k, v in data.items() if not k.startswith("x-") and k not in ("version", "volumes", "networks",
                                                                                      "secrets", "configs", "name")}, ""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return ""


def _environment(value: Any) -> dict[str, str | None]:
    """`environment:` in its map form ({K: v}, `K:` alone is None) or list form (["K=v", "K"])."""
    out: dict[str, str | None] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            if len(out) >= MAX_ENV:
                break
            out[str(k)] = None if v is None else _text(v)
    elif isinstance(value, list):
        for item in value:
            if len(out) >= MAX_ENV:
                break
            if not isinstance(item, (str, int, float)) or isinstance(item, bool):
                continue
            key, sep, val = str(item).partition("=")
            if key:
                out[key] = val if sep else None
    return out


def _env_files(value: Any, base: str) -> list[str]:
    """`env_file:` as absolute paths (relative ones from the file's own directory): a string, a list of strings,
    or (newer Compose) a list of {path:, required:}."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        path = item.get("path") if isinstance(item, dict) else item
        if isinstance(path, str) and path:
            out.append(posixpath.normpath(posixpath.join(base, path)))
    return out[:MAX_ENV_FILES]


def _healthcheck(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    test = value.get("test")
    parts = [_text(t) for t in test] if isinstance(test, list) else None
    disabled = value.get("disable") is True or (parts is not None and parts[:1] == ["NONE"])
    text = " ".join(parts) if parts is not None else _text(test)
    return {"disabled": disabled, "test": text}


def _depends_on(value: Any) -> list[dict[str, str]]:
    """`depends_on:` in the list form (no condition) or the map form ({db: {condition: service_healthy}})."""
    out: list[dict[str, str]] = []
    if isinstance(value, list):
        out = [{"service": item} for item in value if isinstance(item, str)]
    elif isinstance(value, dict):
        for name, spec in value.items():
            condition = spec.get("condition") if isinstance(spec, dict) else None
            out.append({"service": str(name), "condition": _text(condition) or "service_started"})
    return out[:MAX_DEPENDS]


def _health_state(spec: Any) -> str:
    if not isinstance(spec, dict):
        return "unknown"
    hc = _healthcheck(spec.get("healthcheck"))
    return "none" if hc is None else "disabled" if hc["disabled"] else "present"


def service_reading(files: list[tuple[str, dict[str, Any], dict[str, int]]], service: str,
                    project: str = "") -> dict[str, Any]:
    """What the files (each: path, top mapping, lines from `load`) say about `service`, merged in order, as plain
    data for boundary.compose_service_record; `why` when no file defines it. `env_files` are paths only: the probe
    reads their names."""
    out: dict[str, Any] = {"project": project, "service": service, "files": [p for p, _d, _l in files]}
    env: dict[str, str | None] = {}
    env_files: list[str] = []
    depends: dict[str, dict[str, str]] = {}
    where: dict[str, str] = {}
    merged_specs: dict[str, dict[str, Any]] = {}  # every service's merged keys (the dependencies' healthchecks)
    found = False
    problems = []
    for path, data, lines in files:
        services, prefix = _services(data)
        if services is None:
            problems.append(f"{path}: `services` is not a mapping")
            continue
        for name, spec in services.items():
            if isinstance(spec, dict):
                merged_specs.setdefault(name, {}).update(spec)
        spec = services.get(service)
        if spec is None:
            continue
        if not isinstance(spec, dict):
            problems.append(f"{path}: service {service} is a {type(spec).__name__}, not a mapping")
            continue
        found = True
        base = posixpath.dirname(path)

        def at(key: str, path: str = path, lines: dict[str, int] = lines, prefix: str = prefix) -> str:
            return f"{path}:{lines.get(f'{prefix}{service}.{key}', lines.get(f'{prefix}{service}', 1))}"

        where.setdefault("service", at(""))
        if "environment" in spec:
            env.update(_environment(spec["environment"]))
            where["environment"] = at("environment")
        if "env_file" in spec:
            env_files += [p for p in _env_files(spec["env_file"], base) if p not in env_files]
            where["env_file"] = at("env_file")
        if "mem_limit" in spec:
            out["mem_limit"] = _text(spec["mem_limit"])
            where["mem_limit"] = at("mem_limit")
        deploy = spec.get("deploy")
        resources = deploy.get("resources") if isinstance(deploy, dict) else None
        limits = resources.get("limits") if isinstance(resources, dict) else None
        if isinstance(limits, dict) and "memory" in limits:
            out["deploy_memory"] = _text(limits["memory"])
            where["deploy.resources.limits.memory"] = at("deploy.resources.limits.memory")
        if "healthcheck" in spec:
            hc = _healthcheck(spec["healthcheck"])
            if hc is not None:
                out["healthcheck"] = hc
                where["healthcheck"] = at("healthcheck")
        if "depends_on" in spec:
            for dep in _depends_on(spec["depends_on"]):
                depends[dep["service"]] = dep
            where["depends_on"] = at("depends_on")
        if "restart" in spec:
            out["restart"] = _text(spec["restart"])
            where["restart"] = at("restart")
        logging = spec.get("logging")
        if isinstance(logging, dict):
            out["logging_driver"] = _text(logging.get("driver"))
            options = logging.get("options")
            if isinstance(options, dict):
                out["logging_options"] = {str(k): _text(v) for k, v in list(options.items())[:100]}
            where["logging"] = at("logging")
        out["extensions"] = sorted({*out.get("extensions", []), *(k for k in spec if k.startswith("x-"))})
    if not found:
        out["why"] = "; ".join(problems) or f"no service {service} in {', '.join(out['files']) or 'the files'}"
        return out
    out["environment"] = env
    out["env_files"] = [{"path": p} for p in env_files]
    out["depends_on"] = [{**dep, "healthcheck": _health_state(merged_specs.get(dep["service"]))}
                         for dep in depends.values()]
    out["where"] = where
    return {k: v for k, v in out.items() if v not in ("", [], {}, None)}


def config_paths(labels: dict[str, str]) -> list[str]:
    """The absolute config-file paths Compose wrote in the container's labels (relative ones from working_dir)."""
    work = labels.get(WORKING_DIR) or ""
    out = []
    for raw in (labels.get(CONFIG_FILES) or "").split(","):
        path = raw.strip()
        if not path:
            continue
        if not posixpath.isabs(path) and posixpath.isabs(work):
            path = posixpath.join(work, path)
        if posixpath.isabs(path) and path not in out:
            out.append(posixpath.normpath(path))
    return out[:MAX_FILES]


REFERENCE = re.compile(r"^\$(?:\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)$")


def reference(value: str | None) -> str:
    """The variable a value names when it is only `${NAME}` or `$NAME` ("" otherwise)."""
    if value is None or REFERENCE.match(value) is None:
        return ""
    return value.strip("${}")


def memory_bytes(text: str) -> int | None:
    """A Compose memory size (`8m`, `512M`, `1g`, `1.5GB`, `268435456`) in bytes, binary units as Docker reads
    them (go-units RAMInBytes); None when it is not one."""
    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?\s*$", text or "", re.I)
    if m is None:
        return None
    unit = "bkmgtp".index(m.group(2).lower() or "b")
    return int(float(m.group(1)) * (1024 ** unit))
