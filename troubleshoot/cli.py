"""Command line: `troubleshoot scan`, `troubleshoot playbooks ...`. Never imports textual.

Exit codes of `scan`: 0 no critical or warning finding, 1 at least one, 2 the daemon cannot be used.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_DAEMON, EXIT_USAGE = 0, 1, 2, 64


def user_playbook_dir() -> Path:
    from platformdirs import user_config_dir
    return Path(user_config_dir("troubleshoot")) / "playbooks"


def _catalog(args):
    from .core.playbooks import load_catalog
    return load_catalog(args.playbooks or (), user_dir=None if args.no_user_playbooks else user_playbook_dir())


def _report_catalog_errors(catalog) -> None:
    for e in catalog.errors:
        sys.stderr.write(f"playbook skipped: {e}\n")


def _error(message: str) -> None:
    """One plain line on stderr: never wrapped, never markup."""
    sys.stderr.write(f"troubleshoot: {' '.join(message.split())}\n")


def _consoles():
    from rich.console import Console
    return Console(), Console(stderr=True)


def cmd_scan(args) -> int:
    from .core.diagnose import diagnose
    from .daemon import Daemon, DaemonError
    catalog = _catalog(args)
    _report_catalog_errors(catalog)
    try:
        daemon = Daemon(args.host).connect()
        observations = daemon.observe(args.names, all=not args.running, tail=args.tail)
        host = daemon.host()
    except DaemonError as exc:
        _error(str(exc))
        return EXIT_DAEMON
    report = diagnose(observations, host, catalog)
    if args.json:
        from .report_json import report_json
        sys.stdout.write(json.dumps(report_json(report), indent=2, default=str) + "\n")
    else:
        from .render import print_scan
        print_scan(_consoles()[0], report, catalog, all_findings=args.all_findings)
    return EXIT_FINDINGS if report.has_problems else EXIT_OK


def cmd_playbooks(args) -> int:
    from .core.playbooks import load_catalog, load_file, playbook_files
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
            _error(f"no playbook {args.id!r}; `troubleshoot playbooks list` shows them")
            return EXIT_USAGE
        out.print(playbook_detail(pb))
        return EXIT_OK
    if args.json:
        sys.stdout.write(json.dumps([{"id": p.id, "title": p.title, "severity": p.severity, "kind": p.kind,
                                      "scope": p.scope, "path": p.path} for p in catalog], indent=2) + "\n")
    else:
        out.print(playbook_table(catalog))
    return EXIT_OK


def _global_options(sub: bool) -> argparse.ArgumentParser:
    """Options accepted before or after the subcommand. The subcommand's copies default to SUPPRESS so they do not
    reset what was given before it (`troubleshoot --playbooks D scan`)."""
    d = (lambda v: argparse.SUPPRESS) if sub else (lambda v: v)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-H", "--host", default=d(None),
                        help="daemon to use (unix://, tcp://, ssh://user@host); default: DOCKER_HOST, "
                             "the docker context, then the local socket")
    common.add_argument("--playbooks", action="append", type=Path, metavar="DIR", default=d(None),
                        help="extra playbook directory; its playbooks add to or override shipped ones by id (repeatable)")
    common.add_argument("--no-user-playbooks", action="store_true", default=d(False),
                        help="ignore the user's playbook dir (~/.config/troubleshoot/playbooks)")
    return common


def cmd_tui(args) -> int:
    catalog = _catalog(args)
    _report_catalog_errors(catalog)
    from .tui.factory import make_app  # the only place the CLI imports textual
    make_app(catalog, host=args.host, read_only=args.read_only).run()
    return EXIT_OK


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
    scan.add_argument("--tail", type=int, default=200, help="log lines read per container that needs them")
    scan.add_argument("--all-findings", action="store_true", help="also print info findings")
    scan.set_defaults(func=cmd_scan)
    pbs = sub.add_parser("playbooks", parents=[common], help="list, show or validate playbooks")
    pbsub = pbs.add_subparsers(dest="action", required=True)
    lst = pbsub.add_parser("list", parents=[common], help="every playbook loaded, with its file")
    lst.add_argument("--json", action="store_true")
    show = pbsub.add_parser("show", parents=[common], help="one playbook in full")
    show.add_argument("id")
    val = pbsub.add_parser("validate", parents=[common], help="check playbook files (a file or a directory)")
    val.add_argument("path")
    pbs.set_defaults(func=cmd_playbooks, json=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args.func = cmd_tui
    if getattr(args, "tail", 1) < 1:
        parser.error("--tail must be at least 1")
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
