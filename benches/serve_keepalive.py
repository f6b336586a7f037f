"""`escache serve` over one keep-alive connection: requests per second of `GET /` with basic auth, on
loopback, with the server in this process (its thread) and one client (`http.client`).

    python benches/serve_keepalive.py            # 2,000 requests, median of 3 runs
    python benches/serve_keepalive.py --quick    # 200 requests

Before TCP_NODELAY and the single write per response, every answer waited for the client's delayed
ACK (Nagle's algorithm): about 40 ms, some 20 requests/s.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import statistics
import time

import escache

AUTH = {"Authorization": "Basic " + base64.b64encode(b"elastic:changeme").decode()}


def requests_per_second(n: int) -> float:
    server = escache.serve(escache.Cluster(1, seed=0, trace=False))
    conn = http.client.HTTPConnection(*server.addresses[0], timeout=10)
    try:
        for _ in range(5):  # warm-up
            conn.request("GET", "/", headers=AUTH)
            conn.getresponse().read()
        started = time.perf_counter()
        for _ in range(n):
            conn.request("GET", "/", headers=AUTH)
            r = conn.getresponse()
            r.read()
            assert r.status == 200
        return n / (time.perf_counter() - started)
    finally:
        conn.close()
        server.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    n = 200 if args.quick else 2000
    rates = [requests_per_second(n) for _ in range(args.runs)]
    print(
        f"escache serve, one keep-alive connection: {statistics.median(rates):,.0f} requests/s (median of {args.runs} runs of {n})"
    )


if __name__ == "__main__":
    main()
