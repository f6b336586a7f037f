"""Memory per cached entry: one fresh child process per implementation fills a cache of ``--mem-entries``
entries with keys made beforehand; pure-Python caches are measured with ``tracemalloc``, Rust/C ones by the
growth of the resident set (``/proc/self/statm``, peak = VmHWM reset at the start)."""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
from array import array
from collections.abc import Callable
from typing import Any

import escache

from .measure import Row
from .peers import cachebox, cachetools, libcachesim, moka_py
from .report import fmt_int
from .trace import lcs_hits, lcs_reader, write_oracle_general

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
# The child runs the benchmark's own script with --_mem-child.
SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "cache_replay.py")

# --------------------------------------------------------------------------------------------------------
# Memory probes
# --------------------------------------------------------------------------------------------------------


def statm() -> tuple[int, int]:
    """(resident bytes, resident anonymous bytes) from /proc/self/statm (anonymous = resident - shared)."""
    with open("/proc/self/statm") as f:
        fields = f.read().split()
    resident, shared = int(fields[1]), int(fields[2])
    return resident * PAGE_SIZE, (resident - shared) * PAGE_SIZE


def vm_hwm() -> int:
    """Peak resident set size (VmHWM) in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def reset_hwm() -> bool:
    """Resets VmHWM to the current RSS (Linux >= 4.0). False if not allowed here."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# --------------------------------------------------------------------------------------------------------
# Memory: one fresh child process per implementation
# --------------------------------------------------------------------------------------------------------

MEM_METHOD_RSS = "RSS growth (/proc/self/statm; peak = VmHWM reset at start)"
MEM_METHOD_TRACEMALLOC = "tracemalloc peak"


def _rss_measure(fill: Callable[[], Any], n: int) -> dict[str, Any]:
    gc.collect()
    gc.disable()
    rss0, anon0 = statm()
    hwm_reset = reset_hwm()
    hwm0 = vm_hwm()
    keep = fill()
    rss1, anon1 = statm()
    hwm1 = vm_hwm()
    gc.enable()
    base = rss0 if hwm_reset else max(rss0, hwm0)
    peak = max(hwm1 - base, rss1 - rss0)
    del keep
    return {
        "method": MEM_METHOD_RSS + ("" if hwm_reset else " (VmHWM could not be reset: peak is approximate)"),
        "entries": n,
        "peak_bytes": peak,
        "retained_bytes": anon1 - anon0,
        "peak_bytes_per_entry": peak / n,
        "retained_bytes_per_entry": (anon1 - anon0) / n,
    }


def _tracemalloc_measure(fill: Callable[[], Any], n: int) -> dict[str, Any]:
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    c0, _ = tracemalloc.get_traced_memory()
    keep = fill()
    c1, p1 = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del keep
    return {
        "method": MEM_METHOD_TRACEMALLOC,
        "entries": n,
        "peak_bytes": p1 - c0,
        "retained_bytes": c1 - c0,
        "peak_bytes_per_entry": (p1 - c0) / n,
        "retained_bytes_per_entry": (c1 - c0) / n,
    }


def mem_child(which: str, n: int, lcs_hashpower: int) -> dict[str, Any]:
    """Runs in a fresh interpreter: the keys exist before the baseline, so only the cache is measured."""
    keys = list(range(n))

    if which == "escache-replay":
        buf = array("q", keys)

        def fill() -> Any:
            c = escache.Cache(max_weight=n)
            r = c.replay(buf)
            assert r.misses == n and len(c) == n
            return c

        out = _rss_measure(fill, n)
        out["note"] = "filled by replay(array('q')); the peak includes replay's 8 B/request copy of the keys"
        return out

    if which == "escache-perop":

        def fill() -> Any:
            c = escache.Cache(max_weight=n)
            put = c.put
            for k in keys:
                put(k, True)
            assert len(c) == n
            return c

        out = _rss_measure(fill, n)
        out["note"] = "filled by put(int, True) from Python"
        return out

    if which in ("cachetools", "cachetools-rss"):

        def fill() -> Any:
            c = cachetools.LRUCache(maxsize=n)
            for k in keys:
                c[k] = True
            assert len(c) == n
            return c

        return _tracemalloc_measure(fill, n) if which == "cachetools" else _rss_measure(fill, n)

    if which == "cachebox":

        def fill() -> Any:
            c = cachebox.LRUCache(n)
            for k in keys:
                c[k] = True
            assert len(c) == n
            return c

        return _rss_measure(fill, n)

    if which == "moka":

        def fill() -> Any:
            c = moka_py.Moka(n, policy="lru")
            s = c.set
            for k in keys:
                s(k, True)
            c.run_pending_tasks()
            assert c.count() == n, c.count()
            return c

        return _rss_measure(fill, n)

    if which.startswith("libcachesim-"):
        hashpower = 24 if which == "libcachesim-default" else lcs_hashpower
        fd, path = tempfile.mkstemp(suffix=".oracleGeneral.bin")
        os.close(fd)
        try:
            write_oracle_general(array("q", keys), path)
            reader = lcs_reader(path)
            # Read the whole file once before the baseline, so that its mapped pages are not counted.
            libcachesim.LRU(1, hashpower=4).process_trace(reader)
            del keys[:]

            def fill() -> Any:
                c = libcachesim.LRU(n, hashpower=hashpower)
                miss, _ = c.process_trace(reader)
                assert c.get_n_obj() == n and lcs_hits(miss, n) == 0
                return c

            out = _rss_measure(fill, n)
            out["note"] = f"LRU(hashpower={hashpower}) filled by process_trace"
            if hashpower == 24:
                out["note"] += (
                    "; its 2^24-bucket table (128 MiB, zero pages until touched) dominates, "
                    "so bytes/entry falls as entries grow"
                )
            return out
        finally:
            os.unlink(path)

    raise SystemExit(f"unknown memory probe {which!r}")


def run_mem_child(which: str, n: int, lcs_hashpower: int) -> dict[str, Any]:
    cmd = [
        sys.executable,
        SCRIPT,
        "--_mem-child",
        which,
        "--mem-entries",
        str(n),
        "--lcs-hashpower",
        str(lcs_hashpower),
    ]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        return {"error": "timed out"}
    if p.returncode != 0:
        return {"error": (p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[-1]}
    result: dict[str, Any] = json.loads(p.stdout.strip().splitlines()[-1])
    return result


def measure_memory(rows: list[Row], args: argparse.Namespace) -> dict[str, Any] | None:
    """Probes the memory of each row's implementation in a fresh process and puts the figures on the
    rows; returns cachetools' RSS cross-check (None when cachetools is not installed)."""
    probes = [r.mem_key for r in rows if r.mem_key]
    if cachetools is not None:
        probes.append("cachetools-rss")
    mem: dict[str, dict[str, Any]] = {}
    for key in probes:
        print(f"measuring memory: {key} ({fmt_int(args.mem_entries)} entries, fresh process) ...", flush=True)
        mem[key] = run_mem_child(key, args.mem_entries, args.lcs_hashpower)
    for r in rows:
        if r.mem_key and r.mem_key in mem:
            r.mem = mem[r.mem_key]
            if "error" not in r.mem:
                r.bytes_per_entry = r.mem["peak_bytes_per_entry"]
            else:
                r.notes.append(f"memory probe failed: {r.mem['error']}")
    return mem.get("cachetools-rss")
