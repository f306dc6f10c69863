"""A hostile or broken daemon costs bounded time and memory: one DaemonError line, never a stall or a heap blow-up.
No real dockerd misbehaves on demand, so this is a fault-injection fake on a unix socket (the way test_old_daemon.py
fakes Docker 1.11): it answers /version like a daemon, then drips /containers/json one byte a second, or sends a
100 MB list or inspect, or a `docker save` stream whose first member has a 50 MB pax header. The reader runs in a
subprocess so that its peak RSS is its own (as test_big_logs.py measures it)."""
import json
import socketserver
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest

from tests.integration.conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]
VERSION = json.dumps({"Version": "27.0.0", "ApiVersion": "1.46", "Os": "linux", "Arch": "amd64"}).encode()
MB = 1 << 20


def pax_bomb(size: int) -> bytes:
    """The 512-byte header of a pax extended header member that says `size` bytes follow."""
    info = tarfile.TarInfo("././@PaxHeader")
    info.type = tarfile.XHDTYPE
    info.size = size
    return info.tobuf(format=tarfile.USTAR_FORMAT)


class Fake(socketserver.StreamRequestHandler):
    mode = "tiny"

    def handle(self):
        try:
            while True:
                request = self.rfile.readline()
                if not request:
                    return
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                path = request.split()[1].decode()
                if path.endswith("/version"):
                    self.answer(VERSION)
                elif self.mode == "tiny":
                    self.answer(b"[]" if "/containers/json?" in path else b'{"Id": "abc"}')
                elif self.mode == "badutf8":  # a name that is not UTF-8 (msgspec: UnicodeDecodeError, not its own)
                    self.answer(b'[{"Id": "' + b"a" * 64 + b'", "Names": ["/x\xff\xc0\x9b"], "State": "exited"}]'
                                if "/containers/json?" in path else b"{}")
                elif self.mode == "noinfo":  # something else on the socket: /info is not there
                    if path.endswith("/info"):
                        self.answer(b'{"message": "page not found"}', status=b"404 Not Found")
                    else:
                        self.answer(b"[]" if "/json?" in path else b"{}")
                elif self.mode == "drip":
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n"
                                     b"\r\n[")
                    for _ in range(100_000):  # one byte a second: every socket read succeeds
                        time.sleep(1)
                        self.wfile.write(b" ")
                        self.wfile.flush()
                elif self.mode == "huge":  # no length: read until the daemon closes
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
                    item = b'{"Id": "' + b"a" * 64 + b'", "Names": ["/x"], "State": "running"},'
                    piece = item * (MB // len(item))
                    self.wfile.write(b"[" if "/containers/json?" in path else b'{"Labels": [')
                    for _ in range(100):
                        self.wfile.write(piece)
                    self.wfile.write(b'{"Id": "end"}]' + (b"}" if "/containers/json?" not in path else b""))
                    return
                elif self.mode == "pax":
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nConnection: close\r\n\r\n")
                    size = 50 * MB
                    self.wfile.write(pax_bomb(size))
                    head = str(size).encode() + b" comment="  # one pax record of exactly `size` bytes
                    self.wfile.write(head)
                    left = size - len(head) - 1
                    while left > 0:
                        self.wfile.write(b"a" * min(MB, left))
                        left -= MB
                    self.wfile.write(b"\n")
                    return
        except (BrokenPipeError, ConnectionResetError):
            return

    def answer(self, body: bytes, status: bytes = b"200 OK") -> None:
        self.wfile.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)
        self.wfile.flush()


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture
def fake(tmp_path):
    servers = []

    def start(mode: str) -> str:
        sock = tmp_path / f"{mode}.sock"
        handler = type(f"Fake_{mode}", (Fake,), {"mode": mode})
        server = Server(str(sock), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"unix://{sock}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


READER = """
import json, resource, sys, time
from troubleshoot.daemon import Daemon, DaemonError
start = time.monotonic()
d = Daemon(sys.argv[1], timeout=float(sys.argv[3])).connect()
what = sys.argv[2]
try:
    if what == "list":
        d.containers()
    elif what == "inspect":
        d.inspect("abc")
    elif what == "inspect_many":  # the pipelined reads of a scan (pipeline.py): the same bounds
        d.inspect_many(["abc", "def", "ghi"])
    else:
        d.image_layers("img")
    error = ""
except DaemonError as exc:
    error = str(exc)
print(json.dumps({"error": error, "seconds": time.monotonic() - start,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def read(host: str, what: str, timeout: float = 30, limit: float = 120) -> dict:
    try:
        proc = subprocess.run([sys.executable, "-c", READER, host, what, str(timeout)], capture_output=True,
                              text=True, timeout=limit, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"reading {what} from the fake daemon did not end within {limit:.0f} s")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.fixture
def baseline(fake):
    host = fake("tiny")
    got = read(host, "list")
    assert got["error"] == ""
    return got["rss_mb"]


def test_a_dripping_daemon_ends_the_request_at_its_deadline(fake):
    host = fake("drip")
    got = read(host, "list", timeout=3, limit=60)  # a 3 s socket timeout alone never fires: a byte comes every 1 s
    assert got["error"] == f"the daemon at {host} did not answer /containers/json within 3 s"
    assert got["seconds"] < 20, got


def test_scan_against_a_dripping_daemon_is_one_line_within_the_30s_deadline(fake):
    host = fake("drip")
    start = time.monotonic()
    proc = run_cli("-H", host, "scan", timeout=120)
    took = time.monotonic() - start
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == f"troubleshoot: the daemon at {host} did not answer /containers/json within 30 s\n"
    assert took < 90, took


@pytest.mark.parametrize("mode, said", [
    ("badutf8", "the daemon's answer to /containers/json: not UTF-8 text (invalid start byte at byte 2 of a string)"),
    ("noinfo", "answered /info with 404 (page not found): not a Docker API there"),
    ("huge", " MB for /"),  # the list or /info, whichever the scan reads first: "sent more than N MB ...: refused"
])
def test_a_daemon_answer_that_is_not_utf8_or_no_info_is_one_line(fake, mode, said):
    """Found by a hostile daemon (session 6): the first two crashed the scan (UnicodeDecodeError; an uncaught
    NotFound); a list past its 64 MB bound, refused while the scan started, was said as "refused: HTTP 0"."""
    host = fake(mode)
    for args in (("scan", "--json"), ("scan",)):
        proc = run_cli("-H", host, *args, timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and said in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert "crash" not in proc.stderr


def test_a_dripping_daemon_ends_pipelined_reads_at_the_deadline(fake):
    host = fake("drip")
    got = read(host, "inspect_many", timeout=3, limit=60)
    assert got["error"] == f"the daemon at {host} did not answer /containers/abc/json within 3 s"
    assert got["seconds"] < 20, got


@pytest.mark.parametrize("what, limit", [("list", 64), ("inspect", 16), ("inspect_many", 16)])
def test_a_100mb_answer_is_refused_with_bounded_memory(fake, baseline, what, limit):
    host = fake("huge")
    got = read(host, what)
    paths = ["/containers/json"] if what == "list" else [f"/containers/{c}/json" for c in ("abc", "def", "ghi")]
    if what == "inspect":
        paths = paths[:1]
    # pipelined on three connections: whichever answer passes the bound first is the one named
    assert got["error"] in [f"the daemon at {host} sent more than {limit} MB for {p}: refused" for p in paths]
    # the answer is read up to its bound, never decoded: before, 100 MB read whole and parsed took 200+ MB
    assert got["rss_mb"] - baseline < limit + 40, (got, baseline)


def test_a_huge_pax_header_in_docker_save_is_refused_with_bounded_memory(fake, baseline):
    host = fake("pax")
    got = read(host, "layers")
    assert got["error"] == ("reading the export of img failed: a pax header of 52,428,800 bytes (more than 1 MB): "
                            "refused")
    assert got["rss_mb"] - baseline < 20, (got, baseline)
