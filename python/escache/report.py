"""The simulation report as types: what :meth:`escache.Simulation.run` returns.

The core builds the report as serde types (``src/sim/report.rs``) and hands it over as JSON; these
frozen dataclasses read it back with the same fields under the same names
(``report.stale_acceptances``, ``report.nodes["node-2"].caches["api_key_doc"].hit_ratio``). Keys
that are not Python names keep their JSON spelling in :meth:`to_dict`: outcomes ``"401"`` and
``"429"`` are the attributes ``unauthorized`` and ``too_busy``; removal reasons ``"REPLACED"``,
``"INVALIDATED"``, ``"EVICTED"`` are ``replaced``, ``invalidated``, ``evicted``.

:meth:`SimulationReport.to_dict` gives exactly the JSON object, and a report also reads as that
mapping (``report["stale_acceptances"]``), so code written for the dict keeps working.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from escache.errors import IllegalStateError
from escache.explain import Explanation
from escache.timeline import Timeline

__all__ = [
    "ActionError",
    "Authentications",
    "CacheReport",
    "ClearFailure",
    "ClearReport",
    "ClusterStateChange",
    "Latency",
    "NodeReport",
    "Removals",
    "SimulationReport",
    "WorkloadReport",
]


@dataclass(frozen=True)
class Authentications:
    """Authentications by outcome."""

    success: int
    unauthorized: int
    too_busy: int
    unavailable: int

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Authentications:
        return cls(d["success"], d["401"], d["429"], d["unavailable"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "success": self.success,
            "401": self.unauthorized,
            "429": self.too_busy,
            "unavailable": self.unavailable,
        }


@dataclass(frozen=True)
class Removals:
    """Cache removals by reason (Elasticsearch's ``RemovalNotification.RemovalReason``)."""

    replaced: int
    invalidated: int
    evicted: int

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Removals:
        return cls(d["REPLACED"], d["INVALIDATED"], d["EVICTED"])

    def to_dict(self) -> dict[str, Any]:
        return {"REPLACED": self.replaced, "INVALIDATED": self.invalidated, "EVICTED": self.evicted}


@dataclass(frozen=True)
class CacheReport:
    """One cache of one node; ``hit_ratio`` is ``None`` before the first lookup."""

    hits: int
    misses: int
    hit_ratio: float | None
    evictions: int
    removals: Removals
    count: int

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CacheReport:
        return cls(
            d["hits"], d["misses"], d["hit_ratio"], d["evictions"], Removals.from_dict(d["removals"]), d["count"]
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "hits": self.hits,
            "misses": self.misses,
            "hit_ratio": self.hit_ratio,
            "evictions": self.evictions,
            "removals": self.removals.to_dict(),
            "count": self.count,
        }


@dataclass(frozen=True)
class NodeReport:
    """One node; a cache is ``None`` when it is disabled or the node is stopped."""

    id: str
    running: bool
    partitioned: bool
    authentications: Authentications
    stale_acceptances: int
    longest_stale_window_seconds: float
    hashing_cpu_seconds: float
    hash_verifications: int
    max_crypto_queue_depth: int
    caches: Mapping[str, CacheReport | None]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NodeReport:
        return cls(
            d["id"],
            d["running"],
            d["partitioned"],
            Authentications.from_dict(d["authentications"]),
            d["stale_acceptances"],
            d["longest_stale_window_seconds"],
            d["hashing_cpu_seconds"],
            d["hash_verifications"],
            d["max_crypto_queue_depth"],
            {k: None if v is None else CacheReport.from_dict(v) for k, v in d["caches"].items()},
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "running": self.running,
            "partitioned": self.partitioned,
            "authentications": self.authentications.to_dict(),
            "stale_acceptances": self.stale_acceptances,
            "longest_stale_window_seconds": self.longest_stale_window_seconds,
            "hashing_cpu_seconds": self.hashing_cpu_seconds,
            "hash_verifications": self.hash_verifications,
            "max_crypto_queue_depth": self.max_crypto_queue_depth,
            "caches": {k: None if v is None else v.to_dict() for k, v in self.caches.items()},
        }

    def __repr__(self) -> str:
        return (
            f"<escache.NodeReport id={self.id!r} running={self.running} success={self.authentications.success} "
            f"stale_acceptances={self.stale_acceptances}>"
        )

    def _repr_html_(self) -> str:
        from escache._display import node_report_html  # noqa: PLC0415 - display code loads on first use

        return node_report_html(self)


@dataclass(frozen=True)
class WorkloadReport:
    """One workload."""

    requests: int
    credentials: int
    authentications: Authentications
    #: Client retries: attempts beyond each logical request's first (CA-CL4).
    retries: int = 0
    #: Attempts over logical requests (1.0 without retries); None before the first request.
    amplification: float | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> WorkloadReport:
        return cls(
            d["requests"],
            d["credentials"],
            Authentications.from_dict(d["authentications"]),
            d.get("retries", 0),
            d.get("amplification"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "credentials": self.credentials,
            "authentications": self.authentications.to_dict(),
            "retries": self.retries,
            "amplification": self.amplification,
        }


@dataclass(frozen=True)
class Latency:
    """Request latencies in milliseconds."""

    mean: float
    p50: float
    p90: float
    p99: float
    p999: float
    max: float

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Latency:
        return cls(d["mean"], d["p50"], d["p90"], d["p99"], d["p999"], d["max"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean": self.mean,
            "p50": self.p50,
            "p90": self.p90,
            "p99": self.p99,
            "p999": self.p999,
            "max": self.max,
        }


@dataclass(frozen=True)
class ActionError:
    """A scheduled action that failed (the run went on); ``time`` in virtual seconds."""

    time: float
    action: str
    error: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ActionError:
        return cls(d["time"], d["action"], d["error"])

    def to_dict(self) -> dict[str, Any]:
        return {"time": self.time, "action": self.action, "error": self.error}


@dataclass(frozen=True)
class ClearFailure:
    """A node that failed in a clear-cache fan-out's response, and Elasticsearch's exception type
    (``node_disconnected_exception`` for a node fault detection removed while the request waited)."""

    node: str
    type: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ClearFailure:
        return cls(d["node"], d["type"])

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "type": self.type}


@dataclass(frozen=True)
class ClusterStateChange:
    """A node fault detection removed from the cluster state (``removed``, rule CA-PT3) or that
    joined it again (``joined``, CA-PT4); ``time`` in virtual seconds."""

    time: float
    node: str
    change: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ClusterStateChange:
        return cls(d["time"], d["node"], d["change"])

    def to_dict(self) -> dict[str, Any]:
        return {"time": self.time, "node": self.node, "change": self.change}


@dataclass(frozen=True)
class ClearReport:
    """A clear-cache fan-out and how long its response took (with fault detection or a
    ``transport_hop`` latency, rules CA-PT5 and CA-TM5).

    ``time`` is when the coordinator sent it, in virtual seconds; ``nodes`` is the response's
    ``_nodes.total``; ``waiting_on`` the nodes not answered yet when the report was made, and
    ``latency_seconds`` is None while there are some."""

    time: float
    action: str
    cache: str
    coordinator: str
    nodes: int
    successful: int
    failures: tuple[ClearFailure, ...]
    waiting_on: tuple[str, ...]
    latency_seconds: float | None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ClearReport:
        return cls(
            d["time"],
            d["action"],
            d["cache"],
            d["coordinator"],
            d["nodes"],
            d["successful"],
            tuple(ClearFailure.from_dict(f) for f in d["failures"]),
            tuple(d["waiting_on"]),
            d["latency_seconds"],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "action": self.action,
            "cache": self.cache,
            "coordinator": self.coordinator,
            "nodes": self.nodes,
            "successful": self.successful,
            "failures": [f.to_dict() for f in self.failures],
            "waiting_on": list(self.waiting_on),
            "latency_seconds": self.latency_seconds,
        }


# eq=False: the class defines its own __eq__ (a report equals the dict it reads as), so it is unhashable
# like a dict; with eq=True the dataclass would add a __hash__ back.
@dataclass(frozen=True, eq=False)
class SimulationReport(Mapping[str, Any]):
    """The report of a simulation so far. It also reads as the mapping :meth:`to_dict` returns."""

    virtual_seconds: float
    requests: int
    finished: int
    in_flight: int
    authentications: Authentications
    success_ratio: float | None
    stale_acceptances: int
    longest_stale_window_seconds: float
    hashing_cpu_seconds: float
    latency_ms: Latency
    nodes: Mapping[str, NodeReport]
    workloads: Mapping[str, WorkloadReport]
    action_errors: tuple[ActionError, ...]
    events: int
    outcome_names: tuple[str, ...]
    #: Client retries (CA-CL4); ``authentications`` counts each logical request once, by its last attempt.
    retries: int = 0
    #: Attempts over logical requests (1.0 without retries); None before the first request.
    amplification: float | None = None
    #: How long the API key document GETs took (only with an ``index_get`` latency, rule CA-TM2).
    index_get_ms: Latency | None = None
    #: The clear-cache fan-outs and how long each response took (with fault detection or a
    #: ``transport_hop`` latency, CA-PT5 and CA-TM5).
    clears: tuple[ClearReport, ...] | None = None
    #: Nodes fault detection removed from the cluster state, and their rejoins (CA-PT5).
    cluster_state_changes: tuple[ClusterStateChange, ...] | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SimulationReport:
        return cls(
            d["virtual_seconds"],
            d["requests"],
            d["finished"],
            d["in_flight"],
            Authentications.from_dict(d["authentications"]),
            d["success_ratio"],
            d["stale_acceptances"],
            d["longest_stale_window_seconds"],
            d["hashing_cpu_seconds"],
            Latency.from_dict(d["latency_ms"]),
            {k: NodeReport.from_dict(v) for k, v in d["nodes"].items()},
            {k: WorkloadReport.from_dict(v) for k, v in d["workloads"].items()},
            tuple(ActionError.from_dict(e) for e in d["action_errors"]),
            d["events"],
            tuple(d["outcome_names"]),
            d.get("retries", 0),
            d.get("amplification"),
            Latency.from_dict(d["index_get_ms"]) if "index_get_ms" in d else None,
            tuple(ClearReport.from_dict(c) for c in d["clears"]) if "clears" in d else None,
            (
                tuple(ClusterStateChange.from_dict(c) for c in d["cluster_state_changes"])
                if "cluster_state_changes" in d
                else None
            ),
        )

    @classmethod
    def from_json(cls, text: str) -> SimulationReport:
        return cls.from_dict(json.loads(text))

    def to_dict(self) -> dict[str, Any]:
        """The report as the JSON object the core wrote."""
        out: dict[str, Any] = {
            "virtual_seconds": self.virtual_seconds,
            "requests": self.requests,
            "finished": self.finished,
            "in_flight": self.in_flight,
            "authentications": self.authentications.to_dict(),
            "success_ratio": self.success_ratio,
            "stale_acceptances": self.stale_acceptances,
            "longest_stale_window_seconds": self.longest_stale_window_seconds,
            "hashing_cpu_seconds": self.hashing_cpu_seconds,
            "latency_ms": self.latency_ms.to_dict(),
            "nodes": {k: v.to_dict() for k, v in self.nodes.items()},
            "workloads": {k: v.to_dict() for k, v in self.workloads.items()},
            "action_errors": [e.to_dict() for e in self.action_errors],
            "events": self.events,
            "outcome_names": list(self.outcome_names),
            "retries": self.retries,
            "amplification": self.amplification,
        }
        if self.index_get_ms is not None:
            out["index_get_ms"] = self.index_get_ms.to_dict()
        if self.clears is not None:
            out["clears"] = [c.to_dict() for c in self.clears]
        if self.cluster_state_changes is not None:
            out["cluster_state_changes"] = [c.to_dict() for c in self.cluster_state_changes]
        return out

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as JSON text (``kwargs`` go to ``json.dumps``, e.g. ``indent=2``)."""
        return json.dumps(self.to_dict(), **kwargs)

    # The mapping view, for code written against the dict report.
    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())

    # Equal to an equal report, and (as the mapping it reads as) to the dict of the same report.
    def __eq__(self, other: object) -> bool:
        if isinstance(other, SimulationReport):
            return self.to_dict() == other.to_dict()
        if isinstance(other, Mapping):
            return self.to_dict() == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    # ---- the timeline up to the report's time ---------------------------------------------------------

    def _attach_timeline(self, timeline: Timeline) -> None:
        """Gives the report its timeline (``Simulation.report``); not a field: not in :meth:`to_dict`."""
        object.__setattr__(self, "_timeline", timeline)

    @property
    def timeline(self) -> Timeline:
        """The periodic samples up to this report's time, as a table (:class:`escache.timeline.Timeline`):
        one row per sample and node, one column per figure; ``to_pandas()``, ``to_polars()``,
        ``to_arrow()``, or any reader of ``__arrow_c_stream__``. Raises
        :class:`escache.IllegalStateError` for a report read from JSON, which has none."""
        timeline: Timeline | None = getattr(self, "_timeline", None)
        if timeline is None:
            raise IllegalStateError(
                "this report was read from JSON and has no timeline: use the report that Simulation.run or "
                "Simulation.report returns"
            )
        return timeline

    def caches_with_lookups(self) -> list[str]:
        """The caches that had at least one lookup on some node, in report order."""
        names = next(iter(self.nodes.values())).caches if self.nodes else {}
        return [
            c
            for c in names
            if any(getattr(n.caches.get(c), "hit_ratio", None) is not None for n in self.nodes.values())
        ]

    # ---- the simulation behind the report: plots and explanations ------------------------------------

    def _attach(self, simulation: Any, until_nanos: int) -> None:
        """Ties the report to the simulation that made it (``Simulation.report``), for :attr:`plot`
        and :meth:`explain`; both read the simulation's timeline and trace up to the report's time."""
        object.__setattr__(self, "_simulation", simulation)
        object.__setattr__(self, "_until_nanos", until_nanos)

    def _source(self) -> tuple[Any, int]:
        simulation = getattr(self, "_simulation", None)
        if simulation is None:
            raise IllegalStateError(
                "this report was read from JSON: plots and explanations need the Simulation that made it "
                "(use the report that Simulation.run or Simulation.report returns)"
            )
        until: int = getattr(self, "_until_nanos", 0)
        return simulation, until

    @property
    def plot(self) -> Any:
        """The report's plots (:class:`escache.plot.ReportPlots`: ``stale()``, ``hit_ratio()``,
        ``crypto()``, ``latency()``); they need matplotlib (``pip install 'escache[plot]'``)."""
        from escache.plot import ReportPlots  # noqa: PLC0415 - matplotlib loads on first plot

        return ReportPlots(self)

    def _timeline_rows(self) -> list[dict[str, Any]]:
        """The simulation's periodic samples up to this report's time (``Simulation.timeline()``)."""
        simulation, until = self._source()
        rows: list[dict[str, Any]] = simulation.timeline()
        return [r for r in rows if round(r["time"] * 1e9) <= until]

    def explain(self, credential: str, *, node: str | None = None, at: Any = None) -> Explanation:
        """Why ``credential`` (an API key id or qualified token name) was accepted on ``node`` (any
        node when ``None``): the latest acceptance at or before ``at`` (virtual time since the cluster
        started: seconds or a time value), or without ``at`` its first stale acceptance (its last one
        when none was stale). Reads the trace up to this report's time. See :class:`escache.explain.Explanation`."""
        simulation, until = self._source()
        explanation: Explanation = simulation.explain(credential, node=node, at=at, until=until)
        return explanation

    def explain_stale(self) -> list[Explanation]:
        """Every stale acceptance up to this report's time, explained, in trace order."""
        simulation, until = self._source()
        explanations: list[Explanation] = simulation.explain_stale(until=until)
        return explanations

    def __repr__(self) -> str:
        return (
            f"<escache.SimulationReport virtual_seconds={self.virtual_seconds:g} requests={self.requests} "
            f"stale_acceptances={self.stale_acceptances} nodes={len(self.nodes)}>"
        )

    def _repr_html_(self) -> str:
        from escache._display import report_html  # noqa: PLC0415 - display code loads on first use

        return report_html(self)
