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


class _CloseAfterEach(BaseHTTPRequestHandler):
    """Answers an inspect with the id it was asked for, then closes the connection: pipelined requests written
    after the first are never answered on that connection."""
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        cid = self.path.split("/containers/")[1].split("/")[0] if "/containers/" in self.path else ""
        if self.path.endswith("/version"):
            body = json.dumps({"ApiVersion": "1.41", "Version": "20.10"}).encode()
        elif cid == "gone":
            self.send_response(404)
            body = b'{"message": "No such container: gone"}'
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
            return
        else:
            body = json.dumps({"Id": cid, "Name": "/" + cid, "State": {"Status": "exited"}, "Config": {}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args):
        pass


def test_pipelined_inspects_survive_a_daemon_that_closes_after_each_answer(tmp_path):
    path = str(tmp_path / "close-each.sock")
    server = socketserver.ThreadingUnixStreamServer(path, _CloseAfterEach)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        d = Daemon(f"unix://{path}", timeout=5).connect()
        ids = [f"c{i}" for i in range(12)]
        got = d.inspect_many([*ids[:5], "gone", *ids[5:]])
        assert [g.Id if g else None for g in got] == [*ids[:5], None, *ids[5:]]
        d.close()
    finally:
        server.shutdown()
