"""Command line: `troubleshoot scan`, `troubleshoot playbooks ...`. Never imports textual.

Exit codes of `scan`: 0 no critical or warning finding, 1 at least one, 2 the daemon cannot be used or the input
(a snapshot, an argument) is bad: one line on stderr says which and why. With several hosts (`-H A -H B`,
`--context a,b`, `--all-contexts`): a host that does not answer is said in one line on stderr and the others are
scanned (0 or 1 from what they show); 2 only when no host answered.

Every command reads through one data source (`backend.open_source`: the daemon, `--from FILE` or `--demo`).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from . import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_DAEMON, EXIT_USAGE = 0, 1, 2, 2


def user_playbook_dir() -> Path:
    from .dirs import user_config_dir
    return Path(user_config_dir()) / "playbooks"


def _catalog(args):
    from .playbook_cache import load_catalog_cached
    return load_catalog_cached(args.playbooks or (), user_dir=None if args.no_user_playbooks else user_playbook_dir())


def _report_catalog_errors(catalog) -> None:
    for e in catalog.errors:
        sys.stderr.write(f"playbook skipped: {e}\n")


QUOTE_MAX = 80  # a value the user gave, quoted in a one-line error: cut to this many characters


def _quoted(value: str, limit: int = QUOTE_MAX) -> str:
    """A value the user gave, quoted for a one-line error: repr'd, and cut with an ellipsis past `limit`."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error(message: str) -> None:
    """One plain line on stderr: never wrapped, never markup, no terminal control (clean.py); a single word longer
    than a screen line (a value quoted whole) is cut with an ellipsis."""
    from .clean import clean_text
    words = [w if len(w) <= 2 * QUOTE_MAX else w[: 2 * QUOTE_MAX - 1] + "…" for w in clean_text(message).split()]
    sys.stderr.write(f"troubleshoot: {' '.join(words)}\n")


def _consoles():
    from rich.console import Console
    return Console(), Console(stderr=True)


def _snapshot_path(args) -> Path | None:
    if getattr(args, "demo", False):
        from .backend import DEMO_SNAPSHOT
        return DEMO_SNAPSHOT
    return getattr(args, "source", None)


class _Failed(Exception):
    """Already said on stderr; carries the exit code."""

    def __init__(self, code: int):
        self.code = code


def _source(args, catalog):
    """The data source the command asked for (snapshot, demo or daemon), or _Failed after one line on stderr."""
    from .backend import BackendError, open_source
    from .boundary import BoundaryError
    try:
        return open_source(catalog, getattr(args, "host", None), _snapshot_path(args), many=getattr(args, "many", None))
    except BoundaryError as exc:
        _error(str(exc))
        raise _Failed(EXIT_USAGE) from None
    except BackendError as exc:
        _error(str(exc))
        raise _Failed(EXIT_DAEMON) from None


class _Early:
    """A live daemon opened before the playbooks load, its first reads already asked (`Backend.prefetch`): the
    daemon lists its containers while this process parses the playbooks. A failure to open it is kept and said
    where opening the source would have said it (after the playbooks' own errors), never tried twice."""

    def __init__(self, args, running: bool = False, asked=None):
        from .backend import BackendError, open_source
        self.source, self.error = None, None
        if _snapshot_path(args) is not None or getattr(args, "many", None):
            if asked is not None:
                asked.batch.close()
            return
        try:
            self.source = open_source(None, getattr(args, "host", None), prefetch=not running, asked=asked)
        except BackendError as exc:
            self.source, self.error = None, exc

    def ask(self, names, running: bool, projects=()) -> None:
        """The inspects of the containers named, asked now if the list has come (Backend.ask_early)."""
        from .backend import BackendError
        if self.source is not None:
            try:
                self.source.ask_early(names, running, projects)
            except BackendError:
                pass  # said when the list is read, as without this

    def take(self, args, catalog):
        if self.error is not None:
            _error(str(self.error))
            raise _Failed(EXIT_DAEMON)
        if self.source is None:
            return _source(args, catalog)
        self.source.catalog = catalog
        return self.source


def _records(args, catalog, names: list[str], running: bool = False, tail: int = 200, deep: bool = False,
             early: _Early | None = None, forked: bool = False):
    """(source, [(record, secrets)], host record) of the named containers, from whatever source was asked for.
    `forked`: the per-container part on two processes (a command with no thread of its own: scan). `--project`
    (args.project): only those Compose projects' containers; one that has none here is bad input (one line)."""
    from .backend import BackendError, NoSuchProject
    source = early.take(args, catalog) if early is not None else _source(args, catalog)
    projects = getattr(args, "project", None) or ()
    try:
        ids = source.select(names, running, projects)
        return source, source.records(ids, tail=tail, deep=deep, forked=forked), source.host_record()
    except NoSuchProject as exc:
        known = ", ".join(exc.known[:10]) + (", …" if len(exc.known) > 10 else "") if exc.known else "none"
        _error(f"no {'running ' if running else ''}container of Compose project(s) "
               f"{', '.join(_quoted(p) for p in exc.missing)} in {source.label} (projects there: {known})"
               + _lab_hint(exc.missing, exc.known))
        raise _Failed(EXIT_USAGE) from None
    except BackendError as exc:
        _error(str(exc))
        raise _Failed(EXIT_DAEMON) from None


def _lab_hint(missing, known) -> str:
    """When a project named is a lab instance's name: the lab's Compose project is `tslab-<instance>`."""
    from . import lab_compose
    from .lab import LabError, state_file
    hints = []
    for value in missing:
        try:
            project = lab_compose.project_name(value)
        except LabError:
            continue
        if project != value and (project in known or os.path.exists(state_file(value))):
            hints.append(f"; {_quoted(value)} is a lab instance: its Compose project is {project}"
                         + ("" if project in known else " (not up here: `troubleshoot lab up --compose --instance "
                            f"{value}`)"))
    return "".join(hints)


def bad_projects(projects) -> str:
    """One line naming a `--project` value that is no Compose project name ("" when all are fine)."""
    for value in projects or ():
        if not value.strip():
            return f"--project {_quoted(value)}: empty; give a Compose project's name"
        if value != value.strip() or any(ch.isspace() or not ch.isprintable() for ch in value):
            return f"--project {_quoted(value)}: not a Compose project name (no spaces or control characters)"
    return ""


def _observe(args, catalog, names: list[str], running: bool = False, tail: int = 200, deep: bool = False,
             early: _Early | None = None, forked: bool = False):
    """(observations, host, source label). A failure is said in one line and raised as _Failed with its exit code."""
    from .core.records import host_from_record, observation_from_record
    source, records, host = _records(args, catalog, names, running, tail, deep, early, forked)
    return [observation_from_record(r, s) for r, s in records], host_from_record(host), source.label


def _two_processes(fn, observations):
    """Per-container diagnosis on two processes (forkmap.py): the scan runs nothing else meanwhile."""
    from .core.diagnose import Finding
    from .forkmap import fork_map
    return fork_map(fn, observations, encode=lambda found: [f.to_plain() for f in found],
                    decode=lambda plain: [Finding.from_plain(f) for f in plain])


def _scan_many(args) -> int:
    """`scan` over several hosts: each host read in its own thread (connect within its timeout, list, inspect,
    /info), each diagnosed against its own host; an unreachable one said in one line on stderr."""
    from .core.diagnose import diagnose
    from .core.records import host_from_record, observation_from_record
    catalog = _catalog(args)
    _report_catalog_errors(catalog)
    from .hosts import MultiBackend, _each
    source = MultiBackend(catalog, args.many)  # not connect(): every host is waited for, even if none answers
    source.wait_all()

    def read(part):
        live = part.live()
        live.catalog = catalog
        ids = live.select(args.names, args.running)
        return live.records(ids, tail=args.tail, deep=args.deep), live.host_record()
    reports = []
    for part, out in _each(source.parts, read):
        if isinstance(out, BaseException):
            from .backend import BackendError
            if not isinstance(out, BackendError):
                raise out
            part.fail(str(out))
            continue
        records, host = out
        part.count = len(records)
        reports.append((part, diagnose([observation_from_record(r, s) for r, s in records], host_from_record(host),
                                       catalog)))
    for part in source.parts:
        if part.state != "up":
            _error(f"host {part.name} unreachable: {part.why}")
    if not reports and not args.json:
        return EXIT_DAEMON
    if args.json:  # every host dead too: the document, saying each host's state (exit 2 all the same)
        from .jsonout import write_json
        from .report_json import many_json
        write_json(many_json([(p.name, r) for p, r in reports], source.states()))
        if not reports:
            return EXIT_DAEMON
    else:
        from .render import print_scan
        console = _consoles()[0]
        for part, report in reports:
            from rich.text import Text
            console.print(Text(f"host {part.name} ({part.url})", style="bold"))
            print_scan(console, report, catalog, all_findings=args.all_findings, host_flag=part.flag())
    return EXIT_FINDINGS if any(r.has_problems for _p, r in reports) else EXIT_OK


def cmd_scan(args) -> int:
    """No cyclic garbage collection during a scan (a process of a second or less, ended by os._exit: entry()): its
    collections walked the growing heap of records again and again (~2% of a scan's instructions at 300 containers),
    and its objects are freed by their reference counts (peak RSS with 1,000 containers the same, 44 MB, with or
    without). On again after it, for a caller in the same process (tests)."""
    import gc
    was = gc.isenabled()
    gc.disable()
    try:
        return _scan(args)
    finally:
        if was:
            gc.enable()


def _scan(args) -> int:
    bad = bad_projects(getattr(args, "project", None))
    if bad:
        _error(bad)
        return EXIT_USAGE
    if getattr(args, "many", None):
        return _scan_many(args)
    asked = None
    if _snapshot_path(args) is None:  # the first reads asked before anything heavy is imported (prefetch.py)
        from .prefetch import ask_first
        asked = ask_first(getattr(args, "host", None), all=not args.running)
    early = _Early(args, args.running, asked)  # the daemon starts listing while the playbooks load
    early.ask(args.names, args.running, args.project or ())  # ... and inspecting, if its list is in by now
    from .core.diagnose import diagnose
    catalog = _catalog(args)
    _report_catalog_errors(catalog)
    try:
        observations, host, _source = _observe(args, catalog, args.names, args.running, args.tail, args.deep, early,
                                               forked=True)
    except _Failed as failed:
        return failed.code
    report = diagnose(observations, host, catalog, each=_two_processes)
    if args.json:
        from .report_json import report_json
        from .jsonout import write_json
        write_json(report_json(report, host_name=_source))
    else:
        from .render import print_scan
        print_scan(_consoles()[0], report, catalog, all_findings=args.all_findings)
    return EXIT_FINDINGS if report.has_problems else EXIT_OK


def cmd_playbooks(args) -> int:
    from .core.playbooks import load_file, playbook_files
    from .render import playbook_detail, playbook_table
    out, err = _consoles()
    if args.action == "validate":
        target = Path(args.path)
        if not target.exists():
            _error(f"{target}: no such file or directory")
            return EXIT_USAGE
        files = playbook_files(target) if target.is_dir() else [target]
        ok = 0
        problems = []
        for f in files:
            pb, errors = load_file(f)
            problems += errors
            ok += pb is not None
        for e in problems:
            print(e)
        print(f"{ok} valid, {len(files) - ok} invalid playbook file(s) in {target}")
        return EXIT_FINDINGS if problems else EXIT_OK
    catalog = _catalog(args)
    _report_catalog_errors(catalog)
    if args.action == "show":
        pb = catalog.get(args.id)
        if pb is None:
            _error(f"no playbook {_quoted(args.id)}; `troubleshoot playbooks list` shows them")
            return EXIT_USAGE
        out.print(playbook_detail(pb))
        return EXIT_OK
    if args.json:
        sys.stdout.write(json.dumps([{"id": p.id, "title": p.title, "severity": p.severity, "kind": p.kind,
                                      "scope": p.scope, "path": p.path} for p in catalog], indent=2) + "\n")
    else:
        out.print(playbook_table(catalog))
    return EXIT_OK


def cmd_report(args) -> int:
    """The RCA of a container's latest incident record from this data source (the daemon, `--from FILE`, `--demo`)
    and for its current id; with none, one written from a scan of it now."""
    from datetime import datetime, timezone

    from .backend import BackendError
    from .core.diagnose import diagnose
    from .core.incident import Incident, evidence_values, opened_event, render_rca, written_cause
    from .core.records import host_from_record, observation_from_record
    from .core.signals import container_signals
    from .incidents import latest_for
    catalog = _catalog(args)
    _report_catalog_errors(catalog)
    wanted = args.container
    try:
        source = _source(args, catalog)
    except _Failed as failed:
        return failed.code
    try:
        rows = source.rows(all=True)
    except BackendError as exc:
        _error(str(exc))
        return EXIT_DAEMON
    exact = [r for r in rows if r.name == wanted] or [r for r in rows if len(wanted) >= 4 and r.id.startswith(wanted)]
    if len(exact) != 1:
        _error(f"{'no' if not exact else len(exact)} container(s) named {_quoted(wanted)} in {source.label}; "
               "give a container's exact name or id")
        return EXIT_USAGE
    row = exact[0]
    log = latest_for(row.name, source=source.label, container_id=row.id,
                     service=(row.compose.project, row.compose.service) if row.compose is not None else None)
    if log is not None:
        incident = log.read()
        origin = f"incident record {log.path}"
        recorded = True
    else:
        try:
            records = source.records(source.select([]))  # all of them: who answers to which name (peers)
            host = host_from_record(source.host_record())
        except BackendError as exc:
            _error(str(exc))
            return EXIT_DAEMON
        report = diagnose([observation_from_record(r, s) for r, s in records], host, catalog)
        obs = next((o for o in report.observations if o.container.id == row.id), None)
        if obs is None:
            _error(f"{wanted}: the container is gone")
            return EXIT_USAGE
        found = report.for_container(row.id)
        if not found:
            _error(f"{wanted}: no incident record and nothing found wrong with it now: no RCA to write")
            return EXIT_OK
        values = evidence_values(obs, host, container_signals(obs, host))
        incident = Incident([opened_event(obs, found[0], found, datetime.now(timezone.utc), source.label,
                                          values, written_cause(catalog.get(found[0].playbook_id), values))])
        origin = "a scan just now (no incident record: open it in the app to record steps and notes)"
        recorded = False
    text = render_rca(incident, catalog, recorded=recorded)
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        from .files import write_private
        try:
            write_private(args.output, text)
        except OSError as exc:
            _error(f"{args.output}: cannot write: {exc.strerror or exc}")
            return EXIT_USAGE
    sys.stderr.write(f"RCA from {origin}\n")
    return EXIT_OK


def cmd_image(args) -> int:
    """Forensics of one image from its layers: size by instruction, wasted bytes, build tools, secret files."""
    from .backend import BackendError
    from .core.forensics import analyze
    try:
        source = _source(args, _catalog(args))
        data = source.image(args.image)
        record = source.image_layers(args.image) if data is not None else None
    except _Failed as failed:
        return failed.code
    except BackendError as exc:
        _error(str(exc))
        return EXIT_DAEMON
    if data is None or record is None:
        _error(f"no image {_quoted(args.image)} on this daemon (`docker images` lists them)")
        return EXIT_USAGE
    from .core.facts import image_from_inspect
    image = image_from_inspect(data)
    forensics = analyze(record)
    if args.json:
        from .report_json import forensics_json
        sys.stdout.write(json.dumps(forensics_json(image, forensics), indent=2) + "\n")
    else:
        from .render import print_forensics
        print_forensics(_consoles()[0], image, forensics)
    return EXIT_FINDINGS if forensics.secret_files or image.size > args.max_size * 1_000_000 else EXIT_OK


def cmd_verify(args) -> int:
    """Compare what each container runs with the digests a pipeline expected; a mismatch is critical (exit 1)."""
    from .core.verify import LockError, parse_lock, verify
    try:
        expected = []
        if args.lock:
            try:
                text = Path(args.lock).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise LockError(f"{args.lock}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
            expected += parse_lock(text, str(args.lock))
        if args.expect:
            expected += parse_lock("\n".join(args.expect), "command line")
        if not expected:
            raise LockError("nothing to verify: give --lock FILE or NAME=IMAGE@sha256:... arguments")
    except LockError as exc:
        _error(str(exc))
        return EXIT_USAGE
    catalog = _catalog(args)
    try:
        observations, _host, source = _observe(args, catalog, [])
    except _Failed as failed:
        return failed.code
    results = verify(expected, observations)
    if args.json:
        sys.stdout.write(json.dumps({"schema": 1, "source": source, "results": [r.to_json() for r in results]},
                                    indent=2) + "\n")
    else:
        from .render import print_verify
        print_verify(_consoles()[0], results)
    return EXIT_FINDINGS if any(r.status != "ok" for r in results) else EXIT_OK


def cmd_dockerfile(args) -> int:
    from .dockerfile import DockerfileError, review_path
    try:
        file, findings = review_path(args.path)
    except DockerfileError as exc:
        _error(str(exc))
        return EXIT_USAGE
    if args.json:
        sys.stdout.write(json.dumps({"schema": 1, "dockerfile": str(file),
                                     "findings": [f.to_json() for f in findings]}, indent=2) + "\n")
    else:
        from .render import print_dockerfile
        print_dockerfile(_consoles()[0], file, findings)
    return EXIT_FINDINGS if any(f.severity in ("critical", "warning") for f in findings) else EXIT_OK


def cmd_snapshot(args) -> int:
    """Everything the diagnosis needs in one JSON file, secrets masked; written whole or not at all."""
    from . import __version__
    from .core.snapshot import build, encode
    try:
        source, pairs, host = _records(args, _catalog(args), args.names, args.running, args.tail, args.deep)
    except _Failed as failed:
        return failed.code
    records = [r for r, _ in pairs]
    doc = build(records, host, source.label, f"troubleshoot {__version__}")
    text = encode(doc).decode("utf-8")
    if str(args.output) == "-":
        sys.stdout.write(text)
        return EXIT_OK
    from .files import write_private
    target = Path(args.output)
    try:
        write_private(target, text)  # a random O_EXCL temp name in the target's directory, then a rename
    except OSError as exc:
        _error(f"{target}: cannot write: {exc.strerror or exc}")
        return EXIT_USAGE
    sys.stderr.write(f"wrote {target}: {len(records)} container(s), {len(text) // 1024} KB, secrets masked\n")
    return EXIT_OK


def cmd_lab(args) -> int:
    from . import lab as labmod
    from .daemon import Daemon, DaemonError
    if args.action == "list":
        from .render import lab_table
        _consoles()[0].print(lab_table(labmod.SCENARIOS, labmod.NOT_IN_LAB))
        return EXIT_OK
    unknown = [s for s in getattr(args, "scenarios", ()) if s not in labmod.SCENARIOS and s not in labmod.VARIANTS]
    if unknown:
        _error(f"no lab scenario {', '.join(_quoted(u) for u in unknown)}; `troubleshoot lab list` shows them")
        return EXIT_USAGE
    instance = args.instance
    if getattr(args, "many", None):
        _error("the lab works on one daemon: give one -H or --context")
        return EXIT_USAGE
    try:
        labmod.check_instance(instance)
    except labmod.LabError as exc:
        _error(str(exc))
        return EXIT_USAGE
    which = "" if instance == labmod.DEFAULT_INSTANCE else f" --instance {instance}"
    try:
        daemon = Daemon(args.host).connect()
        state = labmod.load_state(instance)
        if args.action == "down":
            from . import lab_compose
            had = os.path.exists(lab_compose.compose_file(instance))
            kept_compose = lab_compose.down(daemon, instance)  # the Compose set first: its networks and volumes too
            gone = lab_compose.project_name(instance) if had and not kept_compose else ""
            containers, images, kept = labmod.down(daemon, state.get("pulled", []), instance)
            kept = kept_compose + kept
            if gone:
                print(f"removed Compose project {gone} (containers, networks, volumes)")
            labmod.save_state({}, instance)
            print(f"removed {len(containers)} container(s) and {len(images)} image(s) made by lab instance {instance}")
            for k in kept:
                _error(f"not removed: {k}")
            return EXIT_FINDINGS if kept else EXIT_OK
        lab = labmod.Lab(daemon, say=lambda text: print(text, flush=True), instance=instance)
        if getattr(args, "compose", False):
            from . import lab_compose
            try:
                path = lab_compose.up(lab, args.base_image, say=lambda text: print(text, flush=True))
            finally:
                labmod.save_state({**state, "pulled": sorted(set(state.get("pulled", []) + lab.pulled)),
                                   "compose": lab_compose.compose_file(instance)}, instance)
            print(f"Compose project {lab_compose.project_name(instance)} is up from {path}:")
            for service, (playbook, what) in lab_compose.SCENARIOS.items():
                print(f"  {service:8} {playbook:22} {what}")
            print(f"Open `troubleshoot` to work them; fix them in {path}; `troubleshoot lab down{which}` removes "
                  "the project (containers, networks, volumes).")
            return EXIT_OK
        try:
            made = labmod.up(lab, args.scenarios, args.base_image,
                             progress=lambda sid, secs: print(f"  {lab.name(sid):28} {sid:20} ready in {secs:4.1f}s",
                                                              flush=True))
        finally:
            labmod.save_state({**state, "pulled": sorted(set(state.get("pulled", []) + lab.pulled))}, instance)
    except labmod.LabError as exc:
        _error(str(exc))
        return EXIT_FINDINGS
    except DaemonError as exc:
        _error(str(exc))
        return EXIT_DAEMON
    print(f"{len(made)} broken container(s) ready on {daemon.endpoint.url}, labelled troubleshoot.lab "
          f"(instance {instance}). Open `troubleshoot` to work them; `troubleshoot lab down{which}` removes them all.")
    return EXIT_OK


_ONE_HOST = {"image", "snapshot", "report"}  # commands that read one daemon


def _resolve_hosts(args) -> int | None:
    """`-H` (repeatable), `--context a,b`, `--all-contexts` into `args.host` (one daemon: as it always was, a URL or
    a context's endpoint) or `args.many` (several: contexts.HostSpec each, for hosts.MultiBackend). An exit code
    when what was asked cannot be used (said in one line)."""
    hosts, contexts = getattr(args, "host", None) or [], getattr(args, "context", None) or []
    args.many = None
    if not contexts and not getattr(args, "all_contexts", False):
        args.host = hosts[-1] if len(hosts) == 1 else None if not hosts else hosts
        if len(hosts) <= 1:
            return None
    from .contexts import host_specs
    specs = host_specs(hosts, contexts, getattr(args, "all_contexts", False))
    if not specs:
        _error("no docker context found (`docker context ls`)")
        return EXIT_USAGE
    if len(specs) == 1:
        if specs[0].endpoint is None:
            _error(specs[0].error)
            return EXIT_DAEMON
        args.host = specs[0].endpoint
        return None
    if args.command in _ONE_HOST or _snapshot_path(args) is not None:
        _error(f"{'--from/--demo' if _snapshot_path(args) else args.command} reads one daemon: "
               "give one -H or --context")
        return EXIT_USAGE
    args.host, args.many = None, specs
    return None


def _global_options(sub: bool) -> argparse.ArgumentParser:
    """Options accepted before or after the subcommand. The subcommand's copies default to SUPPRESS so they do not
    reset what was given before it (`troubleshoot --playbooks D scan`)."""
    d = (lambda v: argparse.SUPPRESS) if sub else (lambda v: v)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-H", "--host", action="append", default=d(None),
                        help="daemon to use (unix://, tcp://, ssh://user@host); default: DOCKER_HOST, "
                             "the docker context, then the local socket. Repeat it for several hosts in one view")
    common.add_argument("--context", action="append", default=d(None), metavar="A,B",
                        help="docker context(s) to use, by name (`docker context ls`); several: one view")
    common.add_argument("--all-contexts", action="store_true", default=d(False),
                        help="every docker context (and `default`) in one view")
    common.add_argument("--playbooks", action="append", type=Path, metavar="DIR", default=d(None),
                        help="extra playbook directory; its playbooks add to or override shipped ones by id (repeatable)")
    common.add_argument("--from", dest="source", type=Path, metavar="FILE", default=d(None),
                        help="read a snapshot file instead of a daemon (no daemon needed; read-only)")
    common.add_argument("--demo", action="store_true", default=d(False),
                        help="the shipped demo snapshot: recorded incidents, no daemon needed")
    common.add_argument("--no-user-playbooks", action="store_true", default=d(False),
                        help="ignore the user's playbook dir (~/.config/troubleshoot/playbooks)")
    return common


def cmd_tui(args) -> int:
    path = _snapshot_path(args)
    from .backend import start_early
    early = start_early(args.host) if path is None and not getattr(args, "many", None) else None  # the container list asked now, while the rest loads
    # A live daemon: the app loads the playbooks once the list is on screen (its first frame waits for textual,
    # not for them); recorded data is diagnosed as it is read: they are loaded now
    catalog = None
    from .boundary import BoundaryError
    backend: Any = None
    while True:
        if path is not None:
            from .backend import snapshot_backend
            if catalog is None:
                catalog = _catalog(args)
                _report_catalog_errors(catalog)
            try:
                backend = snapshot_backend(catalog, path)
            except BoundaryError as exc:
                _error(str(exc))
                return EXIT_USAGE
        from .backend import BackendError
        from .tui.factory import make_app  # the only place the CLI imports textual
        if path is None and getattr(args, "many", None):
            from .hosts import MultiBackend
            backend = MultiBackend(catalog, args.many)
        try:
            app = make_app(catalog, host=args.host, read_only=args.read_only or path is not None, backend=backend,
                           early=early, load_catalog=lambda: _catalog(args))
        except BackendError as exc:  # e.g. a docker context that does not exist
            _error(str(exc))
            return EXIT_DAEMON
        result = app.run()
        if catalog is None and app.catalog_loaded:  # loaded by the app (it said what it skipped in a toast)
            catalog = app.catalog
            _report_catalog_errors(catalog)
        if app.return_code:  # it crashed, and said so in one line
            from .crash import EXIT_CRASH
            return EXIT_CRASH
        if result != "demo":  # the app offers the demo when no daemon answers
            return EXIT_OK
        from .backend import DEMO_SNAPSHOT
        path = DEMO_SNAPSHOT


def build_parser() -> argparse.ArgumentParser:
    common = _global_options(sub=True)
    parser = argparse.ArgumentParser(prog="troubleshoot", parents=[_global_options(sub=False)],
                                     description="Diagnose broken Docker containers with incident playbooks.")
    parser.add_argument("--version", action="version", version=f"troubleshoot {__version__}")
    parser.add_argument("--read-only", action="store_true", help="the app never runs a step that changes anything")
    sub = parser.add_subparsers(dest="command")
    tui = sub.add_parser("tui", parents=[common], help="the interactive board (the default with no subcommand)")
    tui.add_argument("--read-only", action="store_true", default=argparse.SUPPRESS,
                     help="never run a step that changes anything (fix steps are shown, not run)")
    tui.set_defaults(func=cmd_tui)
    scan = sub.add_parser("scan", parents=[common], help="diagnose containers and print ranked findings")
    scan.add_argument("names", nargs="*", help="only containers whose name contains one of these (or id prefix)")
    scan.add_argument("--json", action="store_true", help="one JSON document on stdout (schema 1)")
    scan.add_argument("--running", action="store_true", help="only running containers (default: all)")
    scan.add_argument("--project", action="append", metavar="P", help="only the containers of this Compose project "
                      "(repeatable); the text output groups containers by project either way")
    scan.add_argument("--tail", type=int, default=200, help="log lines read per container that needs them")
    scan.add_argument("--all-findings", action="store_true", help="also print info findings")
    scan.add_argument("--deep", action="store_true", help="also read every image's layers (docker save, streamed): "
                      "wasted bytes, build tools, secret files even if deleted later. Reads each image in full")
    scan.set_defaults(func=cmd_scan)
    rep = sub.add_parser("report", parents=[common], help="the RCA (Markdown) of a container's incident")
    rep.add_argument("container", help="exact container name or id")
    rep.add_argument("-o", "--output", metavar="FILE", help="write it there (default: stdout)")
    rep.set_defaults(func=cmd_report)
    img = sub.add_parser("image", parents=[common], help="image forensics from its layers (docker save, streamed)")
    img.add_argument("image", help="image name, tag or id")
    img.add_argument("--max-size", type=int, default=1000, metavar="MB", help="size threshold (default 1000 MB)")
    img.add_argument("--json", action="store_true")
    img.set_defaults(func=cmd_image)
    ver = sub.add_parser("verify", parents=[common], help="check containers run the image digests a pipeline expected")
    ver.add_argument("expect", nargs="*", metavar="NAME=IMAGE@sha256:...", help="expected digests (container or "
                     "compose service name)")
    ver.add_argument("--lock", metavar="FILE", help="a lock file: JSON {name: image@sha256} or NAME IMAGE@sha256 lines")
    ver.add_argument("--json", action="store_true")
    ver.set_defaults(func=cmd_verify)
    dfile = sub.add_parser("dockerfile", parents=[common], help="review a Dockerfile and its build context")
    dfile.add_argument("path", nargs="?", default=".", help="the Dockerfile or its context directory (default: .)")
    dfile.add_argument("--json", action="store_true")
    dfile.set_defaults(func=cmd_dockerfile)
    snap = sub.add_parser("snapshot", parents=[common], help="write what a diagnosis needs to one JSON file")
    snap.add_argument("names", nargs="*", help="only containers whose name contains one of these (or id prefix)")
    snap.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write it (- for stdout)")
    snap.add_argument("--running", action="store_true", help="only running containers (default: all)")
    snap.add_argument("--tail", type=int, default=200, help="log lines kept per container that needs them")
    snap.add_argument("--deep", action="store_true", help="also every image's layer listing (as scan --deep; "
                      "the file grows with the number of files in the images)")
    snap.set_defaults(func=cmd_snapshot)
    pbs = sub.add_parser("playbooks", parents=[common], help="list, show or validate playbooks")
    pbsub = pbs.add_subparsers(dest="action", required=True)
    lst = pbsub.add_parser("list", parents=[common], help="every playbook loaded, with its file")
    lst.add_argument("--json", action="store_true")
    show = pbsub.add_parser("show", parents=[common], help="one playbook in full")
    show.add_argument("id")
    val = pbsub.add_parser("validate", parents=[common], help="check playbook files (a file or a directory)")
    val.add_argument("path")
    pbs.set_defaults(func=cmd_playbooks, json=False)
    lab = sub.add_parser("lab", parents=[common], help="training lab: real broken containers to practise on")
    labsub = lab.add_subparsers(dest="action", required=True)
    labsub.add_parser("list", parents=[common], help="the scenarios, one per playbook")
    lab_up = labsub.add_parser("up", parents=[common], help="create scenarios on the daemon (all, or those named)")
    lab_up.add_argument("scenarios", nargs="*", metavar="SCENARIO")
    lab_up.add_argument("--base-image", metavar="IMG", help="image to build on (default busybox:latest; without a "
                        "registry, one is built from this host's static busybox)")
    lab_up.add_argument("--compose", action="store_true",
                        help="the Compose set: a project (web/db, api/.env, worker) whose file you read and edit; "
                             "its path is printed")
    lab_down = labsub.add_parser("down", parents=[common], help="remove everything this lab instance made")
    for p in (lab_up, lab_down):
        p.add_argument("--instance", default="default", metavar="NAME",
                       help="which lab on a shared daemon (default: default): `down` removes only its own")
    lab.set_defaults(func=cmd_lab)
    return parser


_QUICK_EXIT = {"scan"}  # commands whose process may end without tearing the interpreter down (entry())
_ran: str | None = None  # the command main() ran


def entry() -> None:
    """The `troubleshoot` command (and `python -m troubleshoot`): `main`, then, after a scan, the process ends at once
    (os._exit once stdout and stderr are flushed): freeing a scan's thousands of objects one by one took ~15 ms of
    its 0.25 s, and nothing is left to close (files are written whole and closed, children reaped)."""
    code = main()
    tunnels = sys.modules.get("troubleshoot.sshtunnel")
    if tunnels is not None:  # ssh://: how it was reached, when that matters (the dial-stdio fallback)
        for note in tunnels.notes():
            sys.stderr.write(f"troubleshoot: note: {note}\n")
    if _ran in _QUICK_EXIT:
        if tunnels is not None:  # an ssh:// scan: its ssh process ended and reaped, its socket removed (os._exit
            tunnels.close_all()  # runs no atexit)
        try:
            sys.stdout.flush()
        except (BrokenPipeError, ValueError):
            pass
        try:
            sys.stderr.flush()
        except (BrokenPipeError, ValueError):
            pass
        os._exit(code)
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    global _ran
    parser = build_parser()
    args = parser.parse_args(argv)
    _ran = args.command
    if args.command is None:
        args.func = cmd_tui
    if getattr(args, "tail", 1) < 1:
        parser.error("--tail must be at least 1")
    if _resolve_hosts(args) is not None:
        return EXIT_DAEMON
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # a bug: one line; the traceback, secrets masked, in a private report (crash.py)
        from .crash import EXIT_CRASH, report_crash
        sys.stderr.write(report_crash(exc, where=f"cli {args.command or 'tui'}") + "\n")
        return EXIT_CRASH
