"""A container's Compose identity, read from the labels Compose puts on it (v1 1.29 and v2 write the same ones):
which project, which service, which replica, a one-off (`compose run`) or not, and where the project's files are.

Pure. The labels arrive cleaned by the boundary (one line, no terminal control); here they are read once into a
small frozen record, every field bounded (a label is untrusted: a project name of 16 KB must not widen the board).
`group` puts containers already in order (worst first) under their projects: a project sits where its worst member
would, the members under it in their own order, loose containers where they were.
"""
from __future__ import annotations

import msgspec
from typing import Iterable, Mapping, Sequence, TypeVar, Union

PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
CONFIG_FILES = "com.docker.compose.project.config_files"
WORKING_DIR = "com.docker.compose.project.working_dir"
ONEOFF = "com.docker.compose.oneoff"
NUMBER = "com.docker.compose.container-number"

MAX_NAME = 128  # a project or service name (Compose's own are short: [a-z0-9_-], lowercased)
MAX_PATH = 4096  # the working directory, one config file
MAX_FILES = 16  # config files kept (`-f a -f b ...`)
MAX_NUMBER = 1_000_000  # a replica number above this is not one


class Compose(msgspec.Struct, frozen=True):
    """What Compose says of one container. `number`: its replica (container-number), 0 when absent or unreadable."""
    project: str
    service: str = ""
    config_files: tuple[str, ...] = ()
    working_dir: str = ""
    oneoff: bool = False
    number: int = 0


Labels = Union[Mapping[str, str], Iterable[tuple[str, str]]]


def _bounded(text: str, most: int) -> str:
    text = text.strip()
    return text if len(text) <= most else text[:most - 1] + "…"


def _number(text: str) -> int:
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 7:
        return 0
    value = int(text)
    return value if value <= MAX_NUMBER else 0


def from_labels(labels: Labels | None) -> Compose | None:
    """The container's Compose record, or None for a loose container (no project label, or an empty one)."""
    if not labels:
        return None
    found = dict(labels.items() if isinstance(labels, Mapping) else labels)
    project = _bounded(found.get(PROJECT) or "", MAX_NAME)
    if not project:
        return None
    files = tuple(_bounded(f, MAX_PATH) for f in (found.get(CONFIG_FILES) or "").split(",") if f.strip())
    return Compose(
        project=project,
        service=_bounded(found.get(SERVICE) or "", MAX_NAME),
        config_files=files[:MAX_FILES],
        working_dir=_bounded(found.get(WORKING_DIR) or "", MAX_PATH),
        oneoff=(found.get(ONEOFF) or "").strip().lower() == "true",
        number=_number(found.get(NUMBER) or ""),
    )


K = TypeVar("K")


class Group(msgspec.Struct, frozen=True):
    """One project and its members (in the order given), or one loose container (`project` "")."""
    project: str
    members: tuple  # the keys (container ids) in this group, in order


def group(ordered: Sequence[K], project_of: Mapping[K, str]) -> list[Group]:
    """`ordered` (worst first) grouped by project: each project where its first (worst) member is, its members
    after it in their order; a loose container (no project) is a group of its own with project ""."""
    out: list[Group] = []
    members: dict[str, list[K]] = {}
    for key in ordered:
        project = project_of.get(key, "")
        if not project:
            out.append(Group("", (key,)))
        elif project in members:
            members[project].append(key)
        else:
            members[project] = [key]
            out.append(Group(project, ()))
    return [Group(g.project, tuple(members[g.project])) if g.project else g for g in out]


def member_label(c: Compose, replicas: int) -> str:
    """How a member is named under its project: its service, `#N` when the service has more than one container
    (or the replica is not the first), `run` for a one-off."""
    label = c.service or "?"
    if c.oneoff:
        return label + " run"
    if c.number and (replicas > 1 or c.number > 1):
        label += f" #{c.number}"
    return label
