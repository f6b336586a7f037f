"""Plots of a simulation report (``report.plot``): stale acceptances, cache hit ratios, the
``security-crypto`` pools and latencies over virtual time, per node.

Each method draws with matplotlib and returns what it drew on (an ``Axes``, or a ``Figure`` for
several panels) so that you can restyle it; pass ``ax=`` to draw on your own axes. The figures come
from the simulation's periodic samples (``Simulation.timeline()``, one per ``sample_interval`` and
node, up to the report's time)
and, for the markers, from its trace (``report.explain_stale()``). matplotlib is an optional
dependency: ``pip install 'escache[plot]'``; without it each method raises
:class:`escache.MissingDependencyError`.

``escache run FILE --plot DIR`` writes the same pictures as PNG files (:meth:`ReportPlots.save`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from escache.errors import IllegalArgumentError, MissingDependencyError

if TYPE_CHECKING:
    from escache.report import SimulationReport

__all__ = ["CACHES", "ReportPlots", "sweep_plot"]

#: The caches ``hit_ratio(cache=...)`` knows.
CACHES = (
    "api_key_auth",
    "api_key_doc",
    "api_key_role_descriptors",
    "file_service_account_token",
    "index_service_account_token",
)

_QUANTILES = ("p50", "p90", "p99", "max")

# What the markers of stale() say, by the explanation's fields.
_CHANGE_LABELS = {
    "invalidated": "revocation",
    "deleted": "token deleted",
    "removed_from_file": "file changed",
    "expired": "credential expired",
}
_MISSED_LABELS = {
    "broadcast_dropped": "broadcast dropped",
    "partitioned": "broadcast missed (partitioned)",
    "node_down": "broadcast missed (node down)",
    "left_cluster": "broadcast missed (removed from the cluster)",
}
_MEMBERSHIP_LABELS = {
    "removed": "removed from the cluster state",
    "joined": "joined the cluster again",
}
_END_LABELS = {
    "expired": "TTL expiry",
    "file_reloaded": "file watcher reload",
    "invalidated": "entry cleared",
    "evicted": "entry evicted",
    "index_change": "caches cleared (index change)",
    "node_stopped": "node stopped",
}


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt  # noqa: PLC0415 - optional dependency
    except ImportError:
        raise MissingDependencyError(
            "report.plot needs matplotlib, which is not installed: pip install 'escache[plot]'"
        ) from None
    return plt


def _pairs(rows: Sequence[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    return itertools.pairwise(rows)


class ReportPlots:
    """The plots of one report (``report.plot``)."""

    def __repr__(self) -> str:
        return "<escache.plot.ReportPlots stale() hit_ratio(cache=...) crypto() latency(quantile=...) save(directory)>"

    def __init__(self, report: SimulationReport) -> None:
        self._report = report

    def _by_node(self) -> dict[str, list[dict[str, Any]]]:
        nodes: dict[str, list[dict[str, Any]]] = {name: [] for name in self._report.nodes}
        for row in self._report._timeline_rows():
            nodes.setdefault(row["node"], []).append(row)
        return nodes

    @staticmethod
    def _axes(ax: Any, title: str, ylabel: str) -> Any:
        if ax is None:
            _, ax = _pyplot().subplots(figsize=(9, 3.5), layout="constrained")
        else:
            _pyplot()
        ax.set_title(title)
        ax.set_xlabel("virtual time (s)")
        ax.set_ylabel(ylabel)
        return ax

    # ---- the plots ---------------------------------------------------------------------------------

    def stale(self, ax: Any = None) -> Any:
        """Stale acceptances per sample interval, per node, with the changes that made credentials
        invalid (revocation, file change), the broadcasts a node missed (dropped, partitioned, down),
        fault detection's removals and rejoins, and when the stale entries went away (TTL expiry, file watcher reload, a clear) marked as
        vertical lines. Returns the ``Axes``."""
        ax = self._axes(ax, "Stale acceptances per node", "stale acceptances per interval")
        for node, rows in self._by_node().items():
            xs = [b["time"] for _, b in _pairs(rows)]
            ys = [b["stale_acceptances"] - a["stale_acceptances"] for a, b in _pairs(rows)]
            ax.step(xs, ys, where="pre", label=node)
        markers: dict[str, set[float]] = {}
        explanations = self._report.explain_stale() if self._report.stale_acceptances else []
        for e in explanations:
            if e.invalidation is not None:
                markers.setdefault(_CHANGE_LABELS.get(e.invalidation.change, "change"), set()).add(e.invalidation.time)
                if e.invalidation.missed_at is not None:
                    markers.setdefault(_MISSED_LABELS.get(e.cause, "broadcast missed"), set()).add(
                        e.invalidation.missed_at
                    )
            if e.ended is not None:
                markers.setdefault(_END_LABELS.get(e.ended.how, e.ended.how), set()).add(e.ended.time)
        if explanations:
            # CA-PT3, CA-PT4: when fault detection took a node out of the cluster state and back.
            for c in self._report.cluster_state_changes or ():
                markers.setdefault(_MEMBERSHIP_LABELS[c.change], set()).add(c.time)
        styles = iter(
            zip(
                ["--", ":", "-.", "--", ":", "-."],
                ["tab:red", "tab:purple", "tab:gray", "tab:brown", "tab:pink", "tab:olive"],
                strict=True,
            )
        )
        for label, times in markers.items():
            style, color = next(styles, ("--", "black"))
            for i, t in enumerate(sorted(times)):
                ax.axvline(t, color=color, linestyle=style, linewidth=1.2, label=label if i == 0 else None, gid=label)
        ax.legend(loc="best", fontsize="small")
        return ax

    def hit_ratio(self, cache: str = "api_key_auth", ax: Any = None) -> Any:
        """One cache's hit ratio per sample interval, per node (gaps where it had no lookups).
        Returns the ``Axes``."""
        if cache not in CACHES:
            raise IllegalArgumentError(f"[cache] must be one of {list(CACHES)}, got [{cache}]")
        ax = self._axes(ax, f"{cache} hit ratio per node", "hit ratio per interval")
        for node, rows in self._by_node().items():
            xs, ys = [], []
            for a, b in _pairs(rows):
                ca, cb = a["caches"].get(cache), b["caches"].get(cache)
                if ca is None or cb is None:
                    continue
                hits = cb["hits"] - ca["hits"]
                lookups = hits + cb["misses"] - ca["misses"]
                xs.append(b["time"])
                ys.append(hits / lookups if lookups > 0 else math.nan)
            ax.plot(xs, ys, label=node)
        ax.set_ylim(-0.02, 1.02)
        ax.legend(loc="lower right", fontsize="small")
        return ax

    def crypto(self) -> Any:
        """The ``security-crypto`` pools: the largest queue in each sample interval (so a burst
        shorter than the interval shows), hashing CPU (cores busy over each interval) and 429 answers
        per interval, per node, in three panels. Returns the ``Figure``."""
        plt = _pyplot()
        fig, axes = plt.subplots(3, 1, figsize=(9, 7), sharex=True, layout="constrained")
        queue, cpu, rejected = axes
        for node, rows in self._by_node().items():
            xs = [b["time"] for _, b in _pairs(rows)]
            queue.step(xs, [b["max_queue_depth"] for _, b in _pairs(rows)], where="pre", label=node)
            cpu.plot(
                xs,
                [
                    (b["hashing_cpu_seconds"] - a["hashing_cpu_seconds"]) / (b["time"] - a["time"] or math.inf)
                    for a, b in _pairs(rows)
                ],
                label=node,
            )
            rejected.step(
                xs,
                [b["authentications"]["429"] - a["authentications"]["429"] for a, b in _pairs(rows)],
                where="pre",
                label=node,
            )
        queue.set_title("security-crypto queue (largest per interval)")
        queue.set_ylabel("tasks queued")
        cpu.set_title("hashing CPU")
        cpu.set_ylabel("cores busy")
        rejected.set_title("429 (too many requests)")
        rejected.set_ylabel("per interval")
        rejected.set_xlabel("virtual time (s)")
        queue.legend(loc="upper right", fontsize="small")
        return fig

    def latency(self, quantile: str = "p99", ax: Any = None) -> Any:
        """Request latency (``quantile``: ``p50``, ``p90``, ``p99`` or ``max``, in ms) of the requests
        that finished in each sample interval, per node. Returns the ``Axes``."""
        if quantile not in _QUANTILES:
            raise IllegalArgumentError(f"[quantile] must be one of {list(_QUANTILES)}, got [{quantile}]")
        ax = self._axes(ax, f"{quantile} latency per node", f"{quantile} latency (ms)")
        for node, rows in self._by_node().items():
            xs = [r["time"] for r in rows]
            ys = [math.nan if r.get("latency_ms") is None else r["latency_ms"][quantile] for r in rows]
            ax.plot(xs, ys, label=node)
        ax.legend(loc="upper right", fontsize="small")
        return ax

    # ---- files -------------------------------------------------------------------------------------

    def save(self, directory: str | Path, *, dpi: int = 100) -> list[Path]:
        """Writes every plot as a PNG into ``directory`` (made if missing): ``stale.png``,
        ``hit_ratio_<cache>.png`` for each cache that had lookups, ``crypto.png`` and
        ``latency.png``. Returns the paths written."""
        plt = _pyplot()
        out = Path(directory)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise IllegalArgumentError(f"cannot write plots to [{out}]: {e.strerror or e}") from None
        used = self._report.caches_with_lookups()
        figures: list[tuple[str, Any]] = [("stale", self.stale().figure)]
        figures += [(f"hit_ratio_{c}", self.hit_ratio(c).figure) for c in used]
        figures += [("crypto", self.crypto()), ("latency", self.latency().figure)]
        written = []
        for name, fig in figures:
            path = out / f"{name}.png"
            try:
                fig.savefig(path, dpi=dpi)
            finally:
                plt.close(fig)
            written.append(path)
        return written


# ---- sweeps ----------------------------------------------------------------------------------------


def _x_positions(values: Sequence[Any]) -> tuple[list[float], list[str] | None, str]:
    """Numbers stay numbers; time values (``"5m"``) become seconds; anything else is categorical,
    in order of first appearance (ticks labelled with the values)."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return [float(v) for v in values], None, ""
    try:
        from escache._core import parse_time_value  # noqa: PLC0415 - the core's own parser of time values

        return [parse_time_value(str(v), "x") / 1e9 for v in values], None, " (seconds)"
    except Exception:  # noqa: BLE001 - not all time values: categorical
        labels = list(dict.fromkeys(str(v) for v in values))
        return [float(labels.index(str(v))) for v in values], labels, ""


def sweep_plot(
    df: Any, x: str, y: str, *, hue: str | Sequence[str] | None = None, band: str | None = "minmax", ax: Any = None
) -> Any:
    """A metric ``y`` of a sweep (the DataFrame :func:`escache.sweep` returns) against the grid key
    ``x``: one line per value of ``hue`` (a grid key, or several) through the mean over seeds, with a
    band over seeds: ``band="minmax"`` (default) from the smallest to the largest value, ``"std"`` the
    mean ± one standard deviation, ``None`` no band. Failed runs (``error`` set) and missing values
    are left out. Time values on ``x`` (``"5m"``) are drawn as seconds. Returns the ``Axes``."""
    plt = _pyplot()
    if band not in ("minmax", "std", None):
        raise IllegalArgumentError(f"[band] must be 'minmax', 'std' or None, got [{band!r}]")
    hues = [] if hue is None else [hue] if isinstance(hue, str) else list(hue)
    for column in [x, y, *hues]:
        if column not in df.columns:
            raise IllegalArgumentError(f"the sweep has no column [{column}]; it has {list(df.columns)}")
    ok = df[df["error"].isna()] if "error" in df.columns else df
    ok = ok[ok[y].notna()]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    xs_all, labels, unit = _x_positions(list(df[x]))
    position = {str(v): p for v, p in zip(df[x], xs_all, strict=True)}
    groups = ok.groupby(hues, sort=False, dropna=False) if hues else [((), ok)]
    for name, group in groups:
        stats: dict[float, list[float]] = {}
        for xv, yv in zip(group[x], group[y], strict=True):
            stats.setdefault(position[str(xv)], []).append(float(yv))
        px = sorted(stats)
        mean = [sum(stats[p]) / len(stats[p]) for p in px]
        key = name if isinstance(name, tuple) else (name,)
        label = ", ".join(f"{h}={v}" for h, v in zip(hues, key, strict=True)) or y
        (line,) = ax.plot(px, mean, marker="o", label=label)
        if band is not None:
            if band == "minmax":
                lo = [min(stats[p]) for p in px]
                hi = [max(stats[p]) for p in px]
            else:
                sd = [
                    math.sqrt(sum((v - m) ** 2 for v in stats[p]) / (len(stats[p]) - 1)) if len(stats[p]) > 1 else 0.0
                    for p, m in zip(px, mean, strict=True)
                ]
                lo = [m - s for m, s in zip(mean, sd, strict=True)]
                hi = [m + s for m, s in zip(mean, sd, strict=True)]
            ax.fill_between(px, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
    if labels is not None:
        ax.set_xticks(range(len(labels)), labels)
    seeds = ok["seed"].nunique() if "seed" in ok.columns else 0
    what = {"minmax": "min-max", "std": "± 1 std", None: ""}[band]
    ax.set_title(f"{y} (mean over {seeds} seeds{', band ' + what if band else ''})")
    ax.set_xlabel(x + unit)
    ax.set_ylabel(y)
    if hues:
        ax.legend(loc="best", fontsize="small")
    return ax
