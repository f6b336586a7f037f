"""Sweeps: one scenario over a grid of parameters and seeds, on local cores or a Dask or Ray cluster.

::

    import escache
    df = escache.sweep(
        "stale_window_missed_broadcast",
        grid={"settings.xpack.security.authc.api_key.doc_cache.ttl": ["1m", "5m", "15m"],
              "workloads.agents.rate": [30, 60]},
        seeds=range(20),
    )
    df.groupby("settings.xpack.security.authc.api_key.doc_cache.ttl")["longest_stale_window_seconds"].mean()

**Grid keys** are dotted paths into the scenario (the tables of ``docs/scenarios.md``):

- ``settings.<setting name>``: the rest of the key is the setting's name, dots included;
- ``cluster.<field>`` (``cluster.nodes``) and ``simulation.<field>`` (``simulation.duration``);
- ``workloads.<name or index>.<field>``: a workload by its ``name`` or its index from 0;
- ``actions.<index>.<field>``: an action by its index from 0 (actions have no name: ``action`` is
  what they do);
- deeper keys walk into tables (``workloads.agents.popularity.zipf``).

A key whose table, workload, action or field does not exist is refused with an
:class:`escache.IllegalArgumentError` that names the key and what exists there, before anything runs;
every point is also read by the core (``escache.load_scenario``) in the calling process, so a bad
value is refused naming its point.

**Each run** is :func:`run_point` ``(scenario, point, seed, metrics)``: a module-level, picklable,
pure function that returns a small record. The same scenario, point and seed give the same record
whatever ran it (the simulator is deterministic), so any ``concurrent.futures.Executor`` works. The
runs record no event trace (``cluster.trace = false``) unless the grid sets ``cluster.trace``: the
trace changes no figure of the report, and costs half the run time.

**The result** is a pandas ``DataFrame``, one row per point and seed, in point order then seed order
whatever order the runs finished in: the grid keys, ``seed``, the metrics, ``wall_time_s`` (the
run's wall time in its worker: load and run), and ``error`` (``None``, or ``"ExceptionType:
message"`` for a run that failed; the sweep goes on and its metrics are missing).

**Metrics** are dotted paths into the typed report (:class:`escache.report.SimulationReport`), by
attribute or JSON key: ``stale_acceptances``, ``nodes.node-2.stale_acceptances``,
``nodes.node-0.caches.api_key_doc.hit_ratio``, ``authentications.too_busy`` (or ``authentications.429``),
``latency_ms.p99``; and ``hit_ratio.<cache>``, the hit ratio of one cache over every node (hits over
lookups, ``None`` before the first lookup). They are checked against the first point's report
before anything runs. The default set is :data:`DEFAULT_METRICS`.

**Resuming:** with ``out="sweep.parquet"`` the rows are written to that Parquet file (one row per run,
the columns above) as they finish: rewritten whole, through a temporary file and a rename, at most
every :data:`FLUSH_SECONDS` and at the end. A sweep started with an ``out`` that exists loads its rows
and runs only the (point, seed) pairs that have no row there without an error; rows of other points
or seeds stay in the file. A file written with other columns is refused.
"""

from __future__ import annotations

import concurrent.futures
import copy
import itertools
import json
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from escache.errors import IllegalArgumentError, MissingDependencyError
from escache.simulation import _is_file, _read_scenario, load_scenario, scenario_names, scenario_path

__all__ = ["DEFAULT_METRICS", "FLUSH_SECONDS", "resolve_metric", "run_point", "sweep"]

#: The metrics a sweep records when ``metrics`` is not given: requests, outcomes, stale acceptances,
#: the longest stale window, the API key auth cache's hit ratio over all nodes and the p99 latency.
DEFAULT_METRICS: tuple[str, ...] = (
    "requests",
    "authentications.success",
    "authentications.unauthorized",
    "authentications.too_busy",
    "stale_acceptances",
    "longest_stale_window_seconds",
    "hit_ratio.api_key_auth",
    "latency_ms.p99",
)

#: ``out`` is rewritten at most this often (seconds of wall time), and once at the end.
FLUSH_SECONDS = 1.0

_TABLES = ("cluster", "settings", "simulation", "workloads", "actions")


# ---- grid keys -----------------------------------------------------------------------------------


def _locate(doc: dict[str, Any], key: str) -> tuple[dict[str, Any], str]:
    """The table that holds ``key``'s field in the scenario ``doc`` (made where the scenario leaves
    an optional table out) and the field's name; refuses a key whose table, workload or action does
    not exist, naming what exists there."""
    if not isinstance(key, str) or not key:
        raise IllegalArgumentError(f"a grid key is a dotted path (a string), got [{key!r}]")
    head, _, rest = key.partition(".")
    if head not in _TABLES:
        raise IllegalArgumentError(
            f"grid key [{key}]: the scenario has no table [{head}]; grid keys start with one of {list(_TABLES)}"
        )
    if not rest:
        raise IllegalArgumentError(
            f"grid key [{key}] names the whole [{head}] table: name a field in it ([{head}.<field>])"
        )
    if head == "settings":
        return doc.setdefault("settings", {}), rest
    if head in ("cluster", "simulation"):
        table: dict[str, Any] = doc.setdefault(head, {})
        parts = rest.split(".")
    else:
        entries: list[dict[str, Any]] = doc.get(head, [])
        selector, _, field = rest.partition(".")
        index = _entry_index(entries, head, selector, key)
        if not field:
            raise IllegalArgumentError(
                f"grid key [{key}] names a whole entry of [{head}]: name a field in it ([{key}.<field>])"
            )
        table = entries[index]
        parts = field.split(".")
    for i, part in enumerate(parts[:-1]):
        inner = table.get(part)
        if not isinstance(inner, dict):
            where = ".".join(parts[: i + 1])
            raise IllegalArgumentError(
                f"grid key [{key}]: [{where}] is not a table in the scenario (it is {json.dumps(inner)}); "
                f"the fields there are {sorted(table)}"
            )
        table = inner
    return table, parts[-1]


def _entry_index(entries: list[dict[str, Any]], head: str, selector: str, key: str) -> int:
    names = [e.get("name") for e in entries] if head == "workloads" else []
    if selector in names:
        return names.index(selector)
    if selector.isdigit() and int(selector) < len(entries):
        return int(selector)
    if head == "workloads":
        there = f"workloads {names} (or indexes 0 to {len(entries) - 1})" if entries else "no workloads"
    else:
        there = f"actions at indexes 0 to {len(entries) - 1} (actions have no names)" if entries else "no actions"
    raise IllegalArgumentError(f"grid key [{key}]: the scenario has no {head[:-1]} [{selector}]; it has {there}")


def _apply(doc: Mapping[str, Any], point: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the scenario ``doc`` with the point's values set (and no event trace unless the
    point sets ``cluster.trace``)."""
    out: dict[str, Any] = copy.deepcopy(dict(doc))
    out.setdefault("cluster", {})["trace"] = False
    for key, value in point.items():
        table, field = _locate(out, key)
        table[field] = value
    return out


def _check_keys(doc: Mapping[str, Any], keys: Sequence[str], points: Sequence[Mapping[str, Any]]) -> None:
    """Each key exists: its table, entry and (read by the core with its first value) its field."""
    for key in keys:
        first = next(p for p in points if key in p)
        trial = copy.deepcopy(dict(doc))
        table, field = _locate(trial, key)
        if key.startswith("settings.") or field in table:
            continue
        table[field] = first[key]
        try:
            _read_scenario(trial)
        except IllegalArgumentError as e:
            if "unknown field" in str(e):
                raise IllegalArgumentError(f"grid key [{key}]: {e}") from None


# ---- metrics -------------------------------------------------------------------------------------


def _options(obj: Any) -> list[str]:
    names: list[str] = []
    if is_dataclass(obj):
        names = [f.name for f in fields(obj)]
    elif isinstance(obj, Mapping):
        names = [str(k) for k in obj]
    return names


def _cluster_hit_ratio(report: Any, cache: str, metric: str) -> float | None:
    hits = lookups = 0
    known = False
    for node in report.nodes.values():
        known = known or cache in node.caches
        c = node.caches.get(cache)
        if c is not None:
            hits += c.hits
            lookups += c.hits + c.misses
    if not known and report.nodes:
        caches = list(next(iter(report.nodes.values())).caches)
        raise IllegalArgumentError(f"metric [{metric}]: no cache [{cache}]; the caches are {caches}")
    return hits / lookups if lookups else None


def resolve_metric(report: Any, metric: str) -> Any:
    """The value of ``metric`` (a dotted path, see the module documentation) in ``report``;
    :class:`escache.IllegalArgumentError` naming the path and what exists there when it does not
    exist or names a table rather than a figure."""
    parts = metric.split(".") if isinstance(metric, str) and metric else []
    if not parts:
        raise IllegalArgumentError(f"a metric is a dotted path into the report, got [{metric!r}]")
    if parts[0] == "hit_ratio" and len(parts) == 2:
        return _cluster_hit_ratio(report, parts[1], metric)
    obj: Any = report
    for i, part in enumerate(parts):
        if obj is None:  # a disabled or stopped node's cache: no figures
            return None
        if is_dataclass(obj) and part in {f.name for f in fields(obj)}:
            obj = getattr(obj, part)
        elif isinstance(obj, Mapping) and part in obj:
            obj = obj[part]
        elif hasattr(obj, "to_dict") and part in obj.to_dict():
            obj = obj.to_dict()[part]
        else:
            where = ".".join(parts[:i]) or "the report"
            raise IllegalArgumentError(f"metric [{metric}]: [{where}] has no [{part}]; it has {_options(obj)}")
    if is_dataclass(obj) or isinstance(obj, (Mapping, list, tuple)):
        raise IllegalArgumentError(f"metric [{metric}] names a table, not a figure: choose one of {_options(obj)}")
    return obj


# ---- one run -------------------------------------------------------------------------------------


def run_point(
    scenario: Mapping[str, Any], point: Mapping[str, Any], seed: int, metrics: Sequence[str] = DEFAULT_METRICS
) -> dict[str, Any]:
    """Runs the scenario (a dict, as ``escache.load_scenario`` takes it) with the point's values set
    and ``seed`` as both seeds, and returns its record: the point's values, ``seed``, each metric,
    ``wall_time_s`` and ``error`` (``None``, or ``"ExceptionType: message"``: a failed run is a
    record too). Module-level and picklable: what the executors run."""
    started = time.perf_counter()
    record: dict[str, Any] = {**point, "seed": seed}
    try:
        _, sim, duration = load_scenario(_apply(scenario, point), seed=seed)
        report = sim.run(duration)
        values = {m: resolve_metric(report, m) for m in metrics}
        error = None
    except Exception as e:  # noqa: BLE001 - a failed run is recorded with its error; the sweep goes on
        values = dict.fromkeys(metrics)
        error = f"{type(e).__name__}: {e}"
    record.update(values)
    record["wall_time_s"] = time.perf_counter() - started
    record["error"] = error
    return record


# ---- executors -----------------------------------------------------------------------------------


class _SerialExecutor(Executor):
    """Runs each task in the calling process when it is submitted (``executor="serial"``)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as e:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(e)
        return future


class _PoolExecutor(Executor):
    """An ``Executor`` over a ``multiprocessing.Pool``-like object (``apply_async`` with callbacks):
    the standard library's pool and ``ray.util.multiprocessing.Pool``."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_running_or_notify_cancel()
        self._pool.apply_async(fn, args, kwargs, callback=future.set_result, error_callback=future.set_exception)
        return future


def _executor(executor: Any, workers: int | None) -> tuple[Executor, bool]:
    """The executor to use and whether the sweep owns it (and shuts it down)."""
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise IllegalArgumentError(f"[workers] must be a positive integer, got [{workers!r}]")
    if executor is None or executor == "process":
        return concurrent.futures.ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1), True
    if executor == "serial":
        return _SerialExecutor(), True
    if isinstance(executor, Executor):
        return executor, False
    if callable(getattr(executor, "get_executor", None)):  # a dask.distributed Client
        return executor.get_executor(), False
    if callable(getattr(executor, "apply_async", None)):  # multiprocessing.Pool, ray.util.multiprocessing.Pool
        return _PoolExecutor(executor), False
    raise IllegalArgumentError(
        "[executor] must be None, 'process', 'serial', a concurrent.futures.Executor, a dask.distributed Client "
        f"or a multiprocessing-style Pool (ray.util.multiprocessing.Pool), got [{type(executor).__name__}]"
    )


# ---- points, seeds, the output file -----------------------------------------------------------------


def _points(
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]] | None,
) -> tuple[list[str], list[dict[str, Any]]]:
    if grid is None:
        return [], [{}]
    if isinstance(grid, Mapping):
        keys = list(grid)
        values = []
        for key in keys:
            v = grid[key]
            if isinstance(v, (str, bytes, Mapping)) or not isinstance(v, Iterable):
                raise IllegalArgumentError(f"grid key [{key}] takes a list of values, got [{v!r}]")
            v = list(v)
            if not v:
                raise IllegalArgumentError(f"grid key [{key}] has no values")
            values.append(v)
        return keys, [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]
    if isinstance(grid, (str, bytes)) or not isinstance(grid, Sequence):
        raise IllegalArgumentError(
            f"[grid] is a dict of lists of values or a list of points (dicts), got [{type(grid).__name__}]"
        )
    keys = []
    points = []
    for i, p in enumerate(grid):
        if not isinstance(p, Mapping):
            raise IllegalArgumentError(f"grid point {i} must be a dict of grid keys to values, got [{p!r}]")
        points.append(dict(p))
        keys += [k for k in p if k not in keys]
    if not points:
        raise IllegalArgumentError("[grid] has no points")
    return keys, points


def _seeds(seeds: Iterable[int] | int | None, doc: Mapping[str, Any]) -> list[int]:
    if seeds is None:
        sim_cfg, cl = doc.get("simulation", {}), doc.get("cluster", {})
        return [int(sim_cfg.get("seed", cl.get("seed", 0)))]
    if isinstance(seeds, bool) or not isinstance(seeds, (int, Iterable)):
        raise IllegalArgumentError(f"[seeds] is a count or an iterable of seeds, got [{seeds!r}]")
    out = list(range(seeds) if isinstance(seeds, int) else seeds)
    for s in out:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise IllegalArgumentError(f"[seeds] must be non-negative integers, got [{s!r}]")
    if not out or len(set(out)) != len(out):
        raise IllegalArgumentError(f"[seeds] must be at least one seed, each once, got {out}")
    return out


def _scalar(v: Any) -> Any:
    item = getattr(v, "item", None)  # numpy scalars, as read back from Parquet
    return item() if callable(item) and not isinstance(v, (str, bytes)) else v


def _run_key(point: Mapping[str, Any], keys: Sequence[str], seed: Any) -> tuple[str, ...]:
    """A run's identity in ``out``: its values as text (Parquet keeps a column of one type, so a
    column of mixed values is written as text) and its seed."""
    values = [_scalar(point.get(k)) for k in keys]
    # A column of ints and floats reads back as floats: 1 and 1.0 are one value.
    values = [int(v) if isinstance(v, float) and v.is_integer() else v for v in values]
    text = [v if isinstance(v, str) else json.dumps(v, sort_keys=True, default=str) for v in values]
    return (*text, str(_scalar(seed)))


def _pandas() -> Any:
    try:
        import pandas as pd  # noqa: PLC0415 - optional dependency (escache[sweep])
    except ImportError:
        raise MissingDependencyError("escache.sweep needs pandas: pip install 'escache[sweep]'") from None
    return pd


def _load_out(path: Path, columns: Sequence[str]) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    pd = _pandas()
    try:
        old = pd.read_parquet(path)
    except ImportError:
        raise MissingDependencyError("out= needs pyarrow: pip install 'escache[sweep]'") from None
    except Exception as e:  # noqa: BLE001 - any unreadable file is refused the same way
        raise IllegalArgumentError(f"cannot resume from [{path}]: {type(e).__name__}: {e}") from None
    if list(old.columns) != list(columns):
        raise IllegalArgumentError(
            f"cannot resume from [{path}]: it holds a sweep with columns {list(old.columns)}, this one has "
            f"{list(columns)}; choose another file or delete it"
        )
    rows: list[dict[str, Any]] = [{k: _scalar(v) for k, v in r.items()} for r in old.to_dict("records")]
    for r in rows:
        for k, v in r.items():
            if isinstance(v, float) and math.isnan(v) and k in ("error",):
                r[k] = None
    return rows


def _write_out(path: Path, rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    pd = _pandas()
    df = pd.DataFrame(rows, columns=list(columns))
    for c in df.columns:
        kinds = {type(_scalar(v)) for v in df[c] if v is not None}
        if len(kinds) > 1 and not kinds <= {int, float}:
            df[c] = [None if v is None else str(v) for v in df[c]]
    tmp = path.with_name(path.name + ".tmp")
    try:
        df.to_parquet(tmp, index=False)
    except ImportError:
        raise MissingDependencyError("out= needs pyarrow: pip install 'escache[sweep]'") from None
    os.replace(tmp, path)


# ---- the sweep ---------------------------------------------------------------------------------------


def _scenario_dict(scenario: Any) -> dict[str, Any]:
    if isinstance(scenario, str) and not _is_file(scenario) and scenario in scenario_names():
        return _read_scenario(scenario_path(scenario).read_text(encoding="utf-8"))
    return _read_scenario(scenario)


def _progress_bar(total: int, progress: bool) -> Any:
    if not progress:
        return None
    from tqdm.auto import tqdm as tqdm_auto  # noqa: PLC0415 - only with a progress bar
    from tqdm.std import tqdm as tqdm_std  # noqa: PLC0415

    kwargs = {"total": total, "desc": "sweep", "unit": "run"}
    try:
        return tqdm_auto(**kwargs)
    except ImportError:  # Jupyter without ipywidgets
        return tqdm_std(**kwargs)


def sweep(
    scenario: str | os.PathLike[str] | Mapping[str, Any],
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]] | None = None,
    *,
    seeds: Iterable[int] | int | None = None,
    metrics: Sequence[str] | None = None,
    executor: Any = None,
    workers: int | None = None,
    progress: bool = True,
    out: str | os.PathLike[str] | None = None,
) -> Any:
    """Runs ``scenario`` at every point of ``grid`` with every seed and returns a pandas ``DataFrame``
    (see the module documentation for keys, records, metrics and ``out``).

    - ``scenario``: a file, TOML text, a dict, or the name of a shipped scenario.
    - ``grid``: ``{key: [values]}`` for the cartesian product (the last key varies fastest), or a
      list of points (``[{key: value, ...}, ...]``).
    - ``seeds``: an iterable of seeds (``range(20)``) or a count (``20`` is ``range(20)``); ``None``
      runs each point once with the scenario's simulation seed. A seed replaces both the cluster's
      and the simulation's seeds, as ``escache run --seed``.
    - ``metrics``: dotted paths into the report (default :data:`DEFAULT_METRICS`).
    - ``executor``: ``None`` or ``"process"`` (a ``ProcessPoolExecutor`` over ``workers`` processes,
      default every core), ``"serial"`` (in this process), any ``concurrent.futures.Executor``, a
      ``dask.distributed.Client`` (its ``get_executor()``), or a ``multiprocessing.Pool``-like pool
      such as ``ray.util.multiprocessing.Pool``. An executor passed in is not shut down.
    - ``progress``: a ``tqdm.auto`` bar over the runs (points times seeds); ``False`` is silent.
    - ``out``: a Parquet file written as runs finish, and resumed from when it exists.
    """
    pd = _pandas()
    doc = _scenario_dict(scenario)
    keys, points = _points(grid)
    seed_list = _seeds(seeds, doc)
    metric_list = list(DEFAULT_METRICS if metrics is None else metrics)
    if isinstance(metrics, str) or len(set(metric_list)) != len(metric_list):
        raise IllegalArgumentError(f"[metrics] must be a list of distinct metric names, got [{metrics!r}]")
    clash = ({"seed", "wall_time_s", "error"} | set(keys)) & set(metric_list) | {"seed", "wall_time_s", "error"} & set(
        keys
    )
    if clash:
        raise IllegalArgumentError(
            f"{sorted(clash)}: a column name used twice (grid keys, metrics, seed, wall_time_s, error)"
        )
    _check_keys(doc, keys, points)
    # Every point is read by the core here, so that a bad value fails before anything runs.
    first_report = None
    for i, point in enumerate(points):
        try:
            _, sim, _ = load_scenario(_apply(doc, point), seed=seed_list[0])
        except IllegalArgumentError as e:
            raise IllegalArgumentError(f"grid point {i} {json.dumps(point, default=str)}: {e}") from None
        if first_report is None:
            first_report = sim.report()
    for m in metric_list:
        resolve_metric(first_report, m)
    columns = [*keys, "seed", *metric_list, "wall_time_s", "error"]
    out_path = None if out is None else Path(out)
    kept = [] if out_path is None else _load_out(out_path, columns)
    done = {_run_key(r, keys, r["seed"]): r for r in kept if r.get("error") is None}
    results: dict[tuple[int, int], dict[str, Any]] = {}
    todo: list[tuple[int, int]] = []
    for pi, point in enumerate(points):
        for si, seed in enumerate(seed_list):
            old = done.get(_run_key(point, keys, seed))
            if old is None:
                todo.append((pi, si))
            else:
                results[pi, si] = {**old, **point, "seed": seed}
    mine = {_run_key(points[pi], keys, seed_list[si]) for pi in range(len(points)) for si in range(len(seed_list))}
    foreign = [r for r in kept if _run_key(r, keys, r["seed"]) not in mine]

    def flush() -> None:
        if out_path is not None:
            _write_out(out_path, [results[k] for k in sorted(results)] + foreign, columns)

    bar = _progress_bar(len(points) * len(seed_list), progress)
    if bar is not None:
        bar.update(len(results))
    pool, owned = _executor(executor, workers) if todo else (_SerialExecutor(), True)
    futures: dict[Future[Any], tuple[int, int]] = {}
    try:
        for pi, si in todo:
            futures[pool.submit(run_point, doc, points[pi], seed_list[si], tuple(metric_list))] = (pi, si)
        last_flush = time.monotonic()
        for future in concurrent.futures.as_completed(futures):
            pi, si = futures[future]
            try:
                record = future.result()
            except Exception as e:  # noqa: BLE001 - a worker that died: recorded like a failed run
                record = {**points[pi], "seed": seed_list[si], **dict.fromkeys(metric_list)}
                record.update(wall_time_s=None, error=f"{type(e).__name__}: {e}")
            results[pi, si] = {**record, **points[pi]}
            if bar is not None:
                bar.update(1)
            if time.monotonic() - last_flush >= FLUSH_SECONDS:
                flush()
                last_flush = time.monotonic()
    finally:
        for future in futures:
            future.cancel()
        if owned:
            pool.shutdown(wait=True, cancel_futures=True)
        if bar is not None:
            bar.close()
        flush()
    rows = [{c: results[k].get(c) for c in columns} for k in sorted(results)]
    return pd.DataFrame(rows, columns=columns)
