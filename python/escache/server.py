"""``escache serve``: a cluster behind a real HTTP port, so that tooling in any language (curl, Kibana-style
scripts, other clients) can call the clear-cache APIs against it.

Every request goes through the same Rust router as ``Cluster.perform_request``. The node that
receives a request is the first running node, or the one named in the ``X-Escache-Node`` header.
Virtual time does not move by itself; ``POST /_escache/advance?by=5m`` moves it (an escache route,
not an Elasticsearch one; it needs no credentials and answers ``{"now": seconds}``).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from escache._cluster import Cluster
from escache.errors import EscacheError

__all__ = ["serve", "make_server"]

NODE_HEADER = "X-Escache-Node"


def _handler_for(cluster: Cluster, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "escache"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
            pass  # requests carry credentials in headers: nothing is logged

        def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            self.send_response(status)
            for k, v in headers:
                if k.lower() != "content-length":
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else None
            parts = urlsplit(self.path)
            if parts.path == "/_escache/advance" and self.command == "POST":
                by = parse_qs(parts.query).get("by", ["0s"])[0]
                try:
                    with lock:
                        now = cluster.advance(by)
                except EscacheError as e:
                    payload = json.dumps({"error": str(e), "status": 400}).encode()
                    self._send(400, [("Content-Type", "application/json")], payload)
                    return
                self._send(200, [("Content-Type", "application/json")], json.dumps({"now": now}).encode())
                return
            node = self.headers.get(NODE_HEADER)
            headers = [(k, v) for k, v in self.headers.items() if k.lower() != NODE_HEADER.lower()]
            try:
                with lock:
                    status, resp_headers, raw = cluster._perform_raw(self.command, self.path, headers, body, node)
            except EscacheError as e:
                payload = json.dumps({"error": str(e), "status": 400}).encode()
                self._send(400, [("Content-Type", "application/json")], payload)
                return
            self._send(status, list(resp_headers), bytes(raw))

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = _handle

    return Handler


def make_server(cluster: Cluster, host: str = "127.0.0.1", port: int = 9200) -> ThreadingHTTPServer:
    """An HTTP server for ``cluster`` (not started). Port 0 picks a free port (``server.server_address``)."""
    server = ThreadingHTTPServer((host, port), _handler_for(cluster, threading.Lock()))
    server.daemon_threads = True
    return server


def serve(cluster: Cluster, host: str = "127.0.0.1", port: int = 9200) -> None:
    """Serves ``cluster`` until interrupted."""
    server = make_server(cluster, host, port)
    try:
        server.serve_forever()
    finally:
        server.server_close()
