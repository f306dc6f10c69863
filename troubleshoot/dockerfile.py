"""`troubleshoot dockerfile [PATH]`: parse with Docker's own parser (the `dockerfile` package wraps
moby/buildkit's), read the build context's .dockerignore, and hand plain instructions to the pure rules
(core/dockerfile_rules.py). A file that cannot be read or parsed is one line naming it."""
from __future__ import annotations

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


def parse(path: Path) -> list[Instruction]:
    from .clean import clean_text
    import dockerfile
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DockerfileError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
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
