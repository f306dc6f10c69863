"""The docker CLI's contexts, as `docker context ls` lists them: the contexts store (DOCKER_CONFIG or ~/.docker,
contexts/meta/*/meta.json) read without the docker CLI, plus the `default` context (DOCKER_HOST or the local
socket). What `--context a,b` and `--all-contexts` turn into: one endpoint per host, in the order given, the same
daemon URL only once."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .clean import clean_text
from .endpoint import DEFAULT_SOCKET, DaemonError, Endpoint, resolve_endpoint

MAX_META = 1 << 20  # a meta.json larger than this is not a context file
MAX_DEPTH = 32  # nor one nested deeper than this (a context's meta.json is 4 levels deep)


@dataclass(frozen=True)
class Context:
    name: str
    host: str  # the docker endpoint's URL
    skip_tls_verify: bool = False


def config_dir(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("DOCKER_CONFIG") or os.path.expanduser("~/.docker"))


def stored_contexts(environ: dict[str, str] | None = None) -> list[Context]:
    """Every context of the store, by name; a file that cannot be read or has no docker endpoint is left out."""
    meta = config_dir(environ) / "contexts" / "meta"
    out = []
    try:
        dirs = sorted(meta.iterdir())
    except OSError:
        return []
    for d in dirs:
        try:
            with open(d / "meta.json", "rb") as f:
                raw = f.read(MAX_META + 1)
            if len(raw) > MAX_META:
                raise ValueError(f"larger than {MAX_META} bytes")
            if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _depth(raw) > MAX_DEPTH:
                raise ValueError(f"nested deeper than {MAX_DEPTH}")
            data = json.loads(raw)
            docker = data["Endpoints"]["docker"]
            name, host = data["Name"], docker["Host"]
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
            if isinstance(exc, ValueError) and not isinstance(exc, json.JSONDecodeError | UnicodeDecodeError):
                _skipped(d, str(exc))
            continue
        if isinstance(name, str) and isinstance(host, str) and name and host:
            out.append(Context(clean_text(name), host, bool(docker.get("SkipTLSVerify"))))
    return sorted(out, key=lambda c: c.name)


def _depth(raw: bytes) -> int:
    """How deep the JSON text's arrays and objects nest (brackets inside strings counted too: an upper bound)."""
    depth = deepest = 0
    for b in raw:
        if b in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif b in b"]}":
            depth -= 1
    return deepest


def _skipped(d: Path, why: str) -> None:
    """One line on stderr for a context file left out (the CLI's and the app's stderr alike)."""
    import sys
    sys.stderr.write(f"troubleshoot: docker context file {clean_text(str(d / 'meta.json'))} skipped: {why}\n")


def default_endpoint(environ: dict[str, str] | None = None) -> Endpoint:
    """The `default` context: DOCKER_HOST, else the local socket (never the current context: that is another one)."""
    env = dict(os.environ if environ is None else environ)
    if env.get("DOCKER_HOST"):
        return resolve_endpoint(None, env)
    return Endpoint(DEFAULT_SOCKET, "context default", context="default")


def context_endpoint(name: str, environ: dict[str, str] | None = None) -> Endpoint:
    """The endpoint of the context `name` (its TLS material too, through docker-py's own reader when it has some)."""
    if name == "default":
        return default_endpoint(environ)
    found = {c.name: c for c in stored_contexts(environ)}
    ctx = found.get(name)
    if ctx is None:
        raise DaemonError(f"docker context {name!r} does not exist (see `docker context ls`)")
    tls = None
    if ctx.host.startswith("tcp://"):
        try:
            from docker.context import ContextAPI
            full = ContextAPI.get_context(name)
            tls = full.TLSConfig if full is not None else None
        except Exception as exc:  # docker.errors.ContextException and friends: one line
            raise DaemonError(f"docker context {name!r} cannot be read: {clean_text(str(exc))}") from None
    return Endpoint(ctx.host, f"context {name}", tls, context=name)


@dataclass(frozen=True)
class HostSpec:
    """One host of a many-host view: the name the board and the JSON give it, and its endpoint (or why none)."""
    name: str
    endpoint: Endpoint | None
    error: str = ""


def host_specs(hosts: list[str] | None, contexts: list[str] | None = None, all_contexts: bool = False,
               environ: dict[str, str] | None = None) -> list[HostSpec]:
    """The hosts asked for: each -H (named by its URL), each context named (by its name), every context. A context
    that cannot be read is kept with its error (said as that host's state), the same URL given twice only once."""
    specs: list[HostSpec] = []
    for h in hosts or ():
        try:
            specs.append(HostSpec(h, resolve_endpoint(h, environ)))
        except DaemonError as exc:
            specs.append(HostSpec(h, None, str(exc)))
    names = [n.strip() for c in contexts or () for n in c.split(",") if n.strip()]
    if all_contexts:
        names += ["default"] + [c.name for c in stored_contexts(environ)]
    for name in names:
        try:
            specs.append(HostSpec(name, context_endpoint(name, environ)))
        except DaemonError as exc:
            specs.append(HostSpec(name, None, str(exc)))
    out: list[HostSpec] = []
    seen: set[object] = set()
    for s in specs:
        key = s.endpoint.url if s.endpoint is not None else ("?", s.name)
        if key in seen or s.name in {o.name for o in out}:
            continue
        seen.add(key)
        out.append(s)
    return out
