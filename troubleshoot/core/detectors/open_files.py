"""Open file descriptors against `Max open files` (RLIMIT_NOFILE), and the log lines that say the limit was hit.

The log patterns run with RE2 (core/regex.py): linear in the line."""
from ..facts import Host, Observation
from ..regex import compile_linear
from ..signals import SignalSpec, detector

# Node `EMFILE: too many open files`, Python `[Errno 24] Too many open files`, Java `IOException: Too many open
# files`, Go `accept4: too many open files`, nginx `(24: Too many open files)`, PostgreSQL `out of file descriptors`
_EMFILE = compile_linear(r"too many open files|\bEMFILE\b|\[Errno 24\]|out of file descriptors|"
                         r"\b24: Too many|file descriptor limit", ignore_case=True)


@detector(
    SignalSpec("open_files", "int", "open fds", "open descriptors of the container's process closest to its limit "
               "(/proc/<pid>/fd; local host, running)"),
    SignalSpec("open_files_limit", "int", "Max open files",
               "that process's soft `Max open files` (/proc/<pid>/limits), else HostConfig.Ulimits nofile"),
    SignalSpec("open_files_percent", "percent", "open fds / Max open files", "open descriptors, % of the limit"),
    SignalSpec("open_files_process", "str", "process", "the process counted: `pid N (name)`"),
    SignalSpec("open_files_errors", "list", "log", "log lines saying the open-files limit was hit (Too many open "
               "files, EMFILE, Errno 24)"),
)
def detect(obs: Observation, host: Host):
    res = obs.resources
    count = res.fd_count if res else None
    limit = (res.fd_limit if res else None) or obs.ulimit_nofile
    return {
        "open_files": count,
        "open_files_limit": limit,
        "open_files_percent": 100.0 * count / limit if count is not None and limit else None,
        "open_files_process": res.fd_process if res else "",
        "open_files_errors": [line[:300] for line in _EMFILE.lines(obs.logs)][-3:],
    }
