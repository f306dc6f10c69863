"""Fixes that change a container through the Engine API, after the engineer confirmed them in the app: recreate
with a change (core/fixplan.py builds the body), roll back, drop the old container once verify passed, rewrite the
script a container execs. Every step is said in the lines returned (shown and recorded); a failure part-way rolls
back what was done, so the old container is never lost.

The raw inspect (secret values included) goes from the daemon to the daemon: it is read here, turned into the create
body, sent, and dropped; nothing of it is returned but ids and names.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from .clean import clean_text
from .core.fixplan import PlanError, before_fix_name, create_body, fix_script
from .daemon import ApiError, Daemon, DaemonError


@dataclass
class FixResult:
    exit_code: int  # 0: done; 1: failed (and rolled back when anything had changed)
    lines: list[str] = field(default_factory=list)
    new_id: str = ""
    old_id: str = ""
    old_name: str = ""  # the name the old container has now (NAME-before-fix-HHMMSS)
    name: str = ""
    was_running: bool = False


def _why(exc: Exception) -> str:
    return clean_text(str(exc)).splitlines()[0][:300] if str(exc) else type(exc).__name__


def recreate(daemon: Daemon, cid: str, changes: list[tuple[str, str]], at: datetime | None = None) -> FixResult:
    at = at or datetime.now(timezone.utc)
    raw = daemon.raw_inspect(cid)
    if raw is None:
        return FixResult(1, ["the container is gone: nothing to recreate"])
    name = str(raw.get("Name") or "").lstrip("/")
    state = raw.get("State") or {}
    result = FixResult(1, name=name, old_id=str(raw.get("Id") or cid), was_running=bool(state.get("Running")))
    old_image = None
    if any(k == "image" for k, _ in changes):
        image = daemon.raw_inspect(str(raw.get("Image") or ""), "images")
        old_image = (image or {}).get("Config") or {}
    try:
        body = create_body(raw, changes, old_image)
    except PlanError as exc:
        result.lines.append(f"cannot make this change: {exc}")
        return result
    del raw  # the secret values it held are in `body` only, on their way to the daemon
    renamed = False
    try:
        if result.was_running:
            daemon.stop_container(result.old_id)
            result.lines.append(f"stopped {name}")
        base = before_fix_name(name, at)
        for n in range(1, 10):  # a second try in the same second: NAME-before-fix-HHMMSS-2
            result.old_name = base if n == 1 else f"{base}-{n}"
            try:
                daemon.rename_container(result.old_id, result.old_name)
                break
            except ApiError as exc:
                if exc.status != 409 or n == 9:
                    raise
        renamed = True
        result.lines.append(f"renamed it {result.old_name} (kept until verify passes; u rolls back)")
        result.new_id = daemon.create_container(name, body.create)
        result.lines.append(f"created {name} ({result.new_id[:12]})")
        for network, endpoint in body.connect:
            daemon.connect_network(network, result.new_id, endpoint)
            result.lines.append(f"connected it to {network}")
        why = daemon.start_container(result.new_id)
        if why:
            raise ApiError(500, why)
        result.lines.append(f"started {name}")
        result.exit_code = 0
        return result
    except (DaemonError, ApiError) as exc:
        result.lines.append(f"failed: {_why(exc)}")
        if renamed or result.new_id:
            back = rollback(daemon, result)
            result.lines += [f"rolled back: {line}" for line in back.lines]
            result.new_id = ""
        return result


def rollback(daemon: Daemon, fix: FixResult) -> FixResult:
    """Remove the new container, give the old one its name back, start it again if it was running."""
    out = FixResult(0, name=fix.name, old_id=fix.old_id)
    try:
        if fix.new_id:
            daemon.remove_container(fix.new_id)
            out.lines.append(f"removed the new {fix.name} ({fix.new_id[:12]})")
        if fix.old_name:
            daemon.rename_container(fix.old_id, fix.name)
            out.lines.append(f"renamed {fix.old_name} back to {fix.name}")
        if fix.was_running:
            why = daemon.start_container(fix.old_id)
            out.lines.append(f"could not start it again: {why}" if why else f"started {fix.name} again")
            out.exit_code = 1 if why else 0
    except (DaemonError, ApiError) as exc:
        out.exit_code = 1
        out.lines.append(f"failed: {_why(exc)}")
    return out


def drop_old(daemon: Daemon, fix: FixResult) -> FixResult:
    """Verify passed: the old container is not needed any more (its named volumes stay: the new one uses them)."""
    try:
        gone = daemon.remove_container(fix.old_id, volumes=False)
    except (DaemonError, ApiError) as exc:
        return FixResult(1, [f"could not remove {fix.old_name}: {_why(exc)}"])
    return FixResult(0, [f"removed {fix.old_name} (the container before the fix)" if gone
                         else f"{fix.old_name} was already gone"])


def rewrite_script(daemon: Daemon, cid: str, path: str) -> FixResult:
    """The script a container execs, made runnable in place (core/fixplan.py fix_script)."""
    got = daemon.read_file(cid, path)
    if got is None:
        return FixResult(1, [f"{path} is not a regular file of the container (or larger than 1 MB)"])
    data, info = got

    def exists(p: str) -> bool:
        if not p.startswith("/"):
            return any(daemon.path_stat(cid, f"{d}/{p}") is not None for d in ("/bin", "/usr/bin", "/usr/local/bin"))
        return daemon.path_stat(cid, p) is not None
    try:
        new, notes = fix_script(data, exists)
        daemon.put_file(cid, path, new, info)
    except PlanError as exc:
        return FixResult(1, [f"cannot fix {path}: {exc}"])
    except (DaemonError, ApiError) as exc:
        return FixResult(1, [f"cannot write {path}: {_why(exc)}"])
    return FixResult(0, [f"rewrote {path}: {note}" for note in notes])
