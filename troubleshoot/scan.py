"""The scan plan: what to read from a daemon to diagnose its containers, and how little.

`Daemon` (daemon.py) is the connection and its typed reads; this module decides which of them a scan makes: the
sparse list, then each named container inspected once, each distinct image (and what its tag points to now) once,
logs only where a diagnosis needs them, every layer only with `deep`. Every record it returns went through the
boundary (typed, bounded, cleaned, masked). Blocking; no textual.
"""
from __future__ import annotations

import os
from typing import Any, Iterable

from .core import schema
from .core.detectors.image_tag import parse_ref
from .core.facts import Host, Observation, container_from_inspect, wants_logs
from .core.records import host_from_record, observation_from_record
from .core.secrets import SecretValues
from .daemon import LOG_TAIL, Daemon
from .probes import compose_env, compose_file, sockets
from .probes.events import read_history
from .probes.files import probe as probe_files
from .probes.resources import Prober, under_pressure


def host_record(daemon: Daemon) -> schema.HostRecord:
    """/info and /version, and, for a daemon on this machine, its memory, swap, disk and load (masked)."""
    from .boundary import convert, mask_host
    info = daemon.info()
    local = None
    if daemon.endpoint.is_local:
        local = convert(_local_readings(info.DockerRootDir), schema.LocalReadings, "local readings")
    record = schema.HostRecord(info=info, version=daemon.version(), local=local)
    mask_host(record)
    return record


def host(daemon: Daemon) -> Host:
    return host_from_record(host_record(daemon))


def observe_records(daemon: Daemon, names: Iterable[str] = (), all: bool = True, tail: int = LOG_TAIL,
                    ids: Iterable[str] | None = None, deep: bool = False,
                    each: Any = None) -> list[tuple[schema.ContainerRecord, SecretValues]]:
    """Sparse list, filter by name, then inspect deliberately: each container once, each distinct image once,
    logs only where a diagnosis needs them (not running, restarted, unhealthy, or near its open-files or pids limit),
    resources (probes/resources.py) only for running containers and unbounded log files. Containers that vanish
    mid-scan are skipped. With `ids` (the TUI, which already has the list), no list call is made.
    Returns (record, its raw secret values) pairs: records masked by the boundary. `each(fn, indexes)` maps the
    per-container part (probes, files, masking) once every answer is in (the CLI's scan: two processes, forkmap.py);
    the serial loop otherwise."""
    from .boundary import compose_env_record, compose_service_record, container_record, probe_record
    if ids is None:
        wanted = [n for n in names if n]
        rows = daemon.containers(all=all)
        if wanted:
            rows = [r for r in rows if _row_matches(r, wanted)]
        ids = [r.Id for r in rows]
    inspected = [d for d in inspect_all(daemon, list(ids)) if d is not None]
    if not inspected:
        return []
    containers = [container_from_inspect(d) for d in inspected]
    tags = _tag_index(daemon)
    # each distinct image once, with its history; an image a tag points to now (when the container runs an older
    # one) without
    wanted_images = list(dict.fromkeys(c.image_id for c in containers if c.image_id))
    tag_ids = {}
    for c in containers:
        ref = parse_ref(c.image_ref)
        tag_ids[c.id] = tags.get(ref.name) if ref.tag else None
    newer = list(dict.fromkeys(t for t in tag_ids.values() if t and t not in wanted_images))
    # asked now, read below: each distinct image and its history, and the log tails a diagnosis needs (not running,
    # restarted, unhealthy); the daemon answers them while the event history is read and the resources probed
    first_logs = [i for i, c in enumerate(containers) if wants_logs(c)]
    evidence = daemon.ask_evidence(wanted_images + newer, wanted_images,
                                   [(containers[i].id, containers[i].tty) for i in first_logs], tail)
    prober = Prober(daemon)
    prober.ask_stats(inspected)  # a remote daemon: every stats sample asked at once (answered at its next tick)
    # the event history: one bounded read for all the containers a diagnosis looks into (not the ones up and fine)
    events = read_history(daemon, [inspected[i] for i in first_logs])
    # one process: the resources probed while the daemon answers what was asked above; two: each probes its half
    probed = [prober.probe(d) for d in inspected] if each is None else None
    inspected_images, history_list, tail_list = evidence()
    prober.take_stats()
    images = dict(zip(wanted_images + newer, inspected_images))
    histories = {i: h for i, h in zip(wanted_images, history_list) if images.get(i) is not None}
    tails = dict(zip(first_logs, tail_list))
    layers: dict[str, schema.ImageLayers | None] = {}
    if deep:  # every layer read: as costly as a `docker save` of each distinct image
        layers = {i: daemon.image_layers(i) for i in wanted_images}
    masked: set = set()  # the shared image records already masked (boundary.mask_container)

    def one(i: int) -> tuple[schema.ContainerRecord, SecretValues]:
        """Container i's record: its resources probed, its files, sockets and Compose env read where they matter."""
        data, c = inspected[i], containers[i]
        resources = probed[i] if probed is not None else prober.probe(data)
        img = images.get(c.image_id) if c.image_id else None
        history = histories.get(c.image_id, []) if c.image_id else []
        tag_id = tag_ids[c.id]
        tag_img = (img if tag_id == c.image_id else images.get(tag_id)) if tag_id else None
        if i not in tails and under_pressure(resources):  # near its open-files or pids limit: its logs too
            tails[i] = daemon.logs_many([(c.id, c.tty)], tail)[0]
        logs, logs_error = tails.get(i, ((), ""))
        layer = layers.get(c.image_id) if deep and c.image_id else None
        files = probe_files(daemon, data, logs)  # only where the failure is about files or mounts: cheap otherwise
        record, secrets = container_record(data, img, history, logs, logs_error, tag_img, layer,
                                           events=events.get(data.Id), files=files, resources=resources,
                                           masked=masked)
        if compose_env.wanted(data, local=not daemon.endpoint.is_remote_machine):
            record.compose_env = compose_env_record(compose_env.probe(data), secrets)
        if compose_file.wanted(data, local=not daemon.endpoint.is_remote_machine):
            record.compose_service = compose_service_record(compose_file.probe(data), secrets)
        if sockets.wanted(data):  # running and publishing ports: what listens inside (two small /proc reads)
            reading = sockets.probe(data, local=not daemon.endpoint.is_remote_machine, where=daemon.endpoint.url)
            record.sockets = probe_record(reading, schema.Sockets, "sockets", secrets)
        return record, secrets

    indexes = list(range(len(inspected)))
    return each(one, indexes) if each is not None else [one(i) for i in indexes]


def inspect_all(daemon: Daemon, ids: list[str]) -> list[schema.ContainerInspect | None]:
    """Every container's inspect, in `ids` order (None: removed meanwhile): pipelined on a few connections of a
    local daemon (pipeline.py, one thread), one after the other over docker-py."""
    return daemon.inspect_many(ids)


def observe(daemon: Daemon, names: Iterable[str] = (), all: bool = True, tail: int = LOG_TAIL,
            deep: bool = False) -> list[Observation]:
    return [observation_from_record(r, secrets) for r, secrets in observe_records(daemon, names, all, tail, deep=deep)]


def _tag_index(daemon: Daemon) -> dict[str, str]:
    """Repository name -> the id of the image its tag points to now (one /images/json call)."""
    index = {}
    for row in daemon.images():
        for tag in row.RepoTags or ():
            if tag and tag != "<none>:<none>":
                index[parse_ref(tag).name] = row.Id
    return index


def _row_matches(row: schema.ListRow, names: list[str]) -> bool:
    row_names = [n.lstrip("/") for n in row.Names or ()]
    return any(n == row.Id[:len(n)] or any(n in rn for rn in row_names) for n in names)


def _local_readings(docker_root: str) -> dict[str, Any]:
    """Memory, swap, disk and load of this machine: /proc and statvfs on Linux (the same figures psutil reads
    there, without its ~10 ms import), psutil elsewhere."""
    out: dict[str, Any] = {}
    meminfo = _meminfo()
    if meminfo is not None and "MemTotal" in meminfo:
        out.update(mem_total=meminfo["MemTotal"], mem_available=meminfo.get("MemAvailable", meminfo.get("MemFree", 0)),
                   swap_total=meminfo.get("SwapTotal", 0),
                   swap_used=max(0, meminfo.get("SwapTotal", 0) - meminfo.get("SwapFree", 0)))
    else:
        import psutil
        vm = psutil.virtual_memory()
        out.update(mem_total=vm.total, mem_available=vm.available)
        sw = psutil.swap_memory()
        out.update(swap_total=sw.total, swap_used=sw.used)
    if docker_root and os.path.isdir(docker_root):
        st = os.statvfs(docker_root)
        out.update(disk_total=st.f_blocks * st.f_frsize, disk_free=st.f_bavail * st.f_frsize)
    try:
        out["load1"] = os.getloadavg()[0]
    except OSError:
        pass
    try:
        with open("/proc/vmstat", encoding="ascii") as f:
            out["vmstat"] = f.read()
    except OSError:
        pass
    return out


def _meminfo() -> dict[str, int] | None:
    """/proc/meminfo in bytes (its figures are kB), or None where there is none."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            text = f.read()
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            out[key] = int(parts[0]) * (1024 if parts[1:2] == ["kB"] else 1)
    return out
