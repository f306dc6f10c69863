"""Mounts: what each one is (type, source, read-only), and a bind whose source Docker made as an empty directory
because the host path did not exist, mounted where the image has a file (`Are you trying to mount a directory onto a
file`)."""
from ..fs_errors import describe_mount
from ..regex import compile_linear
from ..signals import SignalSpec, detector
from ..facts import Host, Observation

_MOUNT_ERROR = compile_linear(r'error mounting "([^"]+)" to rootfs at "([^"]+)"')
_MISMATCH = compile_linear(r"(?i)mount a directory onto a file|not a directory")


@detector(
    SignalSpec("mounts", "list", "Mounts", "each mount as destination: type of source (kind, owner, mode: the "
               "source's, seen from the host on a local daemon), and tmpfs mounts with their options"),
    SignalSpec("bind_source_mismatch", "list", "bind mount source", "host paths bound where the image has a file, "
               "which Docker made as empty directories because they did not exist (State.Error `Are you trying to "
               "mount a directory onto a file`)"),
    SignalSpec("bind_source", "str", "bind mount source", "the first host path of bind_source_mismatch"),
    SignalSpec("bind_target", "str", "bind mount destination", "where that host path is mounted in the container"),
)
def detect(obs: Observation, host: Host):
    files = obs.files
    mismatch: list[str] = []
    first = target = ""
    error = obs.container.error
    m = _MOUNT_ERROR.search(error) if _MISMATCH.search(error) else None
    if m is not None:
        source, dest = m.group(1), m.group(2)
        seen = next((x.seen for x in files.mounts if x.source == source and x.seen is not None), None)
        made = ""
        if seen is not None and seen.kind == "dir" and seen.empty:
            made = (", an empty directory Docker made because the path did not exist" if seen.made_at_create
                    else ", an empty directory")
        elif seen is not None and seen.kind:
            made = f", a {seen.kind}"
        mismatch.append(f"{source} (host{made}) mounted at {dest}, where the image has a file")
        first, target = source, dest
    return {"mounts": [describe_mount(x) for x in files.mounts], "bind_source_mismatch": mismatch, "bind_source": first,
            "bind_target": target}
