"""The trace and the timeline as tables: Arrow handed over through the PyCapsule interface
(``__arrow_c_stream__``, built by the core), and the pandas and polars frames read from it. The tables
hold exactly the rows the row-wise APIs give (``EventTrace.rows()``, ``Simulation.timeline()``), in
the same order, under the documented schema."""

from __future__ import annotations

import sys

import pytest

import escache
from escache.simulation import TRACE_SCHEMA_VERSION
from escache.timeline import Timeline

pa = pytest.importorskip("pyarrow")

TRACE_COLUMNS = ["time", "node", "kind", "cache", "key", "detail"]
CACHES = [
    "api_key_auth",
    "api_key_doc",
    "api_key_role_descriptors",
    "file_service_account_token",
    "index_service_account_token",
    "reserved_realm_users",
    "native_realm_users",
    "file_realm_users",
    "roles",
    "roles_negative_lookup",
    "application_privileges",
    "application_names",
]
FIGURES = ["hits", "misses", "evictions", "count"]
QUANTILES = ["p50", "p90", "p99", "max"]
TIMELINE_COLUMNS = [
    "time",
    "node",
    "queue_depth",
    "max_queue_depth",
    "hashing_cpu_seconds",
    "success",
    "unauthorized",
    "too_busy",
    "unavailable",
    "stale_acceptances",
    *(f"latency_{q}_ms" for q in QUANTILES),
    *(f"{cache}_{figure}" for cache in CACHES for figure in FIGURES),
]


def flat(row: dict) -> dict:
    """A ``Simulation.timeline()`` row (nested) as a table row: what the table's columns must hold."""
    auth = row["authentications"]
    out = {
        "time": row["time"],
        "node": row["node"],
        "queue_depth": row["queue_depth"],
        "max_queue_depth": row["max_queue_depth"],
        "hashing_cpu_seconds": row["hashing_cpu_seconds"],
        "success": auth["success"],
        "unauthorized": auth["401"],
        "too_busy": auth["429"],
        "unavailable": auth["unavailable"],
        "stale_acceptances": row["stale_acceptances"],
    }
    for q in QUANTILES:
        out[f"latency_{q}_ms"] = None if row["latency_ms"] is None else row["latency_ms"][q]
    for cache in CACHES:
        sample = row["caches"].get(cache)
        for figure in FIGURES:
            out[f"{cache}_{figure}"] = None if sample is None else sample[figure]
    return out


@pytest.fixture
def stale(runs):
    """A run with a missed broadcast and stale acceptances (the session's run: only read)."""
    return runs["stale_window_missed_broadcast"]


# ---- the trace -------------------------------------------------------------------------------------


def test_the_arrow_table_is_the_row_wise_trace_in_order(stale, runs):
    for run in (stale, runs["security_index_red_recovery"]):
        table = pa.table(run.cluster.events)
        assert table.num_rows == len(run.rows) > 0
        expected = [{"v": TRACE_SCHEMA_VERSION, **dict(zip(TRACE_COLUMNS, row, strict=True))} for row in run.rows]
        assert table.to_pylist() == expected
    # Cluster-wide events (no node) are in it with the node "".
    assert "" in pa.table(runs["security_index_red_recovery"].cluster.events).column("node").to_pylist()


def test_the_arrow_schema_is_the_documented_one():
    c = escache.Cluster(nodes=2, seed=0)
    c.perform_request("GET", "/_security/_authenticate", headers={"Authorization": c.basic_auth_header()})
    table = c.events.to_arrow()
    dictionary = pa.dictionary(pa.int32(), pa.string())
    assert table.schema.names == list(escache.EventTrace.SCHEMA) == ["v", *TRACE_COLUMNS]
    assert [f.type for f in table.schema] == [
        pa.uint8(),
        pa.int64(),
        dictionary,
        dictionary,
        dictionary,
        pa.string(),
        pa.string(),
    ]
    assert not any(f.nullable for f in table.schema)
    assert table.schema.metadata == {b"escache.trace_schema_version": str(TRACE_SCHEMA_VERSION).encode()}


def test_a_trace_is_handed_over_as_a_stream_in_batches_without_rows_through_python():
    # More events than one record batch (65,536): the batches follow each other in trace order.
    c = escache.Cluster(nodes=1, seed=0)
    sim = escache.Simulation(c, seed=0)
    sim.add_workload(name="keys", population=10, rate=10_000, create_over=0)
    sim.run("4s")
    n = len(c.events)
    assert n > 70_000
    reader = pa.RecordBatchReader.from_stream(c.events)
    batches = list(reader)
    assert len(batches) >= 2 and sum(b.num_rows for b in batches) == n
    table = pa.Table.from_batches(batches)
    assert table.column("time").to_pylist() == [r[0] for r in c.events.rows()]
    assert table.slice(n - 3).to_pylist() == [
        {"v": 1, **dict(zip(TRACE_COLUMNS, row, strict=True))} for row in c.events.rows(n - 3, n)
    ]
    # The capsule interface as consumers call it: a named capsule, a fresh stream each call.
    capsule = c.events.__arrow_c_stream__(None)
    assert type(capsule).__name__ == "PyCapsule"
    assert pa.RecordBatchReader._import_from_c_capsule(capsule).read_all().num_rows == n


def test_an_empty_trace_still_has_its_schema():
    table = escache.Cluster(nodes=1, seed=0, trace=False).events.to_arrow()
    assert table.num_rows == 0
    assert table.schema.names == ["v", *TRACE_COLUMNS]


def test_to_pandas_through_arrow_has_the_rows_and_categories(stale, monkeypatch):
    pd = pytest.importorskip("pandas")
    frame = stale.cluster.events.to_pandas()
    assert list(frame.columns) == TRACE_COLUMNS
    assert [tuple(r) for r in frame.itertuples(index=False)] == stale.rows
    assert all(isinstance(frame[c].dtype, pd.CategoricalDtype) for c in ("node", "kind", "cache"))
    assert frame["time"].dtype == "int64"
    # Without pyarrow, pandas alone reads the rows: the same values.
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    rows_frame = stale.cluster.events.to_pandas()
    assert [tuple(r) for r in rows_frame.itertuples(index=False)] == stale.rows


def test_to_polars_has_the_rows(stale):
    pl = pytest.importorskip("polars", reason="polars is optional (pip install polars)")
    frame = stale.cluster.events.to_polars()
    assert frame.columns == TRACE_COLUMNS
    assert frame.rows() == stale.rows
    assert frame.schema["kind"] == pl.Categorical
    # polars reads the capsule itself too.
    assert pl.DataFrame(stale.cluster.events).drop("v").rows() == stale.rows


def test_to_polars_without_polars_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(escache.MissingDependencyError, match="pip install polars"):
        escache.Cluster(nodes=1, seed=0).events.to_polars()


# ---- the timeline ----------------------------------------------------------------------------------


def test_report_timeline_is_the_flattened_timeline(stale):
    timeline = stale.report.timeline
    assert isinstance(timeline, Timeline) and Timeline is escache.Timeline
    nested = stale.sim.timeline()
    assert len(timeline) == len(nested) > 0
    assert timeline.columns == TIMELINE_COLUMNS
    assert list(timeline) == [flat(r) for r in nested]
    assert timeline[0] == flat(nested[0]) and timeline[-1] == flat(nested[-1])
    assert timeline[1:3] == [flat(r) for r in nested[1:3]]


def test_timeline_arrow_pandas_and_polars_hold_the_same_rows(stale):
    timeline = stale.report.timeline
    table = pa.table(timeline)
    assert table.schema.names == TIMELINE_COLUMNS
    assert table.to_pylist() == list(timeline)
    assert table.schema.field("node").type == pa.dictionary(pa.int32(), pa.string())
    assert table.schema.field("time").type == pa.float64()
    assert table.schema.field("api_key_doc_hits").type == pa.uint64()
    assert timeline.to_arrow().equals(table)
    pd = pytest.importorskip("pandas")
    frame = timeline.to_pandas()
    assert list(frame.columns) == TIMELINE_COLUMNS and len(frame) == len(timeline)
    assert isinstance(frame["node"].dtype, pd.CategoricalDtype)
    assert frame["success"].tolist() == [r["success"] for r in timeline]


def test_timeline_to_polars(stale):
    pl = pytest.importorskip("polars", reason="polars is optional (pip install polars)")
    frame = stale.report.timeline.to_polars()
    assert frame.columns == TIMELINE_COLUMNS
    assert frame.to_dicts() == list(stale.report.timeline)
    assert frame.schema["node"] == pl.Categorical


def test_a_stopped_nodes_caches_are_null_and_a_reports_timeline_keeps_its_rows():
    c = escache.Cluster(nodes=2, seed=0)
    sim = escache.Simulation(c, seed=0, sample_interval="1s")
    sim.add_workload(name="keys", population=5, rate=20)
    sim.schedule("2500ms", "stop_node", node="node-1")
    early = sim.run("3s")
    later = sim.run("2s")
    assert len(early.timeline) == 4 * 2 and len(later.timeline) == 6 * 2
    assert list(early.timeline) == list(later.timeline)[: len(early.timeline)]
    stopped = [r for r in later.timeline if r["node"] == "node-1" and r["time"] >= 3]
    assert stopped and all(r["api_key_auth_hits"] is None for r in stopped)
    assert pa.table(later.timeline).column("api_key_auth_hits").null_count == len(stopped)
    running = [r for r in later.timeline if r["node"] == "node-0"]
    assert all(r["api_key_auth_count"] is not None for r in running)


def test_a_report_read_from_json_has_no_timeline():
    report = escache.report.SimulationReport.from_json(escache.Simulation(escache.Cluster(nodes=1)).report().to_json())
    with pytest.raises(escache.IllegalStateError, match="read from JSON"):
        report.timeline  # noqa: B018 - the property raises


def test_timeline_to_arrow_without_pyarrow_names_the_package(stale, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(escache.MissingDependencyError, match="pip install pyarrow"):
        stale.report.timeline.to_arrow()


def test_pandas_reads_the_stream_itself(stale):
    """pandas 3's ``DataFrame.from_arrow`` takes any ``__arrow_c_stream__``: the same frame as through pyarrow."""
    pd = pytest.importorskip("pandas")
    if not hasattr(pd.DataFrame, "from_arrow"):
        pytest.skip("pandas < 3 reads Arrow through pyarrow only")
    timeline = stale.report.timeline
    frame = pd.DataFrame.from_arrow(timeline)
    assert list(frame.columns) == TIMELINE_COLUMNS and len(frame) == len(timeline)
    assert isinstance(frame["node"].dtype, pd.CategoricalDtype)
    assert frame["stale_acceptances"].tolist() == [r["stale_acceptances"] for r in timeline]
    events = pd.DataFrame.from_arrow(stale.cluster.events)
    assert list(events.columns) == ["v", *TRACE_COLUMNS] and len(events) == len(stale.cluster.events)


def test_the_frames_never_read_rows_through_python(stale, monkeypatch):
    """to_arrow / to_pandas / to_polars read only the Arrow stream: with every row-wise path broken,
    they still give every row."""
    pytest.importorskip("pandas")
    pytest.importorskip("polars")

    def no_rows(*_args, **_kwargs):
        raise AssertionError("rows went through Python objects")

    events, timeline = stale.cluster.events, stale.report.timeline
    n_events, n_rows = len(events), len(timeline)
    monkeypatch.setattr(type(events), "rows", no_rows)
    monkeypatch.setattr(type(events), "__iter__", no_rows)
    monkeypatch.setattr(type(events), "__getitem__", no_rows)
    monkeypatch.setattr(Timeline, "_table", property(no_rows))
    for frame in (events.to_arrow(), events.to_pandas(), events.to_polars()):
        assert len(frame) == n_events
    arrow = timeline.to_arrow()
    assert arrow.num_rows == n_rows and arrow.column_names == TIMELINE_COLUMNS
    for frame in (timeline.to_pandas(), timeline.to_polars()):
        assert len(frame) == n_rows and list(frame.columns) == TIMELINE_COLUMNS
