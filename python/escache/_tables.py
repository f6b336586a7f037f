"""Tables handed to pyarrow, pandas and polars through the Arrow PyCapsule interface.

``source`` is any object with ``__arrow_c_stream__`` (:class:`escache.EventTrace`,
:class:`escache.timeline.Timeline`): the core builds the Arrow arrays and the libraries read them
without a Python object per row. The libraries are optional; each function raises
:class:`escache.MissingDependencyError` naming the one that is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from escache.errors import MissingDependencyError


class _Stream:
    """Only ``source``'s Arrow stream: a reader that also takes sequences (``polars.DataFrame``) then
    reads the stream, not the rows."""

    __slots__ = ("_source",)

    def __init__(self, source: Any) -> None:
        self._source = source

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self._source.__arrow_c_stream__(requested_schema)


def _missing(what: str, package: str) -> MissingDependencyError:
    return MissingDependencyError(f"{what} needs {package}, which is not installed: pip install {package}")


def to_arrow(source: Any, what: str) -> Any:
    """A ``pyarrow.Table`` of ``source``'s stream."""
    try:
        import pyarrow as pa  # noqa: PLC0415 - optional dependency
    except ImportError:
        raise _missing(what, "pyarrow") from None
    return pa.table(source)


def to_pandas(source: Any, what: str, drop: Sequence[str] = ()) -> Any:
    """A ``pandas.DataFrame`` of ``source``'s stream, read through pyarrow (dictionary columns become
    ``category``), without the columns in ``drop``."""
    try:
        import pandas  # noqa: F401, PLC0415 - optional dependency: said missing before pyarrow is
    except ImportError:
        raise _missing(what, "pandas") from None
    table = to_arrow(source, what)
    return table.drop_columns(list(drop)).to_pandas()


def to_polars(source: Any, what: str, drop: Sequence[str] = ()) -> Any:
    """A ``polars.DataFrame`` of ``source``'s stream (dictionary columns become ``Categorical``),
    without the columns in ``drop``."""
    try:
        import polars as pl  # noqa: PLC0415 - optional dependency
    except ImportError:
        raise _missing(what, "polars") from None
    return pl.DataFrame(_Stream(source)).drop(list(drop))
