"""`troubleshoot dockerfile [PATH]`: parse with Docker's own parser (the `dockerfile` package wraps
moby/buildkit's), read the build context's .dockerignore, and hand plain instructions to the pure rules
(core/dockerfile_rules.py). A file that cannot be read or parsed is one line naming it."""
from __future__ import annotations

import re
from pathlib import Path

from .core.dockerfile_rules import DockerfileFinding, Instruction, review


class DockerfileError(Exception):
    pass


def locate(path: str | Path) -> tuple[Path, Path]:
    """(the Dockerfile, its build context). PATH may be the file or the context directory."""
    p = Path(path)
    if p.is_dir():
        for name in ("Dockerfile", "dockerfile", "Containerfile"):
            if (p / name).is_file():
                return p / name, p
        raise DockerfileError(f"{p}: no Dockerfile in this directory")
    if not p.exists():
        raise DockerfileError(f"{p}: no such file or directory")
    return p, p.parent


MAX_BYTES = 1024 * 1024  # a real Dockerfile is a few KB
MAX_INSTRUCTION = 32 * 1024  # one instruction with its continuation lines (a long RUN is a few KB)
_DIRECTIVE = re.compile(r"#\s*escape\s*=\s*(\S)", re.I)  # anchored, one character class each: linear


def check_bounds(text: str, path: Path | str) -> None:
    """Refuse, in one linear pass, what would make the parser slow: the `dockerfile` package (buildkit's parser)
    joins continuation lines in quadratic time (200,000 of them took over 120 s, with Ctrl-C ignored inside Go)."""
    escape = "\\"
    for line in text.split("\n", 20):  # parser directives come first, before any other line
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        m = _DIRECTIVE.match(stripped)
        if m:
            escape = m.group(1)
            break
    size = start = joined = 0
    for number, line in enumerate(text.split("\n"), 1):
        body = line.rstrip()
        if not joined:
            start, size = number, 0
        size += len(line) + 1
        if size > MAX_INSTRUCTION:
            raise DockerfileError(f"{path}:{start}: one instruction longer than {MAX_INSTRUCTION // 1024} KB "
                                  f"(with its continuation lines): refused, not reviewed")
        if joined and (not body or body.lstrip().startswith("#")):
            continue  # comments and empty lines inside a continuation do not end it
        joined = body.endswith(escape)


def parse(path: Path) -> list[Instruction]:
    from .clean import clean_text
    import dockerfile
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise DockerfileError(f"{path}: larger than {MAX_BYTES // 1024 // 1024} MB: not reviewed "
                                  f"(a Dockerfile is a few KB)")
        text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as read_text() would
    except (OSError, UnicodeDecodeError) as exc:
        raise DockerfileError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    check_bounds(text, path)
    try:
        commands = dockerfile.parse_string(text)
    except dockerfile.GoParseError as exc:
        raise DockerfileError(f"{path}: not a Dockerfile: {clean_text(' '.join(str(exc).split()))}") from None
    # A Dockerfile is untrusted text (a repository under review): every string that may be printed is cleaned here,
    # where it enters, of every terminal control (OSC 52, CSI 6n, 8-bit C1, bidi overrides...).
    return [Instruction(clean_text(c.cmd.upper()), tuple(clean_text(v) for v in c.value), c.start_line,
                        clean_text(c.original, keep_newlines=True), tuple(clean_text(f) for f in c.flags), c.json)
            for c in commands]


def source_lines(path: Path) -> list[str]:
    """The Dockerfile's lines as they may be printed beside a finding: cleaned of terminal controls, secrets
    masked. (The file is untrusted text: this and `parse` are where it enters.)"""
    from .clean import clean_text
    from .core.secrets import mask_text
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [mask_text(clean_text(line)) for line in text.splitlines()]


def review_path(path: str | Path) -> tuple[Path, list[DockerfileFinding]]:
    file, context = locate(path)
    instructions = parse(file)
    ignore_file = context / ".dockerignore"
    ignore = ignore_file.read_text(encoding="utf-8", errors="replace") if ignore_file.is_file() else None
    files = {p.name for p in context.iterdir()} if context.is_dir() else set()
    return file, review(instructions, ignore, files)
