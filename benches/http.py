"""`escache serve` under load: requests per second and latency of two calls over keep-alive HTTP, at 1
and 16 connections, side by side with the same calls in-process (`Cluster.perform_request`, 1 and 16
threads), in one run.

    python benches/http.py              # 3 runs of 3 s per row, medians
    python benches/http.py --quick      # 1 run of 1 s per row

The calls: `GET /_security/_authenticate` with an API key (served from the node's auth cache after
the first call) and `POST /_security/api_key/*/_clear_cache` as `elastic`. The HTTP load comes from
`wrk` when it is installed (Debian's `wrk` package); otherwise from Python threads on raw sockets,
which measure the Python client more than the server. Build the extension with `--release` first
(`maturin develop --release`): a dev build is several times slower.
"""

from __future__ import annotations

import argparse
import base64
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import escache

ELASTIC = "Basic " + base64.b64encode(b"elastic:changeme").decode()


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def measure(workers: int, work: Callable[[list[float]], None]) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms): `work` run by `workers` threads, each appending its latencies."""
    latencies: list[list[float]] = [[] for _ in range(workers)]
    started = time.perf_counter()
    ts = [threading.Thread(target=work, args=(own,)) for own in latencies]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    elapsed = time.perf_counter() - started
    all_ = [x for own in latencies for x in own]
    return len(all_) / elapsed, percentile(all_, 0.5) * 1e3, percentile(all_, 0.99) * 1e3


def in_process(call: Callable[[], int], threads: int, seconds: float) -> tuple[float, float, float]:
    stop = time.perf_counter() + seconds

    def work(own: list[float]) -> None:
        while (t0 := time.perf_counter()) < stop:
            assert call() == 200
            own.append(time.perf_counter() - t0)

    return measure(threads, work)


def raw_http(address: tuple[str, int], request: bytes, connections: int, seconds: float) -> tuple[float, float, float]:
    """The Python fallback for wrk: one thread per keep-alive connection, the request pre-encoded."""
    stop = time.perf_counter() + seconds

    def work(own: list[float]) -> None:
        with socket.create_connection(address, timeout=10) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            f = s.makefile("rb")
            while (t0 := time.perf_counter()) < stop:
                s.sendall(request)
                assert f.readline().startswith(b"HTTP/1.1 200")
                length = 0
                while (line := f.readline()) != b"\r\n":
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                f.read(length)
                own.append(time.perf_counter() - t0)

    return measure(connections, work)


def wrk(url: str, method: str, auth: str, connections: int, seconds: float) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as d:
        script = Path(d, "req.lua")
        script.write_text(f'wrk.method = "{method}"\nwrk.headers["Authorization"] = "{auth}"\n', encoding="utf-8")
        out = subprocess.run(
            [
                "wrk",
                f"-t{min(connections, 2)}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--latency",
                "-s",
                str(script),
                url,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"wrk saw errors:\n{out}")
    rate = float(out.split("Requests/sec:")[1].split()[0])
    lat = {line.split()[0]: line.split()[1] for line in out.splitlines() if line.strip().startswith(("50%", "99%"))}
    return rate, to_ms(lat["50%"]), to_ms(lat["99%"])


def to_ms(text: str) -> float:
    for unit, scale in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    raise ValueError(text)


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1 run of 1 s per row")
    p.add_argument("--runs", type=int, default=None)
    p.add_argument("--seconds", type=float, default=None)
    p.add_argument("--no-wrk", action="store_true", help="load from Python threads even when wrk is installed")
    args = p.parse_args()
    runs = args.runs or (1 if args.quick else 3)
    seconds = args.seconds or (1.0 if args.quick else 3.0)
    use_wrk = shutil.which("wrk") is not None and not args.no_wrk

    cluster = escache.Cluster(3, seed=0, trace=False)
    key = cluster.perform_request("POST", "/_security/api_key", headers={"Authorization": ELASTIC}, body={"name": "b"})
    api_key = "ApiKey " + key.body["encoded"]
    calls = {
        "GET _authenticate (API key)": ("GET", "/_security/_authenticate", api_key),
        "POST api_key/*/_clear_cache": ("POST", "/_security/api_key/*/_clear_cache", ELASTIC),
    }
    print(
        f"escache serve benchmark: {runs} run(s) of {seconds:g} s per row, medians; HTTP load from "
        f"{'wrk' if use_wrk else 'Python threads (wrk not installed)'}"
    )
    print(f"{'call':30} {'where':12} {'conns':>5} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
    with escache.serve(cluster) as srv:
        host, port = srv.addresses[0]
        for name, (method, path, auth) in calls.items():
            headers = {"Authorization": auth}

            def call(method: str = method, path: str = path, headers: dict[str, str] = headers) -> int:
                return cluster.perform_request(method, path, headers=headers).status

            call()  # warm the caches
            for conns in (1, 16):
                for where in ("in-process", "http"):
                    results = []
                    for _ in range(runs):
                        if where == "in-process":
                            results.append(in_process(call, conns, seconds))
                        elif use_wrk:
                            results.append(wrk(f"http://{host}:{port}{path}", method, auth, conns, seconds))
                        else:
                            req = f"{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\r\n".encode()
                            results.append(raw_http((host, port), req, conns, seconds))
                    rate = statistics.median(r[0] for r in results)
                    p50 = statistics.median(r[1] for r in results)
                    p99 = statistics.median(r[2] for r in results)
                    print(f"{name:30} {where:12} {conns:>5} {rate:>10,.0f} {p50:>8.3f} {p99:>8.3f}")


if __name__ == "__main__":
    main()
