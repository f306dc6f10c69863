"""What logs and env values say about the hosts a container dials, as data: one row per language or tool and message.

Pure. Every pattern runs with RE2 (core/regex.py): linear in the line, whatever a container prints. A row's
`example` is a real line the runtime prints; tests/unit/test_networks.py checks every row against its example.
"""
from __future__ import annotations

import msgspec
from urllib.parse import urlsplit

from .regex import Family, Linear, compile_linear

_H = r"(?P<host>[A-Za-z0-9_][A-Za-z0-9_.-]*)"  # a host name as logs print it


class Signature(msgspec.Struct, frozen=True):
    source: str  # the runtime or tool that prints it
    example: str  # a real line it prints
    pattern: Linear  # with a `host` group


def _sig(source: str, example: str, pattern: str) -> Signature:
    return Signature(source, example, compile_linear(pattern))


# The name did not resolve: the runtime asked the resolver (127.0.0.11 on a user-defined network) and got nothing.
# Some runtimes do not print the name (Python's socket, .NET, Rust's std, PHP 7): the host is then taken from the env.
UNKNOWN_HOST: tuple[Signature, ...] = (
    _sig("Node.js", "Error: getaddrinfo ENOTFOUND db", r"getaddrinfo (?:ENOTFOUND|EAI_AGAIN) " + _H),
    _sig("Node.js", "Error: getaddrinfo EAI_AGAIN redis", r"getaddrinfo (?:ENOTFOUND|EAI_AGAIN) " + _H),
    _sig("Python", "socket.gaierror: [Errno -2] Name or service not known",
         r"gaierror: \[Errno -2\] Name or service not known"),
    _sig("Python", "socket.gaierror: [Errno -3] Temporary failure in name resolution",
         r"gaierror: \[Errno -3\] Temporary failure in name resolution"),
    _sig("Python (aiohttp)", "aiohttp.client_exceptions.ClientConnectorError: Cannot connect to host db:5432 "
         "ssl:default [Name or service not known]",
         r"Cannot connect to host " + _H + r":\d+[^\n]*\[(?:Name or service not known|Temporary failure in name "
         r"resolution|Name does not resolve)\]"),
    _sig("Python (requests/urllib3)", "Failed to resolve 'api' ([Errno -3] Temporary failure in name resolution)",
         r"Failed to resolve '" + _H + r"'"),
    _sig("PostgreSQL (libpq, psycopg)", 'could not translate host name "db" to address: Name or service not known',
         r'could not translate host name "' + _H + r'" to address'),
    _sig("Java", "java.net.UnknownHostException: db", r"UnknownHostException: " + _H),
    _sig("Java (JDBC)", "java.net.UnknownHostException: db: Name or service not known",
         r"UnknownHostException: " + _H),
    _sig("Go", "dial tcp: lookup db on 127.0.0.11:53: no such host", r"lookup " + _H + r"(?: on [0-9.:\[\]]+)?: "
         r"(?:no such host|server misbehaving|Temporary failure)"),
    _sig("Ruby (Net::HTTP)", "Failed to open TCP connection to db:5432 (getaddrinfo: Name or service not known) "
         "(SocketError)", r"Failed to open TCP connection to " + _H + r":\d+ \(getaddrinfo: "),
    _sig("Ruby", "SocketError: getaddrinfo: Name or service not known",
         r"getaddrinfo: (?:Name or service not known|Temporary failure in name resolution)"),
    _sig("Ruby (pg)", 'PG::ConnectionBad: could not translate host name "db" to address',
         r'could not translate host name "' + _H + r'"'),
    _sig("PHP 8", "php_network_getaddresses: getaddrinfo for db failed: Name or service not known",
         r"php_network_getaddresses: getaddrinfo for " + _H + r" failed"),
    _sig("PHP 7", "php_network_getaddresses: getaddrinfo failed: Name or service not known",
         r"php_network_getaddresses: getaddrinfo failed"),
    _sig(".NET", "System.Net.Sockets.SocketException (00000001, 11): Name or service not known",
         r"SocketException \([0-9A-Fa-f]+, ?-?\d+\): (?:Name or service not known|Resource temporarily unavailable|"
         r"No such host is known)"),
    _sig("Rust (reqwest)", "error sending request for url (http://api:8080/): error trying to connect: dns error: "
         "failed to lookup address information: Name or service not known",
         r"url \([a-z]+://" + _H + r"[:/][^\n]*failed to lookup address information"),
    _sig("Rust", "failed to lookup address information: Name or service not known",
         r"failed to lookup address information"),
    _sig("MySQL client", "ERROR 2005 (HY000): Unknown MySQL server host 'db' (-2)",
         r"Unknown MySQL server host '" + _H + r"'"),
    _sig("Redis (redis-py)", "Error -2 connecting to cache:6379. Name or service not known.",
         r"Error -[23] connecting to " + _H + r":\d+\. (?:Name or service not known|Temporary failure)"),
    _sig("nginx", 'host not found in upstream "api:8080" in /etc/nginx/conf.d/default.conf:3',
         r'host not found in upstream "?' + _H),
    _sig("curl", "curl: (6) Could not resolve host: api", r"Could not resolve host: " + _H),
    _sig("busybox (nc, wget, ping)", "nc: bad address 'db'", r"bad address '" + _H + r"'"),
)

# A refused connection and the address dialled. Interim: the sockets part ships a `connection_refused` signal
# (host:port from refused lines across languages); until it lands, these few shapes are read here.
REFUSED: tuple[Signature, ...] = (
    _sig("Node.js", "Error: connect ECONNREFUSED 172.18.0.2:5432",
         r"ECONNREFUSED " + _H.replace("_.-", "_.:-") + r":(?P<port>\d+)"),
    _sig("Go", "dial tcp 172.18.0.2:5432: connect: connection refused",
         r"dial tcp " + _H + r":(?P<port>\d+): connect: connection refused"),
    _sig("PostgreSQL (libpq)", 'connection to server at "db" (172.18.0.2), port 5432 failed: Connection refused',
         r'connection to server at "' + _H + r'"[^\n]*port (?P<port>\d+) failed: Connection refused'),
    _sig("busybox (nc, wget)", "nc: can't connect to remote host (172.18.0.2): Connection refused",
         r"can't connect to remote host \(" + _H + r"\): Connection refused"),
    _sig("Python", "ConnectionRefusedError: [Errno 111] Connection refused (db:5432)",
         r"Connection refused[^\n]*\(" + _H + r":(?P<port>\d+)\)"),
)

_UNKNOWN_HOST_ANY = Family(sig.pattern for sig in UNKNOWN_HOST)
_REFUSED_ANY = Family(sig.pattern for sig in REFUSED)
_LOCAL = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "ip6-localhost"}
# Env keys that name a host by convention (DB_HOST=db), and env values that are service URLs
# (REDIS_URL=redis://cache:6379/0, DATABASE_URL=postgres://app:****@db:5432/app).
_HOST_KEY = compile_linear(r"(?i)(?:^|_)(?:HOST|HOSTNAME|SERVER|ADDR|ADDRESS|ENDPOINT|BROKER|BROKERS)$")
_URL = compile_linear(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_HOST_PORT = compile_linear(r"^\[?(?P<host>[A-Za-z0-9_][A-Za-z0-9_.:-]*?)\]?(?::(?P<port>\d{1,5}))?$")


def is_local(host: str) -> bool:
    return host.lower() in _LOCAL or host.startswith("127.")


def unknown_hosts(lines: tuple[str, ...] | list[str]) -> list[str]:
    """Hosts the logs say could not be resolved, in order, once each."""
    found: list[str] = []
    for line in _UNKNOWN_HOST_ANY.lines(lines):
        for sig in UNKNOWN_HOST:
            m = sig.pattern.search(line)
            if m is not None and m.groupdict().get("host"):
                host = m.group("host").rstrip(".").lower()
                if host not in found:
                    found.append(host)
                break
    return found


def says_unknown_host(lines: tuple[str, ...] | list[str]) -> list[str]:
    """The log lines that say a name did not resolve (named or not)."""
    return [line for line in _UNKNOWN_HOST_ANY.lines(lines) if any(sig.pattern.search(line) for sig in UNKNOWN_HOST)]


def refused_targets(lines: tuple[str, ...] | list[str]) -> list[tuple[str, str, str]]:
    """(host, port or "", line) of refused connections the logs name, in order, once each."""
    out: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for line in _REFUSED_ANY.lines(lines):
        for sig in REFUSED:
            m = sig.pattern.search(line)
            if m is not None:
                host = m.group("host").lower()
                port = (m.groupdict().get("port") or "")
                if (host, port) not in seen:
                    seen.add((host, port))
                    out.append((host, port, line[:300]))
                break
    return out


def env_hosts(env: tuple[tuple[str, str], ...]) -> list[tuple[str, str, str]]:
    """(key, host, port or "") of every env value that names a host: `DB_HOST=db`, `DB_HOST=db:5432`, or a URL
    (`REDIS_URL=redis://cache:6379`). A masked value names nothing."""
    out: list[tuple[str, str, str]] = []
    for key, value in env:
        value = value.strip()
        if not value or "****" in value:
            continue
        if _URL.search(value):
            try:
                parts = urlsplit(value.split(",")[0])
                host, port = parts.hostname or "", str(parts.port or "")
            except ValueError:
                continue
            if host:
                out.append((key, host.lower(), port))
        elif _HOST_KEY.search(key):
            m = _HOST_PORT.search(value.split(",")[0])
            if m is not None:
                out.append((key, m.group("host").lower(), m.group("port") or ""))
    return out
