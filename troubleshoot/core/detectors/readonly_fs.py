"""Writes refused with `Read-only file system`: a read-only root filesystem (--read-only) or a read-only mount."""
from ..facts import Host, Observation
from ..fs_errors import describe_mount, directory, errors, where
from ..signals import SignalSpec, detector


@detector(
    SignalSpec("read_only_write", "list", "read-only file system", "paths a log line could not write because the file "
               "system is read-only (EROFS, [Errno 30]), with what makes it read-only"),
    SignalSpec("read_only_dir", "str", "read-only file system", "the directory of the first such path"),
    SignalSpec("readonly_rootfs", "bool", "HostConfig.ReadonlyRootfs", "the root filesystem is mounted read-only"),
)
def detect(obs: Observation, host: Host):
    files = obs.files
    found = []
    first = ""
    for path, line in errors(obs.logs, "readonly"):
        mount = where(files, path)
        if mount is not None:
            why = describe_mount(mount)
        elif files.readonly_rootfs:
            why = "the root filesystem is read-only (--read-only)"
        else:
            why = "the image's own filesystem"
        found.append(f"{path or '(no path named)'} ({why}): {line}")
        if path and not first:
            first = directory(path)
    return {"read_only_write": found, "read_only_dir": first, "readonly_rootfs": files.readonly_rootfs}
