"""The exported trace (``EventTrace.to_jsonl``): rows written by the core (``escache::trace``) are the
JSON that Python's ``json.dumps`` writes for the same row, ASCII-only, whatever text the events hold."""

from __future__ import annotations

import io
import json
import urllib.parse

from hypothesis import given, settings
from hypothesis import strategies as st

import escache
from escache.simulation import TRACE_SCHEMA_VERSION


def python_lines(cluster: escache.Cluster) -> list[str]:
    return [json.dumps({"v": TRACE_SCHEMA_VERSION, **e}, separators=(",", ":")) for e in cluster.events]


@settings(max_examples=60, deadline=None)
@given(ids=st.text(st.characters(codec="utf-8", exclude_characters=","), min_size=1, max_size=20))
def test_jsonl_rows_are_what_json_dumps_writes_for_any_text(ids: str) -> None:
    c = escache.Cluster(nodes=2, trace=True)
    # The ids of a clear reach the clear_cache events' detail as they were sent (any text).
    path = "/_security/api_key/" + urllib.parse.quote(ids, safe="") + "/_clear_cache"
    assert c.perform_request("POST", path, headers={"Authorization": c.basic_auth_header()}).status == 200
    assert any(e["kind"] == "clear_cache" and e["detail"] == ids for e in c.events)
    buf = io.StringIO()
    written = c.events.to_jsonl(buf)
    lines = buf.getvalue().splitlines()
    assert written == len(c.events) == len(lines)
    assert lines == python_lines(c)
    assert buf.getvalue().isascii()


def test_the_schema_version_is_the_cores() -> None:
    assert TRACE_SCHEMA_VERSION == escache._core.TRACE_SCHEMA_VERSION == 1
    c = escache.Cluster(nodes=1, trace=True)
    c.perform_request("GET", "/")
    buf = io.StringIO()
    c.events.to_jsonl(buf)
    assert all(json.loads(line)["v"] == TRACE_SCHEMA_VERSION for line in buf.getvalue().splitlines())
