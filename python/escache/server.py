"""``escache serve``: a cluster behind a real HTTP port, so that tooling in any language (curl, Kibana-style
scripts, other clients) can call the clear-cache APIs against it.

Every request goes through the same Rust router as ``Cluster.perform_request``. The node that
receives a request is the first running node, or the one named in the ``X-Escache-Node`` header.
Virtual time does not move by itself; ``POST /_escache/advance?by=5m`` moves it (an escache route,
not an Elasticsearch one; it needs no credentials and answers ``{"now": seconds}``).

The HTTP layer answers every request it can read, and closes only connections it cannot read or that
stay silent too long:

- A body larger than ``max_content_length`` (Elasticsearch's ``http.max_content_length``, 100mb) gets
  Elasticsearch's own ``413 Request Entity Too Large`` (empty body, ``connection: close``) before it is
  read (``modules/transport-netty4/.../Netty4HttpContentSizeHandler.java``); so does a chunked body
  that grows past it. An ``Expect`` other than ``100-continue`` gets its ``417``.
- A request Netty's decoder refuses (two ``Content-Length`` values, one that is not a number, a bad
  chunk) gets a 400 with Elasticsearch's JSON error body and ``X-Elastic-Product``, as
  ``RestController.dispatchBadRequest`` sends it, and the connection is closed.
- ``Transfer-Encoding: chunked`` bodies are decoded.
- A connection must deliver each request (head and body) within ``read_timeout`` of the previous
  response (or of connecting); at most ``max_connections`` are served at once, and one more gets a
  429 and is closed. Client hang-ups are logged at DEBUG (logger ``escache.server``), never printed.
- Nothing is logged about requests: they carry credentials.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from escache._cluster import Cluster
from escache.errors import EscacheError

__all__ = ["MAX_CONNECTIONS", "MAX_CONTENT_LENGTH", "READ_TIMEOUT", "EscacheHTTPServer", "make_server", "serve"]

NODE_HEADER = "X-Escache-Node"

#: Elasticsearch's ``http.max_content_length`` default, 100mb (``HttpTransportSettings``).
MAX_CONTENT_LENGTH = 100 * 1024 * 1024
#: Seconds a connection may take to deliver one whole request (or stay idle between two).
READ_TIMEOUT = 30.0
#: Connections served at once (one thread each).
MAX_CONNECTIONS = 64

_MAX_LINE = 65_536  # request line, header, chunk-size and trailer lines (the stdlib's own limit)
_MAX_TRAILERS = 100
_DIGITS = re.compile(r"[0-9]+")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,15}")
_LONG_MAX = 2**63 - 1
# What RestController adds to every REST answer, spelled as escache's REST layer spells it.
_PRODUCT = ("X-Elastic-Product", "Elasticsearch")
_JSON = ("Content-Type", "application/json")
# Netty's phrases; Python renamed some of them (413 is "Content Too Large" from 3.13).
_PHRASES = {413: "Request Entity Too Large", 417: "Expectation Failed"}

log = logging.getLogger("escache.server")


def error_body(status: int, es_type: str, reason: str) -> bytes:
    """Elasticsearch's JSON error body (``ElasticsearchException.generateFailureXContent``)."""
    cause = {"type": es_type, "reason": reason}
    return json.dumps({"error": {"root_cause": [cause], **cause}, "status": status}).encode()


def encode_response(
    status: int, headers: list[tuple[str, Any]], body: bytes, *, close: bool, with_body: bool = True
) -> bytes:
    """Status line, headers and body as one buffer, written with one send (with TCP_NODELAY a second
    small send would go out at once, but one is cheaper). A header whose value is a list is sent as
    one field per value (``WWW-Authenticate``: one challenge per field, as Elasticsearch sends them)."""
    phrase = _PHRASES.get(status) or (HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "")
    lines = [f"HTTP/1.1 {status} {phrase}"]
    for name, value in headers:
        if name.lower() in ("content-length", "connection", "transfer-encoding"):
            continue
        for one in value if isinstance(value, (list, tuple)) else (value,):
            lines.append(f"{name}: {str(one).replace(chr(13), ' ').replace(chr(10), ' ')}")
    lines.append(f"content-length: {len(body)}")
    if close:
        lines.append("connection: close")
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
    return data + body if with_body else data


class _Reject(Exception):
    """A request the HTTP layer answers itself; the connection is closed after the answer."""

    def __init__(self, status: int, reason: str = "", es_type: str = "illegal_argument_exception") -> None:
        super().__init__(reason)
        self.status, self.reason, self.es_type = status, reason, es_type

    def response(self) -> tuple[int, list[tuple[str, str]], bytes]:
        if self.status in (413, 417):  # Netty's fixed answers: no body, no product header
            return self.status, [], b""
        return self.status, [_JSON, _PRODUCT], error_body(self.status, self.es_type, self.reason)


class _HungUp(Exception):
    """The client closed the connection in the middle of a request."""


class _Handler(BaseHTTPRequestHandler):
    server: EscacheHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "escache"
    # TCP_NODELAY (set in StreamRequestHandler.setup): with Nagle on, every keep-alive answer waited
    # for the client's delayed ACK (40 ms per request).
    disable_nagle_algorithm = True

    def setup(self) -> None:
        # Per socket operation (the whole request has a deadline too); per connection, so on the instance.
        self.timeout = self.server.read_timeout  # type: ignore[misc]
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass  # requests carry credentials in headers: nothing is logged

    def handle_expect_100(self) -> bool:
        return True  # answered in _read_body, after the size check, as Netty4HttpContentSizeHandler does

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The stdlib's own errors (bad request line, too many or too long headers), as JSON. The
        request text is not echoed: it may carry credentials."""
        reason = (message or HTTPStatus(code).phrase).split(" (")[0].split(" %")[0]
        self.close_connection = True
        self._write(code, [_JSON, _PRODUCT], error_body(code, "illegal_argument_exception", reason))

    def handle(self) -> None:
        try:
            super().handle()
        except (_HungUp, OSError) as e:  # hang-up, reset, timeout, or shut down by the server's deadline
            log.debug("connection from %s closed: %s", self.client_address[0], type(e).__name__)

    def handle_one_request(self) -> None:
        self.server.arm(self.connection)
        self.close_connection = True  # until a whole request has been read
        self.raw_requestline = self.rfile.readline(_MAX_LINE + 1)
        if not self.raw_requestline:
            return
        if len(self.raw_requestline) > _MAX_LINE:
            self.requestline = self.request_version = self.command = ""
            self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
            return
        if not self.parse_request():  # the stdlib answered (through send_error)
            return
        keep_alive = not self.close_connection
        self.close_connection = True
        try:
            body = self._read_body()
        except _Reject as e:
            self._write(*e.response(), close=True)
            return
        if not self.server.disarm(self.connection):
            # Its deadline passed while it was being read: the server shut the socket, and what
            # looked like the end of the headers may only have been that.
            raise _HungUp
        self.close_connection = not keep_alive
        try:
            status, headers, payload = self._dispatch(body)
        except Exception as e:  # noqa: BLE001 - a bug must still get an HTTP answer, never a dropped connection
            log.error("escache serve: %s while answering a request", type(e).__name__)
            status, headers, payload = 500, [_JSON, _PRODUCT], error_body(500, "exception", "internal error")
            self.close_connection = True
        self._write(status, headers, payload)

    # -- request body -------------------------------------------------------------------------------

    def _read_body(self) -> bytes | None:
        limit = self.server.max_content_length
        expect = self.headers.get("Expect")
        if expect is not None and expect.strip().lower() != "100-continue":
            raise _Reject(417)
        codings = [c.strip().lower() for v in self.headers.get_all("Transfer-Encoding") or [] for c in v.split(",")]
        lengths = [v.strip() for v in self.headers.get_all("Content-Length") or []]
        if codings:
            # chunked wins over Content-Length (RFC 9112 6.3; Netty drops the Content-Length)
            if codings != ["chunked"]:
                raise _Reject(400, f"unsupported Transfer-Encoding [{', '.join(codings)}]")
            self._continue(expect)
            return self._read_chunked(limit)
        if not lengths:
            return None
        # Netty's HttpUtil.normalizeAndGetContentLength, texts included
        if len(lengths) > 1 or "," in lengths[0]:
            raise _Reject(400, f"Multiple Content-Length values found: [{', '.join(lengths)}]")
        if not _DIGITS.fullmatch(lengths[0]) or int(lengths[0]) > _LONG_MAX:
            raise _Reject(400, f"Content-Length value is not a number: {lengths[0]}")
        length = int(lengths[0])
        if length > limit:
            raise _Reject(413)
        self._continue(expect)
        return self._read_exact(length) if length else None

    def _continue(self, expect: str | None) -> None:
        if expect is not None and self.request_version != "HTTP/1.0":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _read_exact(self, n: int) -> bytes:
        data = self.rfile.read(n)
        if len(data) < n:
            raise _HungUp
        return data

    def _line(self) -> bytes:
        line = self.rfile.readline(_MAX_LINE + 1)
        if not line:
            raise _HungUp
        if len(line) > _MAX_LINE or not line.endswith(b"\n"):
            raise _Reject(400, "chunked body line too long")
        return line

    def _read_chunked(self, limit: int) -> bytes | None:
        parts, total = [], 0
        while True:
            size = self._line().split(b";", 1)[0].strip()  # chunk extensions are ignored
            if not _CHUNK_SIZE.fullmatch(size):
                raise _Reject(400, f"invalid chunk size [{size[:32].decode('latin-1')}]")
            n = int(size, 16)
            if n == 0:
                break
            total += n
            if total > limit:
                raise _Reject(413)
            parts.append(self._read_exact(n))
            if self._read_exact(2) != b"\r\n":
                raise _Reject(400, "chunk data not followed by CRLF")
        for _ in range(_MAX_TRAILERS + 1):  # trailer fields are read and dropped
            if not self._line().strip():
                return b"".join(parts) or None
        raise _Reject(400, "too many trailer fields")

    # -- dispatch and response ----------------------------------------------------------------------

    def _dispatch(self, body: bytes | None) -> tuple[int, list[tuple[str, Any]], bytes]:
        cluster, lock = self.server.cluster, self.server.lock
        parts = urlsplit(self.path)
        if parts.path == "/_escache/advance" and self.command == "POST":
            by = parse_qs(parts.query).get("by", ["0s"])[0]
            try:
                with lock:
                    now = cluster.advance(by)
            except EscacheError as e:
                return 400, [_JSON, _PRODUCT], error_body(400, e.es_type, str(e))
            return 200, [_JSON], json.dumps({"now": now}).encode()
        node = self.headers.get(NODE_HEADER)
        headers = [(k, v) for k, v in self.headers.items() if k.lower() != NODE_HEADER.lower()]
        try:
            with lock:
                status, resp_headers, raw = cluster._perform_raw(self.command, self.path, headers, body, node)
        except EscacheError as e:
            return 400, [_JSON, _PRODUCT], error_body(400, e.es_type, str(e))
        return status, list(resp_headers), bytes(raw)

    def _write(self, status: int, headers: list[tuple[str, Any]], body: bytes, *, close: bool = False) -> None:
        if close:
            self.close_connection = True
        self.wfile.write(
            encode_response(status, headers, body, close=self.close_connection, with_body=self.command != "HEAD")
        )


class EscacheHTTPServer(ThreadingHTTPServer):
    """A ``ThreadingHTTPServer`` for one cluster, bounded in connections, time and body size."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        cluster: Cluster,
        *,
        max_content_length: int = MAX_CONTENT_LENGTH,
        read_timeout: float = READ_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        if max_content_length < 0 or read_timeout <= 0 or max_connections < 1:
            raise ValueError("max_content_length >= 0, read_timeout > 0 and max_connections >= 1 are required")
        self.cluster = cluster
        self.lock = threading.Lock()  # one request at a time reaches the cluster, in arrival order
        self.max_content_length = max_content_length
        self.read_timeout = read_timeout
        self.max_connections = max_connections
        self._slots = threading.BoundedSemaphore(max_connections)
        self._guard = threading.Lock()
        self._open: set[socket.socket] = set()
        self._deadlines: dict[socket.socket, float] = {}
        super().__init__(address, _Handler)

    @property
    def open_connections(self) -> int:
        with self._guard:
            return len(self._open)

    def arm(self, sock: socket.socket) -> None:
        """The connection must deliver a whole request within ``read_timeout`` from now."""
        with self._guard:
            self._deadlines[sock] = time.monotonic() + self.read_timeout

    def disarm(self, sock: socket.socket) -> bool:
        """The request is read; False when its deadline had already passed."""
        with self._guard:
            return self._deadlines.pop(sock, None) is not None

    def service_actions(self) -> None:
        """Runs in ``serve_forever`` between polls: shuts connections that are past their deadline
        (their thread then sees end of file and exits)."""
        now = time.monotonic()
        with self._guard:
            late = [s for s, d in self._deadlines.items() if d <= now]
            for s in late:
                del self._deadlines[s]
        for s in late:
            _shut(s)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self._refuse(request)
            return
        with self._guard:
            self._open.add(request)
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._forget(request)
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._forget(request)

    def _forget(self, request: Any) -> None:
        with self._guard:
            self._open.discard(request)
            self._deadlines.pop(request, None)
        self._slots.release()

    def _refuse(self, request: socket.socket) -> None:
        body = error_body(
            429, "es_rejected_execution_exception", f"rejected execution: {self.max_connections} connections are open"
        )
        try:
            request.settimeout(1.0)
            request.sendall(encode_response(429, [_JSON, _PRODUCT], body, close=True))
        except OSError:
            pass
        self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            log.debug("connection from %s: %s", client_address[0], type(exc).__name__)
        else:
            log.error("escache serve: %s on a connection", type(exc).__name__)

    def server_close(self) -> None:
        with self._guard:
            conns = list(self._open)
        for s in conns:  # their threads see end of file and finish
            _shut(s)
        super().server_close()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def make_server(
    cluster: Cluster,
    host: str = "127.0.0.1",
    port: int = 9200,
    *,
    max_content_length: int = MAX_CONTENT_LENGTH,
    read_timeout: float = READ_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
) -> EscacheHTTPServer:
    """An HTTP server for ``cluster`` (not started: call ``serve_forever()``, which also enforces
    ``read_timeout``). Port 0 picks a free port (``server.server_address``). The cluster's event trace
    is left as it is: a trace that is on grows with every request (``escache serve`` turns it off)."""
    return EscacheHTTPServer(
        (host, port),
        cluster,
        max_content_length=max_content_length,
        read_timeout=read_timeout,
        max_connections=max_connections,
    )


def serve(cluster: Cluster, host: str = "127.0.0.1", port: int = 9200, **limits: Any) -> None:
    """Serves ``cluster`` until interrupted."""
    server = make_server(cluster, host, port, **limits)
    try:
        server.serve_forever()
    finally:
        server.server_close()
