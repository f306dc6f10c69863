"""No space left: a full mount (a tmpfs at its size, a volume's disk) or the writable layer, and /dev/shm too small
(its size is HostConfig.ShmSize: 64 MB unless set)."""
from ..facts import Host, Observation
from ..fs_errors import describe_mount, directory, errors, where
from ..signals import SignalSpec, detector

DEFAULT_SHM = 64 * 1024 * 1024


@detector(
    SignalSpec("disk_full", "list", "no space left", "paths a log line could not write for lack of space (ENOSPC, "
               "[Errno 28], MySQL errno 28...), with the mount they are on (a tmpfs and its size)"),
    SignalSpec("full_dir", "str", "no space left", "the directory of the first such path"),
    SignalSpec("shm_exhausted", "list", "/dev/shm", "log lines where shared memory (/dev/shm) ran out: PostgreSQL's "
               "`could not resize shared memory segment`, a write to /dev/shm with no space, PyTorch's bus error"),
    SignalSpec("shm_size", "bytes", "HostConfig.ShmSize", "the size of /dev/shm (64 MB when not set)"),
)
def detect(obs: Observation, host: Host):
    files = obs.files
    full = []
    first = ""
    for path, line in errors(obs.logs, "disk"):
        mount = where(files, path)
        place = describe_mount(mount) or "the container's writable layer, on the Docker root's disk"
        full.append(f"{path or '(no path named)'} ({place}): {line}")
        if path and not first:
            first = directory(path)
    shm = [line for _path, line in errors(obs.logs, "shm")]
    return {"disk_full": full, "full_dir": first, "shm_exhausted": shm, "shm_size": files.shm_size or DEFAULT_SHM}
