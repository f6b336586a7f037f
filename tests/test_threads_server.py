"""Threads against `escache serve` (issue 8, point 4): several HTTP clients, each on its own keep-alive
connection, and in-process threads using the same `Cluster` at the same time. Loopback only; every
loop is bounded and every thread is joined with a timeout, so a deadlock fails the test instead of
hanging it."""

from __future__ import annotations

import base64
import http.client
import json
import threading
from typing import Any

import escache

ELASTIC = {"Authorization": "Basic " + base64.b64encode(b"elastic:changeme").decode()}
CLIENTS = 6
KEYS_PER_CLIENT = 5
IN_PROCESS = 3
JOIN_TIMEOUT = 120


def run_threads(targets: list[Any]) -> list[BaseException]:
    """Starts one thread per target, joins them all (bounded) and returns what they raised."""
    errors: list[BaseException] = []
    lock = threading.Lock()

    def wrap(fn: Any) -> Any:
        def run() -> None:
            try:
                fn()
            except BaseException as e:  # noqa: BLE001 - reported by the test
                with lock:
                    errors.append(e)

        return run

    threads = [threading.Thread(target=wrap(t), daemon=True) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a thread did not finish: deadlock or hang"
    return errors


def call(
    conn: http.client.HTTPConnection, method: str, path: str, body: Any = None, headers: Any = None
) -> tuple[int, Any]:
    hdrs = dict(ELASTIC if headers is None else headers)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=hdrs)
    r = conn.getresponse()
    raw = r.read()
    return r.status, json.loads(raw) if raw else None


def test_issue8_d04_http_clients_and_in_process_threads_share_one_cluster():
    cluster = escache.Cluster(3, seed=11)
    server = escache.serve(cluster)
    host, port = server.addresses[0]
    created: dict[int, list[str]] = {}
    sockets_reused: list[bool] = []

    def http_client(i: int) -> Any:
        def run() -> None:
            conn = http.client.HTTPConnection(host, port, timeout=30)
            try:
                assert call(conn, "GET", "/_security/_authenticate")[0] == 200
                sock = conn.sock
                ids = []
                for k in range(KEYS_PER_CLIENT):
                    status, key = call(conn, "POST", "/_security/api_key", {"name": f"c{i}-{k}"})
                    assert status == 200, key
                    ids.append(key["id"])
                    # Authenticate with the new key on another node, through the same connection.
                    as_key = {"Authorization": "ApiKey " + key["encoded"], "X-Escache-Node": f"node-{k % 3}"}
                    status, who = call(conn, "GET", "/_security/_authenticate", headers=as_key)
                    assert status == 200 and who["api_key"]["id"] == key["id"]
                status, resp = call(conn, "POST", f"/_security/api_key/{','.join(ids)}/_clear_cache")
                assert status == 200 and resp["_nodes"]["failed"] == 0
                created[i] = ids
                sockets_reused.append(conn.sock is sock)
            finally:
                conn.close()

        return run

    def in_process(i: int) -> Any:
        def run() -> None:
            for k in range(KEYS_PER_CLIENT):
                r = cluster.perform_request("POST", "/_security/api_key", headers=ELASTIC, body={"name": f"p{i}-{k}"})
                assert r.status == 200, r.body
                created.setdefault(100 + i, []).append(r.body["id"])
                assert (
                    cluster.perform_request("GET", "/_security/_authenticate", headers=ELASTIC, node="node-1").status
                    == 200
                )
                assert len(cluster.nodes) == 3 and cluster.node("node-2").caches["api_key_auth"] is not None
                len(cluster.events)  # reading the trace while others write it

        return run

    try:
        errors = run_threads([http_client(i) for i in range(CLIENTS)] + [in_process(i) for i in range(IN_PROCESS)])
        assert not errors, errors
        # Every key created by any thread exists once, with its own name: no request was lost or mixed up.
        conn = http.client.HTTPConnection(host, port, timeout=30)
        status, listing = call(conn, "GET", "/_security/api_key")
        conn.close()
        assert status == 200
        names = sorted(k["name"] for k in listing["api_keys"])
        expected = sorted(
            [f"c{i}-{k}" for i in range(CLIENTS) for k in range(KEYS_PER_CLIENT)]
            + [f"p{i}-{k}" for i in range(IN_PROCESS) for k in range(KEYS_PER_CLIENT)]
        )
        assert names == expected
        assert sum(len(v) for v in created.values()) == len(expected)
        # Each HTTP client kept one connection for all of its requests (keep-alive).
        assert sockets_reused == [True] * CLIENTS
    finally:
        server.stop()


def test_issue8_d04_advancing_time_while_requests_run_stays_consistent():
    """Clients on keep-alive connections authenticate an API key while another thread moves virtual
    time past the doc-cache ttl over HTTP: every answer is a 200 and time only moves forward."""
    cluster = escache.Cluster(2, seed=3)
    key = cluster.perform_request("POST", "/_security/api_key", headers=ELASTIC, body={"name": "k"}).body
    server = escache.serve(cluster)
    host, port = server.addresses[0]
    seen: list[float] = []

    def authenticate() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            for n in range(40):
                headers = {"Authorization": "ApiKey " + key["encoded"], "X-Escache-Node": f"node-{n % 2}"}
                status, body = call(conn, "GET", "/_security/_authenticate", headers=headers)
                assert status == 200, body
        finally:
            conn.close()

    def advance() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            for _ in range(20):
                status, body = call(conn, "POST", "/_escache/advance?by=1m")
                assert status == 200
                seen.append(body["now"])
        finally:
            conn.close()

    try:
        errors = run_threads([authenticate, authenticate, authenticate, advance])
        assert not errors, errors
        assert seen == [60.0 * (i + 1) for i in range(20)]
        assert cluster.now == 1200.0
    finally:
        server.stop()


def test_issue8_d04_stopping_the_server_closes_its_connections():
    cluster = escache.Cluster(1)
    server = escache.serve(cluster)
    host, port = server.addresses[0]
    conns = []
    for _ in range(4):
        c = http.client.HTTPConnection(host, port, timeout=30)
        assert call(c, "GET", "/")[0] == 200  # each stays open (keep-alive)
        conns.append(c)
    server.stop()
    # Each connection is closed by the server at once: the next read sees the end of the stream.
    for c in conns:
        assert c.sock is not None and c.sock.recv(1) == b""
        c.close()
    server.stop()  # idempotent
