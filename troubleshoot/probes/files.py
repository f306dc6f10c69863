"""Files of a container and the sources of its mounts: what `exec /entrypoint.sh: no such file or directory`,
`Permission denied` or `Are you trying to mount a directory onto a file` are about.

- The entrypoint file, through the archive API (any daemon, a stopped container too): a stat (HEAD, no body), then
  its first 4 KB (a tar stream read no further): a `#!` line, a `\\r` before its newline (CRLF), the interpreter's
  own stat, and for an ELF its machine and PT_INTERP loader's stat. A bare command name is resolved through the
  PATH of Config.Env (at most MAX_LOOKUPS stats). Only for containers whose failure is about exec'ing a file
  (`needs_files`): a scan of 1,000 healthy containers reads nothing here.
- Mount sources, on a local daemon only (a stat and one directory read each): kind (file, directory, missing), an
  empty directory no older than the container (Docker made the missing source), owner and mode. Tmpfs options from
  HostConfig.Tmpfs. On a remote daemon the record says the sources were not read.

Everything returns as a `schema.ContainerFiles` through the boundary (typed, bounded, cleaned; masked with the
rest of the record).
"""
from __future__ import annotations

import os
import re
import stat
import struct
from typing import Any

from ..core import schema
from ..core.facts import parse_time, split_env, wants_logs
from ..daemon import Daemon, DaemonError

HEAD_BYTES = 4096
MAX_LOOKUPS = 6  # PATH entries tried for a bare command name
_EXEC_TROUBLE = re.compile(r"exec[^\n]{0,300}(no such file or directory|permission denied|format error)|"
                           r"bad interpreter|executable file not found|exec user process caused", re.I)
_MODE_DIR, _MODE_LINK = 1 << 31, 1 << 27
_MODE_OTHER = (1 << 26) | (1 << 25) | (1 << 24) | (1 << 21) | (1 << 19)
ELF_MACHINES = {3: "i386", 40: "arm", 62: "x86-64", 183: "aarch64", 243: "riscv64", 21: "ppc64", 22: "s390x",
                8: "mips"}


def needs_files(inspect: schema.ContainerInspect, logs: tuple[str, ...] | list[str]) -> bool:
    """Exited 126/127, or an exec error in State.Error or in the last log lines (restarting with one too)."""
    st = inspect.State
    if st.Running and not st.Restarting and inspect.RestartCount == 0:
        return False
    if "error mounting" in st.Error:  # the runtime failed before any exec: nothing to read (the mounts say why)
        return False
    if st.ExitCode in (126, 127):
        return True
    return bool(_EXEC_TROUBLE.search(st.Error)) or any(_EXEC_TROUBLE.search(line) for line in list(logs)[-20:])


def needs_mounts(inspect: schema.ContainerInspect) -> bool:
    """A container that is not simply up and fine, and has mounts or tmpfs or a small /dev/shm to look at."""
    from ..core.facts import container_from_inspect
    hc = inspect.HostConfig or schema.HostConfig()
    if not (inspect.Mounts or hc.Tmpfs):  # first: most containers have none (no facts made for them)
        return False
    return bool(wants_logs(container_from_inspect(inspect)) or inspect.State.Error)


def elf_info(data: bytes) -> tuple[str, str] | None:
    """(machine, PT_INTERP) of an ELF's first bytes; None when not ELF. The interpreter is "" for a static binary
    (or when its program headers lie past the bytes read)."""
    if data[:4] != b"\x7fELF" or len(data) < 52:
        return None
    bits64, little = data[4] == 2, data[5] != 2
    e = "<" if little else ">"
    machine_no, = struct.unpack_from(e + "H", data, 18)
    machine = ELF_MACHINES.get(machine_no, f"machine {machine_no}")
    try:
        if bits64:
            phoff, = struct.unpack_from(e + "Q", data, 32)
            phentsize, phnum = struct.unpack_from(e + "HH", data, 54)
        else:
            phoff, = struct.unpack_from(e + "I", data, 28)
            phentsize, phnum = struct.unpack_from(e + "HH", data, 42)
        for i in range(min(phnum, 64)):
            at = phoff + i * phentsize
            if bits64:
                p_type, _f, p_offset, _v, _p, p_filesz = struct.unpack_from(e + "IIQQQQ", data, at)
            else:
                p_type, p_offset, _v, _p, p_filesz = struct.unpack_from(e + "IIIII", data, at)
            if p_type == 3 and p_offset + p_filesz <= len(data):
                return machine, data[p_offset:p_offset + p_filesz].split(b"\0")[0].decode("latin-1")
    except struct.error:
        pass
    return machine, ""


def shebang(data: bytes) -> tuple[str, bool]:
    """The `#!` line (without `#!`, stripped) and whether it ends with \\r\\n."""
    if not data.startswith(b"#!"):
        return "", False
    line = data[2:].split(b"\n", 1)[0]
    return line.decode("utf-8", "replace").strip(), line.endswith(b"\r")


def _kind(st: schema.PathStat) -> str:
    """Go's os.FileMode type bits: directory 1<<31, symlink 1<<27; device, pipe, socket, irregular are "other"."""
    if st.mode & _MODE_DIR:
        return "dir"
    if st.mode & _MODE_LINK:
        return "link"
    return "other" if st.mode & _MODE_OTHER else "file"


def _stat_entry(daemon: Daemon, cid: str, path: str, role: str) -> tuple[dict[str, Any], schema.PathStat | None]:
    entry: dict[str, Any] = {"path": path, "role": role}
    try:
        st = daemon.path_stat(cid, path)
    except DaemonError as exc:
        entry["error"] = str(exc)[:300]
        return entry, None
    if st is None:
        return entry, None
    entry.update(found=True, kind=_kind(st), size=st.size, mode=st.mode & 0o777)
    if st.linkTarget:
        entry["link_target"] = st.linkTarget
    return entry, st


def _resolve(daemon: Daemon, cid: str, name: str, env: list[str] | None) -> tuple[str, str]:
    """(the path a bare command name resolves to through PATH, "" when no entry has it; why it could not be looked
    up)."""
    if "/" in name:
        return name, ""
    path = dict(split_env(env)).get("PATH") or "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    for d in [p for p in path.split(":") if p.startswith("/")][:MAX_LOOKUPS]:
        candidate = f"{d.rstrip('/')}/{name}"
        try:
            if daemon.path_stat(cid, candidate) is not None:
                return candidate, ""
        except DaemonError as exc:
            return "", str(exc)[:300]
    return "", ""


def probe_heads(daemon: Daemon, inspect: schema.ContainerInspect) -> list[dict[str, Any]]:
    """The entrypoint file, and the interpreter or loader it names (each a stat; one 4 KB read of the file)."""
    if not inspect.Path:
        return []
    cid = inspect.Id
    target, error = _resolve(daemon, cid, inspect.Path, inspect.Config.Env)
    if not target:
        return [{"path": inspect.Path, "role": "entrypoint",
                 "error": error or f"not found in the first {MAX_LOOKUPS} directories of Config.Env's PATH"}]
    entry, st = _stat_entry(daemon, cid, target, "entrypoint")
    out = [entry]
    if st is None or entry.get("kind") not in ("file", "link"):
        return out
    try:
        head = daemon.file_head(cid, st.linkTarget or target, HEAD_BYTES)
    except DaemonError as exc:
        entry["error"] = str(exc)[:300]
        return out
    if not head:
        return out
    line, crlf = shebang(head)
    if line:
        entry.update(shebang=line, crlf=crlf)
        words = line.split()
        interp = words[0] if words else ""
        if interp.startswith("/"):
            ientry, _ = _stat_entry(daemon, cid, interp, "interpreter")
            out.append(ientry)
            if interp.rsplit("/", 1)[-1] == "env" and len(words) > 1 and ientry.get("found"):
                prog, error = _resolve(daemon, cid, words[1], inspect.Config.Env)
                out.append(_stat_entry(daemon, cid, prog, "interpreter")[0] if prog else
                           {"path": words[1], "role": "interpreter", **({"error": error} if error else {})})
        return out
    elf = elf_info(head)
    if elf is not None:
        entry["elf_machine"], entry["elf_interp"] = elf
        if elf[1]:
            out.append(_stat_entry(daemon, cid, elf[1], "loader")[0])
    return out


def probe_mounts(inspect: schema.ContainerInspect) -> list[dict[str, Any]]:
    """Each bind or volume mount's source on this host (the daemon is local), and the tmpfs mounts' options."""
    created = parse_time(inspect.Created)
    out: list[dict[str, Any]] = []
    for m in inspect.Mounts or ():
        entry: dict[str, Any] = {"destination": m.Destination, "type": m.Type, "source": m.Source, "rw": m.RW}
        if m.Type in ("bind", "volume") and m.Source.startswith("/"):
            try:
                st = os.lstat(m.Source)
            except FileNotFoundError:
                entry["kind"] = "missing"
            except OSError as exc:
                entry["error"] = f"{exc.strerror or exc}"
            else:
                entry.update(uid=st.st_uid, gid=st.st_gid, mode=stat.S_IMODE(st.st_mode))
                if stat.S_ISDIR(st.st_mode):
                    entry["kind"] = "dir"
                    try:
                        with os.scandir(m.Source) as it:
                            entry["empty"] = next(it, None) is None
                    except OSError:
                        pass
                    if entry.get("empty") and created is not None and st.st_mtime >= created.timestamp() - 2:
                        entry["made_at_create"] = True
                else:
                    entry["kind"] = "file" if stat.S_ISREG(st.st_mode) else "other"
        out.append(entry)
    for dest, options in sorted(((inspect.HostConfig or schema.HostConfig()).Tmpfs or {}).items()):
        out.append({"destination": dest, "type": "tmpfs", "options": options,
                    "rw": "ro" not in options.split(",")})
    return out


def probe(daemon: Daemon, inspect: schema.ContainerInspect, logs: tuple[str, ...] | list[str]) -> schema.ContainerFiles | None:
    """What a diagnosis of this container needs from its files and mounts (None: nothing to look at)."""
    from ..boundary import BoundaryError, convert
    heads = probe_heads(daemon, inspect) if needs_files(inspect, logs) else []
    mounts: list[dict[str, Any]] = []
    why = ""
    if needs_mounts(inspect):
        if daemon.endpoint.is_local:
            mounts = probe_mounts(inspect)
        else:
            why = "mount sources not read: the daemon is on another machine"
    if not heads and not mounts and not why:
        return None
    try:
        return convert({"heads": heads, "mounts": mounts, "why": why}, schema.ContainerFiles,
                       f"files of {inspect.Name}")
    except BoundaryError as exc:
        return schema.ContainerFiles(why=str(exc)[:300])
