"""Simulator throughput: simulated authentications per second of wall time, with the event trace off and
on, for 3 and 30 nodes, 100,000 API keys and Zipf traffic; memory per trace event; a "day of Fleet"
(30 nodes, 100,000 API keys each authenticating every 30 s on average, Zipf, 24 h of virtual time,
about 288 M authentications) with its wall time; and, in the same run, the SimPy peer (a bare M/M/1
queue in SimPy, the Python simulator users would reach for) when simpy is installed (the ``bench``
extra).

    python benches/simulate.py                  # full run (the day of Fleet takes minutes)
    python benches/simulate.py --quick          # a small run
    python benches/simulate.py --fleet-hours 1  # a shorter Fleet day

Figures are medians of ``--runs`` runs (default 3). The simulator runs on one core (the GIL is
released while it runs, but it is single-threaded by design: one event queue, deterministic).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any

import escache


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def build(nodes: int, keys: int, rate: float, trace: bool, seed: int = 0) -> tuple[escache.Cluster, escache.Simulation]:
    c = escache.Cluster(nodes=nodes, seed=seed, trace=trace)
    sim = escache.Simulation(c, seed=seed, sample_interval="60s")
    sim.add_workload(
        name="keys", kind="api_key", population=keys, rate=rate, popularity={"zipf": 1.0}, node_choice="random"
    )
    return c, sim


def one_run(nodes: int, keys: int, seconds: float, rate: float, trace: bool) -> dict[str, float]:
    c, sim = build(nodes, keys, rate, trace)
    sim.run_until(0)  # creates the keys (untimed)
    c.events.clear()
    before_events = len(c.events)
    rss0 = rss_bytes()
    t0 = time.perf_counter()
    report = sim.run_until(seconds)
    wall = time.perf_counter() - t0
    rss1 = rss_bytes()
    events = len(c.events) - before_events
    return {
        "requests": report["requests"],
        "wall": wall,
        "auth_per_s": report["requests"] / wall,
        "events": events,
        "rss_growth": rss1 - rss0,
    }


def fleet_day(hours: float) -> dict[str, float]:
    """30 nodes, 100,000 API keys, each agent authenticating every 30 s on average (Zipf over the keys),
    trace off, for ``hours`` of virtual time; the keys are created first (untimed)."""
    keys = 100_000
    _cluster, sim = build(30, keys, keys / 30.0, trace=False)
    sim.run_until(0)
    t0 = time.perf_counter()
    report = sim.run_until(hours * 3600.0)
    wall = time.perf_counter() - t0
    return {"hours": hours, "requests": report["requests"], "wall": wall, "auth_per_s": report["requests"] / wall}


def simpy_mm1(customers: int) -> dict[str, float] | None:
    """SimPy's events per second of wall time on a bare M/M/1 queue (arrival rate 0.9, service rate 1):
    what the same single-threaded, event-at-a-time simulation costs in SimPy. ``None`` without simpy."""
    try:
        import random

        import simpy
    except ImportError:
        return None
    rng = random.Random(0)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    done = [0]

    def customer(env: Any) -> Any:
        with server.request() as req:
            yield req
            yield env.timeout(rng.expovariate(1.0))
        done[0] += 1

    def source(env: Any) -> Any:
        for _ in range(customers):
            env.process(customer(env))
            yield env.timeout(rng.expovariate(0.9))

    env.process(source(env))
    t0 = time.perf_counter()
    env.run()
    wall = time.perf_counter() - t0
    # Each customer is four scheduled events: its arrival timeout, its process start, the request
    # granted, the service timeout (the release is immediate).
    events = 4 * done[0]
    return {"customers": done[0], "wall": wall, "events_per_s": events / wall, "customers_per_s": done[0] / wall}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--keys", type=int, default=100_000)
    p.add_argument("--seconds", type=float, default=60.0, help="virtual seconds simulated per run")
    p.add_argument("--rate", type=float, default=50_000.0, help="authentications per virtual second")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--fleet-hours", type=float, default=24.0, help="virtual hours of the day of Fleet (0: skip)")
    p.add_argument("--simpy-customers", type=int, default=200_000, help="customers of the SimPy M/M/1 peer")
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    if args.quick:
        args.keys, args.seconds, args.rate, args.runs = 10_000, 5.0, 20_000.0, 1
        args.fleet_hours, args.simpy_customers = min(args.fleet_hours, 0.05), 20_000

    print(
        f"escache {escache.__version__}: {args.keys:,} API keys, Zipf(1.0), {args.rate:,.0f} auth per virtual s, "
        f"{args.seconds:g} virtual s per run, median of {args.runs}"
    )
    rows: list[dict[str, Any]] = []
    for nodes in (3, 30):
        for trace in (False, True):
            runs = [one_run(nodes, args.keys, args.seconds, args.rate, trace) for _ in range(args.runs)]
            med = statistics.median(r["auth_per_s"] for r in runs)
            r0 = runs[0]
            per_event = (r0["rss_growth"] / r0["events"]) if trace and r0["events"] else None
            rows.append(
                {
                    "nodes": nodes,
                    "trace": trace,
                    "requests": r0["requests"],
                    "auth_per_s": med,
                    "events": r0["events"],
                    "bytes_per_event_rss": per_event,
                }
            )

    # Memory per trace event measured on the trace itself (columns and symbols), for one million events.
    c, sim = build(3, args.keys, args.rate, True)
    sim.run_until(0)
    c.events.clear()
    sim.run_until(max(1.0, 1_000_000 / args.rate * 0.25))
    n_events = len(c.events)
    print()
    print(
        f"{'nodes':>5}  {'trace':>5}  {'requests':>10}  {'simulated auth/s':>17}  {'events':>11}  {'RSS bytes/event':>15}"
    )
    for r in rows:
        bpe = "" if r["bytes_per_event_rss"] is None else f"{r['bytes_per_event_rss']:.1f}"
        print(
            f"{r['nodes']:>5}  {'on' if r['trace'] else 'off':>5}  {r['requests']:>10,}  "
            f"{r['auth_per_s'] / 1e6:>14.2f} M  {r['events']:>11,}  {bpe:>15}"
        )
    mem = c._events_memory_bytes() if hasattr(c, "_events_memory_bytes") else None
    if mem is not None and n_events:
        print(
            f"\ntrace store: {n_events:,} events hold {mem / 1e6:.1f} MB: {mem / n_events:.1f} bytes per event "
            f"({mem / n_events * 1e6 / 1e6:.1f} MB per million events)"
        )
    fleet = fleet_day(args.fleet_hours) if args.fleet_hours > 0 else None
    if fleet is not None:
        print(
            f"\nday of Fleet: 30 nodes, 100,000 API keys, Zipf(1.0), one authentication per key per 30 s, trace off: "
            f"{fleet['hours']:g} virtual h, {fleet['requests']:,} authentications in {fleet['wall']:.1f} s of wall time "
            f"({fleet['auth_per_s'] / 1e6:.2f} M/s)"
        )
    peer = simpy_mm1(args.simpy_customers)
    if peer is None:
        print("\nSimPy peer: skipped (pip install simpy, or the bench extra)")
    else:
        print(
            f"\nSimPy peer, bare M/M/1 queue: {peer['customers']:,} customers in {peer['wall']:.2f} s: "
            f"{peer['events_per_s'] / 1e6:.2f} M events/s ({peer['customers_per_s'] / 1e6:.3f} M customers/s); "
            "each escache authentication above is one arrival event plus the cache work a node does"
        )
    print("\ntargets: >= 5 M simulated authentications/s with the trace off on one core; <= 16 bytes per trace event")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "rows": rows,
                    "trace_bytes_per_event": (mem / n_events) if mem and n_events else None,
                    "fleet_day": fleet,
                    "simpy_mm1": peer,
                },
                f,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
