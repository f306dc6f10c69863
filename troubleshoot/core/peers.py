"""Who answers to which name across one scan: a cross-container index built from all the scan's observations.

Pure. On a user-defined network, Docker's resolver (127.0.0.11) answers a container's name, its network aliases
(compose adds the service name) and its short id, and only to containers on that same network. The default
`bridge` (and `host`, `none`) has no name resolution between containers. So a container reaches another by name
only when both share a user-defined network on which the other answers to that name.

`diagnose()` builds the index once per scan and gives it to every observation (`Observation.peers`), so the
detectors (core/detectors/networks.py) compare the networks of both sides.
"""
from __future__ import annotations

import msgspec
import msgspec.structs
from typing import Iterable

from .facts import Observation

# networks without name resolution: Docker's default ones, and Podman's default network `podman` (dns_enabled: false)
NO_RESOLUTION = frozenset({"bridge", "host", "none", "default", "podman"})
SERVICE_LABEL = "com.docker.compose.service"
PROJECT_LABEL = "com.docker.compose.project"
LAB_INSTANCE_LABEL = "troubleshoot.lab.instance"  # a lab instance groups its containers as a Compose project does


def user_networks(obs: Observation) -> tuple[str, ...]:
    return tuple(n.network for n in obs.networks if n.network not in NO_RESOLUTION)


def names_on(obs: Observation, network: str) -> set[str]:
    """The names `obs` answers to on `network` (empty on a network without name resolution)."""
    if network in NO_RESOLUTION or not any(ep.network == network for ep in obs.networks):
        return set()  # Docker's resolver answers a name only on the networks the container is on
    names = {obs.container.name.lower(), obs.container.short_id.lower()}
    service = obs.container.label(SERVICE_LABEL)
    for ep in obs.networks:
        if ep.network == network:
            names.update(a.lower() for a in ep.aliases)
            if service:
                names.add(service.lower())
    return names


def all_names(obs: Observation) -> set[str]:
    """Every name someone might dial `obs` by (whether or not it resolves from where they are)."""
    names = {obs.container.name.lower()}
    service = obs.container.label(SERVICE_LABEL)
    if service:
        names.add(service.lower())
    for ep in obs.networks:
        names.update(a.lower() for a in ep.aliases)
    return names


def group(obs: Observation) -> str:
    """What a container is deployed with: its Compose project, else its lab instance ("" when neither)."""
    c = obs.container
    project = c.label(PROJECT_LABEL)
    if project:
        return f"compose:{project}"
    instance = c.label(LAB_INSTANCE_LABEL)
    return f"lab:{instance}" if instance else ""


def distance(me: Observation, other: Observation) -> int:
    """How close `other` is to `me`, 0 the closest: a user-defined network in common first (it can be dialled by
    name), then the same Compose project or lab instance. Many unrelated stacks on one daemon reuse names (db,
    postgres, orders-db), ports (5432) and base images: the peer of a finding is the closest one."""
    shared = bool(set(user_networks(me)) & set(user_networks(other)))
    same = bool(group(me)) and group(me) == group(other)
    return 2 * (not shared) + (not same)


class Peers(msgspec.Struct, frozen=True):
    """The scan's containers by the names they answer to and by their addresses."""
    by_name: dict[str, tuple[Observation, ...]]
    by_ip: dict[str, Observation]
    observations: tuple[Observation, ...]

    def named(self, host: str, exclude: Observation | None = None) -> list[Observation]:
        """The other containers that answer to `host` (a name or an IP address) somewhere; given `exclude` (the
        container asking), only the closest of them (`distance`)."""
        host = host.lower()
        found = list(self.by_name.get(host, ()))
        ip = self.by_ip.get(host)
        if ip is not None and ip not in found:
            found.append(ip)
        if exclude is None:
            return found
        found = [o for o in found if o.container.id != exclude.container.id]
        nearest = min((distance(exclude, o) for o in found), default=0)
        return [o for o in found if distance(exclude, o) == nearest]

    def reachable(self, me: Observation, host: str, peer: Observation) -> list[str]:
        """The networks on which `me` resolves `host` to `peer` (empty: it cannot)."""
        if host.lower() in {ep.ip for ep in peer.networks if ep.ip}:
            mine = {ep.network for ep in me.networks}
            return sorted(ep.network for ep in peer.networks if ep.network in mine and ep.ip == host.lower())
        return sorted(n for n in user_networks(me) if host.lower() in names_on(peer, n))

    def exposing(self, port: str, exclude: Observation | None = None) -> list[Observation]:
        """Containers whose image or config exposes `port` (any protocol); the closest to `exclude` first."""
        found = [o for o in self.observations if (exclude is None or o.container.id != exclude.container.id)
                 and any(p.split("/")[0] == port for p in o.exposed_ports)]
        return sorted(found, key=lambda o: distance(exclude, o)) if exclude is not None else found


def build_peers(observations: Iterable[Observation]) -> Peers:
    obs = tuple(observations)
    by_name: dict[str, list[Observation]] = {}
    by_ip: dict[str, Observation] = {}
    for o in obs:
        for name in all_names(o) | {o.container.short_id.lower()}:
            by_name.setdefault(name, []).append(o)
        for ep in o.networks:
            if ep.ip:
                by_ip[ep.ip] = o
    return Peers({k: tuple(v) for k, v in by_name.items()}, by_ip, obs)


def with_peers(observations: Iterable[Observation], peers: Peers | None = None) -> tuple[Observation, ...]:
    """The observations, each given the scan's index (built from them unless given)."""
    obs = tuple(observations)
    index = peers if peers is not None else build_peers(obs)
    return tuple(msgspec.structs.replace(o, peers=index) for o in obs)
