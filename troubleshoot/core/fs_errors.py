"""File-system errors as the runtimes print them: permission denied, read-only file system, no space left on
device, /dev/shm exhausted. Data, not code: one row per kind, each a list of (runtime, pattern) so that a new
framework's message is one more row (tests/unit/test_container_files.py holds a real line for each).

Patterns run with RE2 (core/regex.py): linear in the line. The path a line names is the first absolute path in it
(quoted or not); relative ones (PostgreSQL's `base/16384/2619`) are left out.
"""
from __future__ import annotations

import posixpath

from .facts import FileFacts, MountFact
from .regex import Family, compile_linear

# kind -> (runtime, pattern) rows; a line is of the first kind one of whose patterns it matches (shm before disk).
MESSAGES: dict[str, list[tuple[str, str]]] = {
    "shm": [
        ("PostgreSQL", r"could not resize shared memory segment"),
        ("PyTorch", r"insufficient shared memory \(shm\)"),
        ("Chromium", r"(Creating|create) shared memory .*failed|Failed to create shared memory"),
        ("any", r"/dev/shm/\S*.*(No space left on device|ENOSPC|Errno 28|Bus error)"),
    ],
    "disk": [
        ("C / shell / Go / Rust", r"(?i)no space left on device"),
        ("Node", r"\bENOSPC\b"),
        ("Python", r"\[Errno 28\]"),
        ("MySQL", r"(OS errno|Errcode:?|errno:?) 28\b|The table '[^']*' is full"),
        (".NET", r"There is not enough space on the disk"),
        ("any", r"(?i)disk quota exceeded|\bEDQUOT\b"),
    ],
    "readonly": [
        ("C / shell / Go / Java / Python", r"(?i)read-only file ?system"),
        ("Node", r"\bEROFS\b"),
        ("Python", r"\[Errno 30\]"),
    ],
    "permission": [
        ("C / shell / Go / Rust / nginx", r"(?i)permission denied"),
        ("Node", r"\bEACCES\b|\bEPERM\b"),
        ("Python", r"\[Errno 13\]|\[Errno 1\] Operation not permitted"),
        ("Java", r"java\.nio\.file\.AccessDeniedException"),
        (".NET", r"UnauthorizedAccessException|Access to the path .* is denied"),
        ("Ruby", r"Errno::EACCES"),
        ("MySQL", r"(OS errno|Errcode:?) 13\b"),
        ("PostgreSQL", r"has wrong ownership|could not change permissions of directory"),
        ("any", r"(?i)operation not permitted"),
    ],
}
_COMPILED = {kind: [compile_linear(p) for _rt, p in rows] for kind, rows in MESSAGES.items()}
# `exec /app: permission denied` and friends are the runtime failing to start the program: command-not-found's
_EXEC = compile_linear(r"(?i)^exec |exec: |exec user process|executable file|OCI runtime")
_PATH = compile_linear(r"(?:^|[\s'\"(=\[<])(/[A-Za-z0-9._@%+,~/-]+)")
KINDS = tuple(MESSAGES)
_FAMILY = {kind: Family(patterns) for kind, patterns in _COMPILED.items()}  # a line none may match: one search


def classify(line: str) -> str:
    """The kind of file-system error a log line reports ("" for none)."""
    if _EXEC.search(line):
        return ""
    for kind, patterns in _COMPILED.items():
        if any(p.search(line) for p in patterns):
            return kind
    return ""


def path_in(line: str) -> str:
    """The first absolute path a line names ("" for none)."""
    for m in _PATH.finditer(line):
        path = m.group(1).rstrip(".,")
        if len(path) > 1 and not path.startswith("//"):
            return path
    return ""


def errors(lines, kind: str) -> list[tuple[str, str]]:
    """(path, line) for each log line of `kind`, newest last, at most 3 (the same path once)."""
    out: list[tuple[str, str]] = []
    for line in _FAMILY[kind].lines(lines):
        if classify(line) == kind:
            path = path_in(line)
            if path and any(p == path for p, _ in out):
                continue
            out.append((path, line[:300]))
    return out[-3:]


def describe_mount(m: MountFact | None) -> str:
    """`/data: bind of /srv/data (dir, owner 0:0, mode 755)`, `/data: tmpfs size=1m`, or "" for the image's
    own filesystem."""
    if m is None:
        return ""
    if m.type == "tmpfs":
        opts = m.seen.options if m.seen is not None else ""
        return f"{m.destination}: tmpfs {opts or '(no size: half the host memory)'}{'' if m.rw else ', read-only'}"
    what = f"{m.destination}: {m.type} of {m.source}" + ("" if m.rw else " (read-only)")
    s = m.seen
    if s is None:
        return what
    bits = []
    if s.kind:
        bits.append(s.kind + (", empty" if s.empty else ""))
    if s.uid is not None:
        bits.append(f"owner {s.uid}:{s.gid}")
    if s.mode is not None:
        bits.append(f"mode {s.mode:o}")
    if s.error:
        bits.append(s.error)
    return what + (f" ({', '.join(bits)})" if bits else "")


def where(files: FileFacts, path: str) -> MountFact | None:
    """The mount a path is on, or None (the container's own filesystem)."""
    if not path:
        return None
    m = files.mount_for(path)
    return m if m is not None and m.destination not in ("", "/") else None


def directory(path: str) -> str:
    return posixpath.dirname(path.rstrip("/")) or "/"
