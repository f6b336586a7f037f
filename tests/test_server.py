"""`escache serve`: the same REST surface over real loopback HTTP ports (one per node), driven by the
official client and by raw sockets (for what a client library would never send). Every test stops by
itself: sockets have timeouts and servers are stopped at the end."""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import elasticsearch
import pytest
from elastic_transport import NodeConfig

import escache
from escache import cli
from escache._http import MAX_CONTENT_LENGTH

ELASTIC = "Basic " + base64.b64encode(b"elastic:changeme").decode()
# A listener looks at its node's state every 20 ms; a test waits a little longer than that.
NODE_STATE_SETTLE = 0.2


@contextlib.contextmanager
def running(cluster: Any, **kwargs: Any) -> Iterator[escache.Server]:
    with escache.serve(cluster, **kwargs) as srv:
        yield srv


@pytest.fixture()
def served():
    cluster = escache.Cluster(3, seed=4)
    with running(cluster) as srv:
        yield cluster, srv


@pytest.fixture()
def addr():
    with running(escache.Cluster(1, seed=1)) as srv:
        yield srv.addresses[0]


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


def refused(address: tuple[str, int]) -> bool:
    try:
        socket.create_connection(address, timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


# ---- the REST surface over HTTP -------------------------------------------------------------------


def test_client_over_http_creates_invalidates_and_clears(served):
    cluster, srv = served
    es = srv.client()
    key = es.security.create_api_key(name="over-http")
    as_key = elasticsearch.Elasticsearch(srv.urls[1], api_key=key["encoded"])
    assert as_key.security.authenticate()["api_key"]["id"] == key["id"]
    resp = es.security.clear_api_key_cache(ids="*")
    assert resp["_nodes"] == {"total": 3, "successful": 3, "failed": 0}
    assert set(resp["nodes"]) == {n.id for n in cluster.nodes}
    # The in-process view sees what HTTP did: the caches were cleared on every node.
    assert all(len(n.caches["api_key_auth"]) == 0 for n in cluster.nodes)


def test_http_errors_are_elasticsearch_errors(served):
    _, srv = served
    es = elasticsearch.Elasticsearch(srv.urls)
    with pytest.raises(elasticsearch.AuthenticationException) as e:
        es.security.clear_api_key_cache(ids="*")
    assert (
        e.value.body["error"]["reason"]
        == "missing authentication credentials for REST request [/_security/api_key/*/_clear_cache]"
    )


def test_one_port_per_node_each_answering_as_its_node(served):
    cluster, srv = served
    assert len(srv.urls) == 3 and len({p for _, p in srv.addresses}) == 3
    for node, url in zip(cluster.nodes, srv.urls, strict=True):
        assert elasticsearch.Elasticsearch(url, basic_auth=("elastic", "changeme")).info()["name"] == node.name
    assert srv.ca_certs is None and all(u.startswith("http://127.0.0.1:") for u in srv.urls)


def test_node_header_and_virtual_time_which_only_the_superuser_moves(served):
    cluster, srv = served
    es = srv.client()
    assert es.perform_request("POST", "/_escache/advance", params={"by": "90s"}).body == {"now": 90.0}
    assert cluster.now == 90.0
    with pytest.raises(elasticsearch.AuthenticationException):
        elasticsearch.Elasticsearch(srv.urls).perform_request("POST", "/_escache/advance", params={"by": "1m"})
    key = es.security.create_api_key(name="not-a-superuser")
    with pytest.raises(elasticsearch.AuthorizationException):
        elasticsearch.Elasticsearch(srv.urls, api_key=key["encoded"]).perform_request(
            "POST", "/_escache/advance", params={"by": "1m"}
        )
    assert cluster.now == 90.0
    es = elasticsearch.Elasticsearch(
        srv.urls[0], basic_auth=("elastic", "changeme"), headers={"X-Escache-Node": "node-2"}
    )
    assert es.info()["name"] == "node-2"


def test_bad_advance_and_unknown_node_are_elasticsearch_errors(addr):
    status, headers, body, _ = exchange(
        addr, f"POST /_escache/advance?by=10 HTTP/1.1\r\nAuthorization: {ELASTIC}\r\n\r\n".encode(), keep_alive=True
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


def test_pipelined_requests_are_answered_in_order(addr):
    names = [f"pipelined-{i}" for i in range(10)]
    data = b"".join(
        (
            f"POST /_security/api_key HTTP/1.1\r\nAuthorization: {ELASTIC}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(json.dumps({'name': n}))}\r\n\r\n{json.dumps({'name': n})}"
        ).encode()
        for n in names
    )
    with connect(addr) as s:
        s.sendall(data)
        f = s.makefile("rb")
        got = [json.loads(read_response(f)[2])["name"] for _ in names]
    assert got == names


def test_gzip_request_and_response_bodies_and_the_opaque_id(addr):
    body = gzip.compress(json.dumps({"name": "zipped"}).encode())
    head = (
        f"POST /_security/api_key HTTP/1.1\r\nAuthorization: {ELASTIC}\r\nContent-Type: application/json\r\n"
        f"Content-Encoding: gzip\r\nAccept-Encoding: gzip\r\nX-Opaque-Id: trace-42\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    status, headers, raw, _ = exchange(addr, head.encode() + body, keep_alive=True)
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(raw))["name"] == "zipped"
    assert headers["x-opaque-id"] == "trace-42" and headers["x-elastic-product"] == "Elasticsearch"
    # What the official client sends with http_compress=True.
    with running(escache.Cluster(2)) as srv:
        es = srv.client(http_compress=True)
        assert es.security.create_api_key(name="compressed")["name"] == "compressed"


def test_a_body_that_is_not_gzip_is_a_400(addr):
    head = f"POST /_security/api_key HTTP/1.1\r\nAuthorization: {ELASTIC}\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nnope"
    status, _, body, _ = exchange(addr, head.encode(), keep_alive=True)
    assert status == 400 and json.loads(body)["error"]["type"] == "illegal_argument_exception"


# ---- no input kills a connection without an HTTP answer ---------------------------------------------


def test_oversized_body_gets_elasticsearchs_413_before_it_is_read(addr):
    assert MAX_CONTENT_LENGTH == 100 * 1024 * 1024  # http.max_content_length's default
    # 101 MiB announced, nothing sent: the answer comes at once, so the body was never waited for.
    head = f"POST /_security/api_key HTTP/1.1\r\nAuthorization: {ELASTIC}\r\nContent-Type: application/json\r\nContent-Length: {101 * 1024 * 1024}\r\n\r\n"
    status, headers, body, closed = exchange(addr, head.encode())
    # Netty4HttpContentSizeHandler's TOO_LARGE_CLOSE: no body, content-length 0, connection close.
    assert (status, body, closed) == (413, b"", True)
    assert headers == {"content-length": "0", "connection": "close", "x-elastic-product": "Elasticsearch"}


def test_chunked_body_is_decoded_and_not_parsed_as_a_request(addr):
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


@pytest.mark.parametrize("gzipped", [False, True])
def test_chunked_or_gzipped_body_over_the_limit_gets_413(gzipped):
    with running(escache.Cluster(1), max_content_length=100) as srv:
        if gzipped:  # small on the wire, too large once decoded
            body = gzip.compress(b"x" * 1000)
            head = f"POST /_security/api_key HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: {len(body)}\r\n\r\n"
            data = head.encode() + body
        else:
            chunk = b"40\r\n" + b"x" * 64 + b"\r\n"
            data = b"POST /_security/api_key HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 2
        status, _, body, closed = exchange(srv.addresses[0], data)
        assert (status, body, closed) == (413, b"", True)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n{}",
        b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n{}",
        b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n{}",
        b"GARBAGE\r\n\r\n",
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",  # a TLS hello on the plain port
        b"GET / HTTP/9.x\r\n\r\n",
        b"GET / HTTP/1.1\r\nbad header line\r\n\r\n",
    ],
)
def test_malformed_http_gets_a_400_json_error_then_the_connection_closes(addr, request_bytes):
    status, headers, body, closed = exchange(addr, request_bytes)
    # As RestController.dispatchBadRequest answers what Netty's decoder refused.
    assert_es_error(
        status,
        headers,
        body,
        400,
        "the request is not valid HTTP/1.1 (its request line, a header or its Content-Length)",
    )
    assert json.loads(body)["error"]["type"] == "illegal_argument_exception"
    assert closed


def test_oversized_heads_get_their_4xx_as_json(addr):
    status, headers, body, closed = exchange(
        addr, b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(120)) + b"\r\n"
    )
    assert_es_error(status, headers, body, 431, "the request headers are too large")
    assert closed
    # hyper's read buffer (about 400 KiB) holds the request line and headers.
    status, headers, body, closed = exchange(addr, b"GET /" + b"a" * 500_000 + b" HTTP/1.1\r\n\r\n")
    assert status in (414, 431) and headers["x-elastic-product"] == "Elasticsearch" and closed


def test_a_bad_chunk_is_a_400_json_error(addr):
    for data in [b"zz\r\n", b"2\r\nabXX"]:
        head = b"POST /_security/api_key HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        status, headers, body, closed = exchange(addr, head + data)
        assert status == 400 and headers["x-elastic-product"] == "Elasticsearch"
        assert json.loads(body)["error"]["type"] == "illegal_argument_exception"
        assert closed


def test_expectations(addr):
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


def test_client_hang_ups_are_quiet(addr, capfd):
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
    assert "Traceback" not in err and "Error" not in err and "panic" not in err, err


def test_a_broken_cluster_gets_500s_not_dropped_connections(capfd):
    cluster = escache.Cluster(1)
    with running(cluster) as srv:
        with pytest.raises(escache.BrokenStateError):
            cluster._testing_panic()
        status, headers, body, _ = exchange(
            srv.addresses[0], f"GET / HTTP/1.1\r\nAuthorization: {ELASTIC}\r\n\r\n".encode(), keep_alive=True
        )
    assert status == 500 and headers["x-elastic-product"] == "Elasticsearch"
    assert "broken" in json.loads(body)["error"]["reason"] and "changeme" not in body.decode()


def test_real_401_challenges_survive_the_http_layer(addr):
    with connect(addr) as s:
        s.sendall(b"GET /_security/_authenticate HTTP/1.1\r\n\r\n")
        status, headers, _ = read_response(s.makefile("rb"))
    assert status == 401
    # One field per challenge, in Elasticsearch's order.
    assert [v for k, v in headers if k == "www-authenticate"] == [
        'Basic realm="security", charset="UTF-8"',
        'Bearer realm="security"',
        "ApiKey",
    ]


# ---- nodes: stopped, started, partitioned; failover and sniffing --------------------------------------


def test_a_stopped_nodes_port_refuses_connections_and_listens_again_when_it_starts(served):
    cluster, srv = served
    node0 = cluster.nodes[0]
    # A keep-alive connection opened before the stop is closed by it, without an answer.
    s = connect(srv.addresses[0])
    s.sendall(f"GET / HTTP/1.1\r\nAuthorization: {ELASTIC}\r\n\r\n".encode())
    f = s.makefile("rb")
    assert read_response(f)[0] == 200
    node0.stop()
    time.sleep(NODE_STATE_SETTLE)
    assert f.read(1) == b""
    s.close()
    assert refused(srv.addresses[0])
    assert not refused(srv.addresses[1])
    node0.start()
    time.sleep(NODE_STATE_SETTLE)
    assert elasticsearch.Elasticsearch(srv.urls[0], basic_auth=("elastic", "changeme")).info()["name"] == node0.name


def test_a_partitioned_node_still_answers(served):
    cluster, srv = served
    cluster.nodes[2].partitioned = True
    es = elasticsearch.Elasticsearch(srv.urls[2], basic_auth=("elastic", "changeme"))
    assert es.info()["name"] == "node-2"
    resp = es.security.clear_api_key_cache(ids="*")
    assert resp["_nodes"]["failed"] == 2  # it answers, but cannot reach the others


def test_failover_a_client_with_every_node_keeps_working_when_one_stops(served):
    cluster, srv = served
    es = srv.client(retry_on_timeout=True, max_retries=3)
    cluster.nodes[1].stop()
    time.sleep(NODE_STATE_SETTLE)
    seen = {es.info()["name"] for _ in range(30)}
    assert seen == {"node-0", "node-2"}


def test_nodes_http_reports_the_real_addresses_and_the_client_sniffs_them(served):
    cluster, srv = served
    info = srv.client().perform_request("GET", "/_nodes/_all/http").body
    addresses = {n["name"]: n["http"]["publish_address"] for n in info["nodes"].values()}
    assert addresses == {n.name: f"{h}:{p}" for n, (h, p) in zip(cluster.nodes, srv.addresses, strict=True)}
    # The official client's sniffing reads it and finds every node. Its sniff request carries only
    # the node's own headers (not the client's basic_auth), so the credentials go there, as they must
    # against a real secured cluster.
    host, port = srv.addresses[0]
    seed = NodeConfig("http", host, port, headers={"authorization": ELASTIC})
    es = elasticsearch.Elasticsearch([seed], sniff_on_start=True)
    assert sorted(n.config.port for n in es.transport.node_pool.all()) == sorted(p for _, p in srv.addresses)
    es.close()
    cluster.nodes[2].stop()
    info = srv.client().perform_request("GET", "/_nodes/http").body
    assert {n["name"] for n in info["nodes"].values()} == {"node-0", "node-1"}


def test_async_client_over_http(served):
    pytest.importorskip("aiohttp", reason="AsyncElasticsearch needs aiohttp (the elasticsearch[async] extra)")
    import asyncio

    _, srv = served

    async def run() -> str:
        async with elasticsearch.AsyncElasticsearch(srv.urls, basic_auth=("elastic", "changeme")) as es:
            key = await es.security.create_api_key(name="async")
            return str((await es.security.get_api_key(id=key["id"]))["api_keys"][0]["name"])

    assert asyncio.run(run()) == "async"


def test_a_bounded_loopback_load_loses_no_request():
    """8 threads, 40 requests each over keep-alive, a third of them writes: every answer is a 200 and
    every key written exists once afterwards."""
    cluster = escache.Cluster(3, seed=9)
    threads_n, per_thread = 8, 40
    errors: list[BaseException] = []
    with running(cluster) as srv:

        def work(i: int) -> None:
            try:
                es = srv.client()
                for k in range(per_thread):
                    if k % 3 == 0:
                        assert es.security.create_api_key(name=f"t{i}-{k}")["name"] == f"t{i}-{k}"
                    else:
                        assert es.security.authenticate()["username"] == "elastic"
            except BaseException as e:  # noqa: BLE001 - reported by the test
                errors.append(e)

        threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(threads_n)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not any(t.is_alive() for t in threads)
        assert time.monotonic() - started < 120
        assert not errors, errors
        names = sorted(k["name"] for k in srv.client().security.get_api_key()["api_keys"])
    assert names == sorted(f"t{i}-{k}" for i in range(threads_n) for k in range(0, per_thread, 3))


# ---- the CLI -----------------------------------------------------------------------------------------


def test_serve_prints_urls_and_credentials_and_keeps_no_trace_unless_asked(monkeypatch, capsys):
    made = []
    real_serve = escache.serve

    def recording_serve(cluster: Any, **kwargs: Any) -> escache.Server:
        made.append(cluster)
        return real_serve(cluster, **kwargs)

    def interrupt(_: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("escache.serve", recording_serve)
    monkeypatch.setattr("time.sleep", interrupt)
    assert cli.main(["serve", "--port", "0"]) == 0
    err = capsys.readouterr().err
    assert err.count("http://127.0.0.1:") == 3 and "elastic / changeme" in err
    assert cli.main(["serve", "--port", "0", "--nodes", "1", "--trace", "--password", "s3cret-pw"]) == 0
    err = capsys.readouterr().err
    assert err.count("http://127.0.0.1:") == 1 and "s3cret-pw" not in err
    assert [c.trace_enabled for c in made] == [False, True]
    # With the trace off, requests leave no events behind.
    made[0].perform_request("GET", "/", headers={"Authorization": made[0].basic_auth_header()})
    assert len(made[0].events) == 0


def test_serve_reports_a_port_in_use_and_a_bad_host_without_a_traceback(capsys):
    with running(escache.Cluster(1)) as srv:
        port = srv.addresses[0][1]
        assert cli.main(["serve", "--port", str(port), "--nodes", "1"]) == 2
        err = capsys.readouterr().err
        assert f"cannot listen on [127.0.0.1:{port}]" in err and "Traceback" not in err
    assert cli.main(["serve", "--port", "0", "--host", "no such host.invalid"]) == 2
    assert "[host]" in capsys.readouterr().err
    with running(escache.Cluster(1), host="localhost") as srv:
        assert srv.client().info()["name"] == "node-0"


def test_ports_past_65535_are_refused():
    with pytest.raises(OSError, match="65535"):
        escache.serve(escache.Cluster(3), port=65534)


# ---- TLS ----------------------------------------------------------------------------------------------


def test_tls_with_the_ca_file_and_with_the_fingerprint():
    cluster = escache.Cluster(2)
    with running(cluster, tls=True) as srv:
        assert all(u.startswith("https://127.0.0.1:") for u in srv.urls)
        assert srv.ca_certs is not None and srv.ca_fingerprint is not None
        with open(srv.ca_certs, encoding="ascii") as f:
            assert f.read().startswith("-----BEGIN CERTIFICATE-----")
        # ca_certs: the chain is verified against the CA, and the host name against the certificate.
        es = elasticsearch.Elasticsearch(srv.urls, basic_auth=("elastic", "changeme"), ca_certs=srv.ca_certs)
        key = es.security.create_api_key(name="over-https")
        assert es.security.clear_api_key_cache(ids=key["id"])["_nodes"]["successful"] == 2
        localhost = srv.urls[1].replace("127.0.0.1", "localhost")
        assert (
            elasticsearch.Elasticsearch(
                localhost, api_key=key["encoded"], ca_certs=srv.ca_certs
            ).security.authenticate()["api_key"]["id"]
            == key["id"]
        )
        # ssl_assert_fingerprint: the CA pinned by its SHA-256, as Elasticsearch prints it at first start.
        pinned = elasticsearch.Elasticsearch(
            srv.urls[0], basic_auth=("elastic", "changeme"), ssl_assert_fingerprint=srv.ca_fingerprint
        )
        assert pinned.info()["name"] == "node-0"
        assert srv.client().info()["cluster_name"] == cluster.name
        # Without the CA the client refuses the server; a plain-HTTP request gets no answer.
        with pytest.raises(elasticsearch.SSLError):
            elasticsearch.Elasticsearch(srv.urls[0], basic_auth=("elastic", "changeme"), max_retries=0).info()
        with connect(srv.addresses[0]) as s:
            s.sendall(b"GET / HTTP/1.1\r\n\r\n")
            assert s.recv(5) != b"HTTP/"
        ca_file = srv.ca_certs
    assert not os.path.exists(ca_file)  # removed on stop


def test_serve_tls_prints_the_ca_file_and_fingerprint(monkeypatch, capsys):
    def interrupt(_: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("time.sleep", interrupt)
    assert cli.main(["serve", "--port", "0", "--nodes", "1", "--tls"]) == 0
    err = capsys.readouterr().err
    assert "https://127.0.0.1:" in err and "http_ca.crt" in err and "fingerprint" in err


# ---- the clock -----------------------------------------------------------------------------------------


def test_realtime_clock_follows_the_wall_clock_faster_and_virtual_stays_put():
    fast = escache.Cluster(1)
    with running(fast, clock="realtime:1000") as srv:
        time.sleep(0.3)
        now = fast.now  # moved by the server even without a request
        assert 100 < now < 3000
        es = srv.client()
        es.perform_request("POST", "/_escache/advance", params={"by": "1h"})
        assert fast.now >= now + 3600  # advance still moves it further
    still = escache.Cluster(1)
    with running(still):
        time.sleep(0.1)
        assert still.now == 0.0
    for bad in ["wall", "realtime:0", "realtime:-1", "realtime:x"]:
        with pytest.raises(escache.IllegalArgumentError, match=r"\[clock\]"):
            escache.serve(escache.Cluster(1), clock=bad)
