"""The trace: one Zipf trace from ``escache.zipf_trace``, and its copy as a libCacheSim oracleGeneral
file (written once, outside timing) with the reader libCacheSim replays it from."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from array import array
from dataclasses import dataclass
from typing import Any

import escache

from .peers import libcachesim, numpy
from .report import fmt_int

# oracleGeneral: libCacheSim's binary trace record, little-endian and packed:
#   uint32 clock_time, uint64 obj_id, uint32 obj_size, int64 next_access_vtime  (24 bytes)
ORACLE_GENERAL_RECORD = 24


def build_trace(args: argparse.Namespace) -> tuple[array[int], float]:
    """The Zipf trace of ``--keys``, ``--requests``, ``--alpha`` and ``--seed``, and the seconds it took."""
    t0 = time.perf_counter()
    trace = escache.zipf_trace(args.keys, args.requests, args.alpha, args.seed)
    t_trace = time.perf_counter() - t0
    print(
        f"trace: {fmt_int(len(trace))} requests, Zipf alpha={args.alpha} over {fmt_int(args.keys)} keys, "
        f"seed {args.seed} (built in {t_trace:.2f} s); every cache holds {fmt_int(args.capacity)} entries; "
        f"{args.runs} runs each, median"
    )
    return trace, t_trace


def write_oracle_general(trace: array[int], path: str) -> None:
    """Writes ``trace`` (key ranks) as an oracleGeneral trace: object id = rank + 1, size 1, time 0."""
    n = len(trace)
    if numpy is not None:
        rec = numpy.dtype([("t", "<u4"), ("id", "<u8"), ("size", "<u4"), ("next", "<i8")])
        assert rec.itemsize == ORACLE_GENERAL_RECORD
        step = 1 << 22
        with open(path, "wb") as f:
            for start in range(0, n, step):
                ids = numpy.frombuffer(trace, dtype=numpy.int64, count=min(step, n - start), offset=start * 8)
                out = numpy.zeros(len(ids), dtype=rec)
                out["id"] = ids + 1
                out["size"] = 1
                out["next"] = -1
                out.tofile(f)
    else:  # slow path; libcachesim depends on numpy, so this is rarely taken
        import struct

        pack = struct.Struct("<IQIq").pack
        with open(path, "wb") as f:
            for k in trace:
                f.write(pack(0, k + 1, 1, -1))
    if os.path.getsize(path) != n * ORACLE_GENERAL_RECORD:
        raise RuntimeError("oracleGeneral trace has the wrong size")


def lcs_reader(path: str) -> Any:
    return libcachesim.TraceReader(path, libcachesim.TraceType.ORACLE_GENERAL_TRACE)


def lcs_hits(miss_ratio: float, n: int) -> int:
    return n - round(miss_ratio * n)


@dataclass
class LcsTrace:
    """The trace as an oracleGeneral file in a temporary directory, and libCacheSim's reader of it."""

    tmpdir: str
    reader: Any
    convert_s: float

    def close(self) -> None:
        self.reader = None  # (not reader.close(): libcachesim 0.3.5 then frees the reader twice)
        shutil.rmtree(self.tmpdir)


def lcs_trace(trace: array[int]) -> LcsTrace:
    """Writes ``trace`` for libCacheSim (untimed) and opens it; checks libCacheSim reads every request."""
    tmpdir = tempfile.mkdtemp(prefix="escache-bench-")
    path = os.path.join(tmpdir, "trace.oracleGeneral.bin")
    t0 = time.perf_counter()
    write_oracle_general(trace, path)
    t_convert = time.perf_counter() - t0
    print(
        f"libcachesim: wrote the trace as oracleGeneral ({os.path.getsize(path) / 2**20:,.0f} MiB, "
        f"{t_convert:.2f} s, untimed)",
        flush=True,
    )
    reader = lcs_reader(path)
    if reader.n_total_req != len(trace):
        raise RuntimeError(f"libcachesim reads {reader.n_total_req} requests, expected {len(trace)}")
    return LcsTrace(tmpdir, reader, t_convert)
