"""Rich display in notebooks: the HTML that ``_repr_html_`` returns for escache's public objects.

Jupyter, JupyterLab and VS Code call an object's ``_repr_html_`` to show it. Every function here
builds a small HTML fragment with inline CSS only (no scripts, no stylesheets: notebook front ends
strip or sandbox them), escapes every value with :func:`html.escape`, and shows ids, names and
figures, never a secret: a response body's secret fields (``api_key``, ``encoded``, a token's
``value``, ``password``) are shown as ``<redacted>``.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "cache_html",
    "cache_view_html",
    "cluster_html",
    "event_trace_html",
    "caches_html",
    "explanation_html",
    "node_html",
    "node_report_html",
    "replay_result_html",
    "report_html",
    "response_html",
    "security_index_html",
    "simulation_html",
    "timeline_html",
]

# Inline styles: readable in light and dark themes (inherit the colours, draw thin borders).
_BOX = "font-family: system-ui, sans-serif; font-size: 13px; line-height: 1.4; margin: 2px 0;"
_TABLE = "border-collapse: collapse; margin: 4px 0;"
_CELL = "border: 1px solid rgba(128,128,128,0.4); padding: 2px 8px; text-align: {align};"
_TITLE = "font-weight: 600; margin-bottom: 2px;"
_MUTED = "opacity: 0.7;"

#: Body fields that carry a secret in Elasticsearch's answers (create API key, create service token,
#: change password): never displayed.
SECRET_FIELDS = frozenset({"api_key", "encoded", "value", "password", "secret", "token"})

#: How many rows of a trace or keys of a cache the HTML shows.
MAX_ROWS = 10


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _cell(value: Any, header: bool = False) -> str:
    tag = "th" if header else "td"
    align = "right" if isinstance(value, (int, float)) and not isinstance(value, bool) else "left"
    text = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else _fmt(value)
    return f'<{tag} style="{_CELL.format(align=align)}">{_e(text)}</{tag}>'


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def table(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> str:
    """An HTML table; every cell escaped."""
    head = "".join(_cell(h, header=True) for h in header)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f'<table style="{_TABLE}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _box(title: str, *parts: str) -> str:
    return f'<div style="{_BOX}"><div style="{_TITLE}">{_e(title)}</div>{"".join(parts)}</div>'


def _line(text: str) -> str:
    return f"<div>{_e(text)}</div>"


def _muted(text: str) -> str:
    return f'<div style="{_MUTED}">{_e(text)}</div>'


def _seconds(s: float) -> str:
    from escache.simulation import _seconds as fmt  # noqa: PLC0415 - simulation imports the report, which imports this lazily

    return fmt(s)


# ---- the cluster ------------------------------------------------------------------------------------


def _ratio(stats: Mapping[str, int]) -> float | None:
    lookups = stats.get("hits", 0) + stats.get("misses", 0)
    return None if lookups == 0 else stats.get("hits", 0) / lookups


def _node_rows(node: Any) -> list[list[Any]]:
    return _cache_rows(node.running, node.caches)


def _cache_rows(running: bool, caches: Mapping[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for name, view in caches.items():
        if not running or not view.enabled:
            rows.append([name, None, None, None, None, None])
            continue
        s = view.stats()
        rows.append([name, len(view), s.get("hits", 0), s.get("misses", 0), _ratio(s), s.get("evictions", 0)])
    return rows


_CACHE_HEADER = ["cache", "entries", "hits", "misses", "hit ratio", "evictions"]


def cluster_html(cluster: Any) -> str:
    """The nodes (state, cache sizes and hit ratios per node), the security index and the clock."""
    nodes = cluster.nodes
    caches = [name for name in nodes[0].caches] if nodes else []
    header = ["node", "running", "partitioned"] + [f"{c} (entries / hit ratio)" for c in caches]
    rows = []
    for n in nodes:
        row: list[Any] = [n.name, n.running, n.partitioned]
        for c in caches:
            v = n.caches[c]
            if not n.running or not v.enabled:
                row.append("-")
            else:
                r = _ratio(v.stats())
                row.append(f"{len(v):,} / {'-' if r is None else f'{r:.3f}'}")
        rows.append(row)
    idx = cluster.security_index
    return _box(
        f"escache.Cluster {cluster.name}",
        _muted(f"{len(nodes)} nodes; virtual time {_seconds(cluster.now)}; {len(cluster.events):,} trace events"),
        table(header, rows),
        _line(f"security index: {idx.health or 'absent or closed'}"),
    )


def node_html(node: Any) -> str:
    """One node: state and its caches."""
    state = "running" if node.running else "stopped"
    if node.partitioned:
        state += ", partitioned"
    return _box(
        f"escache.Node {node.name}",
        _muted(f"id {node.id}; {state}; security-crypto pool {node.crypto_pool_mode}"),
        table(_CACHE_HEADER, _node_rows(node)),
    )


def caches_html(node: str, running: bool, caches: Mapping[str, Any]) -> str:
    """A node's caches (``node.caches``): a row per cache."""
    return _box(f"escache caches of {node}", table(_CACHE_HEADER, _cache_rows(running, caches)))


def cache_view_html(view: Any) -> str:
    """One cache: settings, size, weight, stats, removals by reason, the most recent keys (ids)."""
    if not view.enabled:
        return _box(f"escache.CacheView {view.name}", _line("disabled by the node's settings (or the node is stopped)"))
    stats = view.stats()
    removals = view.removals()
    keys = view.keys()
    max_weight = view.max_weight
    figures = [
        ("entries", len(view)),
        ("weight", view.weight),
        ("max weight", "unbounded" if max_weight is None else max_weight),
        ("expire after write", "never" if view.expire_after_write is None else _seconds(view.expire_after_write)),
        ("expire after access", "never" if view.expire_after_access is None else _seconds(view.expire_after_access)),
        ("hit ratio", _ratio(stats)),
        *((k, v) for k, v in stats.items()),
        *((f"removed: {k}", v) for k, v in removals.items()),
    ]
    shown = keys[:MAX_ROWS]
    more = f" (of {len(keys):,})" if len(keys) > len(shown) else ""
    return _box(
        f"escache.CacheView {view.name}",
        table(["", "value"], figures),
        _muted(f"most recently used keys{more}: " + (", ".join(shown) if shown else "none")),
    )


def cache_html(cache: Any) -> str:
    """An ``escache.Cache``: settings, size and stats; like its ``repr``, never its keys or values."""
    stats = cache.stats()
    figures = [
        ("entries", cache.count),
        ("weight", cache.weight),
        ("max weight", "unbounded" if cache.max_weight is None else cache.max_weight),
        ("expire after access", "never" if cache.expire_after_access is None else _seconds(cache.expire_after_access)),
        ("expire after write", "never" if cache.expire_after_write is None else _seconds(cache.expire_after_write)),
        ("hit ratio", _ratio(stats)),
        *stats.items(),
    ]
    return _box("escache.Cache", table(["", "value"], figures))


def replay_result_html(result: Any) -> str:
    """A replay's figures."""
    return _box("escache.ReplayResult", table(["", "value"], list(result.as_dict().items())))


def security_index_html(index: Any) -> str:
    """The ``.security`` index: existence, open, health, up to date, UUID."""
    return _box(
        "escache.SecurityIndex .security",
        table(
            ["", "value"],
            [
                ("exists", index.exists),
                ("open", index.is_open),
                ("health", index.health),
                ("up to date", index.up_to_date),
                ("uuid", index.uuid),
            ],
        ),
    )


# ---- the trace and responses ------------------------------------------------------------------------


def event_trace_html(trace: Any) -> str:
    """Length, time span, counts by kind, the first rows."""
    n = len(trace)
    if n == 0:
        return _box("escache.EventTrace", _line("no events"))
    first = trace.rows(0, MAX_ROWS)
    last = trace.rows(n - 1, n)[0]
    kinds = Counter(row[2] for row in trace.rows())
    rows = [(_seconds(t / 1e9), node, kind, cache, key, detail) for t, node, kind, cache, key, detail in first]
    return _box(
        "escache.EventTrace",
        _muted(f"{n:,} events from {_seconds(first[0][0] / 1e9)} to {_seconds(last[0] / 1e9)}"),
        table(["kind", "events"], kinds.most_common()),
        table(["time", "node", "kind", "cache", "key", "detail"], rows),
        _muted(f"first {len(rows)} of {n:,}") if n > len(rows) else "",
    )


def redact(body: Any) -> Any:
    """``body`` with the values of :data:`SECRET_FIELDS` replaced by ``"<redacted>"`` (at any depth)."""
    if isinstance(body, Mapping):
        return {
            k: "<redacted>" if k in SECRET_FIELDS and not isinstance(v, (Mapping, list)) else redact(v)
            for k, v in body.items()
        }
    if isinstance(body, list):
        return [redact(v) for v in body]
    return body


def response_html(response: Any) -> str:
    """Status, headers and the JSON body (secret fields redacted)."""
    import json  # noqa: PLC0415 - only for display

    body = json.dumps(redact(response.body), indent=2, ensure_ascii=False) if response.body is not None else ""
    pre = f'<pre style="margin: 4px 0; max-height: 24em; overflow: auto;">{_e(body)}</pre>' if body else ""
    return _box(
        f"escache.Response {response.status}",
        table(
            ["header", "value"],
            [(k, "<redacted>" if k.lower() == "authorization" else v) for k, v in response.header_fields],
        ),
        pre,
    )


# ---- simulations -------------------------------------------------------------------------------------


def report_html(report: Any) -> str:
    """The report: totals, then per node outcomes, stale acceptances, hashing and cache hit ratios."""
    a = report.authentications
    lat = report.latency_ms
    totals = [
        ("virtual time", _seconds(report.virtual_seconds)),
        ("requests", report.requests),
        (
            "success / 401 / 429 / unavailable",
            f"{a.success:,} / {a.unauthorized:,} / {a.too_busy:,} / {a.unavailable:,}",
        ),
        ("stale acceptances", report.stale_acceptances),
        ("longest stale window", _seconds(report.longest_stale_window_seconds)),
        ("hashing CPU", _seconds(report.hashing_cpu_seconds)),
        ("latency p50 / p99 / max", " / ".join(_seconds(x / 1e3) for x in (lat.p50, lat.p99, lat.max))),
    ]
    caches = report.caches_with_lookups()
    header = ["node", "state", "success", "401", "429", "stale", "longest stale", "hash CPU", "max queue"]
    header += [f"{c} hit ratio" for c in caches]
    rows = []
    for name, n in report.nodes.items():
        state = ("running" if n.running else "stopped") + (", partitioned" if n.partitioned else "")
        o = n.authentications
        row: list[Any] = [
            name,
            state,
            o.success,
            o.unauthorized,
            o.too_busy,
            n.stale_acceptances,
            _seconds(n.longest_stale_window_seconds),
            _seconds(n.hashing_cpu_seconds),
            n.max_crypto_queue_depth,
        ]
        row += [None if n.caches.get(c) is None else n.caches[c].hit_ratio for c in caches]
        rows.append(row)
    errors = [_line(f"action error at {_seconds(e.time)}: {e.action}: {e.error}") for e in report.action_errors]
    return _box("escache SimulationReport", table(["", "value"], totals), table(header, rows), *errors)


def node_report_html(n: Any) -> str:
    """One node of a report: state, outcomes, stale acceptances, hashing, then a row per cache."""
    o = n.authentications
    state = ("running" if n.running else "stopped") + (", partitioned" if n.partitioned else "")
    figures = [
        ("state", state),
        (
            "success / 401 / 429 / unavailable",
            f"{o.success:,} / {o.unauthorized:,} / {o.too_busy:,} / {o.unavailable:,}",
        ),
        ("stale acceptances", n.stale_acceptances),
        ("longest stale window", _seconds(n.longest_stale_window_seconds)),
        ("hashing CPU", _seconds(n.hashing_cpu_seconds)),
        ("hash verifications", n.hash_verifications),
        ("largest security-crypto queue", n.max_crypto_queue_depth),
    ]
    header = ["cache", "entries", "hits", "misses", "hit ratio", "evictions", "invalidated"]
    rows = [
        [name, None, None, None, None, None, None]
        if c is None
        else [name, c.count, c.hits, c.misses, c.hit_ratio, c.evictions, c.removals.invalidated]
        for name, c in n.caches.items()
    ]
    return _box(f"escache NodeReport {n.id}", table(["", "value"], figures), table(header, rows))


def simulation_html(sim: Any) -> str:
    """The simulation: seed, workloads, virtual time, and its report so far."""
    head = _muted(f"seed {sim.seed}; workloads: {', '.join(sim.workload_names) or 'none'}")
    return _box("escache.Simulation", head, report_html(sim.report()))


#: The timeline columns the HTML shows (the others are in ``to_pandas()``): the node's pool, outcomes,
#: stale acceptances and latency; each cache's figures would make the table too wide to read.
_TIMELINE_SHOWN = (
    "time",
    "node",
    "max_queue_depth",
    "success",
    "unauthorized",
    "too_busy",
    "stale_acceptances",
    "latency_p99_ms",
)


def timeline_html(timeline: Any) -> str:
    """Rows, nodes, time span and columns, then the last sample of each node (the latest figures)."""
    n = len(timeline)
    if n == 0:
        return _box("escache.Timeline", _line("no samples yet"))
    rows = list(timeline)
    nodes = list(dict.fromkeys(r["node"] for r in rows))
    last = {r["node"]: r for r in rows}
    shown = [c for c in _TIMELINE_SHOWN if c in timeline.columns]
    cells = [[_seconds(r[c]) if c == "time" else r[c] for c in shown] for r in last.values()]
    return _box(
        "escache.Timeline",
        _muted(
            f"{n:,} rows: {len(nodes)} nodes sampled {n // len(nodes):,} times from {_seconds(rows[0]['time'])} "
            f"to {_seconds(rows[-1]['time'])}; {len(timeline.columns)} columns (to_pandas(), to_polars(), to_arrow())"
        ),
        table(shown, cells),
        _muted("the last sample of each node"),
    )


def explanation_html(explanation: Any) -> str:
    """'Why was this accepted?' as a short list."""
    items = "".join(f"<li>{_e(line)}</li>" for line in explanation.lines())
    title = "stale acceptance" if explanation.stale else "acceptance"
    return _box(f"Why was this accepted? ({title}: {explanation.cause})", f'<ul style="margin: 2px 0;">{items}</ul>')
