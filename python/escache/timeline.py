"""The timeline as a table: :attr:`escache.report.SimulationReport.timeline`.

One row per periodic sample (every ``sample_interval``) and node, one column per figure; the
counters are cumulative since the simulation started, ``max_queue_depth`` and the latencies cover
the interval since the previous sample. The columns, in order:

- ``time`` (float, virtual seconds since the cluster started) and ``node`` (the node's name);
- ``queue_depth``: the node's ``security-crypto`` queue at the sample, and ``max_queue_depth``: the
  largest since the previous sample;
- ``hashing_cpu_seconds``: CPU seconds spent verifying hashes;
- ``success``, ``unauthorized``, ``too_busy``, ``unavailable``: authentications by outcome
  (200, 401, 429, and a stopped node);
- ``stale_acceptances``: successes for a credential no longer valid on the node;
- ``latency_p50_ms``, ``latency_p90_ms``, ``latency_p99_ms``, ``latency_max_ms``: the latency of the
  requests that finished on the node since the previous sample, ``None`` (null) where none did;
- for each cache (``api_key_auth``, ``api_key_doc``, ``api_key_role_descriptors``,
  ``file_service_account_token``, ``index_service_account_token``): ``{cache}_hits``,
  ``{cache}_misses``, ``{cache}_evictions`` and ``{cache}_count``, each ``None`` (null) where the
  cache is disabled or the node was stopped.

The core builds the columns (``escache::sim::timeline``); :meth:`Timeline.to_arrow`,
:meth:`Timeline.to_pandas` and :meth:`Timeline.to_polars` take them through the Arrow PyCapsule
interface, and so does any library that reads ``__arrow_c_stream__`` (``pyarrow.table(t)``). A
``Timeline`` is also a sequence of row dicts, so ``pandas.DataFrame(t)`` and ``polars.DataFrame(t)``
read it row by row (plain strings, no categories): prefer :meth:`Timeline.to_polars`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import Any, overload

from escache import _core
from escache._tables import to_arrow, to_pandas, to_polars

__all__ = ["Timeline"]


class Timeline(Sequence[dict[str, Any]]):
    """The first ``rows`` rows of a simulation's timeline: a sequence of row dicts (column name to
    value) that also hands itself over as Arrow. Rows are only ever added to a simulation's timeline,
    so a ``Timeline`` taken with a report keeps the rows of the report's time."""

    def __init__(self, sim: _core._Simulation, rows: int) -> None:
        self._sim = sim
        self._rows = rows

    @cached_property
    def _table(self) -> tuple[list[str], list[list[Any]]]:
        table = json.loads(self._sim._timeline_table(self._rows))
        return table["columns"], table["rows"]

    @property
    def columns(self) -> list[str]:
        """The column names, in order (see the module documentation)."""
        return list(self._table[0])

    def __len__(self) -> int:
        return self._rows

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, i: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, i: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        names, rows = self._table
        if isinstance(i, slice):
            return [dict(zip(names, row, strict=True)) for row in rows[i]]
        return dict(zip(names, rows[i], strict=True))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        names, rows = self._table
        for row in rows:
            yield dict(zip(names, row, strict=True))

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """The Arrow PyCapsule interface: a capsule holding an ``ArrowArrayStream`` of the rows
        (``node`` dictionary-encoded). ``requested_schema`` is not honoured, as the interface allows."""
        return self._sim._timeline_arrow(self._rows, requested_schema)

    def to_arrow(self) -> Any:
        """A ``pyarrow.Table`` of the rows (needs ``pyarrow``)."""
        return to_arrow(self, "Timeline.to_arrow()")

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` of the rows, ``node`` as a ``category`` (needs ``pandas`` and
        ``pyarrow``)."""
        return to_pandas(self, "Timeline.to_pandas()")

    def to_polars(self) -> Any:
        """A ``polars.DataFrame`` of the rows, ``node`` as a ``Categorical`` (needs ``polars``)."""
        return to_polars(self, "Timeline.to_polars()")

    def __repr__(self) -> str:
        return f"<escache.Timeline rows={self._rows}>"

    def _repr_html_(self) -> str:
        from escache._display import timeline_html  # noqa: PLC0415 - display code loads on first use

        return timeline_html(self)
