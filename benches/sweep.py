"""Sweep throughput: runs (points x seeds) per second of wall time for a small scenario, with a process
pool of 1 and 2 workers and a Dask ``LocalCluster`` of 1 and 2 worker processes, in one run.

    python benches/sweep.py             # 4 points x 8 seeds of the shipped stale-window scenario, 2 virtual minutes each
    python benches/sweep.py --seeds 4   # fewer runs
    python benches/sweep.py --json out.json

The scenario is ``stale_window_missed_broadcast`` (3 nodes, 1,000 API keys, 60 requests/s) cut to
``--duration`` of virtual time, over ``doc_cache.ttl`` in {1m, 5m} and the rate in {30, 60}. A process
pool's time includes starting its processes (the sweep owns it); a Dask cluster is started before the
clock starts (as a user's cluster would be running already) and its start time is printed beside.
Figures are medians of ``--runs`` runs (default 3). Dask rows are skipped with a note when
``dask.distributed`` is not installed (``pip install 'escache[dask]'``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

# benches/http.py would shadow the standard library's http (which dask.distributed imports).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import escache  # noqa: E402 - after the path fix

GRID = {
    "settings.xpack.security.authc.api_key.doc_cache.ttl": ["1m", "5m"],
    "workloads.agents.rate": [30, 60],
}


def timed(executor: Any, workers: int | None, seeds: int, duration: str) -> float:
    grid = {**GRID, "simulation.duration": [duration]}
    started = time.perf_counter()
    df = escache.sweep(
        "stale_window_missed_broadcast",
        grid,
        seeds=range(seeds),
        executor=executor,
        workers=workers,
        progress=False,
    )
    wall = time.perf_counter() - started
    assert df["error"].isna().all(), df["error"].dropna().tolist()
    return wall


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=8)
    p.add_argument("--duration", default="2m")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    runs = (
        len(GRID["settings.xpack.security.authc.api_key.doc_cache.ttl"])
        * len(GRID["workloads.agents.rate"])
        * args.seeds
    )
    rows: list[dict[str, Any]] = []

    def record(label: str, executor: Any, workers: int | None, note: str = "") -> None:
        times = [timed(executor, workers, args.seeds, args.duration) for _ in range(args.runs)]
        wall = statistics.median(times)
        rows.append({"executor": label, "runs": runs, "wall_s": wall, "runs_per_s": runs / wall, "note": note})
        print(f"  {label:<28} {runs / wall:8.2f} runs/s  ({wall:.2f} s for {runs} runs){note}", flush=True)

    print(f"escache.sweep: {runs} runs of {args.duration} virtual ({os.cpu_count()} cores, medians of {args.runs})")
    record("serial (this process)", "serial", None)
    record("process pool, 1 worker", None, 1)
    record("process pool, 2 workers", None, 2)
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        print("  dask.distributed is not installed: Dask rows skipped (pip install 'escache[dask]')")
    else:
        for n in (1, 2):
            started = time.perf_counter()
            with (
                LocalCluster(n_workers=n, processes=True, threads_per_worker=1, dashboard_address=None) as lc,
                Client(lc) as client,
            ):
                up = time.perf_counter() - started
                record(f"Dask LocalCluster, {n} worker{'s' * (n > 1)}", client, None, f"; cluster start {up:.1f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
