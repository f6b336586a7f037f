""" "Why was this accepted?": the explanation of one accepted authentication, as types.

The core reads the event trace and the simulation's ground truth (``src/sim/explain.rs``) and hands
the answer over as JSON; these frozen dataclasses read it back under the same names, and
:meth:`Explanation.lines` says it in a few sentences::

    report = sim.run("12m")
    print(report.explain(key_id, node="node-2"))

Times are virtual seconds since the cluster started, as in the report and the trace. Explanations
hold credential ids and node names, never a secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CAUSES", "CacheEntry", "End", "Explanation", "Invalidation", "Request"]

#: Each cause the core names, in words.
CAUSES: dict[str, str] = {
    "not_stale": "the credential was valid on this node at that time",
    "broadcast_dropped": "the clear-cache broadcast to this node was dropped (the coordinator timed out on it)",
    "partitioned": "the node was partitioned from the coordinator, so the clear-cache broadcast could not reach it",
    "node_down": "the node was down when the clear-cache broadcast went out",
    "left_cluster": "fault detection had removed the node from the cluster state, so the clear-cache broadcast "
    "was not sent to it",
    "file_watcher_pending": "the node's file watcher had not reloaded its service_tokens file yet (it polls every 5 s)",
    "not_cleared": "the trace shows no clear of this credential reaching or missing this node",
}

_CHANGES = {
    "invalidated": "the API key was invalidated",
    "deleted": "the service token was deleted",
    "removed_from_file": "the token was removed from this node's service_tokens file",
    "expired": "the credential expired",
}

_ENDINGS = {
    "expired": "the entry had expired (the next lookup missed and read the credential again)",
    "invalidated": "the entry was invalidated",
    "evicted": "the entry was evicted",
    "file_reloaded": "the file watcher reloaded the service_tokens file and cleared the file token cache",
    "index_change": "a security index change cleared every API key cache",
    "node_stopped": "the node stopped and lost its caches",
}


_OUTCOMES = {"success": "it succeeded", "401": "it was refused, 401", "429": "it was rejected, 429"}


def _t(seconds: float) -> str:
    from escache.simulation import _seconds  # noqa: PLC0415 - simulation imports this module's users

    return _seconds(seconds)


@dataclass(frozen=True)
class Request:
    """An authentication as the trace records it; ``outcome`` is ``success``, ``401`` or ``429``."""

    time: float
    node: str
    outcome: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Request:
        return cls(d["time"], d["node"], d["outcome"])


@dataclass(frozen=True)
class CacheEntry:
    """The cache entry that served the acceptance: when it was put, and by which request."""

    cache: str
    put_at: float | None
    put_by: Request | None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CacheEntry:
        put_by = d.get("put_by")
        return cls(d["cache"], d.get("put_at"), None if put_by is None else Request.from_dict(put_by))


@dataclass(frozen=True)
class Invalidation:
    """The change that made the credential invalid on the node (``change``: ``invalidated``,
    ``deleted``, ``removed_from_file``, ``expired``), the nodes a clear of it reached, and when
    the trace shows this node missed it."""

    time: float
    change: str
    cleared_on: tuple[str, ...]
    missed_at: float | None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Invalidation:
        return cls(d["time"], d["change"], tuple(d["cleared_on"]), d.get("missed_at"))


@dataclass(frozen=True)
class End:
    """When the stale entry went away, and how (``expired``, ``invalidated``, ``evicted``,
    ``file_reloaded``, ``index_change``, ``node_stopped``)."""

    time: float
    how: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> End:
        return cls(d["time"], d["how"])


@dataclass(frozen=True)
class Explanation:
    """Why ``credential`` was accepted on ``node`` at ``time``. ``cause`` is one of :data:`CAUSES`."""

    credential: str
    node: str
    time: float
    stale: bool
    stale_for_seconds: float | None
    served_by: CacheEntry | None
    invalidation: Invalidation | None
    cause: str
    ended: End | None
    first_refused: Request | None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Explanation:
        def opt(key: str, kind: Any) -> Any:
            v = d.get(key)
            return None if v is None else kind.from_dict(v)

        return cls(
            d["credential"],
            d["node"],
            d["time"],
            d["stale"],
            d.get("stale_for_seconds"),
            opt("served_by", CacheEntry),
            opt("invalidation", Invalidation),
            d["cause"],
            opt("ended", End),
            opt("first_refused", Request),
        )

    @classmethod
    def from_json(cls, text: str) -> Explanation:
        return cls.from_dict(json.loads(text))

    @classmethod
    def list_from_json(cls, text: str) -> list[Explanation]:
        return [cls.from_dict(d) for d in json.loads(text)]

    def lines(self) -> list[str]:
        """The explanation in a few sentences."""
        out = [
            f"{self.credential} was accepted on {self.node} at {_t(self.time)}"
            + (f", {_t(self.stale_for_seconds or 0.0)} after it stopped being valid (stale)." if self.stale else ".")
        ]
        e = self.served_by
        if e is not None:
            put = "" if e.put_at is None else f", put at {_t(e.put_at)}"
            by = (
                ""
                if e.put_by is None
                else f" by an authentication that missed the cache ({_OUTCOMES.get(e.put_by.outcome, e.put_by.outcome)} at {_t(e.put_by.time)})"
            )
            out.append(f"Served from the {e.cache} cache entry{put}{by}.")
        elif self.stale:
            out.append("No cache entry served it: the node verified it against its own, outdated state.")
        inv = self.invalidation
        if inv is not None:
            reached = f"; the clear reached {', '.join(inv.cleared_on)}" if inv.cleared_on else ""
            out.append(f"At {_t(inv.time)} {_CHANGES.get(inv.change, inv.change)}{reached}.")
        if self.stale:
            missed = "" if inv is None or inv.missed_at is None else f" (at {_t(inv.missed_at)})"
            out.append(f"It was not removed from {self.node}: {CAUSES.get(self.cause, self.cause)}{missed}.")
        if self.ended is not None:
            out.append(f"At {_t(self.ended.time)} {_ENDINGS.get(self.ended.how, self.ended.how)}.")
        if self.first_refused is not None:
            r = self.first_refused
            out.append(f"{self.node} first refused it at {_t(r.time)} ({r.outcome}).")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return (
            f"<escache.Explanation credential={self.credential!r} node={self.node!r} time={self.time:g} "
            f"stale={self.stale} cause={self.cause!r}>"
        )

    def _repr_html_(self) -> str:
        from escache._display import explanation_html  # noqa: PLC0415 - display code loads on first use

        return explanation_html(self)
