"""The ``escache`` command line.

- ``escache run FILE`` runs a scenario file (TOML: cluster, settings, workloads, actions and faults)
  through the simulator and prints its report; ``--json`` and ``--trace`` write the report and the
  event trace, ``--plot DIR`` its plots as PNG files, and ``--explain ID`` says why credential ``ID``
  was accepted. ``FILE`` may be the name of a shipped scenario instead (a file of that name wins);
  ``--short`` runs the scenario's CI form (its ``[short]`` table), and ``escache run library`` runs
  every shipped scenario, one line each.
- ``escache scenarios`` lists the shipped scenarios (the scenario library): name, then the question
  each answers.
- ``escache demo`` runs the shipped scenario ``stale_window_missed_broadcast``: ten busy API keys are
  revoked while the clear-cache broadcast to one node is dropped, and that node keeps accepting them
  from its doc cache until the 5m doc cache TTL runs out.
- ``escache demo --auth-cache`` replays a Zipf-distributed stream of API key ids through one node's
  API key authentication cache, configured with Elasticsearch's defaults, in virtual time, and
  reports the hit ratio, evictions and the "possible thrashing" warnings Elasticsearch would log
  (rule R2.7 in docs/rules.md). Any of its workload flags (``--keys``, ``--requests``, ``--rate``, ``--alpha``,
  ``--max-keys``, ``--ttl``) selects it too.
- ``escache sweep FILE --grid KEY=A,B ... --seeds 20`` runs a scenario over a grid of values and
  seeds (``escache.sweep``) on a process pool or a Dask cluster and prints the mean ± standard
  deviation over seeds of each metric at each point; ``--out`` writes (and resumes) the runs as
  Parquet, ``--plot DIR`` draws each metric against the first grid key.
- ``escache audit-gen PATH`` writes a synthetic Elasticsearch audit log (``escache.audit.generate``)
  for replay workloads (``kind = "replay"``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import escache
from escache import audit
from escache.errors import EscacheError
from escache.report import SimulationReport
from escache.simulation import (
    ProgressBar,
    _clock,
    _is_file,
    _nanos,
    _read_scenario,
    _with_replay_paths,
    format_report,
    load_scenario,
    scenario_names,
    scenario_path,
    scenario_question,
)

DEMO_SCENARIO = "stale_window_missed_broadcast"

# The auth-cache demo's workload flags and their defaults (any of them selects that demo).
AUTH_CACHE_DEFAULTS = {
    "keys": 1_000_000,
    "requests": 10_000_000,
    "rate": 2_000.0,
    "alpha": 1.0,
    "max_keys": 25_000,
    "ttl": "24h",
}

WARNING_TEXT = (
    "Possible thrashing for API key authentication cache, [{n}] eviction due to cache size within last [300] seconds"
)


def _auth_cache_demo(args: argparse.Namespace) -> int:
    for name, default in AUTH_CACHE_DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, default)
    if args.seed is None:
        args.seed = 0
    if args.rate <= 0:
        raise escache.IllegalArgumentError(f"--rate must be positive, got [{args.rate}]")
    if args.requests < 0:
        raise escache.IllegalArgumentError(f"--requests must not be negative, got [{args.requests}]")
    trace = escache.zipf_trace(args.keys, args.requests, args.alpha, args.seed)
    interval = 1.0 / args.rate
    report = escache.replay_api_key_auth_cache(trace, interval=interval, max_keys=args.max_keys, ttl=args.ttl)
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
        f"            {args.rate:,.0f}/s for {_clock(report['elapsed'])} of virtual time (seed {args.seed})\n\n"
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
        w(f"\n  first WARN at {_clock(at)}:\n    {WARNING_TEXT.format(n=n)}\n")
    return 0


# ---- scenarios -------------------------------------------------------------------------------------


def _show_progress(args: argparse.Namespace) -> bool:
    if args.progress is not None:
        return bool(args.progress)
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _run_loaded(cluster: Any, sim: Any, duration: Any, *, label: str, progress: bool) -> SimulationReport:
    report: SimulationReport
    if not progress:
        report = sim.run(duration)
        return report
    total = _nanos(duration, "simulation.duration") / 1e9
    bar = ProgressBar(sys.stderr, total, label, requests=lambda: sim.report().requests)
    report = sim.run(duration, progress=bar, steps=100)
    return report


def _open_output(path: str, what: str) -> TextIO | None:
    """Opens an output file before the run, so that a bad path fails early; ``-`` is stdout."""
    if path == "-":
        return None
    try:
        return open(path, "w", encoding="utf-8", newline="\n")  # closed by the caller
    except OSError as e:
        raise escache.IllegalArgumentError(f"cannot write the {what} to [{path}]: {e.strerror or e}") from None


def _report_document(report: SimulationReport, meta: dict[str, Any], source: str, seed: int) -> dict[str, Any]:
    return {
        "scenario": {"name": meta.get("name"), "file": source, "seed": seed},
        **report.to_dict(),
    }


def _finish_run(
    cluster: Any,
    sim: Any,
    report: SimulationReport,
    meta: dict[str, Any],
    source: str,
    json_out: TextIO | None,
    json_path: str | None,
    trace_out: TextIO | None,
    trace_path: str | None,
    title: str,
) -> int:
    document = _report_document(report, meta, source, sim.seed)
    if json_path == "-":
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif trace_path == "-":
        cluster.events.to_jsonl(sys.stdout)
    else:
        sys.stdout.write(format_report(report, title=title, description=meta.get("description")))
        sys.stdout.write(f"\nseed {sim.seed}; {len(cluster.events):,} trace events\n")
    if json_out is not None:
        with json_out:
            json.dump(document, json_out, indent=2)
            json_out.write("\n")
    if trace_out is not None:
        with trace_out:
            cluster.events.to_jsonl(trace_out)
    return 0


def _resolve(source: str) -> tuple[dict[str, Any], str]:
    """``escache run``'s FILE: a scenario file, else the name of a shipped scenario (the file wins
    if both exist). Returns the scenario as read and where it came from."""
    # A replay's log is read beside the scenario that names it (`_with_replay_paths`).
    if _is_file(source):
        return _with_replay_paths(_read_scenario(Path(source)), Path(source).resolve().parent), source
    names = scenario_names()
    name = source[: -len(".toml")] if source.endswith(".toml") else source
    if name in names and os.sep not in source and "/" not in source:
        resource = scenario_path(name)
        base = os.path.dirname(os.fspath(resource)) if isinstance(resource, os.PathLike) else None
        doc = _read_scenario(resource.read_text(encoding="utf-8"))
        return _with_replay_paths(doc, base), f"escache/scenarios/{name}.toml"
    try:
        return _with_replay_paths(_read_scenario(Path(source)), Path(source).resolve().parent), source
    except escache.IllegalArgumentError as e:
        raise escache.IllegalArgumentError(
            f"{e}; and escache ships no scenario of that name (`escache scenarios` lists them)"
        ) from None


def _run_library(args: argparse.Namespace) -> int:
    """``escache run library``: every shipped scenario (in its CI form with ``--short``), one line each."""
    w = sys.stdout.write
    for name in scenario_names():
        meta, _ = _resolve(name)
        _, sim, duration = load_scenario(meta, seed=args.seed, short=args.short)
        started = time.monotonic()
        r = sim.run(duration)
        a = r.to_dict()["authentications"]
        w(
            f"{name:<32} {_clock(r.virtual_seconds):>8} virtual  {r.requests:>9,} requests  "
            f"401 {a['401']:,}  429 {a['429']:,}  stale {r.stale_acceptances:,}  "
            f"verifications {sum(n.hash_verifications for n in r.nodes.values()):,}  "
            f"({time.monotonic() - started:.1f}s)\n"
        )
    return 0


def _scenarios(args: argparse.Namespace) -> int:
    """``escache scenarios``: the shipped scenarios, one line each, name first."""
    names = scenario_names()
    width = max(len(n) for n in names)
    for name in names:
        sys.stdout.write(f"{name:<{width}}  — {scenario_question(name)}\n")
    return 0


def _run(args: argparse.Namespace) -> int:
    if args.file == "library" and not _is_file(args.file):
        return _run_library(args)
    meta, source = _resolve(args.file)
    if args.plot is not None:
        _check_plotting()
    if args.trace == "-" and args.json == "-":
        raise escache.IllegalArgumentError("--json - and --trace - cannot both write to stdout")
    cluster, sim, duration = load_scenario(meta, seed=args.seed, short=args.short)
    # Outputs are opened once the scenario is known to be good, and before the run, so that a bad
    # path fails early and a bad scenario leaves no empty files behind.
    json_out = _open_output(args.json, "report") if args.json else None
    try:
        trace_out = _open_output(args.trace, "trace") if args.trace else None
    except BaseException:
        if json_out is not None:
            json_out.close()
        raise
    try:
        report = _run_loaded(cluster, sim, duration, label=Path(source).name, progress=_show_progress(args))
    except BaseException:
        for f in (json_out, trace_out):
            if f is not None:
                f.close()
        raise
    name = meta.get("name") if isinstance(meta.get("name"), str) else Path(source).stem
    # A scenario without [short] is its own short form: say so rather than claim a smaller run.
    form = " (short form)" if "short" in meta else " (no [short] table: the full scenario)"
    title = f"escache run: {name}" + (form if args.short else "")
    status = _finish_run(cluster, sim, report, meta, source, json_out, args.json, trace_out, args.trace, title)
    # What is printed goes to stdout unless stdout carries the JSON report or the trace.
    out = sys.stderr if "-" in (args.json, args.trace) else sys.stdout
    for credential in args.explain:
        out.write(f"\nWhy was {credential} accepted?\n")
        out.write("".join(f"  {line}\n" for line in report.explain(credential).lines()))
    if args.plot is not None:
        written = report.plot.save(args.plot)
        out.write(f"\nplots: {', '.join(str(p) for p in written)}\n")
    return status


def _check_plotting() -> None:
    """``--plot`` needs matplotlib: checked before the run, so that a missing one fails early."""
    try:
        import matplotlib  # noqa: PLC0415 - optional dependency
    except ImportError:
        raise escache.MissingDependencyError(
            "--plot needs matplotlib, which is not installed: pip install 'escache[plot]'"
        ) from None
    matplotlib.use("Agg")  # files only: no window, no display needed


def _demo(args: argparse.Namespace) -> int:
    auth_flags = [name for name in AUTH_CACHE_DEFAULTS if getattr(args, name) is not None]
    if args.auth_cache or auth_flags:
        return _auth_cache_demo(args)
    resource = scenario_path(DEMO_SCENARIO)
    text = resource.read_text(encoding="utf-8")
    meta = tomllib.loads(text)
    cluster, sim, duration = load_scenario(meta, seed=args.seed)
    report = _run_loaded(cluster, sim, duration, label="demo", progress=_show_progress(args))
    json_path = "-" if args.json else None
    return _finish_run(
        cluster,
        sim,
        report,
        meta,
        f"escache/scenarios/{DEMO_SCENARIO}.toml",
        None,
        json_path,
        None,
        None,
        f"escache demo: {DEMO_SCENARIO}",
    )


def _serve(args: argparse.Namespace) -> int:
    settings = {}
    for item in args.setting:
        name, sep, value = item.partition("=")
        if not sep:
            raise escache.IllegalArgumentError(f"--setting takes NAME=VALUE, got [{item}]")
        settings[name] = value
    # The trace is off unless asked for: on, it grows with every request for as long as the server runs.
    cluster = escache.Cluster(
        args.nodes,
        seed=args.seed,
        password=args.password,
        settings=settings,
        trace=args.trace,
        es_version=args.es_version,
    )
    try:
        srv = escache.serve(cluster, host=args.host, port=args.port, tls=args.tls, clock=args.clock)
    except OSError as e:  # a port in use, or an address this machine does not have
        sys.stderr.write(f"escache: {e}\n")
        return 2
    with srv:
        lines = [f"escache: cluster [{cluster.name}] with {args.nodes} nodes, Elasticsearch {cluster.es_version}"]
        lines += [f"  {node.name}: {url}" for node, url in zip(cluster.nodes, srv.urls, strict=True)]
        if srv.ca_certs is not None:
            lines.append(f"  CA certificate (ca_certs): {srv.ca_certs}")
            lines.append(f"  CA SHA-256 fingerprint (ssl_assert_fingerprint): {srv.ca_fingerprint}")
        # The default password is public; one given on the command line is not echoed.
        shown = args.password if args.password == "changeme" else "(the --password given)"
        lines.append(f"  credentials: elastic / {shown}")
        if args.clock == "virtual":
            lines.append("  POST /_escache/advance?by=5m (as elastic) moves virtual time; Ctrl-C stops")
        else:
            lines.append(f"  time follows the wall clock ({args.clock}); Ctrl-C stops")
        sys.stderr.write("\n".join(lines) + "\n")
        sys.stderr.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


# ---- sweeps -------------------------------------------------------------------------------------------

# Short column titles for the default metrics in the summary table.
SWEEP_LABELS = {
    "requests": "requests",
    "authentications.success": "success",
    "authentications.unauthorized": "401",
    "authentications.too_busy": "429",
    "stale_acceptances": "stale",
    "longest_stale_window_seconds": "longest stale (s)",
    "hit_ratio.api_key_auth": "auth hit ratio",
    "latency_ms.p99": "p99 (ms)",
}


def _split_values(text: str) -> list[str]:
    """``a,b,[1, 2],"x,y"``: split at the commas outside brackets, braces and quotes."""
    parts, depth, quote, current = [], 0, "", ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += ch
    parts.append(current)
    return [p.strip() for p in parts]


def _toml_value(text: str) -> Any:
    """A TOML value (``100`` an int, ``0.5`` a float, ``true``, ``"x"``), or else the text itself
    (``5m`` stays the string ``"5m"``)."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _grid(items: Sequence[str]) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not key.strip() or not values.strip():
            raise escache.IllegalArgumentError(f"--grid takes KEY=A,B,..., got [{item}]")
        if key.strip() in grid:
            raise escache.IllegalArgumentError(f"--grid [{key.strip()}] given twice")
        grid[key.strip()] = [_toml_value(v) for v in _split_values(values)]
    return grid


def _seed_list(text: str) -> list[int]:
    """``20`` (seeds 0 to 19), ``5..10`` (5 to 9) or ``1,4,9``."""
    try:
        if ".." in text:
            lo, hi = text.split("..", 1)
            return list(range(int(lo), int(hi)))
        if "," in text:
            return [int(s) for s in text.split(",")]
        return list(range(int(text)))
    except ValueError:
        raise escache.IllegalArgumentError(
            f"--seeds takes a count (20), a range (0..20) or a list (1,4,9), got [{text}]"
        ) from None


def _summary(df: Any, keys: Sequence[str], metrics: Sequence[str]) -> str:
    """The mean ± standard deviation over seeds of each metric, one row per point."""
    header = [*keys, "runs", "failed", *(SWEEP_LABELS.get(m, m) for m in metrics)]
    rows = []
    groups = df.groupby(list(keys), sort=False, dropna=False) if keys else [((), df)]
    for name, group in groups:
        values = name if isinstance(name, tuple) else (name,)
        ok = group[group["error"].isna()]
        cells = [str(v) for v in values] + [str(len(group)), str(len(group) - len(ok))]
        for m in metrics:
            column = ok[m].dropna().astype(float)
            if column.empty:
                cells.append("-")
                continue
            mean, std = column.mean(), column.std(ddof=1) if len(column) > 1 else 0.0
            integral = bool((column == column.round()).all())
            digits = 0 if abs(mean) >= 100 else 1 if abs(mean) >= 10 or integral else 3
            cells.append(f"{mean:,.{digits}f} ± {std:,.{digits}f}")
        rows.append(cells)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            c.rjust(w) if i >= len(keys) else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in [header, *rows]
    ]
    return "\n".join(lines) + "\n"


def _sweep(args: argparse.Namespace) -> int:
    from escache.sweep import DEFAULT_METRICS, _scenario_dict  # noqa: PLC0415 - pandas loads with the sweep

    grid = _grid(args.grid)
    seeds = _seed_list(args.seeds)
    metrics = args.metric or list(DEFAULT_METRICS)
    if args.plot is not None:
        _check_plotting()
        if not grid:
            raise escache.IllegalArgumentError("--plot draws the metrics against the first --grid key: give one")
    doc = _scenario_dict(args.file)
    executor: Any = None
    client: Any = None
    with contextlib.ExitStack() as stack:
        if args.dask is not None:
            try:
                import distributed  # noqa: PLC0415 - optional dependency
            except ImportError:
                raise escache.MissingDependencyError(
                    "--dask needs dask.distributed: pip install 'escache[dask]'"
                ) from None
            dask: Any = distributed  # partly typed: its constructors are untyped
            if args.dask == "local":
                cluster = stack.enter_context(
                    dask.LocalCluster(
                        n_workers=args.workers or os.cpu_count() or 1, threads_per_worker=1, dashboard_address=None
                    )
                )
                client = stack.enter_context(dask.Client(cluster))
            else:
                client = stack.enter_context(dask.Client(args.dask))
            executor = client
        started = time.monotonic()
        df = escache.sweep(
            doc,
            grid,
            seeds=seeds,
            metrics=metrics,
            executor=executor,
            workers=args.workers,
            progress=_show_progress(args),
            out=args.out,
        )
        wall = time.monotonic() - started
    name = doc.get("name") if isinstance(doc.get("name"), str) else Path(args.file).stem
    points = len(df) // len(seeds)
    where = f"Dask at {args.dask}" if args.dask else f"{args.workers or os.cpu_count() or 1} processes"
    out = sys.stdout
    out.write(f"escache sweep: {name}: {points} points x {len(seeds)} seeds = {len(df)} runs ({where}, {wall:.1f} s)\n")
    out.write("mean ± standard deviation over seeds\n\n")
    out.write(_summary(df, list(grid), metrics))
    failed = df[df["error"].notna()]
    if len(failed):
        out.write(f"\n{len(failed)} runs failed; the first: seed {failed.iloc[0]['seed']}: {failed.iloc[0]['error']}\n")
    if args.out:
        out.write(f"\nruns: {args.out}\n")
    if args.plot is not None:
        written = _sweep_plots(df, list(grid), metrics, Path(args.plot))
        out.write(f"plots: {', '.join(str(p) for p in written)}\n")
    return 0


def _sweep_plots(df: Any, keys: list[str], metrics: Sequence[str], directory: Path) -> list[Path]:
    import matplotlib.pyplot as plt  # noqa: PLC0415 - optional dependency, checked before the sweep

    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise escache.IllegalArgumentError(f"cannot write plots to [{directory}]: {e.strerror or e}") from None
    written = []
    for m in metrics:
        ax = escache.sweep_plot(df, x=keys[0], y=m, hue=keys[1:] or None)
        path = directory / f"{m.replace('/', '_')}.png"
        try:
            ax.figure.savefig(path, dpi=100)
        finally:
            plt.close(ax.figure)
        written.append(path)
    return written


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="escache", description="Elasticsearch's security credential caches, simulated in virtual time."
    )
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run a scenario file (TOML) through the simulator and print its report")
    r.add_argument(
        "file",
        metavar="FILE|NAME",
        help="the scenario file (see examples/), or the name of a shipped scenario (`escache scenarios`); "
        "`library` runs every shipped scenario",
    )
    r.add_argument(
        "--short",
        action="store_true",
        help="run the scenario's CI form: its [short] table laid over it (docs/scenarios.md)",
    )
    r.add_argument("--seed", type=int, default=None, help="replace the scenario's seeds (cluster and simulation)")
    r.add_argument(
        "--json", metavar="REPORT.json", help="write the report as JSON ('-': print it instead of the text report)"
    )
    r.add_argument("--trace", metavar="TRACE.jsonl", help="write the event trace as JSON lines ('-': to stdout)")
    r.add_argument(
        "--plot",
        metavar="DIR",
        help="write the report's plots as PNG files into DIR (stale acceptances, hit ratios, crypto pools, "
        "latency; needs escache[plot])",
    )
    r.add_argument(
        "--explain",
        metavar="ID",
        action="append",
        default=[],
        help="explain why credential ID (an API key id or qualified token name) was accepted: its first stale "
        "acceptance, or its last acceptance (repeatable)",
    )
    progress = r.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="show a progress bar on stderr (default: when stderr is a terminal)",
    )
    progress.add_argument("--no-progress", dest="progress", action="store_false", help="never show the progress bar")
    r.set_defaults(run=_run)

    sc = sub.add_parser("scenarios", help="list the shipped scenarios (the scenario library), one line each")
    sc.set_defaults(run=_scenarios)

    sv = sub.add_parser("serve", help="serve a cluster over HTTP (loopback by default) for tooling in any language")
    sv.add_argument("--nodes", type=int, default=3, help="number of nodes (default 3)")
    sv.add_argument("--seed", type=int, default=0, help="cluster seed (default 0)")
    sv.add_argument("--password", default="changeme", help="the elastic user's password (default changeme)")
    sv.add_argument(
        "--setting", action="append", default=[], metavar="NAME=VALUE", help="an Elasticsearch setting (repeatable)"
    )
    sv.add_argument(
        "--es-version",
        default=None,
        metavar="VERSION",
        help="the Elasticsearch version to behave as: 7.17, 8.19 or 9.1 (default: the newest)",
    )
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sv.add_argument(
        "--port",
        type=int,
        default=9200,
        help="first port: node i listens on PORT + i (default 9200; 0 picks a free one for each)",
    )
    sv.add_argument(
        "--trace", action="store_true", help="record the event trace (off by default: it grows with every request)"
    )
    sv.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a CA and a certificate made at start (the CA file is printed)",
    )
    sv.add_argument(
        "--clock",
        default="virtual",
        metavar="virtual|realtime[:SPEED]",
        help="virtual time moved only by /_escache/advance (default), or following the wall clock SPEED times as fast",
    )
    sv.set_defaults(run=_serve)

    d = sub.add_parser(
        "demo",
        help="run the shipped stale-window scenario (or, with --auth-cache, replay traffic through an auth cache)",
    )
    d.add_argument(
        "--auth-cache",
        action="store_true",
        help="the auth-cache replay demo instead of the scenario (any of the flags below selects it too)",
    )
    d.add_argument("--seed", type=int, default=None, help="the seed (default: the scenario's; 0 for --auth-cache)")
    d.add_argument("--json", action="store_true", help="print the report as JSON")
    dp = d.add_mutually_exclusive_group()
    dp.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="show a progress bar on stderr (default: when stderr is a terminal)",
    )
    dp.add_argument("--no-progress", dest="progress", action="store_false", help="never show the progress bar")
    g = d.add_argument_group("auth-cache demo")
    g.add_argument("--keys", type=int, default=None, help="distinct API key ids (default 1,000,000)")
    g.add_argument("--requests", type=int, default=None, help="authentications (default 10,000,000)")
    g.add_argument("--rate", type=float, default=None, help="authentications per virtual second (default 2,000)")
    g.add_argument("--alpha", type=float, default=None, help="Zipf exponent (default 1.0)")
    g.add_argument(
        "--max-keys", type=int, default=None, help="xpack.security.authc.api_key.cache.max_keys (default 25,000)"
    )
    g.add_argument("--ttl", default=None, help="xpack.security.authc.api_key.cache.ttl (default 24h)")
    d.set_defaults(run=_demo)

    sw = sub.add_parser("sweep", help="run a scenario over a grid of values and seeds, and summarise each point")
    sw.add_argument("file", metavar="FILE_OR_NAME", help="the scenario file, or the name of a shipped scenario")
    sw.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=A,B",
        help="a grid key (settings.<name>, cluster.nodes, simulation.duration, workloads.<name>.<field>, "
        "actions.<index>.<field>) and its values as TOML (5m stays a string, 100 is a number); repeatable: "
        "the runs are the cartesian product",
    )
    sw.add_argument(
        "--seeds", default="1", help="a count (20: seeds 0 to 19), a range (5..10: 5 to 9) or a list (1,4,9); default 1"
    )
    sw.add_argument(
        "--workers", type=int, default=None, help="processes (or Dask workers with --dask local); default every core"
    )
    sw.add_argument(
        "--dask",
        metavar="ADDRESS",
        default=None,
        help="run on the Dask scheduler at ADDRESS (tcp://host:8786), or 'local' to start one",
    )
    sw.add_argument(
        "--metric",
        action="append",
        default=[],
        metavar="M",
        help="a report figure by dotted path (nodes.node-2.stale_acceptances, hit_ratio.api_key_doc); repeatable; "
        "default: requests, outcomes, stale acceptances and window, auth cache hit ratio, p99 latency",
    )
    sw.add_argument(
        "--out", metavar="RUNS.parquet", default=None, help="write every run as Parquet as they finish; resume from it"
    )
    sw.add_argument(
        "--plot",
        metavar="DIR",
        default=None,
        help="write each metric against the first grid key as PNG into DIR (needs escache[plot])",
    )
    swp = sw.add_mutually_exclusive_group()
    swp.add_argument(
        "--progress", dest="progress", action="store_true", default=None, help="show a progress bar on stderr"
    )
    swp.add_argument("--no-progress", dest="progress", action="store_false", help="never show the progress bar")
    sw.set_defaults(run=_sweep)
    a = sub.add_parser(
        "audit-gen",
        help='write a synthetic Elasticsearch audit log (JSON lines) to replay with kind = "replay"',
    )
    a.add_argument("path", metavar="PATH", help="the file to write (for example escache_audit.json)")
    a.add_argument("--nodes", type=int, default=3, help="nodes, named es-0, es-1, ... (default 3)")
    a.add_argument("--api-keys", type=int, default=10, help="distinct API keys (default 10)")
    a.add_argument("--service-tokens", type=int, default=0, help="distinct service account tokens (default 0)")
    a.add_argument("--rate", type=float, default=10.0, help="authentications per second (default 10)")
    a.add_argument("--duration", default="60s", help="how long the log spans: a time value or seconds (default 60s)")
    a.add_argument("--seed", type=int, default=0, help="the seed: the same arguments write the same bytes")
    a.add_argument("--failure-share", type=float, default=0.0, help="share of failed authentications (default 0)")
    a.add_argument("--start", default="2026-01-01T00:00:00Z", help="the first instant, ISO-8601")
    a.set_defaults(run=_audit_gen)
    return p


def _audit_gen(args: argparse.Namespace) -> int:
    duration: Any = args.duration
    with contextlib.suppress(ValueError):
        duration = float(duration)  # a bare number is seconds
    counts = audit.generate(
        args.path,
        nodes=args.nodes,
        api_keys=args.api_keys,
        service_tokens=args.service_tokens,
        rate=args.rate,
        duration=duration,
        seed=args.seed,
        failure_share=args.failure_share,
        start=args.start,
    )
    sys.stdout.write(
        f"escache audit-gen: wrote {args.path}: {counts['authentications']:,} authentications "
        f"({counts['successes']:,} successes, {counts['failures']:,} failures) in {counts['lines']:,} lines\n"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        status: int = args.run(args)
        return status
    except EscacheError as e:
        sys.stderr.write(f"escache: {e}\n")
        return 2
    except BrokenPipeError:
        # `escache run x.toml --trace - | head`: the reader went away.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stays open until the process exits
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
