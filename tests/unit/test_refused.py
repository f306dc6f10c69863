"""Refused connections as each language and client prints them: one row per framework and message, with the
host:port the line names (the `connection_refused` signal of core/detectors/refused.py)."""
import pytest

from troubleshoot.core.detectors.refused import NOT_NAMED, refused
from troubleshoot.core.diagnose import diagnose_container
from troubleshoot.core.signals import container_signals
from tests.unit.conftest import fixture, observe

ROWS = [
    # (who, the real message, the host:port it names)
    ("Node.js", "Error: connect ECONNREFUSED 127.0.0.1:5432", "127.0.0.1:5432"),
    ("Node.js", "[ioredis] Unhandled error event: Error: connect ECONNREFUSED ::1:6379", "[::1]:6379"),
    ("Node.js", "MongooseServerSelectionError: connect ECONNREFUSED 172.18.0.3:27017", "172.18.0.3:27017"),
    ("Node.js", "Error: connect ECONNREFUSED db:5432 at TCPConnectWrap.afterConnect [as oncomplete]", "db:5432"),
    ("Python", "ConnectionRefusedError: [Errno 111] Connection refused", NOT_NAMED),
    ("Python requests / urllib3", "requests.exceptions.ConnectionError: HTTPConnectionPool(host='api', port=8000): Max retries "
     "exceeded with url: /health (Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at "
     "0x7f2c>: Failed to establish a new connection: [Errno 111] Connection refused'))", "api:8000"),
    ("Python asyncio", "OSError: [Errno 111] Connect call failed ('127.0.0.1', 8080)", "127.0.0.1:8080"),
    ("Python aiohttp", "aiohttp.client_exceptions.ClientConnectorError: Cannot connect to host db:5432 ssl:default "
     "[Connect call failed ('172.18.0.2', 5432)]", "db:5432"),
    ("redis-py", "redis.exceptions.ConnectionError: Error 111 connecting to localhost:6379. Connection refused.",
     "localhost:6379"),
    ("Java", "java.net.ConnectException: Connection refused", NOT_NAMED),
    ("Java", "Caused by: java.net.ConnectException: Connection refused (Connection refused)", NOT_NAMED),
    ("Java Netty / Lettuce", "io.netty.channel.AbstractChannel$AnnotatedConnectException: Connection refused: "
     "localhost/127.0.0.1:6379", "localhost:6379"),
    ("Java Apache HttpClient", "org.apache.http.conn.HttpHostConnectException: Connect to localhost:8080 "
     "[localhost/127.0.0.1] failed: Connection refused (Connection refused)", "localhost:8080"),
    ("Java Spring RestTemplate", 'org.springframework.web.client.ResourceAccessException: I/O error on GET request '
     'for "http://inventory:8080/items": Connection refused', "inventory:8080"),
    ("PostgreSQL JDBC", "org.postgresql.util.PSQLException: Connection to localhost:5432 refused. Check that the "
     "hostname and port are correct and that the postmaster is accepting TCP/IP connections.", "localhost:5432"),
    ("Go", "dial tcp 127.0.0.1:5432: connect: connection refused", "127.0.0.1:5432"),
    ("Go", 'Get "http://api:8080/health": dial tcp 172.18.0.4:8080: connect: connection refused',
     "172.18.0.4:8080"),
    ("Go", "dial tcp [::1]:6379: connect: connection refused", "[::1]:6379"),
    ("Ruby", "Errno::ECONNREFUSED: Connection refused - connect(2) for \"db\" port 5432", "db:5432"),
    ("Ruby", "Failed to open TCP connection to localhost:3000 (Connection refused - connect(2) for \"localhost\" "
     "port 3000) (Errno::ECONNREFUSED)", "localhost:3000"),
    ("Ruby", "Errno::ECONNREFUSED", NOT_NAMED),
    ("PHP PDO", "PDOException: SQLSTATE[HY000] [2002] Connection refused", NOT_NAMED),
    ("PHP streams / phpredis", "PHP Warning:  fsockopen(): unable to connect to 127.0.0.1:6379 (Connection refused)",
     "127.0.0.1:6379"),
    (".NET", "System.Net.Sockets.SocketException (111): Connection refused", NOT_NAMED),
    (".NET HttpClient", "System.Net.Http.HttpRequestException: Connection refused (localhost:5000)", "localhost:5000"),
    ("Rust", "Error: Os { code: 111, kind: ConnectionRefused, message: \"Connection refused\" }", NOT_NAMED),
    ("Rust", "thread 'main' panicked at 'connect: Connection refused (os error 111)'", NOT_NAMED),
    ("Rust reqwest / hyper", "error sending request for url (http://localhost:8080/): error trying to connect: tcp "
     "connect error: Connection refused (os error 111)", "localhost:8080"),
    ("PostgreSQL client", "psql: error: could not connect to server: Connection refused", NOT_NAMED),
    ("PostgreSQL client (libpq 14+)", 'psql: error: connection to server at "localhost" (127.0.0.1), port 5432 '
     "failed: Connection refused", "localhost:5432"),
    ("Redis CLI / hiredis", "Could not connect to Redis at 127.0.0.1:6379: Connection refused", "127.0.0.1:6379"),
    ("MySQL client", "ERROR 2003 (HY000): Can't connect to MySQL server on 'db:3306' (111)", "db:3306"),
    ("MySQL client", "ERROR 2003 (HY000): Can't connect to MySQL server on 'mysql' (111 \"Connection refused\")",
     "mysql"),
    ("nginx", '2026/03/04 10:00:00 [error] 29#29: *1 connect() failed (111: Connection refused) while connecting to '
     'upstream, client: 172.17.0.1, server: , request: "GET / HTTP/1.1", upstream: "http://127.0.0.1:8080/", host: '
     '"localhost"', "127.0.0.1:8080"),
    ("curl", "curl: (7) Failed to connect to localhost port 8080 after 0 ms: Connection refused", "localhost:8080"),
    ("busybox wget", "wget: can't connect to remote host (127.0.0.1): Connection refused", "127.0.0.1"),
]


@pytest.mark.parametrize("who, line, target", ROWS, ids=[f"{r[0]}-{i}" for i, r in enumerate(ROWS)])
def test_each_language_names_what_it_dialled(who, line, target):
    found = refused(line)
    assert found is not None, f"{who}: not recognised: {line}"
    assert found[1] == target, (who, found)
    assert found[0] == who or (target == NOT_NAMED and found[0] in (who, "any")), found


@pytest.mark.parametrize("line", [
    "connected to db:5432",
    "listening on 0.0.0.0:8080",
    "Error: getaddrinfo ENOTFOUND db",
    "dial tcp: lookup db on 127.0.0.11:53: no such host",
    "WARN retrying in 5s",
])
def test_lines_that_are_not_refusals(line):
    assert refused(line) is None


def test_libpq_before_14_names_the_address_on_the_next_lines():
    logs = ["psql: could not connect to server: Connection refused",
            '\tIs the server running on host "db" (172.18.0.2) and accepting',
            "\tTCP/IP connections on port 5432?"]
    assert refused(logs[0], tuple(logs[1:])) == ("PostgreSQL client", "db:5432")


def test_the_signal_on_a_recorded_container(catalog):
    def logs(rec):
        rec["logs"] = ["starting worker", "Error: connect ECONNREFUSED 127.0.0.1:5432",
                       "Error: connect ECONNREFUSED 127.0.0.1:5432", "redis.exceptions.ConnectionError: Error 111 "
                       "connecting to cache:6379. Connection refused.", "ConnectionRefusedError: [Errno 111] Connection refused"]
    obs, host = observe(fixture("crashed"), logs)
    signals = container_signals(obs, host)
    assert signals["connection_refused"] == ["127.0.0.1:5432", "cache:6379", NOT_NAMED]
    assert len(signals["connection_refused_logs"]) == 3
    assert signals["connection_refused_logs"][-1] == "ConnectionRefusedError: [Errno 111] Connection refused"
    obs, host = observe(fixture("crashed"))
    assert container_signals(obs, host)["connection_refused"] == []
    assert diagnose_container(obs, host, catalog)[0].playbook_id == "crashed"
