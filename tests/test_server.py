"""`escache serve`: the same REST surface over a real loopback HTTP port, driven by the official client
and by raw sockets (for what a client library would never send). Every test stops by itself: sockets
have timeouts and servers are shut down at the end."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any, ClassVar

import elasticsearch
import pytest

import escache
from escache import cli
from escache.server import MAX_CONTENT_LENGTH, EscacheHTTPServer, make_server

ELASTIC = "Basic " + base64.b64encode(b"elastic:changeme").decode()


@contextlib.contextmanager
def running(cluster: Any, **limits: Any) -> Iterator[tuple[EscacheHTTPServer, tuple[str, int]]]:
    server = make_server(cluster, "127.0.0.1", 0, **limits)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server, server.server_address[:2]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
        assert not thread.is_alive()


@pytest.fixture()
def served():
    cluster = escache.Cluster(3, seed=4)
    with running(cluster) as (_, (host, port)):
        yield cluster, f"http://{host}:{port}"


@pytest.fixture()
def addr():
    with running(escache.Cluster(1, seed=1)) as (_, address):
        yield address


def connect(address: tuple[str, int], timeout: float = 10.0) -> socket.socket:
    return socket.create_connection(address, timeout=timeout)


def read_response(f: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """One response from a socket file: status, headers (lower-case names, in order), body."""
    line = f.readline()
    assert line.startswith(b"HTTP/1.1 "), line
    status = int(line.split()[1])
    headers = []
    while (h := f.readline()) not in (b"\r\n", b""):
        name, _, value = h.decode("latin-1").partition(":")
        headers.append((name.strip().lower(), value.strip()))
    length = int(dict(headers).get("content-length", "0"))
    return status, headers, f.read(length)


def exchange(
    address: tuple[str, int], data: bytes, *, keep_alive: bool = False
) -> tuple[int, dict[str, str], bytes, bool]:
    """Sends raw bytes, reads one response; the last item says whether the server then closed (not
    asked when the connection is expected to stay open)."""
    with connect(address) as s:
        s.sendall(data)
        f = s.makefile("rb")
        status, headers, body = read_response(f)
        closed = not keep_alive and f.read(1) == b""
        return status, dict(headers), body, closed


def assert_es_error(status: int, headers: dict[str, str], body: bytes, expected: int, reason: str) -> None:
    assert status == expected
    assert headers["x-elastic-product"] == "Elasticsearch"
    assert headers["content-type"].startswith("application/json")
    err = json.loads(body)
    assert err["status"] == expected
    assert err["error"]["reason"] == reason
    assert err["error"]["root_cause"] == [{"type": err["error"]["type"], "reason": reason}]


# ---- the REST surface over HTTP -------------------------------------------------------------------


def test_client_over_http_creates_invalidates_and_clears(served):
    cluster, url = served
    es = elasticsearch.Elasticsearch(url, basic_auth=("elastic", "changeme"))
    key = es.security.create_api_key(name="over-http")
    as_key = elasticsearch.Elasticsearch(url, api_key=key["encoded"])
    assert as_key.security.authenticate()["api_key"]["id"] == key["id"]
    resp = es.security.clear_api_key_cache(ids="*")
    assert resp["_nodes"] == {"total": 3, "successful": 3, "failed": 0}
    assert set(resp["nodes"]) == {n.id for n in cluster.nodes}
    # The in-process view sees what HTTP did: the caches were cleared on every node.
    assert all(len(n.caches["api_key_auth"]) == 0 for n in cluster.nodes)


def test_http_errors_are_elasticsearch_errors(served):
    _, url = served
    es = elasticsearch.Elasticsearch(url)
    with pytest.raises(elasticsearch.AuthenticationException) as e:
        es.security.clear_api_key_cache(ids="*")
    assert (
        e.value.body["error"]["reason"]
        == "missing authentication credentials for REST request [/_security/api_key/*/_clear_cache]"
    )


def test_node_header_and_virtual_time(served):
    cluster, url = served
    req = urllib.request.Request(url + "/_escache/advance?by=90s", method="POST")
    with urllib.request.urlopen(req) as r:
        assert json.loads(r.read()) == {"now": 90.0}
    assert cluster.now == 90.0
    es = elasticsearch.Elasticsearch(url, basic_auth=("elastic", "changeme"), headers={"X-Escache-Node": "node-2"})
    assert es.info()["name"] == "node-2"


def test_bad_advance_and_unknown_node_are_elasticsearch_errors(addr):
    status, headers, body, _ = exchange(
        addr, b"POST /_escache/advance?by=10 HTTP/1.1\r\nHost: x\r\n\r\n", keep_alive=True
    )
    assert status == 400 and json.loads(body)["error"]["type"] == "illegal_argument_exception"
    assert headers["x-elastic-product"] == "Elasticsearch"
    status, headers, body, _ = exchange(
        addr, f"GET / HTTP/1.1\r\nAuthorization: {ELASTIC}\r\nX-Escache-Node: node-9\r\n\r\n".encode(), keep_alive=True
    )
    assert status == 400 and "node-9" in json.loads(body)["error"]["reason"]


def test_head_answers_without_a_body(addr):
    with connect(addr) as s:
        s.sendall(
            f"HEAD / HTTP/1.1\r\nAuthorization: {ELASTIC}\r\n\r\nGET / HTTP/1.1\r\nAuthorization: {ELASTIC}\r\n\r\n".encode()
        )
        f = s.makefile("rb")
        status = f.readline()
        assert b" 200 " in status
        while f.readline() != b"\r\n":
            pass
        # The next bytes are the second response, not a body of the first.
        status, _, body = read_response(f)
        assert status == 200 and json.loads(body)["tagline"] == "You Know, for Search"


# ---- issue 8, point 21: no input kills a connection without an HTTP answer -------------------------


def test_issue8_d21_oversized_body_gets_elasticsearchs_413_before_it_is_read(addr):
    assert MAX_CONTENT_LENGTH == 100 * 1024 * 1024  # http.max_content_length's default
    # 101 MiB announced, nothing sent: the answer comes at once, so the body was never waited for.
    head = f"POST /_security/api_key HTTP/1.1\r\nAuthorization: {ELASTIC}\r\nContent-Type: application/json\r\nContent-Length: {101 * 1024 * 1024}\r\n\r\n"
    status, headers, body, closed = exchange(addr, head.encode())
    # Netty4HttpContentSizeHandler's TOO_LARGE_CLOSE: no body, content-length 0, connection close.
    assert (status, body, closed) == (413, b"", True)
    assert headers == {"content-length": "0", "connection": "close"}


def test_issue8_d21_chunked_body_is_decoded_and_not_parsed_as_a_request(addr):
    payload = json.dumps({"name": "chunked-key"}).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (payload[:5], payload[5:]))
    head = f"POST /_security/api_key HTTP/1.1\r\nAuthorization: {ELASTIC}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    second = f"GET /_security/_authenticate HTTP/1.1\r\nAuthorization: {ELASTIC}\r\n\r\n"
    with connect(addr) as s:
        s.sendall(head.encode() + chunks + b"0\r\nX-Trailer: ignored\r\n\r\n" + second.encode())
        f = s.makefile("rb")
        status, _, body = read_response(f)
        assert status == 200 and json.loads(body)["name"] == "chunked-key"
        # The same connection goes on with the next request: the chunks were consumed as the body.
        status, _, body = read_response(f)
        assert status == 200 and json.loads(body)["username"] == "elastic"


def test_issue8_d21_chunked_body_over_the_limit_gets_413():
    with running(escache.Cluster(1), max_content_length=100) as (_, address):
        chunk = b"40\r\n" + b"x" * 64 + b"\r\n"
        head = (
            b"POST /_security/api_key HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        status, _, body, closed = exchange(address, head + chunk * 2)
        assert (status, body, closed) == (413, b"", True)


@pytest.mark.parametrize(
    ("lengths", "reason"),
    [
        (["2", "2"], "Multiple Content-Length values found: [2, 2]"),
        (["2, 3"], "Multiple Content-Length values found: [2, 3]"),
        (["abc"], "Content-Length value is not a number: abc"),
        (["-1"], "Content-Length value is not a number: -1"),
        (["+2"], "Content-Length value is not a number: +2"),
        (["99999999999999999999"], "Content-Length value is not a number: 99999999999999999999"),
    ],
)
def test_issue8_d21_bad_content_length_is_a_400_json_error(addr, lengths, reason):
    fields = "".join(f"Content-Length: {v}\r\n" for v in lengths)
    status, headers, body, closed = exchange(addr, f"POST /_security/api_key HTTP/1.1\r\n{fields}\r\n{{}}".encode())
    # Netty's HttpUtil texts, rendered by RestController.dispatchBadRequest; the framing is lost, so
    # the connection ends after the answer.
    assert_es_error(status, headers, body, 400, reason)
    assert json.loads(body)["error"]["type"] == "illegal_argument_exception"
    assert closed


@pytest.mark.parametrize(
    ("request_bytes", "expected", "reason"),
    [
        (b"GARBAGE\r\n\r\n", 400, "Bad request syntax"),
        (b"GET / HTTP/9.x\r\n\r\n", 400, "Bad request version"),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414, "Request-URI Too Long"),
        (b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(120)) + b"\r\n", 431, "Too many headers"),
        (b"GET / HTTP/1.1\r\nX-Long: " + b"v" * 70_000 + b"\r\n\r\n", 431, "Line too long"),
    ],
)
def test_issue8_d21_the_servers_own_errors_are_json_with_the_product_header(addr, request_bytes, expected, reason):
    status, headers, body, closed = exchange(addr, request_bytes)
    assert_es_error(status, headers, body, expected, reason)
    assert closed


def test_issue8_d21_bad_transfer_encoding_and_chunks_are_400s(addr):
    for te, data, reason in [
        ("gzip", b"", "unsupported Transfer-Encoding [gzip]"),
        ("chunked", b"zz\r\n", "invalid chunk size [zz]"),
        ("chunked", b"2\r\nabXX", "chunk data not followed by CRLF"),
    ]:
        head = f"POST /_security/api_key HTTP/1.1\r\nTransfer-Encoding: {te}\r\n\r\n".encode()
        status, headers, body, closed = exchange(addr, head + data)
        assert_es_error(status, headers, body, 400, reason)
        assert closed


def test_issue8_d21_expectations(addr):
    status, _, body, closed = exchange(
        addr, b"POST /_security/api_key HTTP/1.1\r\nExpect: coffee\r\nContent-Length: 2\r\n\r\n"
    )
    assert (status, body, closed) == (417, b"", True)  # Netty4HttpContentSizeHandler: EXPECTATION_FAILED_CLOSE
    with connect(addr) as s:
        s.sendall(
            f"POST /_security/api_key HTTP/1.1\r\nAuthorization: {ELASTIC}\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 15\r\n\r\n".encode()
        )
        f = s.makefile("rb")
        assert f.readline() == b"HTTP/1.1 100 Continue\r\n" and f.readline() == b"\r\n"
        s.sendall(b'{"name": "exp"}')
        status, _, body = read_response(f)
        assert status == 200 and json.loads(body)["name"] == "exp"


def test_issue8_d21_client_hang_ups_are_quiet(addr, capfd):
    head = f"POST /_security/api_key HTTP/1.1\r\nAuthorization: {ELASTIC}\r\nContent-Type: application/json\r\n"
    for data in [
        b"GET / HTT",  # inside the request line
        f"GET / HTTP/1.1\r\nAuthorization: {ELASTIC}\r\n".encode(),  # inside the headers
        (head + "Content-Length: 100\r\n\r\n{").encode(),  # inside the body
        (head + "Transfer-Encoding: chunked\r\n\r\n5\r\nab").encode(),  # inside a chunk
    ]:
        s = connect(addr)
        s.sendall(data)
        s.close()
    # Requests whose answers go to a socket that was reset: the server's write fails.
    for _ in range(5):
        s = connect(addr)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.sendall(f"GET /_security/_authenticate HTTP/1.1\r\nAuthorization: {ELASTIC}\r\n\r\n".encode() * 50)
        s.close()
    time.sleep(0.3)
    # The server is still fine, and said nothing.
    status, _, _, _ = exchange(addr, f"GET / HTTP/1.1\r\nAuthorization: {ELASTIC}\r\n\r\n".encode(), keep_alive=True)
    assert status == 200
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Error" not in err, err


class BrokenCluster:
    """A stand-in cluster whose request path raises, to see that a bug still gets an HTTP answer."""

    def _perform_raw(self, *args: Any) -> Any:
        raise RuntimeError("boom with secret-ish detail")

    def advance(self, by: Any) -> float:
        return 0.0


def test_issue8_d21_a_bug_behind_the_server_is_a_500_not_a_dropped_connection(capfd):
    with running(BrokenCluster()) as (_, address):
        status, headers, body, closed = exchange(address, b"GET / HTTP/1.1\r\n\r\n")
    assert_es_error(status, headers, body, 500, "internal error")
    assert closed
    err = capfd.readouterr().err
    assert "Traceback" not in err and "secret-ish" not in err


class ChallengingCluster:
    """Answers every request with a 401 whose challenges are held as a list, as the REST layer hands
    them over once each challenge is its own header field (issue 8, point 13)."""

    CHALLENGES: ClassVar[list[str]] = ['Basic realm="security", charset="UTF-8"', 'Bearer realm="security"', "ApiKey"]

    def _perform_raw(self, *args: Any) -> Any:
        return 401, [("content-type", "application/json"), ("WWW-Authenticate", list(self.CHALLENGES))], b"{}"

    def advance(self, by: Any) -> float:
        return 0.0


def test_issue8_d21_a_list_header_value_is_one_field_per_value():
    with running(ChallengingCluster()) as (_, address), connect(address) as s:
        s.sendall(b"GET / HTTP/1.1\r\n\r\n")
        status, headers, _ = read_response(s.makefile("rb"))
    assert status == 401
    assert [v for k, v in headers if k == "www-authenticate"] == ChallengingCluster.CHALLENGES


def test_issue8_d21_real_401_challenges_survive_the_http_layer(addr):
    with connect(addr) as s:
        s.sendall(b"GET /_security/_authenticate HTTP/1.1\r\n\r\n")
        status, headers, _ = read_response(s.makefile("rb"))
    assert status == 401
    # One field per challenge or one joined field: the same three challenges, in Elasticsearch's order.
    joined = ", ".join(v for k, v in headers if k == "www-authenticate")
    assert joined == ", ".join(ChallengingCluster.CHALLENGES)


def test_issue8_d21_idle_and_slow_connections_time_out(capfd):
    with running(escache.Cluster(1), read_timeout=0.5) as (server, address):
        idle = connect(address)
        slow = connect(address)
        slow.sendall(b"GET / HTTP/1.1\r\nX-Slow: ")  # a header that never ends (slowloris)
        started = time.monotonic()
        for s in (idle, slow):
            s.settimeout(5)
            assert s.recv(1) == b""  # the server closed it
        assert time.monotonic() - started < 4
        # A keep-alive connection idle past the timeout is closed too, after its answer.
        with connect(address) as s:
            s.sendall(f"GET / HTTP/1.1\r\nAuthorization: {ELASTIC}\r\n\r\n".encode())
            f = s.makefile("rb")
            assert read_response(f)[0] == 200
            assert f.read(1) == b""
        deadline = time.monotonic() + 5
        while server.open_connections and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.open_connections == 0
        idle.close()
        slow.close()
    assert "Traceback" not in capfd.readouterr().err


def test_issue8_d21_connections_are_bounded_and_idle_ones_do_not_block_a_request():
    cap = 8
    with running(escache.Cluster(1), read_timeout=30, max_connections=cap) as (server, address):
        before = threading.active_count()
        held = []
        try:
            for _ in range(cap - 1):  # idle connections under the cap: a request still gets through
                s = connect(address)
                s.sendall(b"GET / HTTP/1.1\r\nX-Slow: ")
                held.append(s)
            status, _, _, _ = exchange(
                address, f"GET / HTTP/1.1\r\nAuthorization: {ELASTIC}\r\n\r\n".encode(), keep_alive=True
            )
            assert status == 200
            # That connection is closed, but its thread frees its slot only when it sees the end of
            # file: wait for it, or the next connection could find the cap still full (a load race).
            deadline = time.monotonic() + 10
            while server.open_connections > cap - 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert server.open_connections == cap - 1
            held.append(connect(address))  # the cap is reached
            deadline = time.monotonic() + 5
            while server.open_connections < cap and time.monotonic() < deadline:
                time.sleep(0.05)
            # Past the cap a connection gets a JSON 429 at once instead of a thread.
            status, headers, body, closed = exchange(address, b"GET / HTTP/1.1\r\n\r\n")
            assert_es_error(status, headers, body, 429, f"rejected execution: {cap} connections are open")
            assert json.loads(body)["error"]["type"] == "es_rejected_execution_exception"
            assert closed
            assert threading.active_count() - before <= cap
        finally:
            for s in held:
                s.close()


def test_issue8_d21_responses_go_out_without_nagle_delay(addr):
    """The 40 ms per keep-alive request was Nagle's algorithm waiting for the client's delayed ACK:
    every accepted socket has TCP_NODELAY set."""
    with running(escache.Cluster(1)) as (server, address), connect(address) as s:
        s.sendall(f"GET / HTTP/1.1\r\nAuthorization: {ELASTIC}\r\n\r\n".encode())
        f = s.makefile("rb")
        assert read_response(f)[0] == 200
        with server._guard:
            conns = list(server._open)
        assert conns and all(c.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for c in conns)


def test_issue8_d21_serve_keeps_no_trace_unless_asked(monkeypatch):
    made = []

    class Stop:
        server_address = ("127.0.0.1", 0)

        def serve_forever(self) -> None:
            raise KeyboardInterrupt

        def server_close(self) -> None:
            pass

    def fake_make_server(cluster, *args, **kwargs):
        made.append(cluster)
        return Stop()

    monkeypatch.setattr("escache.server.make_server", fake_make_server)
    assert cli.main(["serve", "--port", "0"]) == 0
    assert cli.main(["serve", "--port", "0", "--trace"]) == 0
    assert [c.trace_enabled for c in made] == [False, True]
    # With the trace off, requests leave no events behind.
    made[0].perform_request("GET", "/", headers={"Authorization": made[0].basic_auth_header()})
    assert len(made[0].events) == 0
