"""A daemon too old for troubleshoot (API < 1.24, Docker 1.11): one line, exit 2, no traceback. No such dockerd can
run here, so a small fake answers /version on a unix socket the way Docker 1.11 did; every other fault is real."""
import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler

from tests.integration.conftest import run_cli


class OldDocker(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        if self.path.endswith("/version"):
            body = json.dumps({"Version": "1.11.2", "ApiVersion": "1.23", "Os": "linux", "Arch": "amd64"}).encode()
            self.send_response(200)
        else:
            body = b'{"message": "page not found"}'
            self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def address_string(self):
        return "unix"

    def log_message(self, *args):
        pass


def test_a_daemon_too_old_is_one_line_exit_2(tmp_path):
    sock = tmp_path / "old.sock"
    server = socketserver.UnixStreamServer(str(sock), OldDocker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        proc = run_cli("-H", f"unix://{sock}", "scan")
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "too old: API 1.23 (Docker 1.11.2)" in proc.stderr and "needs API 1.24" in proc.stderr
