"""Listening sockets of a running container, read on the daemon's own host.

A container's processes live in its network namespace; `/proc/<State.Pid>/net/tcp` and `tcp6` list that namespace's
TCP sockets (what `ss -ltn` would show inside it, with no tool needed in the image). State `0A` is LISTEN; the local
address is hex: an IPv4 address is one 32-bit word, an IPv6 address four, each printed in the host's byte order, and
the port is a plain hex number. The kernel lists listening sockets before every other one, so a busy server's
thousands of connections are not read: reading stops at the first socket that does not listen.

As root, the same rows are asked of the kernel's sock_diag netlink interface from inside the container's network
namespace (what `ss -ltn` does), LISTEN only: ~0.5 ms instead of ~13 ms for the two /proc files, which make the
kernel walk its whole connection hash (see `listening_by_netlink`). /proc is read when that cannot be done.

Made only where it answers something (scan.observe_records): a running container that publishes ports, on a local
daemon. When it cannot be made (a remote daemon, no access to /proc, a PID that is not the container's process: the
daemon in a VM, troubleshoot in another PID namespace), the reading says why instead of guessing. Returns plain data:
the boundary (boundary.probe_record) types, bounds, cleans and masks it.
"""
from __future__ import annotations

import ctypes
import ipaddress
import os
import socket
import struct
import sys
import threading
import time
from typing import Any

from ..core import schema

MAX_BYTES = 1 << 20  # read of one file (listening sockets come first: a few hundred bytes in practice)
MAX_LISTENING = 512  # addresses kept
LISTEN = "0A"


def wanted(data: schema.ContainerInspect) -> bool:
    """Only where the answer matters and is cheap: running, with a PID, publishing at least one port or failing its
    health probe (which port does the probe ask, which one listens), in a network namespace of its own (host
    networking ignores published ports; `container:X` cannot publish)."""
    host_config = data.HostConfig or schema.HostConfig()
    mode = host_config.NetworkMode or ""
    published = any(bindings for bindings in (host_config.PortBindings or {}).values())
    health = data.State.Health
    unhealthy = health is not None and health.Status == "unhealthy"
    return (data.State.Running and not data.State.Paused and data.State.Pid > 0 and (published or unhealthy)
            and mode != "host" and not mode.startswith("container:"))


def probe(data: schema.ContainerInspect, local: bool, where: str = "", proc: str = "/proc") -> dict[str, Any]:
    """The listening sockets of `data`'s network namespace, as {listening, why_not, read_at, truncated}."""
    read_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if not local:
        return {"why_not": f"the daemon is not on this machine ({where or 'remote'}): its /proc cannot be read from "
                           "here; run troubleshoot on the Docker host", "read_at": read_at}
    pid = data.State.Pid
    try:
        with open(f"{proc}/{pid}/cgroup", encoding="utf-8", errors="replace") as f:
            cgroup = f.read(64 * 1024)
    except FileNotFoundError:
        return {"why_not": f"process {pid} is gone (the container stopped, or its PID is not visible here)",
                "read_at": read_at}
    except OSError as exc:
        return {"why_not": f"cannot read {proc}/{pid}/cgroup: {exc.strerror or exc}", "read_at": read_at}
    if data.Id and data.Id not in cgroup:
        return {"why_not": f"process {pid} here is not this container's (troubleshoot in another PID namespace, or "
                           "the daemon in a VM)", "read_at": read_at}
    fast = listening_by_netlink(pid, proc)
    if fast is not None:
        return {"listening": fast[:MAX_LISTENING], "read_at": read_at, "truncated": len(fast) > MAX_LISTENING}
    listening: list[str] = []
    truncated = False
    for name, v6 in (("tcp", False), ("tcp6", True)):
        path = f"{proc}/{pid}/net/{name}"
        try:
            found, cut = read_listening(path, v6)
        except FileNotFoundError:
            if v6:  # a kernel without IPv6
                continue
            return {"why_not": f"{path} is missing (the container stopped?)", "read_at": read_at}
        except PermissionError:
            return {"why_not": f"no permission to read {path}: run troubleshoot as root on the Docker host",
                    "read_at": read_at}
        except OSError as exc:
            return {"why_not": f"cannot read {path}: {exc.strerror or exc}", "read_at": read_at}
        truncated = truncated or cut
        for addr in found:
            if addr not in listening:
                listening.append(addr)
    if len(listening) > MAX_LISTENING:
        listening, truncated = listening[:MAX_LISTENING], True
    return {"listening": listening, "read_at": read_at, "truncated": truncated}


def read_listening(path: str, v6: bool) -> tuple[list[str], bool]:
    """The listening rows of one /proc/<pid>/net/tcp(6) file, read line by line until the first row that does not
    listen (the kernel lists listening sockets first), at most MAX_BYTES; and whether that bound cut them."""
    lines: list[bytes] = []
    read = 0
    with open(path, "rb") as f:
        f.readline()  # the header
        for raw in f:
            read += len(raw)
            if read > MAX_BYTES or not raw.endswith(b"\n"):
                return parse_listening(b"".join(lines).decode("ascii", "replace"), v6), True
            fields = raw.split()
            if len(fields) >= 4 and fields[3] != LISTEN.encode():
                break
            lines.append(raw)
    return parse_listening(b"".join(lines).decode("ascii", "replace"), v6), False


def parse_listening(text: str, v6: bool) -> list[str]:
    """The LISTEN rows of /proc/net/tcp(6) rows (no header) as "addr:port" ("[::1]:8080" for IPv6). Rows that are
    not LISTEN or do not parse are skipped."""
    out: list[str] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[3] != LISTEN:
            continue
        try:
            out.append(decode_endpoint(fields[1], v6))
        except ValueError:
            continue
    return out


def decode_endpoint(field: str, v6: bool) -> str:
    """`0100007F:1F90` -> `127.0.0.1:8080`; `00000000000000000000000001000000:1F90` -> `[::1]:8080`."""
    hex_addr, _, hex_port = field.partition(":")
    port = int(hex_port, 16)
    if len(hex_addr) != (32 if v6 else 8):
        raise ValueError(f"bad address {hex_addr!r}")
    packed = b"".join(int(hex_addr[i:i + 8], 16).to_bytes(4, sys.byteorder) for i in range(0, len(hex_addr), 8))
    if not v6:
        return f"{ipaddress.IPv4Address(packed)}:{port}"
    addr = ipaddress.IPv6Address(packed)
    mapped = addr.ipv4_mapped
    return f"[::ffff:{mapped}]:{port}" if mapped is not None else f"[{addr}]:{port}"


# -- the same answer, faster, for root: sock_diag in the container's network namespace --------------------------
# Reading /proc/<pid>/net/tcp makes the kernel walk its whole established-connections hash (262,144 buckets, shared
# by every namespace) even when it then prints two rows: milliseconds per file. The sock_diag netlink socket (what
# `ss -ltn` uses) asked for LISTEN only walks the listening table: microseconds. Joining the container's network
# namespace needs CAP_SYS_ADMIN; a short-lived thread of its own joins it, opens the netlink socket (a socket stays
# in the namespace it was made in) and ends, so no other thread ever leaves the host's namespace.
_CLONE_NEWNET = 0x40000000
_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST, _NLM_F_DUMP = 0x1, 0x300
_NLMSG_ERROR, _NLMSG_DONE = 2, 3
_TCP_LISTEN = 10


def listening_by_netlink(pid: int, proc: str = "/proc") -> list[str] | None:
    """The listening TCP sockets of `pid`'s network namespace through sock_diag; None when it cannot be asked that
    way (not root, no netlink): the caller reads /proc instead."""
    if os.geteuid() != 0 or not hasattr(socket, "AF_NETLINK"):
        return None
    made: dict[str, Any] = {}

    def join_and_open() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(f"{proc}/{pid}/ns/net", os.O_RDONLY)
            try:
                if libc.setns(fd, _CLONE_NEWNET) != 0:
                    return
            finally:
                os.close(fd)
            made["sock"] = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, _NETLINK_SOCK_DIAG)
        except (OSError, AttributeError):
            return

    thread = threading.Thread(target=join_and_open, name="troubleshoot-netns", daemon=True)
    thread.start()
    thread.join(5)
    sock = made.get("sock")
    if sock is None:
        return None
    out: list[str] = []
    try:
        sock.settimeout(2)
        for family in (socket.AF_INET, socket.AF_INET6):
            found = _dump_listening(sock, family)
            if found is None:
                return None
            out += [e for e in found if e not in out]
    except OSError:
        return None
    finally:
        sock.close()
    return out


def _dump_listening(sock: socket.socket, family: int) -> list[str] | None:
    # struct inet_diag_req_v2: family, protocol, ext, pad, states; then an empty inet_diag_sockid (48 bytes)
    req = struct.pack("=BBBBI", family, socket.IPPROTO_TCP, 0, 0, 1 << _TCP_LISTEN) + bytes(48)
    sock.send(struct.pack("=IHHII", 16 + len(req), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST | _NLM_F_DUMP, 1, 0) + req)
    out: list[str] = []
    received = 0
    while received < MAX_BYTES:
        data = sock.recv(65536)
        if not data:
            return out
        received += len(data)
        offset = 0
        while offset + 16 <= len(data):
            length, kind = struct.unpack_from("=IH", data, offset)
            if length < 16:
                return None
            if kind == _NLMSG_DONE:
                return out
            if kind == _NLMSG_ERROR:
                return None
            # struct inet_diag_msg: family, state, timer, retrans; sport, dport (big-endian); src (16 bytes)...
            body = offset + 16
            if body + 24 <= len(data):
                fam, state = data[body], data[body + 1]
                port = struct.unpack_from("!H", data, body + 4)[0]
                raw = data[body + 8:body + 24]
                if state == _TCP_LISTEN:
                    if fam == socket.AF_INET:
                        out.append(f"{ipaddress.IPv4Address(raw[:4])}:{port}")
                    else:
                        addr = ipaddress.IPv6Address(raw)
                        mapped = addr.ipv4_mapped
                        out.append(f"[::ffff:{mapped}]:{port}" if mapped is not None else f"[{addr}]:{port}")
            offset += (length + 3) & ~3
    return out
