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
    report["stale_acceptances"], report["longest_stale_window_seconds"]
"""

from __future__ import annotations

import bisect
import itertools
import json
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from escache import _core
from escache._cluster import Cluster
from escache.errors import IllegalArgumentError

__all__ = ["Simulation", "load_scenario", "TRACE_SCHEMA_VERSION"]

#: Version of the trace schema written by ``to_jsonl`` / ``to_arrow`` (columns: v, time, node, kind,
#: cache, key, detail).
TRACE_SCHEMA_VERSION = 1

NANOS = 1_000_000_000


def _nanos(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise IllegalArgumentError(f"[{what}] must be a duration such as \"5m\" or a number of seconds")
    if isinstance(value, (int, float)):
        if value < 0:
            raise IllegalArgumentError(f"[{what}] must not be negative")
        return int(round(value * NANOS))
    if isinstance(value, str):
        n = _core.parse_time_value(value, what)
        if n < 0:
            raise IllegalArgumentError(f"[{what}] must not be negative")
        return n
    raise IllegalArgumentError(f"[{what}] must be a duration such as \"5m\" or a number of seconds")


class Simulation:
    """A simulation over ``cluster`` (see the module documentation)."""

    def __init__(
        self,
        cluster: Cluster,
        *,
        seed: int = 0,
        sample_interval: Any = "10s",
        cost_model: Mapping[str, Any] | None = None,
    ) -> None:
        self.cluster = cluster
        self.seed = seed
        self._sim = _core._Simulation(cluster, seed)
        self._sim.sample_interval = sample_interval
        if cost_model:
            self._sim._set_cost_model(json.dumps(dict(cost_model)))
        self._workloads: list[str] = []
        self._callables: list[tuple[int, int, Callable[[Cluster], Any], int | None]] = []
        self._seq = itertools.count()
        self._start = cluster.now_nanos

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

        Returns the workload's index.
        """
        index = self._sim._add_workload(json.dumps(description))
        self._workloads.append(str(description.get("name", "workload")))
        return index

    def schedule(self, at: Any, action: str | Callable[[Cluster], Any], *, every: Any = None, **fields: Any) -> None:
        """Schedules an action at virtual time ``at`` (counted from when the simulation was built),
        and then every ``every`` if given. ``action`` is a Python callable (called with the cluster)
        or one of these names:

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
        """
        at_n = self._start + _nanos(at, "at")
        every_n = None if every is None else _nanos(every, "every")
        if every_n == 0:
            raise IllegalArgumentError("[every] must be positive")
        if callable(action):
            entry = (at_n, next(self._seq), action, every_n)
            bisect.insort(self._callables, entry, key=lambda e: (e[0], e[1]))
            return
        description = {"action": action, **fields}
        if action == "rest" and "authorization" not in fields:
            description["authorization"] = self.cluster.basic_auth_header()
        self._sim._schedule(at_n / NANOS, json.dumps(description), None if every_n is None else every_n / NANOS)

    # ---- running ------------------------------------------------------------------------------

    def run_until(self, until: Any) -> dict[str, Any]:
        """Runs to virtual time ``until`` (counted from when the simulation was built); returns the report."""
        target = self._start + _nanos(until, "until")
        while self._callables and self._callables[0][0] <= target:
            at, _, fn, every = self._callables.pop(0)
            self._sim._run_until(at)
            fn(self.cluster)
            if every is not None:
                bisect.insort(self._callables, (at + every, next(self._seq), fn, every), key=lambda e: (e[0], e[1]))
        self._sim._run_until(target)
        return self.report()

    def run(self, duration: Any, *, progress: Callable[[float], None] | None = None, steps: int = 100) -> dict[str, Any]:
        """Runs for ``duration`` of virtual time from now; ``progress`` (if given) is called with the
        fraction done after each of ``steps`` slices."""
        total = _nanos(duration, "duration")
        start = self.cluster.now_nanos - self._start
        if progress is None:
            return self.run_until((start + total) / NANOS)
        for i in range(1, steps + 1):
            self.run_until((start + total * i // steps) / NANOS)
            progress(i / steps)
        return self.report()

    # ---- results ------------------------------------------------------------------------------

    def report(self) -> dict[str, Any]:
        """The figures so far: outcomes, stale acceptances, hashing CPU, latencies, per node and cache."""
        return json.loads(self._sim._report())

    def timeline(self) -> list[dict[str, Any]]:
        """The periodic samples (every ``sample_interval``): per node, cumulative cache stats, queue
        depth, hashing CPU and outcomes."""
        return json.loads(self._sim._timeline())

    def credential_ids(self, workload: str | int) -> list[str]:
        """A workload's credential ids (API key ids or qualified token names), in population order."""
        index = workload if isinstance(workload, int) else self._workloads.index(workload)
        return self._sim._credential_ids(index)

    @property
    def in_flight(self) -> int:
        return self._sim.in_flight

    @property
    def trace(self) -> Any:
        """The cluster's event trace (``escache.EventTrace``)."""
        return self.cluster.events


def load_scenario(source: str | Path | Mapping[str, Any], *, seed: int | None = None) -> tuple[Cluster, Simulation, Any]:
    """Builds the cluster and the simulation a scenario describes (a TOML file, TOML text, or a dict).

    The scenario has these tables:

    - ``[cluster]``: ``nodes``, ``name``, ``seed``, ``password`` and ``trace``.
    - ``[settings]``: Elasticsearch setting names and their values.
    - ``[simulation]``: ``seed``, ``duration``, ``sample_interval`` and ``cost_model``.
    - ``[[workloads]]``: one table per workload.
    - ``[[actions]]``: ``at``, ``every``, ``action`` and the action's fields.

    Returns ``(cluster, simulation, duration)``.
    """
    if isinstance(source, Mapping):
        doc = dict(source)
    else:
        text = Path(source).read_text(encoding="utf-8") if isinstance(source, Path) or (
            isinstance(source, str) and "\n" not in source and source.endswith(".toml")
        ) else str(source)
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise IllegalArgumentError(f"invalid scenario file: {e}") from None
    known = {"cluster", "settings", "simulation", "workloads", "actions", "name", "description"}
    unknown = set(doc) - known
    if unknown:
        raise IllegalArgumentError(f"unknown scenario tables {sorted(unknown)}; expected {sorted(known)}")
    cl = dict(doc.get("cluster", {}))
    sim_cfg = dict(doc.get("simulation", {}))
    sim_seed = seed if seed is not None else int(sim_cfg.get("seed", cl.get("seed", 0)))
    cluster = Cluster(
        cl.get("nodes", 3),
        cluster_name=cl.get("name", "escache"),
        seed=int(cl.get("seed", sim_seed)) if seed is None else seed,
        settings=dict(doc.get("settings", {})),
        password=cl.get("password", "changeme"),
        trace=bool(cl.get("trace", True)),
    )
    sim = Simulation(
        cluster,
        seed=sim_seed,
        sample_interval=sim_cfg.get("sample_interval", "10s"),
        cost_model=sim_cfg.get("cost_model"),
    )
    for w in doc.get("workloads", []):
        sim.add_workload(**w)
    for a in doc.get("actions", []):
        a = dict(a)
        at = a.pop("at", 0)
        every = a.pop("every", None)
        name = a.pop("action", None)
        if name is None:
            raise IllegalArgumentError("every [[actions]] entry needs an [action] field")
        sim.schedule(at, name, every=every, **a)
    return cluster, sim, sim_cfg.get("duration", "10m")
