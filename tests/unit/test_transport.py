"""The unix-socket transport against a small fake daemon on a unix socket (no engine): a daemon (or a proxy in front
of one) that answers `Connection: close` is read request after request: http.client lets go of the socket, and
the transport opens a new one instead of failing with "NoneType has no attribute deadline"."""
import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler

from troubleshoot.daemon import Daemon


class _Answers(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = json.dumps({"ApiVersion": "1.41", "Version": "20.10"} if self.path.endswith("/version")
                          else {"ID": "x", "Architecture": "x86_64"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args):
        pass


def test_a_daemon_that_closes_each_connection_is_still_read(tmp_path):
    path = str(tmp_path / "close.sock")
    server = socketserver.ThreadingUnixStreamServer(path, _Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        d = Daemon(f"unix://{path}", timeout=5).connect()
        assert d.info().Architecture == "x86_64"
        assert d.info().Architecture == "x86_64"
        d.close()
    finally:
        server.shutdown()
        server.server_close()
