"""What listens inside a running container against what it publishes.

The listening sockets are read on a local daemon's host, from /proc/<State.Pid>/net/tcp and tcp6 (probes/sockets.py),
for running containers that publish ports. A published port reaches the container's own address (Docker's proxy and
NAT dial its IP on the bridge), never its loopback: a server bound to 127.0.0.1 or ::1 inside answers its own health
check and nothing published. A published port with no listener at all is as dead.
"""
from __future__ import annotations

import ipaddress

from ..facts import Host, Observation
from ..signals import SignalSpec, detector

GRACE_SECONDS = 10.0  # a server may still be starting: no listener yet is not yet a finding


def split_endpoint(endpoint: str) -> tuple[str, int] | None:
    """`127.0.0.1:8080` -> ("127.0.0.1", 8080); `[::1]:80` -> ("::1", 80)."""
    host, sep, port = endpoint.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def is_loopback(ip: str) -> bool:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    mapped = getattr(addr, "ipv4_mapped", None)
    return (mapped or addr).is_loopback


@detector(
    SignalSpec("listening", "list", "listening inside",
               "TCP addr:port the container's processes listen on, in its network namespace (/proc/<pid>/net/tcp, "
               "tcp6). Read on a local daemon, for running containers that publish ports; unknown otherwise"),
    SignalSpec("listening_why_not", "str", "listening sockets not read",
               "why the listening sockets of a running container that publishes ports could not be read (remote "
               "daemon, no access to /proc, not the container's process)"),
    SignalSpec("published_on_localhost", "list", "listens on loopback only",
               "published TCP ports on which the container listens only on 127.0.0.1 or ::1 (unreachable through "
               "the published port), as addr:port (published as host-ip:host-port->port/tcp)"),
    SignalSpec("published_unused", "list", "nothing listens on",
               "published TCP container ports on which nothing listens inside (once it is healthy or has run "
               "10 s), with what does listen"),
    SignalSpec("listening_unpublished", "list", "listening, not published",
               "addr:port the container listens on, reachable from outside it (not loopback), on ports it does "
               "not publish"),
)
def detect(obs: Observation, host: Host):
    c = obs.container
    if obs.listening is None:
        return {"listening": None, "listening_why_not": obs.listening_why_not, "published_on_localhost": None,
                "published_unused": None, "listening_unpublished": None}
    by_port: dict[int, list[tuple[str, str]]] = {}
    for endpoint in obs.listening:
        parts = split_endpoint(endpoint)
        if parts is not None:
            by_port.setdefault(parts[1], []).append((parts[0], endpoint))
    published: dict[int, list[str]] = {}
    for p in c.ports:
        number, _, proto = p.container_port.partition("/")
        if (proto or "tcp") == "tcp" and number.isdigit():
            published.setdefault(int(number), []).append(f"{p.host_ip or '0.0.0.0'}:{p.host_port}->{p.container_port}")
    reachable = [e for e in obs.listening if (s := split_endpoint(e)) is not None and not is_loopback(s[0])]
    on_localhost, unused = [], []
    for port, bindings in sorted(published.items()):
        listeners = by_port.get(port, [])
        as_published = f"published as {', '.join(bindings)}"
        if listeners and all(is_loopback(ip) for ip, _ in listeners):
            on_localhost.append(f"{' and '.join(e for _, e in listeners)} ({as_published})")
        elif not listeners:
            unused.append(f"{port}/tcp ({as_published}); listening: {', '.join(obs.listening) or 'nothing'}")
    ran = (obs.listening_read_at - c.started_at).total_seconds() \
        if obs.listening_read_at is not None and c.started_at is not None else None
    # up: its health check says so, or it has had time to bind (a server may still be starting)
    settled = (c.health is not None and c.health.status == "healthy") or ran is None or ran >= GRACE_SECONDS
    return {
        "listening": list(obs.listening),
        "listening_why_not": "",
        "published_on_localhost": on_localhost,
        "published_unused": unused if settled else None,
        "listening_unpublished": [e for e in reachable if split_endpoint(e)[1] not in published],  # type: ignore[index]
    }
