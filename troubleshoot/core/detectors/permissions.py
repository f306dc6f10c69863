"""Permission denied on a path (every runtime's words: core/fs_errors.py), with the user the container runs as and
the mount the path is on: a non-root user writing a root-owned volume."""
from ..facts import Host, Observation
from ..fs_errors import describe_mount, errors, where
from ..signals import SignalSpec, detector


@detector(
    SignalSpec("permission_denied", "list", "permission denied", "paths a log line says the app may not open or write "
               "(EACCES, [Errno 13], AccessDeniedException...), with the user and the mount's owner and mode"),
    SignalSpec("denied_path", "str", "permission denied on", "the first path of permission_denied"),
    SignalSpec("denied_mount_source", "str", "mount source", "the host source of the mount that path is on"),
    SignalSpec("run_as_user", "str", "Config.User", "the user the container runs as ('root' when not set)"),
)
def detect(obs: Observation, host: Host):
    files = obs.files
    user = files.user or "root"
    found = []
    first, source = "", ""
    for path, line in errors(obs.logs, "permission"):
        mount = where(files, path)
        place = describe_mount(mount) or "the image's own filesystem"
        found.append(f"{path or '(no path named)'} as user {user} ({place}): {line}")
        if path and not first:
            first = path
            source = mount.source if mount is not None and mount.type in ("bind", "volume") else ""
    return {"permission_denied": found, "denied_path": first, "denied_mount_source": source, "run_as_user": user}
