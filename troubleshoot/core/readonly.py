"""One rule: is a command provably read-only? Decided from its argument list alone, never from what a playbook says.

A command is read-only only when its program, its subcommand, every option and the number of its arguments are on an
allow-list below; everything else counts as a change: `docker run`/`exec` (they run arbitrary code), `rm`, `update`,
`restart`, `sh -c`/`bash -c`, unknown tools, unknown options, options before a docker subcommand (`docker -H ...`).
A playbook's own labels can only make a step stricter (see `Step.change_reason`).

Streaming commands that only read (`docker logs -f`, `docker events` without `--until`, `docker stats` without
`--no-stream`) are read-only: they change nothing, and the step runner bounds them (killed after its timeout, only
the last lines kept). Being unbounded is a matter of time, not of safety.

Tokens may still hold placeholders (`{container}`): filled values are checked to look like what they name (never an
option: no leading `-`), so a placeholder is an argument, like any word. Pure: no docker, no textual.
"""
from __future__ import annotations

import msgspec
from typing import Sequence


class _Spec(msgspec.Struct, frozen=True):
    flags: frozenset[str] = frozenset()  # options that take no value
    values: frozenset[str] = frozenset()  # options that take one value (`--format X`, `--format=X`, `-fX`)
    min_args: int = 0
    max_args: int | None = None  # None: any number


def _spec(flags: str = "", values: str = "", min_args: int = 0, max_args: int | None = None) -> _Spec:
    return _Spec(frozenset(flags.split()), frozenset(values.split()), min_args, max_args)


_FORMAT = "-f --format"
_PS = _spec("-a --all -l --latest --no-trunc -q --quiet -s --size", "-f --filter --format -n --last", 0, 0)
_LOGS = _spec("--details -f --follow -t --timestamps", "--since --until -n --tail", 1, 1)
_EVENTS = _spec("", "-f --filter --format --since --until", 0, 0)
_PORT = _spec("", "", 1, 2)
_TOP = _spec("", "", 1, None)  # `docker top C [ps args]`: ps only reads; a dash argument is refused as unknown
_STATS = _spec("-a --all --no-stream --no-trunc", "--format", 0, None)
_DIFF = _spec("", "", 1, 1)
_HISTORY = _spec("-H --human --no-trunc -q --quiet", "--format --platform", 1, 1)
_IMAGES = _spec("-a --all --digests --no-trunc -q --quiet --tree", "-f --filter --format", 0, 1)
_IMAGE_INSPECT = _spec("", _FORMAT + " --platform", 1, None)
_CONTAINER_INSPECT = _spec("-s --size", _FORMAT, 1, None)
_INFO = _spec("", _FORMAT, 0, 0)

# docker SUBCOMMAND (or "MANAGEMENT SUBCOMMAND") -> what it may be given
DOCKER: dict[str, _Spec] = {
    "ps": _PS, "container ls": _PS, "container ps": _PS, "container list": _PS,
    "inspect": _spec("-s --size", _FORMAT + " --type", 1, None), "container inspect": _CONTAINER_INSPECT,
    "logs": _LOGS, "container logs": _LOGS,
    "events": _EVENTS, "system events": _EVENTS,
    "port": _PORT, "container port": _PORT,
    "top": _TOP, "container top": _TOP,
    "stats": _STATS, "container stats": _STATS,
    "diff": _DIFF, "container diff": _DIFF,
    "history": _HISTORY, "image history": _HISTORY,
    "images": _IMAGES, "image ls": _IMAGES, "image list": _IMAGES,
    "image inspect": _IMAGE_INSPECT,
    "version": _INFO, "info": _INFO, "system info": _INFO,
    "system df": _spec("-v --verbose", "--format", 0, 0),
    "network ls": _spec("--no-trunc -q --quiet", "-f --filter --format", 0, 0),
    "network list": _spec("--no-trunc -q --quiet", "-f --filter --format", 0, 0),
    "network inspect": _spec("-v --verbose", _FORMAT, 1, None),
    "volume ls": _spec("-q --quiet --cluster", "-f --filter --format", 0, 0),
    "volume list": _spec("-q --quiet --cluster", "-f --filter --format", 0, 0),
    "volume inspect": _spec("", _FORMAT, 1, None),
}
_MANAGEMENT = {"container", "image", "system", "network", "volume"}

_SS_SHORT = "altuwxnrpemoisH46"  # not -K (kills sockets), -D (writes a dump file), -F (reads a filter file), -E, -N
# Host tools used by diagnose steps; only options that cannot write.
TOOLS: dict[str, _Spec] = {
    "free": _spec("-b -k -m -g -h -l -t -w -v --bytes --kilo --mega --giga --tera --peta --kibi --mebi --gibi --tebi "
                  "--pebi --human --si --lohi --total --wide --committed", "", 0, 0),
    "df": _spec("-a -h -H -i -k -l -P -T --all --human-readable --si --inodes --local --portability --print-type "
                "--total --output", "-B --block-size -t --type -x --exclude-type", 0, None),
    "ss": _spec("--all --listening --tcp --udp --raw --unix --numeric --resolve --processes --extended --memory "
                "--options --info --summary --no-header --ipv4 --ipv6 " + " ".join(f"-{c}" for c in _SS_SHORT),
                "-f --family -A --query --socket", 0, None),
    "uname": _spec("-a -s -n -r -v -m -p -i -o --all --kernel-name --nodename --kernel-release --kernel-version "
                   "--machine --processor --hardware-platform --operating-system", "", 0, 0),
    "uptime": _spec("-p -s --pretty --since", "", 0, 0),
    "nproc": _spec("--all", "", 0, 0),
    "cat": _spec("", "", 1, None),  # files: only under /proc/ or /sys/ (below)
    "ls": _spec("-l -d -n -a -A -h -i --directory --numeric-uid-gid --all --almost-all --human-readable", "", 1, None),
    "stat": _spec("-L -t --dereference --terse", "-c --format", 1, None),
}
_CAT_REFUSED = ("/proc/kmsg",)  # reading it consumes the kernel's messages: other readers lose them


def _check_options(spec: _Spec, args: Sequence[str]) -> tuple[list[str], str]:
    """The positional arguments, or why an option is not known to be harmless."""
    positional: list[str] = []
    i = 0
    while i < len(args):
        token = args[i]
        i += 1
        if token == "--":
            positional += list(args[i:])
            break
        if not token.startswith("-") or token == "-":
            if token == "-":
                return [], "'-' (standard input) is not a known argument"
            positional.append(token)
            continue
        if token.startswith("--"):
            name = token.split("=", 1)[0]
            if name in spec.flags:
                continue
            if name in spec.values:
                if "=" not in token:
                    if i >= len(args):
                        return [], f"{name} needs a value"
                    i += 1
                continue
            return [], f"option {name} is not known to be read-only"
        if token in spec.values:  # -f VALUE
            if i >= len(args):
                return [], f"{token} needs a value"
            i += 1
            continue
        if token in spec.flags:
            continue
        # a group of short options (-ltnp) or a short option with its value attached (-fVALUE)
        letters = token[1:]
        for j, letter in enumerate(letters):
            if f"-{letter}" in spec.values:
                if j == len(letters) - 1:
                    if i >= len(args):
                        return [], f"-{letter} needs a value"
                    i += 1
                break  # the rest of the token is the value
            if f"-{letter}" not in spec.flags:
                return [], f"option -{letter} (in {token}) is not known to be read-only"
    return positional, ""


def _check_args(program: str, spec: _Spec, args: Sequence[str]) -> str:
    positional, why = _check_options(spec, args)
    if why:
        return f"{program}: {why}"
    if len(positional) < spec.min_args:
        return f"{program}: expects at least {spec.min_args} argument(s)"
    if spec.max_args is not None and len(positional) > spec.max_args:
        return f"{program}: unexpected argument {positional[spec.max_args]!r}"
    if program == "cat":
        for path in positional:
            if not path.startswith(("/proc/", "/sys/")) or ".." in path.split("/") or path.startswith(_CAT_REFUSED):
                return f"cat: only files under /proc/ and /sys/ are known to be safe to read, not {path!r}"
    return ""


def change_reason(argv: Sequence[str]) -> str:
    """Why running `argv` may change something; "" when it is provably read-only."""
    if not argv:
        return "no command"
    program, rest = argv[0], list(argv[1:])
    if program == "docker":
        if not rest:
            return "docker with no subcommand"
        if rest[0].startswith("-"):
            return f"docker {rest[0]}: options before the subcommand are not known to be read-only"
        name = rest[0]
        if name in _MANAGEMENT and len(rest) > 1 and not rest[1].startswith("-"):
            name = f"{rest[0]} {rest[1]}"
            rest = rest[2:]
        else:
            rest = rest[1:]
        spec = DOCKER.get(name)
        if spec is None:
            what = {"exec": "runs arbitrary commands in the container", "run": "creates and starts a container"}
            return f"docker {name} " + what.get(name, "is not a read-only docker command")
        return _check_args(f"docker {name}", spec, rest)
    spec = TOOLS.get(program)
    if spec is None:
        if program in ("sh", "bash", "dash", "zsh", "ash", "busybox", "env", "sudo", "xargs", "python", "python3"):
            return f"{program} runs arbitrary commands"
        return f"{program} is not a known read-only tool"
    return _check_args(program, spec, rest)


def is_read_only(argv: Sequence[str]) -> bool:
    return not change_reason(argv)
