"""Dependencies on other containers of the scan (core/peers.py): an app that dials localhost for a service that
lives in another container, and an app that failed because the container it dials was still starting.

Refused connections are read from the logs (core/netlogs.py REFUSED; refusals on localhost with env.py's pattern)."""
from __future__ import annotations

from typing import Any

from ..facts import Host, Observation
from ..netlogs import env_hosts, is_local, refused_targets
from ..peers import Peers, names_on, user_networks
from ..regex import compile_linear
from ..signals import SignalSpec, detector
from .env import LOCALHOST_REFUSED

_LOCAL_PORT = compile_linear(r"(?:localhost|127\.0\.0\.1|\[::1\]):(\d{1,5})\b")
_KEY_WORD = compile_linear(r"^([A-Za-z][A-Za-z0-9]*)_")


def _name_for(peer: Observation) -> tuple[str, str]:
    """(the name to dial `peer` by, the user-defined network it answers to it on): an alias or the compose
    service on its first user-defined network, else its container name."""
    for net in user_networks(peer):
        aliases = [a for ep in peer.networks if ep.network == net for a in ep.aliases
                   if a.lower() != peer.container.short_id.lower()]
        service = peer.container.label("com.docker.compose.service")
        name = service or (aliases[0] if aliases else peer.container.name)
        if name.lower() in names_on(peer, net):
            return name, net
    return peer.container.name, ""


def _localhost(obs: Observation, peers: Peers) -> dict:
    out: dict[str, Any] = {"localhost_dependency": [], "localhost_env": "", "localhost_peer": "", "localhost_peer_name": "",
           "localhost_peer_network": ""}
    refused = LOCALHOST_REFUSED.lines(obs.logs)
    if not refused:
        return out
    log_ports = [m.group(1) for line in obs.logs for m in _LOCAL_PORT.finditer(line)]
    for key, host, port in env_hosts(obs.container.env):
        if not is_local(host):
            continue
        port = port or next((p for p in log_ports), "")
        candidates = peers.exposing(port, exclude=obs) if port else []
        why = f"exposes {port}"
        if not candidates:  # DB_HOST -> a container called db; REDIS_URL -> redis
            m = _KEY_WORD.search(key)
            word = m.group(1).lower() if m else ""
            candidates = peers.named(word, exclude=obs) if word else []
            why = f"answers to {word}"
        for peer in candidates:
            name, net = _name_for(peer)
            out["localhost_dependency"].append(
                f"{key} names {host}{':' + port if port else ''}, this container itself; container "
                f"{peer.container.name} {why} ({name} on {net or 'the default bridge: no name resolution'})")
            if not out["localhost_peer"]:
                out.update(localhost_env=key, localhost_peer=peer.container.name, localhost_peer_name=name,
                           localhost_peer_network=net)
    return out


def _health_ready_after(peer: Observation, failed_at) -> str:
    """When `peer` passed its first probe after failing ones, if that was after `failed_at` (else "")."""
    h = peer.container.health
    if h is None:
        return ""
    failing_before = False
    for p in h.probes:
        if p.exit_code != 0:
            failing_before = True
        elif p.start is not None:
            return p.start.isoformat(timespec="seconds") if failing_before and p.start > failed_at else ""
    return ""


COMPOSE_START_WINDOW = 120  # seconds: a dependency Compose started this shortly before the failure was starting


def _compose_started_only(obs: Observation, peer: Observation, failed_at) -> str:
    """Why `peer` was likely not ready, from the Compose files (obs.compose_service): it is a `depends_on` of this
    service that Compose waits for only to start (no `condition: service_healthy`, or no healthcheck to wait for),
    and it started less than COMPOSE_START_WINDOW seconds before this container failed ("" otherwise)."""
    spec, pc = obs.compose_service, peer.container
    if spec is None or spec.why or pc.started_at is None:
        return ""
    service = pc.label("com.docker.compose.service")
    project = pc.label("com.docker.compose.project")
    if not service or project != spec.project:
        return ""
    dep = next((d for d in spec.depends_on if d.service == service), None)
    if dep is None or (dep.condition == "service_healthy" and dep.healthcheck == "present"):
        return ""
    before = (failed_at - pc.started_at).total_seconds()
    if not 0 <= before <= COMPOSE_START_WINDOW:
        return ""
    return (f"started {before:.0f} s before this container failed, and its Compose depends_on waits for the start "
            f"only ({'condition: ' + dep.condition if dep.condition else 'list form'}"
            f"{'' if dep.healthcheck == 'present' else ', no healthcheck on ' + service}): not ready yet")


def _not_ready(obs: Observation, peers: Peers) -> dict:
    out: dict[str, Any] = {"dependency_not_ready": [], "waiting_peer": ""}
    c = obs.container
    failed_at = c.finished_at
    if c.state == "running" and c.restart_count == 0:
        return out
    targets = [(h, p) for h, p, _line in refused_targets(obs.logs) if not is_local(h)]
    for host_name, port in targets:
        for peer in peers.named(host_name, exclude=obs):
            pc = peer.container
            dialled = f"{host_name}{':' + port if port else ''}"
            why = ""
            if pc.health is not None and pc.health.status == "starting":
                why = "health starting: not ready yet"
            elif failed_at is not None and pc.started_at is not None and pc.started_at > failed_at:
                why = (f"started at {pc.started_at.isoformat(timespec='seconds')}, after this container failed at "
                       f"{failed_at.isoformat(timespec='seconds')}")
            elif failed_at is not None and _health_ready_after(peer, failed_at):
                why = (f"became healthy at {_health_ready_after(peer, failed_at)}, after this container failed at "
                       f"{failed_at.isoformat(timespec='seconds')}")
            elif failed_at is not None and _compose_started_only(obs, peer, failed_at):
                why = _compose_started_only(obs, peer, failed_at)
            if why:
                out["dependency_not_ready"].append(f"{dialled} is container {pc.name}: {why}")
                out["waiting_peer"] = out["waiting_peer"] or pc.name
    return out


@detector(
    SignalSpec("localhost_dependency", "list", "localhost is this container",
               "an env value names localhost/127.0.0.1 (DB_HOST=localhost, DATABASE_URL=...@localhost:5432), the "
               "logs say a connection to localhost was refused, and another container of the scan exposes that port "
               "(or answers to the variable's name: DB_HOST -> db): the service lives there, not here"),
    SignalSpec("localhost_env", "str", "variable naming localhost", "that env variable (fills {env_var})"),
    SignalSpec("localhost_peer", "str", "service container", "the container that serves it (fills {peer})"),
    SignalSpec("localhost_peer_name", "str", "service name", "the name to dial it by: an alias or compose service "
               "on its user-defined network, else its container name (fills {peer_host})"),
    SignalSpec("localhost_peer_network", "str", "service network",
               "the user-defined network it answers on (fills {peer_network})"),
    SignalSpec("dependency_not_ready", "list", "dependency not ready",
               "a refused connection to another container of the scan that was still starting when this one failed: "
               "its health is `starting`, it started after the failure, or its first passing probe came after it; or "
               "(Compose files read) it is a `depends_on` of this service without `condition: service_healthy` "
               "that started less than 120 s before the failure"),
    SignalSpec("waiting_peer", "str", "dependency container", "that container (fills {peer})"),
)
def detect(obs: Observation, host: Host):
    peers: Peers | None = obs.peers
    if peers is None:
        return {"localhost_dependency": [], "localhost_env": "", "localhost_peer": "", "localhost_peer_name": "",
                "localhost_peer_network": "", "dependency_not_ready": [], "waiting_peer": ""}
    return {**_localhost(obs, peers), **_not_ready(obs, peers)}
