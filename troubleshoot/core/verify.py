"""Digest verification (the order-service RCA's missing step): what each container runs, against the digests a
pipeline expected. Pure: a lock file's text and observations in, results out.

Lock file: JSON {"order-service": "registry/order-service@sha256:...", ...} or one `NAME IMAGE@sha256:...` (or
`NAME=IMAGE@sha256:...`) per line, `#` comments. NAME is a container name or a compose service name.
A container matches when the expected digest is its image id (the config digest) or one of the image's
RepoDigests (the manifest digest a registry gave when it was pushed or pulled).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .facts import Observation

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
SERVICE_LABEL = "com.docker.compose.service"


class LockError(Exception):
    """One line: the lock file, the line, what is wrong."""


@dataclass(frozen=True)
class Expected:
    name: str
    ref: str  # as written: image@sha256:...
    digest: str  # sha256:...
    line: int


@dataclass(frozen=True)
class Result:
    expected: Expected
    container: str | None  # None: nothing runs under that name
    status: str  # ok | mismatch | missing
    running_image: str = ""  # what the container asked for (tag or digest)
    running_id: str = ""
    repo_digests: tuple[str, ...] = ()
    image_created: str = ""

    @property
    def severity(self) -> str:
        return {"ok": "ok", "mismatch": "critical", "missing": "warning"}[self.status]

    def to_json(self) -> dict:
        return {"name": self.expected.name, "expected": self.expected.ref, "container": self.container,
                "status": self.status, "severity": self.severity, "running_image": self.running_image,
                "running_id": self.running_id, "repo_digests": list(self.repo_digests),
                "image_created": self.image_created}


def _entry(name: str, ref: str, where: str, line: int) -> Expected:
    found = DIGEST.search(ref)
    if not name or not found or "@" not in ref and not ref.startswith("sha256:"):
        raise LockError(f"{where}:{line}: expected NAME IMAGE@sha256:<64 hex>, got {name!r} {ref!r}")
    return Expected(name, ref, found.group(0), line)


def parse_lock(text: str, where: str = "lock") -> list[Expected]:
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise LockError(f"{where}:{exc.lineno}: not JSON: {exc.msg}") from None
        out = []
        for name, ref in data.items():
            if not isinstance(ref, str):
                raise LockError(f"{where}: {name}: expected a string IMAGE@sha256:..., got {type(ref).__name__}")
            lineno = next((i for i, l in enumerate(text.splitlines(), 1) if f'"{name}"' in l), 1)
            out.append(_entry(name, ref, where, lineno))
        return out
    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split("=", 1) if "=" in line.split()[0] else line.split(None, 1)
        if len(parts) != 2:
            raise LockError(f"{where}:{n}: expected NAME IMAGE@sha256:<64 hex>, got {line!r}")
        out.append(_entry(parts[0].strip(), parts[1].strip(), where, n))
    if not out:
        raise LockError(f"{where}: no entries")
    return out


def verify(expected: list[Expected], observations: list[Observation]) -> list[Result]:
    results = []
    for exp in expected:
        matched = [o for o in observations
                   if o.container.name == exp.name or o.container.label(SERVICE_LABEL) == exp.name]
        if not matched:
            results.append(Result(exp, None, "missing"))
            continue
        for o in matched:
            img = o.image
            digests = tuple(img.digests) if img is not None else ()
            ok = o.container.image_id == exp.digest or any(d.endswith("@" + exp.digest) for d in digests)
            results.append(Result(exp, o.container.name, "ok" if ok else "mismatch", o.container.image_ref,
                                  o.container.image_id, digests,
                                  img.created.isoformat() if img is not None and img.created else ""))
    return results
