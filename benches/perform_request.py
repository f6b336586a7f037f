#!/usr/bin/env python3
"""`Cluster.perform_request` in-process: `GET /_security/_authenticate` with an API key, side by side
with two peers, in one run.

    python benches/perform_request.py            # 5 rounds of 200,000 calls per row, medians
    python benches/perform_request.py --quick    # 3 rounds of 20,000

Rows (each row is one call per loop iteration, the same API key, served from the node's API key auth
cache after the first call):

* ``escache perform_request (status)``: `Cluster.perform_request(...)` and `.status`, the figure of
  issue 13 (the body is parsed only when read);
* ``escache perform_request (status + body)``: the same, reading `body["api_key"]["id"]` too;
* ``escache client().security.authenticate()``: the official client over the in-process node;
* peer ``elastic_transport stub round trip``: the official client's transport
  (`elastic_transport.Transport.perform_request`) to a node that answers a canned 200 without doing
  anything. It is what every call through the official client costs before any server work, so it is
  the floor of the client row and a yardstick for a Python-level round trip;
* peer ``pure-Python authenticate``: the work of an API key authentication on a cache hit, written in
  plain Python the way a hand-rolled stub would do it: split the header, base64-decode `id:secret`, look
  the id up in a dict, check the secret against its cached salted SHA-256 (`hashlib`), build the
  response dict and `json.dumps` it. It is the honest "what would it cost without escache" peer: no
  routing, no authorization, no trace, no Elasticsearch error semantics.

Build the extension with `--release` first (`maturin develop --release`): a dev build is several times
slower. Wall time on a shared machine is noisy: compare rows within one run (rounds are interleaved, so
a change in load touches every row alike) and use `valgrind --tool=callgrind` instruction counts for
before/after comparisons (`--callgrind N` runs only N calls of the first row, for that).
"""

from __future__ import annotations

import os
import sys

# benches/http.py would shadow the standard library's `http` (which urllib3, under the official client,
# imports) when this script's own directory leads sys.path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse  # noqa: E402
import base64  # noqa: E402
import hashlib  # noqa: E402
import hmac  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import escache  # noqa: E402


def make_cluster(trace: bool) -> tuple[escache.Cluster, dict[str, str], str]:
    """A one-node cluster, an API key's Authorization header, and the key's encoded value."""
    c = escache.Cluster(nodes=1, trace=trace)
    r = c.perform_request(
        "POST", "/_security/api_key", headers={"Authorization": c.basic_auth_header()}, body={"name": "k"}
    )
    assert r.status == 200, r.status
    encoded = r.body["encoded"]
    headers = {"Authorization": "ApiKey " + encoded}
    assert c.perform_request("GET", "/_security/_authenticate", headers=headers).status == 200
    return c, headers, encoded


def escache_status(c: escache.Cluster, headers: dict[str, str]) -> Callable[[int], None]:
    def run(n: int) -> None:
        perform = c.perform_request
        for _ in range(n):
            if perform("GET", "/_security/_authenticate", headers=headers).status != 200:
                raise AssertionError("authenticate failed")

    return run


def escache_body(c: escache.Cluster, headers: dict[str, str]) -> Callable[[int], None]:
    def run(n: int) -> None:
        perform = c.perform_request
        for _ in range(n):
            r = perform("GET", "/_security/_authenticate", headers=headers)
            if r.status != 200 or not r.body["api_key"]["id"]:
                raise AssertionError("authenticate failed")

    return run


def escache_client(c: escache.Cluster, encoded: str) -> Callable[[int], None]:
    es = c.client(api_key=encoded)

    def run(n: int) -> None:
        auth = es.security.authenticate
        for _ in range(n):
            auth()

    return run


def transport_stub() -> Callable[[int], None] | None:
    """`elastic_transport.Transport` to a node that answers a canned response (no server work)."""
    try:
        from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders, NodeConfig, Transport
        from elastic_transport._node import NodeApiResponse
    except ImportError:
        return None
    canned = b'{"username":"elastic","api_key":{"id":"x","name":"k"}}'

    class StubNode(BaseNode):
        _CLIENT_META_HTTP_CLIENT = ("stub", "0.1")

        def perform_request(self, method, target, body=None, headers=None, request_timeout=None):  # type: ignore[no-untyped-def]
            meta = ApiResponseMeta(
                status=200,
                http_version="1.1",
                headers=HttpHeaders({"content-type": "application/json"}),
                duration=0.0,
                node=self.config,
            )
            return NodeApiResponse(meta, canned)

    t = Transport([NodeConfig("http", "stub", 9200)], node_class=StubNode)
    headers = {"authorization": "ApiKey eDp5", "accept": "application/json"}

    def run(n: int) -> None:
        perform = t.perform_request
        for _ in range(n):
            perform("GET", "/_security/_authenticate", headers=headers)

    return run


def pure_python(encoded: str) -> Callable[[int], None]:
    """A dict-backed authenticate: the cache-hit work in plain Python (see the module docstring)."""
    key_id, secret = base64.b64decode(encoded).decode().split(":", 1)
    salt = os.urandom(16)
    cache = {key_id: (salt, hashlib.sha256(salt + secret.encode()).digest(), {"id": key_id, "name": "k"})}
    header = "ApiKey " + encoded

    def authenticate(authorization: str) -> tuple[int, bytes]:
        scheme, _, value = authorization.partition(" ")
        if scheme != "ApiKey":
            return 401, b"{}"
        kid, _, sec = base64.b64decode(value).decode().partition(":")
        entry = cache.get(kid)
        if entry is None or not hmac.compare_digest(hashlib.sha256(entry[0] + sec.encode()).digest(), entry[1]):
            return 401, b"{}"
        body = {
            "username": "elastic",
            "roles": [],
            "full_name": None,
            "email": None,
            "metadata": {"_reserved": True},
            "enabled": True,
            "authentication_realm": {"name": "_es_api_key", "type": "_es_api_key"},
            "lookup_realm": {"name": "_es_api_key", "type": "_es_api_key"},
            "authentication_type": "api_key",
            "api_key": entry[2],
        }
        return 200, json.dumps(body, separators=(",", ":")).encode()

    def run(n: int) -> None:
        for _ in range(n):
            if authenticate(header)[0] != 200:
                raise AssertionError("authenticate failed")

    return run


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=None, help="calls per row and round (default 200,000)")
    p.add_argument("--rounds", type=int, default=None, help="rounds; the median counts (default 5)")
    p.add_argument("--quick", action="store_true", help="3 rounds of 20,000 calls")
    p.add_argument("--trace", action="store_true", help="record the event trace (Cluster(trace=True), the default)")
    p.add_argument("--callgrind", type=int, metavar="N", help="run N calls of the first row only, then exit")
    p.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="time with the wall clock (default) or this process's CPU time, which other processes on a "
        "busy machine disturb less",
    )
    a = p.parse_args()
    calls = a.calls or (20_000 if a.quick else 200_000)
    rounds = a.rounds or (3 if a.quick else 5)

    c, headers, encoded = make_cluster(a.trace)
    if a.callgrind is not None:
        escache_status(c, headers)(a.callgrind)
        return
    rows: list[tuple[str, Callable[[int], None]]] = [
        ("escache perform_request (status)", escache_status(c, headers)),
        ("escache perform_request (status + body)", escache_body(c, headers)),
        ("escache client().security.authenticate()", escache_client(c, encoded)),
    ]
    stub = transport_stub()
    if stub is not None:
        rows.append(("peer: elastic_transport stub round trip", stub))
    else:
        print("elastic_transport is not installed: its row is skipped")
    rows.append(("peer: pure-Python authenticate", pure_python(encoded)))

    for _, run in rows:  # warm up
        run(min(calls, 2_000))
    times: dict[str, list[float]] = {name: [] for name, _ in rows}
    load = os.getloadavg()[0]
    clock = time.perf_counter if a.clock == "wall" else time.process_time
    for _ in range(rounds):
        for name, run in rows:
            t0 = clock()
            run(calls)
            times[name].append(clock() - t0)
    print(
        f"GET /_security/_authenticate with an API key, in-process; trace {'on' if a.trace else 'off'}; "
        f"{calls:,} calls x {rounds} rounds, median {a.clock} time; load average {load:.2f} -> {os.getloadavg()[0]:.2f}"
    )
    first = statistics.median(times[rows[0][0]]) / calls
    print(f"{'row':<46} {'calls/s':>12} {'us/call':>9} {'vs first row':>13}")
    for name, _ in rows:
        per = statistics.median(times[name]) / calls
        print(f"{name:<46} {1 / per:>12,.0f} {per * 1e6:>9.2f} {per / first:>12.2f}x")


if __name__ == "__main__":
    main()
