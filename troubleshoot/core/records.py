"""Records -> facts. A record is what the adapter read about one container (`schema.ContainerRecord`: inspect,
image, history, bounded logs, what its tag points to now, layers with `--deep`) or about the host
(`schema.HostRecord`), already decoded, cleaned and masked by the boundary (`troubleshoot/boundary.py`). Fixtures
and snapshots store the same records, so a snapshot diagnoses exactly as the live daemon did.
"""
from __future__ import annotations

from . import schema
from .facts import (Host, Observation, container_from_inspect, event_history_from_record, files_from_inspect,
                    host_from_info, image_from_inspect, networks_from_inspect, parse_time)
from .secrets import SecretValues


def observation_from_record(rec: schema.ContainerRecord, secrets: SecretValues | None = None) -> Observation:
    return Observation(
        container=container_from_inspect(rec.inspect),
        image=image_from_inspect(rec.image, rec.history) if rec.image is not None else None,
        logs=tuple(rec.logs),
        logs_error=rec.logs_error,
        tag_image=image_from_inspect(rec.tag_image) if rec.tag_image is not None else None,
        forensics=_analyze(rec.layers) if rec.layers is not None else None,
        secrets=secrets if secrets is not None else SecretValues(),
        events=event_history_from_record(rec.events) if rec.events is not None else None,
        networks=networks_from_inspect(rec.inspect),
        exposed_ports=tuple(sorted(rec.inspect.Config.ExposedPorts or ())),
        network_mode=rec.inspect.HostConfig.NetworkMode if rec.inspect.HostConfig is not None else "",
        listening=tuple(rec.sockets.listening) if rec.sockets is not None and not rec.sockets.why_not else None,
        listening_why_not=rec.sockets.why_not if rec.sockets is not None else "",
        listening_read_at=parse_time(rec.sockets.read_at) if rec.sockets is not None else None,
        files=files_from_inspect(rec.inspect, rec.files_seen),
        resources=rec.resources,
        compose_env=rec.compose_env,
        compose_service=rec.compose_service,
        inspect=rec.inspect,
        image_config=rec.image.Config if rec.image is not None else None,
        **_host_config(rec.inspect),
    )


def _host_config(data: schema.ContainerInspect) -> dict:
    hc = data.HostConfig or schema.HostConfig()
    log = hc.LogConfig or schema.LogConfig()
    nofile = next((u.Soft for u in hc.Ulimits or () if u.Name == "nofile"), None)
    return {"log_driver": log.Type, "log_max_size": (log.Config or {}).get("max-size", ""), "ulimit_nofile": nofile,
            "init": bool(hc.Init)}


def host_from_record(rec: schema.HostRecord) -> Host:
    return host_from_info(rec.info, rec.version, rec.local)


def _analyze(layers):
    """core.forensics.analyze, imported only for the layers of `scan --deep` (its patterns compile on import)."""
    from .forensics import analyze
    return analyze(layers)
