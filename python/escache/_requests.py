"""``cluster.requests``: what tooling did to a cluster, one typed record per REST request a node
answered, in-process (``perform_request``, ``cluster.client()``) or over HTTP (``escache.serve``).

Records hold names and ids, never secrets: the ``Authorization`` header is not read, and of a request
body only non-secret fields are kept (invalidate's ``ids``, ``name``, ``username``, ``realm_name``,
``owner``; create's ``name``). The log keeps the newest ``maxlen`` records (10 000 by default; the
older ones are dropped and counted in ``dropped``) so that a long simulation cannot grow it without
bound; ``clear()`` empties it, and ``enabled = False`` stops recording.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    from escache import _core

__all__ = ["Cleared", "RequestLog", "RequestRecord"]

_NANOS = 1_000_000_000


@dataclass(frozen=True)
class Cleared:
    """Keys of one cache cleared on one node by a request; ``keys is None``: the whole cache."""

    node: str
    cache: str
    keys: tuple[str, ...] | None

    def covers(self, key: str) -> bool:
        """Whether ``key`` was cleared (a whole-cache clear covers every key)."""
        return self.keys is None or key in self.keys


@dataclass(frozen=True)
class RequestRecord:
    """One REST request and how it was answered.

    ``api`` is the API's name as the official clients spell it (``security.clear_api_key_cache``;
    ``None`` for a request no handler served: a 400 ``no handler found`` or a 405). ``params`` holds
    the path parts (decoded), the query parameters and the non-secret body fields listed in the module
    documentation: a path or query value is a ``str`` as sent (``ids="a,b"``), a body array a
    ``list``. ``principal`` and ``realm`` say who was authenticated (``None`` if nobody was);
    ``cleared`` which cache keys the request cleared on which nodes (clear-cache APIs, and the
    invalidation and update APIs, which clear caches too); ``time`` is virtual seconds.
    """

    api: str | None
    method: str
    path: str
    params: dict[str, str | list[str]]
    node: str
    principal: str | None
    realm: str | None
    status: int
    cleared: tuple[Cleared, ...]
    time: float

    def param_list(self, name: str) -> list[str] | None:
        """A parameter as a list: a comma-separated path or query value split, a body array as is."""
        value = self.params.get(name)
        if value is None:
            return None
        return value.split(",") if isinstance(value, str) else list(value)

    def __str__(self) -> str:
        who = f" as {self.principal} ({self.realm})" if self.principal is not None else ""
        query = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return (
            f"{self.method} {self.path} -> {self.status}  [{self.api or 'no handler'}]"
            f"{f'  {query}' if query else ''}  on {self.node}{who}"
        )


def _record(row: tuple[Any, ...]) -> RequestRecord:
    time, node, api, method, path, params, principal, realm, status, cleared = row
    return RequestRecord(
        api=api,
        method=method,
        path=path,
        params=dict(params),
        node=node,
        principal=principal,
        realm=realm,
        status=status,
        cleared=tuple(Cleared(n, c, None if k is None else tuple(k)) for n, c, k in cleared),
        time=time / _NANOS,
    )


class RequestLog(Sequence[RequestRecord]):
    """The requests a cluster (or, from ``Node.requests``, one node) answered, oldest first."""

    def __init__(self, log: _core.RequestLog, node: str | None = None) -> None:
        self._log = log
        self._node = node

    def _records(self) -> list[RequestRecord]:
        records = [_record(r) for r in self._log.rows(0, len(self._log))]
        if self._node is not None:
            records = [r for r in records if r.node == self._node]
        return records

    def __len__(self) -> int:
        return len(self._log) if self._node is None else len(self._records())

    @overload
    def __getitem__(self, i: int) -> RequestRecord: ...
    @overload
    def __getitem__(self, i: slice) -> list[RequestRecord]: ...
    def __getitem__(self, i: int | slice) -> RequestRecord | list[RequestRecord]:
        return self._records()[i]

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self._records())

    def filter(
        self,
        api: str | None = None,
        *,
        method: str | None = None,
        node: str | None = None,
        status: int | None = None,
        principal: str | None = None,
    ) -> list[RequestRecord]:
        """The records matching every criterion given."""
        return [
            r
            for r in self._records()
            if (api is None or r.api == api)
            and (method is None or r.method == method.upper())
            and (node is None or r.node == node)
            and (status is None or r.status == status)
            and (principal is None or r.principal == principal)
        ]

    def clear(self) -> None:
        """Forgets every record (of every node) and resets ``dropped``."""
        self._log.clear()

    @property
    def enabled(self) -> bool:
        """Whether requests are recorded (True for a new ``Cluster``)."""
        return self._log.enabled

    @enabled.setter
    def enabled(self, on: bool) -> None:
        self._log.enabled = bool(on)

    @property
    def maxlen(self) -> int:
        """How many records are kept; the oldest beyond it are dropped (10 000 by default)."""
        return self._log.maxlen

    @maxlen.setter
    def maxlen(self, n: int) -> None:
        self._log.maxlen = n

    @property
    def dropped(self) -> int:
        """Records dropped to stay within ``maxlen`` since the last ``clear()``."""
        return self._log.dropped

    def __repr__(self) -> str:
        where = f" node={self._node!r}" if self._node is not None else ""
        return f"<escache.RequestLog{where} requests={len(self)}>"
