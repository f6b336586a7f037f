"""The measurement: timed cases (one per implementation and call style), run in interleaved rounds, and
the rows they give, with the check that every exact-LRU implementation has the same hits."""

from __future__ import annotations

import gc
import statistics
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import escache

from .peers import PerOpImpl, Style, count_get_put, libcachesim
from .report import fmt_int
from .trace import LcsTrace, lcs_hits

# --------------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    kind: str  # "bulk" or "per-op"
    requests: int  # requests per run
    times: list[float]
    rps: float
    wall: list[float]
    cpu: list[float]
    hits: int
    hit_ratio: float | None = None
    exact_lru: bool = True
    mem_key: str | None = None
    mem: dict[str, Any] | None = None
    bytes_per_entry: float | None = None
    notes: list[str] = field(default_factory=list)
    styles: list[dict[str, Any]] = field(default_factory=list)


def median_rps(times: list[float], n: int) -> float:
    return n / statistics.median(times)


@dataclass
class Case:
    """One timed thing: ``run(make())``, ``after(result, cache)`` kept per run; construction is not timed."""

    label: str
    requests: int
    make: Callable[[], Any]
    run: Callable[[Any], Any]
    after: Callable[[Any, Any], Any]
    times: list[float] = field(default_factory=list)  # on the clock chosen with --clock
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)

    def run_once(self, clock: str) -> float:
        cache = self.make()
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        r = self.run(cache)
        t1, c1 = time.perf_counter(), time.process_time()
        self.wall.append(t1 - t0)
        self.cpu.append(c1 - c0)
        self.times.append(self.wall[-1] if clock == "wall" else self.cpu[-1])
        self.results.append(self.after(r, cache))
        del cache, r  # dropped before the next case runs
        return self.times[-1]


class ReferenceHits:
    """Exact LRU's hits over the first ``m`` requests: escache's replay of them (hits are compared between
    rows that replay the same requests)."""

    def __init__(self, trace: array[int], cap: int) -> None:
        self.trace, self.cap, self.hits = trace, cap, dict[int, int]()

    def __call__(self, m: int) -> int:
        n = len(self.trace)
        if m not in self.hits:
            self.hits[m] = (
                escache.Cache(max_weight=self.cap).replay(self.trace if m == n else array("q", self.trace[:m])).hits
            )
        return self.hits[m]


# --------------------------------------------------------------------------------------------------------
# The cases. Every timed case runs once per round, round after round, so that a change in the machine's load
# during the benchmark touches every implementation alike.
# --------------------------------------------------------------------------------------------------------

# (hashpower, row label, note, case) of each libCacheSim configuration
LcsConfig = tuple[int, str, str, Case]


def bulk_cases(
    trace: array[int], cap: int, lcs: LcsTrace | None, lcs_hashpower: int
) -> tuple[list[Case], list[LcsConfig]]:
    """escache's replay, then libCacheSim's LRU with its default hashpower and with ``lcs_hashpower``."""
    n = len(trace)
    cases = [
        Case(
            "escache replay",
            n,
            lambda: escache.Cache(max_weight=cap),
            lambda c: c.replay(trace),
            lambda r, c: r.hits,
        )
    ]
    lcs_configs: list[LcsConfig] = []
    if lcs is not None:
        hashpowers = [24] + ([lcs_hashpower] if lcs_hashpower != 24 else [])
        for hp in hashpowers:
            case = Case(
                f"libcachesim LRU hashpower={hp}",
                n,
                partial(libcachesim.LRU, cap, hashpower=hp),
                lambda c: c.process_trace(lcs.reader),
                lambda res, c: (lcs_hits(res[0], n), c.get_n_obj()),
            )
            if hp == 24:
                lcs_configs.append(
                    (hp, "libcachesim LRU (default)", "library default hashpower=24 (2^24 buckets)", case)
                )
            else:
                lcs_configs.append(
                    (hp, f"libcachesim LRU (hashpower={hp})", f"hashpower={hp}: hash table sized for the cache", case)
                )
            cases.append(case)
    return cases, lcs_configs


def _run_style(st: Style, keys: list[int], cache: Any) -> None:
    st.loop(cache, keys, st.a, st.b)


def _after_style(impl: PerOpImpl, _result: Any, cache: Any) -> tuple[frozenset[Any] | None, int | None]:
    """What a per-op run leaves: the cache's contents and the hits it counted itself, where it can tell."""
    return (
        frozenset(impl.final_keys(cache)) if impl.final_keys else None,
        impl.run_hits(cache) if impl.run_hits else None,
    )


def per_op_cases(impls: list[PerOpImpl], cap: int, op_keys: list[int], n_op: int) -> dict[tuple[str, str], Case]:
    """One case per implementation and call style, each over ``op_keys``."""
    style_cases: dict[tuple[str, str], Case] = {}
    for impl in impls:
        for st in impl.styles:
            case = Case(
                f"{impl.name} [{st.label}]",
                n_op,
                partial(impl.make, cap),
                partial(_run_style, st, op_keys),
                partial(_after_style, impl),
            )
            style_cases[(impl.name, st.label)] = case
    return style_cases


def time_rounds(cases: list[Case], runs: int, clock: str) -> None:
    """``runs`` rounds, each running every case once."""
    for rnd in range(runs):
        for case in cases:
            print(f"round {rnd + 1}/{runs}: {case.label} ({fmt_int(case.requests)} requests) ...", end="", flush=True)
            t = case.run_once(clock)
            print(f" {case.requests / t / 1e6:.2f} M/s", flush=True)


# --------------------------------------------------------------------------------------------------------
# The rows
# --------------------------------------------------------------------------------------------------------


def bulk_rows(replay_case: Case, lcs_configs: list[LcsConfig], cap: int) -> tuple[Row, list[Row]]:
    """The row of escache's replay and those of libCacheSim, each run checked to give the same hits."""
    n = replay_case.requests
    hits = set(replay_case.results)
    assert len(hits) == 1, f"escache replay: hits differ between runs: {hits}"
    replay = Row(
        "escache Cache.replay",
        "bulk",
        n,
        replay_case.times,
        median_rps(replay_case.times, n),
        replay_case.wall,
        replay_case.cpu,
        hits.pop(),
        mem_key="escache-replay",
    )
    replay.notes.append("bulk get-or-put in Rust over array('q'), GIL released")

    lcs_rows: list[Row] = []
    for hp, label, note, case in lcs_configs:
        lcs_hit_set = {h for h, _ in case.results}
        assert len(lcs_hit_set) == 1, f"libcachesim: hits differ between runs: {lcs_hit_set}"
        assert all(objs <= cap for _, objs in case.results), "libcachesim holds more objects than its size"
        row = Row(
            label,
            "bulk",
            n,
            case.times,
            median_rps(case.times, n),
            case.wall,
            case.cpu,
            lcs_hit_set.pop(),
            mem_key="libcachesim-default" if hp == 24 else "libcachesim-tuned",
        )
        row.notes.append(f"process_trace over an oracleGeneral file, size-1 objects; {note}")
        lcs_rows.append(row)
    return replay, lcs_rows


def per_op_row(
    impl: PerOpImpl, style_cases: dict[tuple[str, str], Case], cap: int, op_keys: list[int], sub_note: str
) -> Row:
    """The row of one implementation's per-operation loops: its fastest style makes the row; the hits come
    from an untimed get + put pass, and every other style must end with the same contents."""
    n_op = len(op_keys)
    styles_out: list[dict[str, Any]] = []
    best: tuple[float, Style, Case] | None = None
    style_contents: dict[str, set[Any]] = {}
    style_run_hits: dict[str, set[int | None]] = {}
    for st in impl.styles:
        case = style_cases[(impl.name, st.label)]
        rps = median_rps(case.times, n_op)
        styles_out.append(
            {
                "style": st.label,
                "times_s": case.times,
                "wall_s": case.wall,
                "cpu_s": case.cpu,
                "requests_per_s": rps,
            }
        )
        if impl.final_keys is not None:
            contents = {fk for fk, _ in case.results}
            assert len(contents) == 1, f"{impl.name} [{st.label}]: contents differ between runs"
            style_contents[st.label] = set(contents.pop())
        if impl.run_hits is not None:
            style_run_hits[st.label] = {h for _, h in case.results}
        case.results.clear()
        if best is None or rps > best[0]:
            best = (rps, st, case)
    assert best is not None
    # untimed counting pass: get + put, counting hits
    print(f"counting hits: {impl.name} [get + put] (untimed) ...", flush=True)
    c = impl.make(cap)
    get, put = impl.counting(c)
    hits = count_get_put(get, put, op_keys)
    if impl.final_keys is not None:
        ref_contents = impl.final_keys(c)
        for label, contents in style_contents.items():
            assert contents == ref_contents, (
                f"{impl.name} [{label}] ends with other contents than get + put: not equivalent"
            )
    for label, hs in style_run_hits.items():
        assert hs == {hits}, f"{impl.name} [{label}]: the cache counted {hs} hits, the loop {hits}"
    del c, get, put
    rps, st, bcase = best
    row = Row(
        impl.name,
        "per-op",
        n_op,
        bcase.times,
        rps,
        bcase.wall,
        bcase.cpu,
        hits,
        exact_lru=impl.exact_lru_expected,
        mem_key=impl.mem_child,
        styles=styles_out,
    )
    row.notes.append(f"fastest style: {st.label}" + (f"; {sub_note}" if sub_note else ""))
    return row


def note_run_variation(rows: list[Row]) -> None:
    for r in rows:
        if len(r.times) > 1 and max(r.times) > 1.15 * min(r.times):
            r.notes.append(f"runs vary {r.requests / max(r.times) / 1e6:.1f}-{r.requests / min(r.times) / 1e6:.1f} M/s")


def check_hits(rows: list[Row], reference_hits: Callable[[int], int]) -> None:
    """Hit ratios; moka-py's "lru" policy checked against exact LRU rather than assumed exact; every
    exact-LRU row asserted to have exact LRU's hits over the same requests."""
    for r in rows:
        r.hit_ratio = r.hits / r.requests if r.requests else None

    moka_row = next((r for r in rows if r.name.startswith("moka")), None)
    if moka_row is not None:
        ref = reference_hits(moka_row.requests)
        if moka_row.hits == ref:
            moka_row.exact_lru = True
            moka_row.notes.append("same hits as exact LRU on this trace")
        else:
            moka_row.exact_lru = False
            moka_row.notes.append(
                f"NOT exact LRU: {moka_row.hits - ref:+,} hits vs exact LRU ({ref:,}); moka applies reads and "
                "evictions in batches (approximate LRU), so the cache can briefly overfill"
            )

    exact = [r for r in rows if r.exact_lru]
    mismatches = [(r.name, r.hits, reference_hits(r.requests)) for r in exact if r.hits != reference_hits(r.requests)]
    assert not mismatches, "exact-LRU implementations disagree on hits: " + "; ".join(
        f"{name}: {h:,} hits, exact LRU (escache replay of the same requests): {ref:,}" for name, h, ref in mismatches
    )
    by_requests: dict[int, set[int]] = {}
    for r in exact:
        by_requests.setdefault(r.requests, set()).add(r.hits)
    assert all(len(v) == 1 for v in by_requests.values()), by_requests
