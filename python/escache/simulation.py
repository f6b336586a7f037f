"""The invalidation simulator: ask "what happens if..." of a cluster's credential caches and get an exact,
reproducible answer.

A :class:`Simulation` runs a :class:`~escache.Cluster` through virtual time with one event queue:

- **Workloads** are authentication traffic with Poisson arrivals. You set the population, the rate,
  the popularity law, the node choice and a share of wrong secrets.
- **Scheduled actions** are REST calls, cluster faults, or Python callables, run at a time or every
  interval.
- **Hash verifications** cost virtual CPU on each node's ``security-crypto`` pool. A full queue
  answers 429.

The same scenario and seed give the same report and the same event trace, byte for byte::

    import escache
    c = escache.Cluster(nodes=3, seed=0)
    sim = escache.Simulation(c, seed=0)
    sim.add_workload(name="agents", kind="api_key", population=10_000, rate=2_000, popularity={"zipf": 1.0})
    sim.schedule("1m", action="partition", node="node-2")
    sim.schedule("2m", action="invalidate_api_keys", workload="agents", top=10, node="node-0")
    report = sim.run("10m")
    report.stale_acceptances, report.longest_stale_window_seconds

:meth:`Simulation.run` returns an :class:`escache.report.SimulationReport`; scenario files are read
by the core into its scenario types (``docs/scenarios.md``), and a bad one is refused naming the
table and field (``workloads[1].rate: invalid type: string "x", expected f64``).
"""

from __future__ import annotations

import datetime
import importlib.resources
import json
import os
import sys
import textwrap
import time
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm as tqdm_auto
from tqdm.std import tqdm as tqdm_std

from escache import _core
from escache._cluster import TRACE_SCHEMA_VERSION, Cluster
from escache.errors import EscacheError, IllegalArgumentError, IllegalStateError
from escache.explain import Explanation
from escache.report import SimulationReport
from escache.timeline import Timeline

__all__ = [
    "TRACE_SCHEMA_VERSION",
    "Simulation",
    "format_report",
    "load_scenario",
    "scenario_names",
    "scenario_path",
    "scenario_question",
    "short_form",
]

NANOS = 1_000_000_000

#: The longest duration (and the latest time) a simulation takes: virtual time is a signed 64-bit count
#: of nanoseconds, as Elasticsearch's ``TimeValue`` (about 292 years).
MAX_NANOS = 2**63 - 1


def _field_error(what: str, e: Exception) -> IllegalArgumentError:
    """``[what]: message``, unless the message already names the field."""
    msg = str(e)
    cls = type(e) if isinstance(e, IllegalArgumentError) else IllegalArgumentError
    return cls(msg if f"[{what}]" in msg else f"[{what}]: {msg}")


def _nanos(value: Any, what: str) -> int:
    """A duration argument in nanoseconds: a time value (``"5m"``), a number of seconds or a
    ``timedelta``, at most about 292 years (Java's ``Long.MAX_VALUE`` nanoseconds)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        raise IllegalArgumentError(f"[{what}] must not be negative")
    try:
        return _core._duration_nanos(value, what)
    except IllegalArgumentError as e:
        raise _field_error(what, e) from None


def _json_value(value: Any) -> Any:
    """``json.dumps`` hook for descriptions: durations as seconds; anything else is refused."""
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    raise IllegalArgumentError(f"a value of type [{type(value).__name__}] cannot describe a workload or an action")


def _describe(description: Mapping[str, Any]) -> str:
    try:
        return json.dumps(dict(description), default=_json_value, allow_nan=False)
    except ValueError as e:  # NaN or infinity
        raise IllegalArgumentError(f"invalid description: {e}") from None


class Simulation:
    """A simulation over ``cluster`` (see the module documentation).

    ``latency`` and ``doc_cache_counter`` are ``[simulation.latency]`` and the counter what-if (rules
    CA-TM1 to CA-TM5); ``fault_detection`` is ``[simulation.fault_detection]`` (CA-PT1 to CA-PT5):
    a table of ``follower_check`` (``interval``, ``timeout``, ``retry_count``) and
    ``find_peers_interval``, ``{}`` for Elasticsearch's defaults. With it, a partitioned node is
    removed from the cluster state when its follower checks have failed, a clear-cache fan-out waits on
    it until then or until the heal, and the report's ``clears`` gives each fan-out's latency::

        sim = escache.Simulation(c, fault_detection={})
        sim.schedule("10s", action="partition", node="node-2")
        sim.schedule("15s", action="clear_cache", cache="api_key", node="node-0")
        sim.run("1m").clears[0].latency_seconds  # 27.0: node-2 was removed at 42 s
    """

    def __init__(
        self,
        cluster: Cluster,
        *,
        seed: int = 0,
        sample_interval: Any = "10s",
        cost_model: Mapping[str, Any] | None = None,
        latency: Mapping[str, Any] | None = None,
        doc_cache_counter: bool = True,
        fault_detection: Mapping[str, Any] | None = None,
    ) -> None:
        self.cluster = cluster
        self.seed = seed
        self._sim = _core._Simulation(cluster, seed)
        self._sim.sample_interval = sample_interval
        if cost_model:
            if not isinstance(cost_model, Mapping):
                raise IllegalArgumentError("[cost_model] must be a table of durations")
            self._sim._set_cost_model(_describe(cost_model))
        if latency:
            if not isinstance(latency, Mapping):
                raise IllegalArgumentError("[simulation.latency] must be a table of operation names")
            self._sim._set_latency(_describe(latency))
        if not isinstance(doc_cache_counter, bool):
            raise IllegalArgumentError(f"[doc_cache_counter] must be true or false, got [{doc_cache_counter!r}]")
        if not doc_cache_counter:
            self._sim._set_doc_cache_counter(False)
        if fault_detection is not None:
            # An empty table is Elasticsearch's defaults: it turns fault detection on (CA-PT1).
            if not isinstance(fault_detection, Mapping):
                raise IllegalArgumentError(
                    "[simulation.fault_detection] must be a table (empty for Elasticsearch's defaults)"
                )
            self._sim._set_fault_detection(_describe(fault_detection))
        self._workloads: list[str] = []
        self._start = self._sim._start_nanos

    # ---- building ---------------------------------------------------------------------------

    def add_workload(self, **description: Any) -> int:
        """Adds authentication traffic. Fields:

        - ``name``: the workload's name.
        - ``kind``: ``api_key`` (default) or ``service_token``.
        - ``population``: how many credentials (default 1000).
        - ``rate``: requests per virtual second.
        - ``popularity``: ``"uniform"``, ``"zipf"``, ``{"zipf": s}``, or
          ``{"hotspot": true, "fraction": f, "probability": p}``.
        - ``node_choice``: ``round_robin``, ``random``, ``sticky``, or ``{node: weight}``.
        - ``wrong_secret_share``: the share of requests presenting a wrong secret.
        - ``create_over``: 0 creates every credential up front; a duration spreads their creation.
        - ``start``, ``stop``: when the traffic starts and stops.
        - For API keys: ``creator_node`` and ``expiration``.
        - For tokens: ``account``, and ``source`` (``index``, or ``file`` with ``nodes``).
        - ``client``: how the workload's client retries: a preset (``"elasticsearch-py"``,
          ``"elasticsearch-java"``, ``"go-elasticsearch"``, ``"fleet-server"``, ``"kibana"``; ``"none"``,
          the default, makes one attempt per request) or a dict of ``preset``, ``retries``, ``backoff``,
          ``retry_on``, ``mark_dead_on`` and ``dead_node_timeout`` (see docs/scenarios.md).
        - ``kind="replay"`` replays real traffic instead (``docs/guides/replay.md``): ``format``
          (``es_audit``, the default, or ``csv``), ``path`` or ``records`` (an iterable of audit event
          dicts, or of CSV rows as dicts), ``origin``, ``speed``, ``node_map``, ``start``, ``stop``.

        Returns the workload's index.
        """
        records = description.get("records")
        if records is not None and not isinstance(records, (list, str, bytes, Mapping)):
            try:
                description = {**description, "records": list(records)}
            except TypeError:
                raise IllegalArgumentError(
                    f"[records] must be an iterable of dicts, not [{type(records).__name__}]"
                ) from None
        path = description.get("path")
        if isinstance(path, os.PathLike):
            description = {**description, "path": os.fspath(path)}
        index = self._sim._add_workload(_describe(description))
        self._workloads.append(str(description.get("name", "workload")))
        return index

    def schedule(self, at: Any, action: str | Callable[[Cluster], Any], *, every: Any = None, **fields: Any) -> None:
        """Schedules an action at virtual time ``at`` (counted from when the simulation was built),
        and then every ``every`` if given. ``action`` is a Python callable or one of the names below.
        A callable is called with the cluster, in schedule order with the other actions due at the
        same time; it may use the cluster (and the simulation). If it raises an ``Exception``, the
        failure is recorded under the report's ``action_errors`` and the run goes on.

        Names:

        - **REST:** ``rest``, with ``method``, ``path``, ``body``, ``node`` and ``authorization``.
          The default ``authorization`` is ``elastic``.
        - **Credentials:** ``invalidate_api_keys``, ``delete_service_tokens`` and
          ``remove_file_tokens``. Each takes ``workload`` and one of ``top``, ``random``,
          ``indices`` or ``all``, plus ``node`` (or ``nodes``).
        - **Caches:** ``clear_cache``, with ``cache``, ``keys`` and ``node``.
        - **Nodes:** ``stop_node``, ``start_node``, ``partition``, ``heal``, and
          ``drop_clear_cache`` (with ``nodes``).
        - **The security index:** ``index_health`` (with ``health``), ``index_delete``,
          ``index_close``, ``index_open``, ``index_recreate``, and ``index_up_to_date`` (with
          ``value``).
        - **Service token files:** ``set_service_tokens_file``, with ``nodes`` and ``content``.

        ``node`` is required by every action that acts on or through a node (``nodes`` by
        ``drop_clear_cache``); a ``rest`` action without one goes to the first running node, and the
        file actions default to every node. A bad or missing field raises
        :class:`escache.IllegalArgumentError` naming it, and schedules nothing.
        """
        at_n = _nanos(at, "at")
        every_n = None if every is None else _nanos(every, "every")
        if every_n == 0:
            raise IllegalArgumentError("[every] must be positive")
        if callable(action):
            self._sim._schedule_callable(at_n, action, every_n)
            return
        description = {"action": action, **fields}
        if action == "rest" and "authorization" not in fields:
            description["authorization"] = self.cluster.basic_auth_header()
        self._sim._schedule(at_n, _describe(description), every_n)

    # ---- running ------------------------------------------------------------------------------

    def run_until(self, until: Any) -> SimulationReport:
        """Runs to virtual time ``until`` (counted from when the simulation was built); returns the report.

        Ctrl-C (``KeyboardInterrupt``) stops the run within about 50 ms of wall time, between two
        events: a later ``run_until`` goes on from there, as if the run had not been cut."""
        self._sim._run_until(_nanos(until, "until"))
        return self.report()

    def run(
        self, duration: Any, *, progress: bool | Callable[[float], None] | None = None, steps: int = 100
    ) -> SimulationReport:
        """Runs for ``duration`` of virtual time from now, in ``steps`` slices when ``progress`` is
        given: ``True`` shows a ``tqdm.auto`` progress bar (a widget in Jupyter, a text bar on stderr
        elsewhere) with the virtual time done and the simulated requests per second of wall time; a
        callable is called with the fraction done after each slice. Bad arguments are refused before
        anything runs."""
        total = _nanos(duration, "duration")
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise IllegalArgumentError(f"[steps] must be a positive integer, got [{steps!r}]")
        if progress is True:
            progress = ProgressBar(sys.stderr, total / NANOS, requests=lambda: self.report().requests)
        elif progress is False:
            progress = None
        elif progress is not None and not callable(progress):
            raise IllegalArgumentError(
                f"[progress] must be True, False, None or a callable taking the fraction done, got [{type(progress).__name__}]"
            )
        start = self.cluster.now_nanos - self._start
        if start + total > MAX_NANOS - self._start:
            raise IllegalArgumentError(f"[duration] would run past the latest virtual time ({MAX_NANOS}ns)")
        if progress is None:
            return self.run_until((start + total) / NANOS)
        try:
            for i in range(1, steps + 1):
                self.run_until((start + total * i // steps) / NANOS)
                progress(i / steps)
        finally:
            close = getattr(progress, "close", None)
            if close is not None:
                close()
        return self.report()

    # ---- results ------------------------------------------------------------------------------

    def report(self) -> SimulationReport:
        """The figures so far: outcomes, stale acceptances, hashing CPU, latencies, per node and cache
        (``.to_dict()`` for the JSON object). ``report.timeline`` is the timeline so far as a table;
        the report's ``plot`` and ``explain`` read this simulation's timeline and trace up to the
        report's time."""
        report = SimulationReport.from_json(self._sim._report())
        report._attach(self, self.cluster.now_nanos)
        report._attach_timeline(Timeline(self._sim, self._sim._timeline_len()))
        return report

    def explain(self, credential: str, *, node: str | None = None, at: Any = None, until: Any = None) -> Explanation:
        """Why ``credential`` (an API key id or qualified token name) was accepted on ``node`` (any
        node when ``None``): the latest acceptance at or before ``at``, or without ``at`` its first
        stale acceptance (its last one when none was stale). ``at`` and ``until`` are virtual times
        since the cluster started, as in the trace and the report (seconds, a time value, or ``int``
        nanoseconds for ``until``); the trace is read up to ``until`` (default: all of it).

        Raises :class:`escache.ResourceNotFoundError` when the trace holds no such acceptance, and
        :class:`escache.IllegalStateError` when the cluster records no trace."""
        self._need_trace()
        at_n = None if at is None else _nanos(at, "at")
        text = self._sim._explain(credential, node, at_n, self._until(until))
        return Explanation.from_json(text)

    def explain_stale(self, *, until: Any = None) -> list[Explanation]:
        """Every stale acceptance in the trace (up to ``until``), explained, in trace order."""
        self._need_trace()
        return Explanation.list_from_json(self._sim._explain_stale(self._until(until)))

    def _need_trace(self) -> None:
        if not self.cluster.trace_enabled and len(self.cluster.events) == 0:
            raise IllegalStateError("explanations read the event trace, and this cluster records none (trace=False)")

    @staticmethod
    def _until(until: Any) -> int | None:
        if until is None or (isinstance(until, int) and not isinstance(until, bool)):
            return until
        return _nanos(until, "until")

    def timeline(self) -> list[dict[str, Any]]:
        """The periodic samples (every ``sample_interval``): per node, cumulative cache stats, queue
        depth, hashing CPU, outcomes and stale acceptances; the largest queue since the previous
        sample (``max_queue_depth``) and ``latency_ms`` (``p50``, ``p90``,
        ``p99``, ``max``) of the requests that finished since the previous sample (``None`` when none
        did)."""
        rows: list[dict[str, Any]] = json.loads(self._sim._timeline())
        return rows

    def credential_ids(self, workload: str | int) -> list[str]:
        """A workload's credential ids (API key ids or qualified token names), in population order."""
        index = workload if isinstance(workload, int) else self._workloads.index(workload)
        return self._sim._credential_ids(index)

    @property
    def in_flight(self) -> int:
        return self._sim.in_flight

    @property
    def workload_names(self) -> list[str]:
        """The workloads' names, in the order they were added."""
        return list(self._workloads)

    def __repr__(self) -> str:
        return (
            f"<escache.Simulation seed={self.seed} workloads={len(self._workloads)} "
            f"virtual_seconds={(self.cluster.now_nanos - self._start) / NANOS:g}>"
        )

    def _repr_html_(self) -> str:
        from escache._display import simulation_html  # noqa: PLC0415 - display code loads on first use

        return simulation_html(self)

    @property
    def trace(self) -> Any:
        """The cluster's event trace (``escache.EventTrace``)."""
        return self.cluster.events


def _clock(seconds: float) -> str:
    """``1h02m03s`` or ``2m03s``."""
    s = round(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}h{m:02d}m{sec:02d}s" if h else f"{m}m{sec:02d}s"


class ProgressBar:
    """A ``tqdm.auto`` progress bar over virtual time (a widget in Jupyter, a text bar on ``stream``
    elsewhere): what ``Simulation.run(progress=True)`` and ``escache run`` show. Called with the
    fraction done; ``requests``, when given, counts the simulated requests so far, shown per second
    of wall time."""

    def __init__(
        self, stream: Any, total_seconds: float, label: str = "", *, requests: Callable[[], int] | None = None
    ) -> None:
        self.total = total_seconds
        self.requests = requests
        self.last = 0.0
        self._started = time.monotonic()
        kwargs: dict[str, Any] = {
            "total": round(total_seconds, 3),
            "desc": label.strip() or "virtual time",
            "unit": "s",
            "file": stream,
            "bar_format": "{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} s virtual [{elapsed}<{remaining}{postfix}]",
        }
        try:
            self._bar = tqdm_auto(**kwargs)
        except ImportError:  # Jupyter without ipywidgets: tqdm.auto's widget cannot be drawn
            self._bar = tqdm_std(**kwargs)

    def __call__(self, fraction: float) -> None:
        done = round(self.total * fraction, 3)
        self._bar.update(done - self.last)
        self.last = done
        if self.requests is not None:
            wall = max(time.monotonic() - self._started, 1e-9)
            self._bar.set_postfix_str(f"{self.requests() / wall:,.0f} requests/s", refresh=False)
        if fraction >= 1:
            self.close()

    def close(self) -> None:
        self._bar.close()


def _is_file(source: str) -> bool:
    try:
        return os.path.isfile(source)
    except (ValueError, OSError):  # a NUL byte, a name too long
        return False


def _read_scenario(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """A scenario from a dict, a path or TOML text. A ``Path`` is a path; a ``str`` is a path when it
    names an existing file or holds neither a newline nor ``=`` (so ``"scen.txt"`` is a file, and a
    missing one is an error, never an empty scenario); any other ``str`` is TOML text."""
    if isinstance(source, Mapping):
        # The same scenario types as a file: the dict goes to the core as JSON.
        parsed: dict[str, Any] = json.loads(_core._Simulation._parse_scenario(_describe(source), False))
        return parsed
    if not isinstance(source, (str, os.PathLike)):
        raise IllegalArgumentError(f"a scenario is a path, TOML text or a dict, got [{type(source).__name__}]")
    is_path = not isinstance(source, str) or _is_file(source) or not ("\n" in source or "=" in source)
    if is_path:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise IllegalArgumentError(f"invalid scenario file [{source}]: not UTF-8 text") from None
        except (OSError, ValueError) as e:
            raise IllegalArgumentError(
                f"cannot read scenario file [{source}]: {getattr(e, 'strerror', None) or e}"
            ) from None
    else:
        text = str(source)
    try:
        doc: dict[str, Any] = json.loads(_core._Simulation._parse_scenario(text, True))
    except IllegalArgumentError as e:
        msg = str(e)
        prefix = "invalid scenario file: "
        if is_path and msg.startswith(prefix):
            raise IllegalArgumentError(f"invalid scenario file [{source}]: {msg[len(prefix) :]}") from None
        raise
    return doc


def _scenario_dir(source: str | Path | Mapping[str, Any]) -> str | None:
    """The directory of a scenario read from a file (relative replay paths are read from it)."""
    if isinstance(source, Mapping):
        return None
    if isinstance(source, os.PathLike) or (isinstance(source, str) and _is_file(source)):
        return os.path.dirname(os.path.abspath(os.fspath(source)))
    return None


def _with_replay_paths(doc: dict[str, Any], base: str | os.PathLike[str] | None) -> dict[str, Any]:
    """``doc`` with each replay workload's relative ``path`` read from ``base`` (the scenario file's
    directory: a replay's log is found beside the scenario that names it)."""
    if base is None:
        return doc
    workloads = []
    for w in doc.get("workloads", []):
        if isinstance(w, Mapping) and w.get("kind") == "replay" and isinstance(w.get("path"), str):
            w = {**w, "path": os.path.join(base, w["path"])}
        workloads.append(w)
    return {**doc, "workloads": workloads} if "workloads" in doc else doc


SHORT_TABLES = ("cluster", "settings", "simulation", "workloads", "actions")


def short_form(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A scenario's CI form: its ``[short]`` table laid over it (``escache run NAME --short``).

    ``[short]`` is a partial scenario: ``[short.cluster]``, ``[short.settings]`` and
    ``[short.simulation]`` replace the fields they name in those tables; ``[short.workloads.NAME]``
    replaces fields of the workload named ``NAME``; ``[short.actions.N]`` replaces fields of
    ``actions[N]`` (counted from 0, as errors name them). Anything else in ``[short]`` is refused.
    A scenario without ``[short]`` is its own short form. The result has no ``short`` table.
    """
    out = {k: v for k, v in doc.items() if k != "short"}
    patch = doc.get("short")
    if patch is None:
        return out
    if not isinstance(patch, Mapping):
        raise IllegalArgumentError("[short] must be a table")
    for key, value in patch.items():
        if key not in SHORT_TABLES:
            raise IllegalArgumentError(f"short.{key}: unknown field, expected one of {list(SHORT_TABLES)}")
        if not isinstance(value, Mapping):
            raise IllegalArgumentError(f"short.{key}: must be a table")
        if key in ("cluster", "settings", "simulation"):
            out[key] = {**dict(out.get(key, {})), **value}
            continue
        items = [dict(x) for x in out.get(key, [])]
        for sel, fields in value.items():
            if not isinstance(fields, Mapping):
                raise IllegalArgumentError(f"short.{key}.{sel}: must be a table")
            if key == "workloads":
                found = [i for i, w in enumerate(items) if w.get("name", "workload") == sel]
            else:
                found = [int(sel)] if str(sel).isdigit() and int(sel) < len(items) else []
            if not found:
                what = "no workload named" if key == "workloads" else "no action at index"
                raise IllegalArgumentError(f"short.{key}.{sel}: {what} [{sel}]")
            for i in found:
                items[i].update(fields)
        out[key] = items
    return out


def load_scenario(
    source: str | Path | Mapping[str, Any], *, seed: int | None = None, short: bool = False
) -> tuple[Cluster, Simulation, Any]:
    """Builds the cluster and the simulation a scenario describes (a TOML file, TOML text, or a dict).

    The scenario has these tables:

    - ``[cluster]``: ``nodes``, ``name``, ``seed``, ``password`` and ``trace``.
    - ``[settings]``: Elasticsearch setting names and their values.
    - ``[simulation]``: ``seed``, ``duration``, ``sample_interval``, ``cost_model``, ``latency``,
      ``doc_cache_counter`` and ``fault_detection``.
    - ``[[workloads]]``: one table per workload (the fields of :meth:`Simulation.add_workload`).
    - ``[[actions]]``: ``at``, ``every``, ``action`` and the action's fields (:meth:`Simulation.schedule`).
    - ``name`` and ``description``: free text, shown by ``escache run``.

    ``seed``, when given, replaces both the cluster's and the simulation's seeds. ``short`` runs the
    scenario's CI form: its ``[short]`` table laid over it (:func:`short_form`).

    ``source`` is a ``Path``; a ``str`` that names an existing file or holds neither a newline nor
    ``=`` (a path); other ``str`` (TOML text); or a dict.

    The core reads it into its scenario types (every table and field: ``docs/scenarios.md``).

    Returns ``(cluster, simulation, duration)``. A malformed scenario, a missing or unreadable file,
    raise :class:`escache.IllegalArgumentError` naming the file, or the bad table and field
    (``workloads[0].rate: invalid type: ...``, ``actions[2]: [action [heal].node]: ...``), and build
    nothing.
    """
    doc = _with_replay_paths(_read_scenario(source), _scenario_dir(source))
    if short:
        try:
            doc = _read_scenario(short_form(doc))
        except IllegalArgumentError as e:
            raise IllegalArgumentError(f"in the short form: {e}") from None
    else:
        doc.pop("short", None)
    cl: dict[str, Any] = dict(doc.get("cluster", {}))
    sim_cfg: dict[str, Any] = dict(doc.get("simulation", {}))
    settings = dict(doc.get("settings", {}))
    workloads = [dict(w) for w in doc.get("workloads", [])]
    actions = [dict(a) for a in doc.get("actions", [])]
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise IllegalArgumentError(f"[seed] must be a non-negative integer, got [{seed!r}]")
    sim_seed: int
    cluster_seed: int
    if seed is None:
        sim_seed = sim_cfg.get("seed", cl.get("seed", 0))
        cluster_seed = cl.get("seed", sim_seed)
    else:
        sim_seed = cluster_seed = seed
    nodes = cl.get("nodes", 3)
    duration = sim_cfg.get("duration", "10m")
    _nanos(duration, "simulation.duration")
    try:
        cluster = Cluster(
            nodes,
            cluster_name=cl.get("name", "escache"),
            seed=cluster_seed,
            settings={str(k): v for k, v in settings.items()},
            password=cl.get("password", "changeme"),
            trace=bool(cl.get("trace", True)),
            es_version=cl.get("es_version"),
        )
    except EscacheError:
        raise
    except (TypeError, ValueError, OverflowError) as e:
        raise IllegalArgumentError(f"invalid [cluster] or [settings]: {e}") from None
    sim = Simulation(
        cluster,
        seed=sim_seed,
        sample_interval=sim_cfg.get("sample_interval", "10s"),
        cost_model=sim_cfg.get("cost_model"),
        latency=sim_cfg.get("latency"),
        doc_cache_counter=sim_cfg.get("doc_cache_counter", True),
        fault_detection=sim_cfg.get("fault_detection"),
    )
    for i, w in enumerate(workloads):
        try:
            sim.add_workload(**w)
        except IllegalArgumentError as e:
            raise IllegalArgumentError(f"workloads[{i}]: {e}") from None
    for i, a in enumerate(actions):
        name = a.pop("action", None)
        if not isinstance(name, str):
            raise IllegalArgumentError(f"[[actions]] entry {i + 1} needs an [action] name")
        try:
            sim.schedule(a.pop("at", 0), name, every=a.pop("every", None), **a)
        except IllegalArgumentError as e:
            raise IllegalArgumentError(f"actions[{i}]: {e}") from None
    return cluster, sim, duration


def scenario_names() -> list[str]:
    """The scenarios shipped with escache (``escache/scenarios/*.toml``, the same files as the
    repository's ``examples/``), by name."""
    root = importlib.resources.files("escache") / "scenarios"
    return sorted(p.name[: -len(".toml")] for p in root.iterdir() if p.name.endswith(".toml"))


def scenario_question(name: str) -> str:
    """The question the shipped scenario ``name`` answers, on one line: the last sentence of its
    header's ``Question:`` paragraph (else its ``description``)."""
    text = scenario_path(name).read_text(encoding="utf-8")
    para: list[str] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        body = line.lstrip("#").strip()
        if body.startswith("Question:"):
            para = [body[len("Question:") :].strip()]
        elif para and body:
            para.append(body)
        elif para:
            break
    joined = " ".join(para)
    if joined:
        sentences = [x.strip() for x in joined.replace("? ", "?\n").replace(". ", ".\n").splitlines()]
        questions = [x for x in sentences if x.endswith("?")]
        return questions[-1] if questions else sentences[-1]
    doc = tomllib.loads(text)
    return str(doc.get("description", ""))


def scenario_path(name: str) -> Any:
    """The shipped scenario ``name`` (a ``Traversable``; ``.read_text()`` gives the TOML)."""
    if name not in scenario_names():
        raise IllegalArgumentError(f"no scenario named [{name}]; escache ships {scenario_names()}")
    return importlib.resources.files("escache") / "scenarios" / f"{name}.toml"


# ---- a readable report ----------------------------------------------------------------------------


def _seconds(s: float) -> str:
    """``4m01.2s``, ``3.25s``, ``120ms``, ``2µs``."""
    if s == 0:
        return "0s"
    if s < 1e-6:
        return f"{s * 1e9:.0f}ns"
    if s < 1e-3:
        return f"{s * 1e6:.0f}µs" if s >= 1e-5 else f"{s * 1e6:.1f}µs"
    if s < 1:
        return f"{s * 1e3:.1f}ms" if s < 0.1 else f"{s * 1e3:.0f}ms"
    if s < 60:
        return f"{s:.2f}s"
    m, rest = divmod(s, 60)
    if m < 60:
        return f"{int(m)}m{rest:04.1f}s"
    h, m = divmod(int(m), 60)
    return f"{h}h{m:02d}m{rest:04.1f}s"


def _ratio(x: Any) -> str:
    return "-" if x is None else f"{x:.3f}"


CACHE_LABELS = {
    "api_key_auth": "auth",
    "api_key_doc": "doc",
    "api_key_role_descriptors": "roles",
    "file_service_account_token": "file tokens",
    "index_service_account_token": "index tokens",
}


def format_report(report: Mapping[str, Any], *, title: str | None = None, description: str | None = None) -> str:
    """The report of :meth:`Simulation.report` as text: totals; per node the outcomes, stale
    acceptances and the longest stale window, hashing CPU and verifications, the largest
    ``security-crypto`` queue, and each cache's hit ratio; latency percentiles; action errors."""
    if isinstance(report, SimulationReport):
        report = report.to_dict()
    out: list[str] = []
    w = out.append
    if title:
        w(title)
        w("=" * len(title))
    if description:
        out.extend(textwrap.wrap(" ".join(description.split()), width=100))
    if title or description:
        w("")
    a = report["authentications"]
    w(f"virtual time      {_seconds(report['virtual_seconds'])}")
    w(f"requests          {report['requests']:,}  ({report['finished']:,} finished, {report['in_flight']:,} in flight)")
    w(
        f"outcomes          success {a['success']:,}   401 {a['401']:,}   429 {a['429']:,}   unavailable {a['unavailable']:,}"
    )
    w(
        f"stale acceptances {report['stale_acceptances']:,}  (longest stale window {_seconds(report['longest_stale_window_seconds'])})"
    )
    verifications = sum(n["hash_verifications"] for n in report["nodes"].values())
    w(f"hashing CPU       {_seconds(report['hashing_cpu_seconds'])}  ({verifications:,} hash verifications)")
    lat = report["latency_ms"]
    w(
        "latency           "
        + "   ".join(f"{k} {_seconds(lat[k] / 1e3)}" for k in ("p50", "p90", "p99", "p999", "max"))
        + f"   mean {_seconds(lat['mean'] / 1e3)}"
    )
    if "index_get_ms" in report:
        get = report["index_get_ms"]
        w(
            "index GET latency "
            + "   ".join(f"{k} {_seconds(get[k] / 1e3)}" for k in ("p50", "p90", "p99", "max"))
            + f"   mean {_seconds(get['mean'] / 1e3)}"
        )
    w("")
    nodes = report["nodes"]
    used = [
        c for c in CACHE_LABELS if any((n["caches"].get(c) or {}).get("hit_ratio") is not None for n in nodes.values())
    ]
    header = ["node", "success", "401", "429", "unavail.", "stale", "longest stale", "hash CPU", "verif.", "max queue"]
    header += [f"{CACHE_LABELS[c]} hit" for c in used]
    rows = []
    for name, n in nodes.items():
        o = n["authentications"]
        state = "" if n["running"] else " (stopped)"
        state += " (partitioned)" if n["partitioned"] else ""
        rows.append(
            [
                name + state,
                f"{o['success']:,}",
                f"{o['401']:,}",
                f"{o['429']:,}",
                f"{o['unavailable']:,}",
                f"{n['stale_acceptances']:,}",
                _seconds(n["longest_stale_window_seconds"]),
                _seconds(n["hashing_cpu_seconds"]),
                f"{n['hash_verifications']:,}",
                f"{n['max_crypto_queue_depth']:,}",
            ]
            + [_ratio((n["caches"].get(c) or {}).get("hit_ratio")) for c in used]
        )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        w("  ".join(cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(r)).rstrip())
    if len(report.get("workloads", {})) > 1:
        w("")
        for name, wl in report["workloads"].items():
            o = wl["authentications"]
            w(
                f"workload {name}: {wl['requests']:,} requests over {wl['credentials']:,} credentials; "
                f"success {o['success']:,}, 401 {o['401']:,}, 429 {o['429']:,}, unavailable {o['unavailable']:,}"
            )
    clears = report.get("clears")
    if clears:
        # CA-PT5: each clear-cache fan-out, and how long its response waited.
        w("")
        w(f"clear-cache fan-outs {len(clears)}")
        for c in clears:
            took = "waiting" if c["latency_seconds"] is None else f"took {_seconds(c['latency_seconds'])}"
            failed = ", ".join(f"{f['node']} {f['type']}" for f in c["failures"])
            waiting = ", ".join(c["waiting_on"])
            w(
                f"  at {_seconds(c['time'])}: {c['cache']} via {c['coordinator']}, {took}: "
                f"{c['nodes']} nodes, {c['successful']} successful"
                + (f", failed: {failed}" if failed else "")
                + (f", waiting on: {waiting}" if waiting else "")
            )
    changes = report.get("cluster_state_changes")
    if changes:
        # CA-PT3, CA-PT4: fault detection's removals and rejoins.
        w("")
        w("cluster state     " + ", ".join(f"{c['node']} {c['change']} at {_seconds(c['time'])}" for c in changes))
    w("")
    errors = report.get("action_errors", [])
    if errors:
        w(f"action errors     {len(errors)}")
        for e in errors:
            w(f"  at {_seconds(e['time'])}: {e['action']}: {e['error']}")
    else:
        w("action errors     none")
    return "\n".join(out) + "\n"
