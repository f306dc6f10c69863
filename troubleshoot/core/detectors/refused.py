"""Refused connections in the logs, as each language and client prints them, and the host:port they dialled.

A refused connection means the address resolved and something answered "nobody listens here": the service is not
up yet, or listens elsewhere (another port, 127.0.0.1 inside its own container), or the address is the wrong one
(localhost inside a container is the container itself). The table below is data: one row per way of saying it, the
rows that name the address first. Patterns run with RE2 (core/regex.py): linear in the line.

Signals (a public name other playbooks build on: `dependency-not-ready`, `localhost-dependency`):
`connection_refused`, the host:port each refusal dialled (as the log names it), and `connection_refused_logs`,
the lines themselves.
"""
from __future__ import annotations

from ..facts import Host, Observation
from ..regex import Family, compile_linear
from ..signals import SignalSpec, detector

NOT_NAMED = "(address not in the log)"

# (who prints it, pattern). A pattern names the address with (?P<target>host:port), or (?P<host>)+(?P<port>).
REFUSED_SIGNATURES: tuple[tuple[str, str], ...] = (
    ("Node.js", r"connect ECONNREFUSED (?P<target>[^\s,)'\"]+)"),
    ("Go", r"dial tcp (?P<target>\S+): connect: connection refused"),
    ("PostgreSQL client (libpq 14+)",
     r"connection to server at \"(?P<host>[^\"]+)\"(?: \([^)]*\))?, port (?P<port>\d+) failed: Connection refused"),
    ("PostgreSQL JDBC", r"Connection to (?P<target>\S+) refused\. Check that the hostname and port are correct"),
    ("Redis CLI / hiredis", r"Could not connect to Redis at (?P<target>\S+): Connection refused"),
    ("redis-py", r"Error 111 connecting to (?P<target>\S+?)\.? Connection refused"),
    ("MySQL client", r"Can't connect to MySQL server on '(?P<target>[^']+)' \(111"),
    ("Java Netty / Lettuce", r"ConnectException: Connection refused: (?P<target>\S+)"),
    ("Java Apache HttpClient", r"Connect to (?P<target>\S+) (?:\[[^\]]*\] )?failed: Connection refused"),
    ("Java Spring RestTemplate", r"I/O error on [A-Z]+ request for \"[a-z]+://(?P<target>[^/\"]+)[^\"]*\": Connection refused"),
    ("Ruby", r"Connection refused - connect\(2\) for \"?(?P<host>[^\" ]+)\"? port (?P<port>\d+)"),
    (".NET HttpClient", r"Connection refused \((?P<target>[^()\s]+:\d+)\)"),
    ("Rust reqwest / hyper", r"error sending request for url \([a-z]+://(?P<target>[^/)]+)[^)]*\): .*[Cc]onnection refused"),
    ("Python requests / urllib3", r"host='(?P<host>[^']+)', port=(?P<port>\d+)\).*Connection refused"),
    ("Python aiohttp", r"Cannot connect to host (?P<target>\S+) ssl:\S+ \[(?:Connect call failed|Connection refused)"),
    ("Python asyncio", r"Connect call failed \('(?P<host>[^']+)', (?P<port>\d+)"),
    ("PHP streams / phpredis", r"unable to connect to (?:[a-z]+://)?(?P<target>\S+?) \(Connection refused\)"),
    ("nginx", r"connect\(\) failed \(111: Connection refused\).*upstream: \"[a-z]+://(?P<target>[^/\"]+)"),
    ("curl", r"Failed to connect to (?P<host>\S+) port (?P<port>\d+).*Connection refused"),
    ("busybox wget", r"can't connect to remote host \((?P<host>[^)]+)\): Connection refused"),
    # The same refusals, where the line does not name the address.
    ("Python", r"ConnectionRefusedError: \[Errno 111\]"),
    ("Java", r"java\.net\.ConnectException: Connection refused"),
    ("Ruby", r"Errno::ECONNREFUSED"),
    ("PHP PDO", r"SQLSTATE\[HY000\] \[2002\] Connection refused"),
    (".NET", r"SocketException \(111\): Connection refused"),
    ("Rust", r"Connection refused \(os error 111\)"),
    ("PostgreSQL client", r"could not connect to server: Connection refused"),
    ("any", r"ECONNREFUSED|[Cc]onnection refused"),
)
_COMPILED = tuple((who, compile_linear(pattern)) for who, pattern in REFUSED_SIGNATURES)
_ANY = Family(pattern for _who, pattern in _COMPILED)
# libpq before 14 names the address on the next lines: `Is the server running on host "db" (172.18.0.2) and
# accepting` / `TCP/IP connections on port 5432?`
_PG_HOST = compile_linear(r"Is the server running on host \"(?P<host>[^\"]+)\"")
_PG_PORT = compile_linear(r"connections on port (?P<port>\d+)")


def _target(host: str, port: str) -> str:
    host = host.strip("[]")
    if "/" in host:  # Java's `localhost/127.0.0.1`: the name dialled, then what it resolved to
        host = host.split("/", 1)[0] or host.split("/", 1)[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}" if port else host


def _normalise(target: str) -> str:
    """`::1:6379` (Node) -> `[::1]:6379`; `localhost/127.0.0.1:6379` (Netty) -> `localhost:6379`."""
    target = target.rstrip(".,;:)'\"")
    if target.startswith("["):
        return target
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        return _target(target, "")
    return _target(host, port)


def refused(line: str, following: tuple[str, ...] = ()) -> tuple[str, str] | None:
    """(who printed it, the host:port dialled or NOT_NAMED) when the line says a connection was refused."""
    for who, pattern in _COMPILED:
        m = pattern.search(line)
        if m is None:
            continue
        groups = m.groupdict()
        if groups.get("target"):
            return who, _normalise(groups["target"])
        if groups.get("host"):
            return who, _target(groups["host"], groups.get("port") or "")
        if who == "PostgreSQL client":
            host = next((h.group("host") for h in map(_PG_HOST.search, following) if h), "")
            port = next((p.group("port") for p in map(_PG_PORT.search, following) if p), "")
            if host:
                return who, _target(host, port)
        return who, NOT_NAMED
    return None


@detector(
    SignalSpec("connection_refused", "list", "connection refused to",
               "the host:port each refused connection in the logs dialled, as the line names it (Node, Python, "
               "Java, Go, Ruby, PHP, .NET, Rust, PostgreSQL, MySQL, Redis, nginx, curl); "
               f"`{NOT_NAMED}` when it does not"),
    SignalSpec("connection_refused_logs", "list", "log", "the log lines where a connection was refused (the last 3)"),
)
def detect(obs: Observation, host: Host):
    targets: list[str] = []
    lines: list[str] = []
    logs = obs.logs
    for i in _ANY.which(logs):
        line = logs[i]
        found = refused(line, logs[i + 1:i + 3])
        if found is None:
            continue
        if found[1] not in targets:
            targets.append(found[1])
        if line[:300] not in lines:
            lines.append(line[:300])
    return {"connection_refused": targets, "connection_refused_logs": lines[-3:]}
