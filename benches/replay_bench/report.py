"""What the benchmark prints and writes: the environment, the results table, the memory details, the
per-op call styles, the targets from the issue and the JSON of every figure."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .measure import Row

# --------------------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------------------


def fmt_rps(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x / 1e6:,.2f} M/s"


def fmt_ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:,.2f}x"


def fmt_int(n: int) -> str:
    return f"{n:,}"


def print_table(headers: list[str], rows: list[list[str]], right: set[int]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        out = []
        for i, (c, w) in enumerate(zip(cells, widths, strict=False)):
            out.append(c.rjust(w) if i in right else c.ljust(w))
        return "  ".join(out).rstrip()

    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


# --------------------------------------------------------------------------------------------------------
# The run's environment
# --------------------------------------------------------------------------------------------------------


def print_environment(env: dict[str, Any], skipped: list[str], load_before: tuple[float, float, float]) -> None:
    print(f"escache cache replay benchmark: Python {env['python']} on {env['cpu']} ({env['cpus']} CPUs)")
    print(f"escache from {env['escache_module']} (extension built {env['escache_core_built']})")
    print(
        "versions: "
        + ", ".join(
            f"{k} {v}"
            for k, v in env.items()
            if k in ("escache", "cachetools", "cachebox", "moka_py", "libcachesim") and v
        )
    )
    print(f"load average at start: {load_before[0]:.2f} (1 min), {load_before[1]:.2f} (5 min)")
    if load_before[0] > 0.5:
        print(
            "note: other processes are using the CPU; the figures will be noisier (runs are interleaved "
            "across implementations so that all see the same load)"
        )
    for name in skipped:
        print(f'note: {name} is not installed; its rows are skipped (pip install ".[bench]" installs every peer)')


# --------------------------------------------------------------------------------------------------------
# The tables
# --------------------------------------------------------------------------------------------------------


def row_named(rows: list[Row], prefix: str) -> Row | None:
    return next((r for r in rows if r.name.startswith(prefix)), None)


def print_results(rows: list[Row], lcs_rows: list[Row], args: argparse.Namespace, n: int) -> None:
    """The main table (requests/s, against libCacheSim and cachetools, hit ratio, bytes/entry) and its
    footnotes; records each row's ratios on the row for the JSON."""
    clock, n_op = args.clock, args.per_op_requests
    lcs_base = max(lcs_rows, key=lambda r: r.rps) if lcs_rows else None
    ct_base = row_named(rows, "cachetools")
    headers = [
        "implementation",
        f"requests/s (median of {args.runs}{', CPU time' if clock == 'cpu' else ''})",
        "vs libcachesim",
        "vs cachetools",
        "hit ratio",
        "bytes/entry",
        "notes",
    ]
    table = []
    for r in rows:
        vs_lcs = r.rps / lcs_base.rps if lcs_base else None
        vs_ct = r.rps / ct_base.rps if ct_base else None
        r_vs = {"vs_libcachesim": vs_lcs, "vs_cachetools": vs_ct}
        r.__dict__.update(r_vs)
        table.append(
            [
                r.name,
                fmt_rps(r.rps),
                fmt_ratio(vs_lcs),
                fmt_ratio(vs_ct),
                f"{r.hit_ratio:.6f}",
                "-" if r.bytes_per_entry is None else f"{r.bytes_per_entry:,.0f}",
                "; ".join(r.notes),
            ]
        )
    print()
    print_table(headers, table, right={1, 2, 3, 4, 5})
    print()
    print(
        f"* requests/s: {fmt_int(n)} requests per run for the bulk rows, {fmt_int(n_op)} for the per-op rows "
        "(Python loop over a list of int keys, methods bound to locals, nothing counted in the loop); "
        "a fresh cache per run, construction untimed; "
        + ("wall-clock time." if clock == "wall" else "CPU time of this process (time.process_time).")
    )
    if lcs_base:
        print(f"* vs libcachesim: against the fastest libcachesim row ({lcs_base.name}).")
    print(
        "* hit ratio: hits / requests. Exact-LRU rows are asserted to have the same hits over the same requests; "
        "per-op hits come from an untimed get + put pass that counts them, every other style is checked to end with "
        "the same contents (escache's own hit counter is checked too)."
    )


def print_memory_details(rows: list[Row], mem_entries: int, cachetools_rss: dict[str, Any] | None) -> None:
    print(
        f"* bytes/entry: peak memory growth while filling a fresh cache of {fmt_int(mem_entries)} entries with "
        f"{fmt_int(mem_entries)} distinct int keys (made beforehand, not counted) and the value True, divided "
        "by the entries; one fresh process per row. Python caches: tracemalloc; Rust/C caches: RSS from "
        "/proc/self/statm, peak = VmHWM reset before filling."
    )
    print()
    print("memory details (bytes per entry):")
    mrows = []
    seen = set()
    for r in rows:
        if not r.mem or r.mem_key in seen:
            continue
        seen.add(r.mem_key)
        m = r.mem
        if "error" in m:
            mrows.append([r.mem_key, "-", "-", "failed: " + m["error"]])
            continue
        mrows.append(
            [
                r.mem_key,
                f"{m['peak_bytes_per_entry']:,.1f}",
                f"{m['retained_bytes_per_entry']:,.1f}",
                m["method"] + (("; " + m["note"]) if m.get("note") else ""),
            ]
        )
    if cachetools_rss and "error" not in cachetools_rss:
        mrows.append(
            [
                "cachetools (cross-check)",
                f"{cachetools_rss['peak_bytes_per_entry']:,.1f}",
                f"{cachetools_rss['retained_bytes_per_entry']:,.1f}",
                cachetools_rss["method"],
            ]
        )
    print_table(["probe", "peak", "retained", "method"], mrows, right={1, 2})


def print_styles(rows: list[Row], n_op: int) -> None:
    print()
    print("per-op call styles (requests/s, median):")
    srows = []
    for r in rows:
        for s in r.styles:
            srows.append(
                [
                    r.name,
                    s["style"],
                    fmt_rps(s["requests_per_s"]),
                    "  ".join(f"{n_op / t / 1e6:.2f}" for t in s["times_s"]),
                ]
            )
    print_table(["implementation", "style", "median", "runs (M/s)"], srows, right={2})


# --------------------------------------------------------------------------------------------------------
# The targets from the issue
# --------------------------------------------------------------------------------------------------------


def check_targets(rows: list[Row], lcs_rows: list[Row]) -> list[dict[str, Any]]:
    """Each target from the issue: the measured ratio, the ratio required, and whether it is met (None when
    the peer is not installed)."""
    replay, perop = row_named(rows, "escache Cache.replay"), row_named(rows, "escache per-op")
    cb, mk = row_named(rows, "cachebox"), row_named(rows, "moka")
    ct_base = row_named(rows, "cachetools")
    assert replay is not None and perop is not None  # escache's rows are always measured
    targets: list[dict[str, Any]] = []

    def target(desc: str, ratio: float | None, need: float, detail: str) -> None:
        met = None if ratio is None else ratio >= need
        targets.append({"target": desc, "ratio": ratio, "required": need, "met": met, "detail": detail})

    for lr in lcs_rows:
        target(
            f"replay >= 4x libcachesim LRU [{lr.name}]",
            replay.rps / lr.rps,
            4.0,
            f"{fmt_rps(replay.rps)} vs {fmt_rps(lr.rps)}",
        )
    if not lcs_rows:
        target("replay >= 4x libcachesim LRU", None, 4.0, "libcachesim not installed")
    # Issue 13: against the LRU whose hash table is sized for the cache (the `--lcs-hashpower` row).
    sized = next((lr for lr in lcs_rows if "hashpower=" in lr.name), None)
    target(
        "replay >= 3x libcachesim LRU sized for the cache (issue 13)",
        None if sized is None else replay.rps / sized.rps,
        3.0,
        "libcachesim not installed" if sized is None else f"{fmt_rps(replay.rps)} vs {fmt_rps(sized.rps)}",
    )
    for peer, label in ((cb, "cachebox"), (mk, "moka-py")):
        if peer is None:
            target(f"escache per-op >= {label}", None, 1.0, f"{label} not installed")
        else:
            target(
                f"escache per-op >= {label}",
                perop.rps / peer.rps,
                1.0,
                f"{fmt_rps(perop.rps)} ({perop.notes[0]}) vs {fmt_rps(peer.rps)} ({peer.notes[0]})",
            )
    if ct_base is None:
        target("escache per-op >= 10x cachetools", None, 10.0, "cachetools not installed")
    else:
        target(
            "escache per-op >= 10x cachetools",
            perop.rps / ct_base.rps,
            10.0,
            f"{fmt_rps(perop.rps)} vs {fmt_rps(ct_base.rps)}",
        )
    return targets


def print_targets(targets: list[dict[str, Any]]) -> None:
    print()
    print("targets from the issue:")
    trows = []
    for t in targets:
        status = "n/a" if t["met"] is None else ("MET" if t["met"] else "NOT MET")
        trows.append(
            [
                t["target"],
                "-" if t["ratio"] is None else f"{t['ratio']:.2f}x",
                f">= {t['required']:g}x",
                status,
                t["detail"],
            ]
        )
    print_table(["target", "measured", "needed", "status", "figures"], trows, right={1})


# --------------------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------------------


def results_json(
    args: argparse.Namespace,
    rows: list[Row],
    *,
    n: int,
    env: dict[str, Any],
    skipped: list[str],
    load_average_1min: dict[str, float],
    t_trace: float,
    t_convert: float | None,
    cachetools_rss: dict[str, Any] | None,
    targets: list[dict[str, Any]],
    elapsed: float,
) -> dict[str, Any]:
    """Every figure of the run, for ``--json``."""
    return {
        "config": {
            "requests": n,
            "keys": args.keys,
            "alpha": args.alpha,
            "seed": args.seed,
            "capacity": args.capacity,
            "runs": args.runs,
            "per_op_requests": args.per_op_requests,
            "mem_entries": None if args.no_mem else args.mem_entries,
            "lcs_hashpower": args.lcs_hashpower,
            "quick": args.quick,
        },
        "environment": env,
        "skipped": skipped,
        "clock": args.clock,
        "load_average_1min": load_average_1min,
        "trace_build_s": t_trace,
        "oracle_general_convert_s": t_convert,
        "rows": [
            {
                "implementation": r.name,
                "kind": r.kind,
                "requests_per_run": r.requests,
                "times_s": r.times,
                "wall_s": r.wall,
                "cpu_s": r.cpu,
                "requests_per_s": r.rps,
                "vs_libcachesim": r.__dict__.get("vs_libcachesim"),
                "vs_cachetools": r.__dict__.get("vs_cachetools"),
                "hits": r.hits,
                "hit_ratio": r.hit_ratio,
                "exact_lru": r.exact_lru,
                "bytes_per_entry": r.bytes_per_entry,
                "memory": r.mem,
                "notes": r.notes,
                "styles": r.styles,
            }
            for r in rows
        ],
        "cachetools_rss_cross_check": cachetools_rss,
        "targets": targets,
        "elapsed_s": elapsed,
    }
