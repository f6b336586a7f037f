#!/usr/bin/env python3
"""Replay one Zipf trace through escache and its peers, side by side.

Builds ONE Zipf trace (``escache.zipf_trace``; alpha 1.0, 1,000,000 distinct keys, 10,000,000 requests by
default) and runs the same get-or-put workload through, all sized to 25,000 entries:

1. ``escache.Cache.replay``: the bulk get-or-put loop in Rust, over an ``array('q')``;
2. escache per-operation calls from Python (``get`` + ``put``, ``compute_if_absent`` and ``setdefault``);
3. ``cachetools.LRUCache`` (``get`` + ``__setitem__``; pure Python);
4. ``cachebox.LRUCache`` (``get`` + ``insert``, ``get`` + ``[]=``, ``setdefault``);
5. ``moka_py.Moka(policy="lru")`` (``get`` + ``set``, ``get_with``);
6. libCacheSim's LRU (``libcachesim.LRU.process_trace``) over the same trace written once, outside
   timing, as an oracleGeneral binary file with every object of size 1 (so a cache of 25,000 "bytes"
   holds 25,000 objects). Two configurations: the library's default ``hashpower=24`` and a hash table
   sized for 25,000 objects (``--lcs-hashpower``, 18 by default).

For each: requests/s (median of ``--runs`` runs, 3 by default, each on a fresh cache; only the replay
itself is timed, cache construction is not; the runs are interleaved, one round of every implementation
after another, so that a change in the machine's load touches all alike), the hit ratio, and the peak
memory per cached entry, measured in a fresh child process per implementation that fills a cache of
``--mem-entries`` entries (1,000,000 by default) with that many distinct keys created beforehand:

* pure-Python caches (cachetools): ``tracemalloc`` peak around the filling;
* Rust/C-backed caches (escache, cachebox, moka-py, libCacheSim): growth of the process's resident set
  (``/proc/self/statm``); the peak is VmHWM after resetting it (``/proc/self/clear_refs``) at the start.

Every exact-LRU implementation must report the same number of hits over the same requests: the script
asserts it. moka-py's "lru" policy is checked rather than assumed exact.

Usage::

    pip install ".[bench]"                     # the peers: cachetools, cachebox, moka-py, libcachesim
    python benches/cache_replay.py             # 10M requests over 1M keys (about 2 minutes)
    python benches/cache_replay.py --quick     # a small run (seconds)
    python benches/cache_replay.py --requests 1000000 --keys 100000 --json results.json

A peer that is not installed is skipped with a printed note. This script holds the arguments and the steps of
``main``; the parts they call are in ``benches/replay_bench/``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from replay_bench.measure import (
    ReferenceHits,
    bulk_cases,
    bulk_rows,
    check_hits,
    note_run_variation,
    per_op_cases,
    per_op_row,
    time_rounds,
)
from replay_bench.memory import measure_memory, mem_child
from replay_bench.peers import environment, libcachesim, per_op_impls, skipped_peers
from replay_bench.report import (
    check_targets,
    fmt_int,
    print_environment,
    print_memory_details,
    print_results,
    print_styles,
    print_targets,
    results_json,
)
from replay_bench.trace import build_trace, lcs_trace

# --------------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Replay one Zipf trace through escache (bulk replay and per-op calls), cachetools, "
        "cachebox, moka-py and libCacheSim's LRU, all with the same capacity.",
    )
    p.add_argument("--requests", type=int, default=None, help="requests in the trace (default 10,000,000)")
    p.add_argument("--keys", type=int, default=None, help="distinct keys in the Zipf law (default 1,000,000)")
    p.add_argument("--alpha", type=float, default=1.0, help="Zipf exponent (default 1.0)")
    p.add_argument("--seed", type=int, default=0, help="trace seed (default 0)")
    p.add_argument("--capacity", type=int, default=25_000, help="entries every cache holds (default 25,000)")
    p.add_argument("--runs", type=int, default=3, help="timed runs per implementation; the median counts (default 3)")
    p.add_argument(
        "--per-op-requests",
        type=int,
        default=None,
        help="replay only the first N requests in the per-operation Python loops (default: all)",
    )
    p.add_argument(
        "--mem-entries",
        type=int,
        default=None,
        help="distinct keys filled into a cache of that size to measure memory (default 1,000,000)",
    )
    p.add_argument("--no-mem", action="store_true", help="skip the memory measurements")
    p.add_argument(
        "--lcs-hashpower",
        type=int,
        default=18,
        help="hashpower of the tuned libCacheSim LRU row (default 18; the library's default is 24)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a small run: 500,000 requests over 100,000 keys, memory with 100,000 entries",
    )
    p.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="compute requests/s from wall-clock time (default) or from this process's CPU time, which "
        "other processes disturb less on a busy machine; both are written to --json",
    )
    p.add_argument("--json", metavar="PATH", help="also write every figure to PATH as JSON")
    p.add_argument(
        "--fail-on-missed-targets",
        action="store_true",
        help="exit with status 2 when a target from the issue is not met",
    )
    p.add_argument("--_mem-child", dest="mem_child", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.requests is None:
        a.requests = 500_000 if a.quick else 10_000_000
    if a.keys is None:
        a.keys = 100_000 if a.quick else 1_000_000
    if a.mem_entries is None:
        a.mem_entries = 100_000 if a.quick else 1_000_000
    for name in ("requests", "keys", "capacity", "runs", "mem_entries"):
        if getattr(a, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive")
    if a.per_op_requests is None or a.per_op_requests > a.requests:
        a.per_op_requests = a.requests
    return a


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.mem_child:
        print(json.dumps(mem_child(args.mem_child, args.mem_entries, args.lcs_hashpower)))
        return 0

    # 1. The environment and the trace.
    t_start = time.perf_counter()
    cap = args.capacity
    skipped, env = skipped_peers(), environment()
    load_before = os.getloadavg()
    print_environment(env, skipped, load_before)
    trace, t_trace = build_trace(args)
    n, n_op = len(trace), args.per_op_requests
    op_keys = trace[:n_op].tolist()  # Python ints for the per-operation loops, made once outside timing
    sub_note = "" if n_op == n else f"first {fmt_int(n_op)} requests"

    # 2. The cases, timed in interleaved rounds.
    lcs = lcs_trace(trace) if libcachesim is not None else None
    cases, lcs_configs = bulk_cases(trace, cap, lcs, args.lcs_hashpower)
    impls = per_op_impls()
    style_cases = per_op_cases(impls, cap, op_keys, n_op)
    cases.extend(style_cases.values())
    try:
        time_rounds(cases, args.runs, args.clock)
    finally:
        if lcs is not None:
            lcs.close()
    load_after = os.getloadavg()

    # 3. The rows, their hits checked against exact LRU.
    replay, lcs_rows = bulk_rows(cases[0], lcs_configs, cap)
    reference_hits = ReferenceHits(trace, cap)
    reference_hits.hits[n] = replay.hits
    rows = [replay, *lcs_rows]
    rows.extend(per_op_row(impl, style_cases, cap, op_keys, sub_note) for impl in impls)
    note_run_variation(rows)
    check_hits(rows, reference_hits)

    # 4. Memory, in fresh processes.
    cachetools_rss = None if args.no_mem else measure_memory(rows, args)

    # 5. The tables and the targets.
    print_results(rows, lcs_rows, args, n)
    if not args.no_mem:
        print_memory_details(rows, args.mem_entries, cachetools_rss)
    print_styles(rows, n_op)
    targets = check_targets(rows, lcs_rows)
    print_targets(targets)
    elapsed = time.perf_counter() - t_start
    print()
    print(f"load average (1 min): {load_before[0]:.2f} at start, {load_after[0]:.2f} after the timed rounds")
    print(f"total run time: {elapsed:.1f} s")

    # 6. The JSON.
    if args.json:
        out = results_json(
            args,
            rows,
            n=n,
            env=env,
            skipped=skipped,
            load_average_1min={"start": load_before[0], "after_timing": load_after[0]},
            t_trace=t_trace,
            t_convert=lcs.convert_s if lcs is not None else None,
            cachetools_rss=cachetools_rss,
            targets=targets,
            elapsed=elapsed,
        )
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
        print(f"wrote {args.json}")

    if args.fail_on_missed_targets and any(t["met"] is False for t in targets):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
