"""Published ports: what the container asks for, who else holds the same host port, what binds it to loopback."""
from ..facts import Host, Observation
from ..signals import SignalSpec, detector

_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@detector(
    SignalSpec("ports", "list", "HostConfig.PortBindings", "host ports the container asks for, as ip:port->port/proto"),
    SignalSpec("port_holder", "str", "another container's PortBindings",
               "a running container that publishes one of this container's host ports (the scan's index)"),
    SignalSpec("localhost_bind_env", "str", "Config.Env",
               "an env variable whose whole value is a loopback address (HOST=127.0.0.1): what binds a server there"),
)
def detect(obs: Observation, host: Host):
    c = obs.container
    holder = ""
    peers = obs.peers
    if peers is not None and c.ports:
        mine = {p.host_port for p in c.ports if p.host_port}
        for other in peers.observations:
            o = other.container
            if o.id != c.id and o.state in ("running", "restarting", "paused") \
                    and any(p.host_port in mine for p in o.ports):
                holder = o.name
                break
    bind_env = next((k for k, v in c.env if v.strip().lower() in _LOOPBACK), "")
    return {"ports": [f"{p.host_ip or '0.0.0.0'}:{p.host_port}->{p.container_port}" for p in c.ports],
            "port_holder": holder or None, "localhost_bind_env": bind_env or None}
