"""Published ports."""
from ..facts import Host, Observation
from ..signals import SignalSpec, detector


@detector(
    SignalSpec("ports", "list", "HostConfig.PortBindings", "host ports the container asks for, as ip:port->port/proto"),
)
def detect(obs: Observation, host: Host):
    return {"ports": [f"{p.host_ip or '0.0.0.0'}:{p.host_port}->{p.container_port}" for p in obs.container.ports]}
