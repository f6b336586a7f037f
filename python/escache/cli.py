"""The ``escache`` command line.

``escache demo`` replays a Zipf-distributed stream of API key ids through one node's API key
authentication cache, configured with Elasticsearch's defaults, in virtual time, and reports the hit
ratio, evictions and the "possible thrashing" warnings Elasticsearch would log (spec rule R2.7).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import escache
from escache.errors import EscacheError

WARNING_TEXT = (
    "Possible thrashing for API key authentication cache, [{n}] eviction due to cache size "
    "within last [300] seconds"
)


def _fmt_duration(seconds: float) -> str:
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}h{m:02d}m{sec:02d}s" if h else f"{m}m{sec:02d}s"


def _demo(args: argparse.Namespace) -> int:
    if args.rate <= 0:
        raise escache.IllegalArgumentError(f"--rate must be positive, got [{args.rate}]")
    if args.requests < 0:
        raise escache.IllegalArgumentError(f"--requests must not be negative, got [{args.requests}]")
    trace = escache.zipf_trace(args.keys, args.requests, args.alpha, args.seed)
    interval = 1.0 / args.rate
    report = escache.replay_api_key_auth_cache(
        trace, interval=interval, max_keys=args.max_keys, ttl=args.ttl
    )
    requests = report["requests"]
    hit_ratio = report["hits"] / requests if requests else 0.0
    windows = max(1, int(report["elapsed"] // 300))
    warnings = report["warnings"]
    summary = {
        "settings": {
            "xpack.security.authc.api_key.cache.max_keys": args.max_keys,
            "xpack.security.authc.api_key.cache.ttl": args.ttl,
        },
        "workload": {
            "requests": requests,
            "distinct_api_keys": args.keys,
            "popularity": f"zipf(alpha={args.alpha})",
            "rate_per_second": args.rate,
            "seed": args.seed,
            "virtual_seconds": report["elapsed"],
        },
        "hits": report["hits"],
        "misses": report["misses"],
        "hit_ratio": hit_ratio,
        "evictions": report["evictions"],
        "size_limit_evictions": report["size_evictions"],
        "thrashing_warnings": len(warnings),
        "thrashing_warnings_per_hour": len(warnings) / (report["elapsed"] / 3600) if report["elapsed"] else 0.0,
        "final_cache_count": report["final_count"],
        "cache_enabled": report["cache_enabled"],
    }
    if args.json:
        json.dump(summary, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0

    w = sys.stdout.write
    w("escache demo: one node's API key authentication cache, in virtual time\n\n")
    w("  setting                                        value\n")
    w(f"  xpack.security.authc.api_key.cache.max_keys    {args.max_keys:,}\n")
    w(f"  xpack.security.authc.api_key.cache.ttl         {args.ttl} (expire after access)\n\n")
    w(
        f"  workload: {requests:,} authentications, Zipf(alpha={args.alpha}) over {args.keys:,} API key ids,\n"
        f"            {args.rate:,.0f}/s for {_fmt_duration(report['elapsed'])} of virtual time (seed {args.seed})\n\n"
    )
    if not report["cache_enabled"]:
        w("  the cache is disabled (ttl <= 0): every authentication verifies the key's hash\n")
        return 0
    rows = [
        ("hits", f"{report['hits']:,}"),
        ("misses (hash verifications)", f"{report['misses']:,}"),
        ("hit ratio", f"{hit_ratio:.4f}"),
        ("evictions", f"{report['evictions']:,}"),
        ("evictions at the size limit (TRACE)", f"{report['size_evictions']:,}"),
        ("thrashing WARNs", f"{len(warnings)} in {windows} five-minute windows"),
        ("entries cached at the end", f"{report['final_count']:,}"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        w(f"  {name:<{width}}  {value:>s}\n")
    if warnings:
        at, n = warnings[0]
        w(f"\n  first WARN at {_fmt_duration(at)}:\n    {WARNING_TEXT.format(n=n)}\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="escache", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="replay API key traffic through an auth cache with Elasticsearch's defaults")
    d.add_argument("--keys", type=int, default=1_000_000, help="distinct API key ids (default 1,000,000)")
    d.add_argument("--requests", type=int, default=10_000_000, help="authentications (default 10,000,000)")
    d.add_argument("--rate", type=float, default=2_000.0, help="authentications per virtual second (default 2,000)")
    d.add_argument("--alpha", type=float, default=1.0, help="Zipf exponent (default 1.0)")
    d.add_argument("--seed", type=int, default=0, help="workload seed (default 0)")
    d.add_argument("--max-keys", type=int, default=25_000, help="xpack.security.authc.api_key.cache.max_keys")
    d.add_argument("--ttl", default="24h", help="xpack.security.authc.api_key.cache.ttl")
    d.add_argument("--json", action="store_true", help="print the report as JSON")
    d.set_defaults(run=_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except EscacheError as e:
        sys.stderr.write(f"escache: {e}\n")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
