"""Networks and names: which networks a container is on, which hosts its logs could not resolve, and, for a host
that is another container of the scan, whether both share a user-defined network on which that one answers to the
name (core/peers.py). The default `bridge` has no name resolution between containers."""
from __future__ import annotations

from typing import Any

from ..facts import Host, Observation
from ..netlogs import env_hosts, is_local, says_unknown_host, unknown_hosts
from ..peers import NO_RESOLUTION, Peers, names_on, user_networks
from ..signals import SignalSpec, detector


def _nets(obs: Observation) -> str:
    names = [ep.network for ep in obs.networks] or [obs.network_mode or "none"]
    return ", ".join(f"{n} (no name resolution)" if n in NO_RESOLUTION else n for n in names)


@detector(
    SignalSpec("networks", "list", "NetworkSettings.Networks",
               "the networks the container is on; `bridge`, `host` and `none` have no name resolution between "
               "containers"),
    SignalSpec("unknown_host", "list", "unresolved host in log",
               "hosts the logs say could not be resolved (ENOTFOUND, EAI_AGAIN, Name or service not known, could not "
               "translate host name, UnknownHostException, no such host...: Node, Python, libpq, Java, Go, Ruby, PHP, "
               ".NET, Rust, MySQL, Redis, nginx, curl, busybox)"),
    SignalSpec("name_unresolved", "list", "name not resolvable from this container",
               "a host it could not resolve (or, when the log names none, one its env names) that is another container "
               "of the scan, with the networks of both sides: they share no user-defined network on which that one "
               "answers to the name"),
    SignalSpec("unresolved_peer", "str", "container answering to that name",
               "the container the unresolved host names (fills {peer})"),
    SignalSpec("unresolved_network", "str", "its user-defined network",
               "a user-defined network on which that container answers to the name (fills {peer_network}); empty "
               "when it is only on the default bridge"),
    SignalSpec("unresolved_host", "str", "host dialled", "the host name that did not resolve (fills {peer_host})"),
)
def detect(obs: Observation, host: Host):
    out: dict[str, Any] = {"networks": [_nets(obs)] if obs.networks or obs.network_mode else [],
           "unknown_host": [], "name_unresolved": [], "unresolved_peer": "", "unresolved_network": "",
           "unresolved_host": ""}
    named = unknown_hosts(obs.logs)
    out["unknown_host"] = named
    candidates = list(named)
    if not candidates and says_unknown_host(obs.logs):
        candidates = [h for _key, h, _port in env_hosts(obs.container.env) if not is_local(h)]
    peers: Peers | None = obs.peers
    if peers is None:
        return out
    for name in candidates:
        for peer in peers.named(name, exclude=obs):
            if peers.reachable(obs, name, peer):
                continue
            theirs = [n for n in user_networks(peer) if name in names_on(peer, n)]
            mine = _nets(obs)
            where = ", ".join(theirs) or _nets(peer)
            out["name_unresolved"].append(f"{name} is container {peer.container.name} on {where}; "
                                          f"this container is on {mine}")
            if not out["unresolved_peer"]:
                out.update(unresolved_peer=peer.container.name, unresolved_network=theirs[0] if theirs else "",
                           unresolved_host=name)
    return out

