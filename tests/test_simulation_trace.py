"""The simulator's event trace: JSONL rows with the schema version, ``to_pandas`` and ``to_arrow``."""

from __future__ import annotations

import hashlib
import json
import sys

import pytest

import escache
from escache.simulation import TRACE_SCHEMA_VERSION

# ---- the trace ------------------------------------------------------------------------------------------


def test_jsonl_rows_carry_the_schema_version_and_match_the_events(tmp_path, runs):
    run = runs["service_tokens_partial_update"]
    path = tmp_path / "t.jsonl"
    assert run.cluster.events.to_jsonl(path) == len(run.rows)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(run.rows)
    columns = ("time", "node", "kind", "cache", "key", "detail")
    for line, row in zip(lines, run.rows, strict=True):
        assert line == json.dumps(
            {"v": TRACE_SCHEMA_VERSION, **dict(zip(columns, row, strict=True))}, separators=(",", ":")
        )
    assert TRACE_SCHEMA_VERSION == 1
    assert list(json.loads(lines[0])) == ["v", *columns]
    assert list(escache.EventTrace.SCHEMA) == ["v", *columns]
    # The same events give the same bytes, whichever way they are written.
    assert hashlib.sha256(path.read_bytes()).hexdigest() == run.digest


def test_to_pandas_keeps_its_columns(runs):
    pd = pytest.importorskip("pandas")
    frame = runs["service_tokens_partial_update"].cluster.events.to_pandas()
    assert list(frame.columns) == ["time", "node", "kind", "cache", "key", "detail"]
    assert isinstance(frame, pd.DataFrame)


def test_to_arrow(runs):
    pa = pytest.importorskip("pyarrow")
    run = runs["service_tokens_partial_update"]
    table = run.cluster.events.to_arrow()
    assert isinstance(table, pa.Table)
    assert table.column_names == ["v", "time", "node", "kind", "cache", "key", "detail"]
    assert table.num_rows == len(run.rows)
    assert table.schema.field("time").type == pa.int64()
    assert table.schema.metadata[b"escache.trace_schema_version"] == b"1"
    assert set(table.column("v").to_pylist()) == {TRACE_SCHEMA_VERSION}
    columns = {name: table.column(name).to_pylist() for name in table.column_names}
    rebuilt = list(zip(*(columns[c] for c in ("time", "node", "kind", "cache", "key", "detail")), strict=True))
    assert rebuilt == run.rows
    empty = escache.Cluster(nodes=1, seed=0, trace=False).events.to_arrow()
    assert empty.num_rows == 0 and empty.column_names == table.column_names


def test_to_arrow_without_pyarrow_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
    with pytest.raises(escache.MissingDependencyError, match="pip install pyarrow") as info:
        escache.Cluster(nodes=1, seed=0).events.to_arrow()
    assert isinstance(info.value, ImportError) and isinstance(info.value, escache.EscacheError)
