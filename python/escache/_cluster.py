"""The simulated cluster's Python face: responses, nodes, cache views, the event trace and the official
client wired in-process. Every rule runs in Rust (``escache._core``); this module only converts."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import FrozenInstanceError
from typing import Any, ClassVar, cast

from escache import _core, _tables
from escache._requests import RequestLog
from escache.errors import IllegalArgumentError, IllegalArgumentTypeError, MissingDependencyError

__all__ = ["CacheView", "Cluster", "EventTrace", "Node", "Response", "SecurityIndex"]

CacheView = _core.CacheView
SecurityIndex = _core.SecurityIndex

EVENT_COLUMNS = ("time", "node", "kind", "cache", "key", "detail")

#: Version of the trace schema that ``EventTrace.to_jsonl`` and ``EventTrace.to_arrow`` write (the
#: ``v`` column; the core's ``escache::trace::TraceRow``); re-exported as
#: ``escache.simulation.TRACE_SCHEMA_VERSION``.
TRACE_SCHEMA_VERSION: int = _core.TRACE_SCHEMA_VERSION

_CHUNK = 65_536  # events converted per batch when writing a trace


class Response:
    """An HTTP response from the cluster. HTTP errors are not raised: ``body`` is Elasticsearch's error JSON.

    ``header_fields`` lists the header fields as Elasticsearch sends them, one ``(name, value)`` pair
    per field: a 401 carries three ``WWW-Authenticate`` fields, one per challenge. ``headers`` is the
    dict view, with the values of a repeated field joined by ``", "`` (as ``urllib3`` and ``requests``
    show them); :meth:`get_all` gives one header's values without joining them.

    Immutable. ``body`` is parsed from ``raw`` and ``headers`` joined from ``header_fields`` on first
    access (a caller that reads only ``status`` pays for neither).
    """

    __slots__ = ("_body", "_headers", "header_fields", "raw", "status")

    status: int
    raw: bytes
    header_fields: list[tuple[str, str]]
    _body: Any
    _headers: dict[str, str]

    def __init__(
        self,
        status: int,
        headers: dict[str, str],
        body: Any,
        raw: bytes = b"",
        header_fields: list[tuple[str, str]] | None = None,
    ) -> None:
        _set_status(self, status)
        _set_headers(self, headers)
        _set_body(self, body)
        _set_raw(self, raw)
        _set_header_fields(self, [] if header_fields is None else header_fields)

    @classmethod
    def _from_wire(cls, status: int, header_fields: list[tuple[str, str]], raw: bytes) -> Response:
        """What ``perform_request`` returns: ``body`` and ``headers`` are left to their first access."""
        r = _new_object(cls)
        _set_status(r, status)
        _set_raw(r, raw)
        _set_header_fields(r, header_fields)
        return r

    @property
    def body(self) -> Any:
        """The JSON body as Python objects (``None`` when there is no body)."""
        try:
            return self._body
        except AttributeError:
            # Compact UTF-8 JSON (the core's serialiser): decoded as str, skipping json's encoding sniffing.
            body = _json_decode(self.raw.decode("utf-8")) if self.raw else None
            _set_body(self, body)
            return body

    @property
    def headers(self) -> dict[str, str]:
        try:
            return self._headers
        except AttributeError:
            headers = _join_header_fields(self.header_fields)
            _set_headers(self, headers)
            return headers

    def get_all(self, name: str) -> list[str]:
        """Every value of header ``name`` (case-insensitive), in the order sent."""
        wanted = name.lower()
        return [v for k, v in self.header_fields if k.lower() == wanted]

    def _fields(self) -> tuple[Any, ...]:
        return (self.status, self.headers, self.body, self.raw, self.header_fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Response)
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable parts (dict, list), as the dataclass it was

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __repr__(self) -> str:
        # Short, and without the body: a create response's body carries the new secret.
        kind = type(self.body).__name__ if self.body is not None else "empty"
        return f"<escache.Response status={self.status} body={kind} bytes={len(self.raw)}>"

    def _repr_html_(self) -> str:
        from escache._display import response_html  # noqa: PLC0415 - display code loads on first use

        return response_html(self)


_new_object = object.__new__


def _slot_setter(name: str) -> Callable[[Response, Any], None]:
    """A slot's own setter: it bypasses the frozen ``__setattr__``."""
    return cast("Callable[[Response, Any], None]", Response.__dict__[name].__set__)


_set_status = _slot_setter("status")
_set_headers = _slot_setter("_headers")
_set_body = _slot_setter("_body")
_set_raw = _slot_setter("raw")
_set_header_fields = _slot_setter("header_fields")
_json_decode = json.JSONDecoder().decode


def _join_header_fields(fields: list[tuple[str, str]]) -> dict[str, str]:
    """Header fields as a dict: a name (case-insensitive, first spelling kept) that repeats gets its
    values joined with ``", "``, the way HTTP client libraries present repeated fields."""
    names: dict[str, str] = {}
    out: dict[str, str] = {}
    for name, value in fields:
        key = names.setdefault(name.lower(), name)
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _encode_body(body: Any) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        try:
            return body.encode("utf-8")
        except UnicodeEncodeError:
            raise IllegalArgumentError(
                "[body] is not valid text: it holds a lone surrogate, which UTF-8 cannot encode"
            ) from None
    try:
        return json.dumps(body).encode("utf-8")
    except (TypeError, ValueError) as e:  # not JSON-serialisable, or a circular reference
        raise IllegalArgumentTypeError(f"[body] cannot be sent as JSON: {e}") from None


def _auth_header(api_key: Any, bearer_auth: str | None, basic_auth: tuple[str, str] | None) -> str | None:
    if api_key is not None:
        if isinstance(api_key, (tuple, list)):
            api_key = base64.b64encode(f"{api_key[0]}:{api_key[1]}".encode()).decode()
        return f"ApiKey {api_key}"
    if bearer_auth is not None:
        return f"Bearer {bearer_auth}"
    if basic_auth is not None:
        user, password = basic_auth
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    return None


class Caches(Mapping[str, "_core.CacheView"]):
    """A node's security caches by name."""

    NAMES = (
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
    )

    def __init__(self, node: _core.Node) -> None:
        self._node = node

    def __getitem__(self, name: str) -> _core.CacheView:
        return self._node._cache(name)

    def __repr__(self) -> str:
        return f"<escache caches of {self._node.name}: {len(self.NAMES)} caches>"

    def _repr_html_(self) -> str:
        from escache._display import caches_html  # noqa: PLC0415 - display code loads on first use

        return caches_html(self._node.name, self._node.running, self)

    def __iter__(self) -> Iterator[str]:
        return iter(self.NAMES)

    def __len__(self) -> int:
        return len(self.NAMES)


class ServiceTokensTool:
    """``elasticsearch-service-tokens`` run on one node's ``config/service_tokens`` (F4). The file it
    writes is re-read by that node's watcher at its next poll (every 5 s of virtual time from the node's
    start)."""

    def __init__(self, node: _core.Node) -> None:
        self._node = node

    def create(self, principal: str, name: str) -> str:
        """Adds a token; returns its bearer value (``AAEAA...``). Prints nothing; keep the value."""
        return self._node._service_tokens_create(principal, name)

    def delete(self, principal: str, name: str) -> None:
        self._node._service_tokens_delete(principal, name)

    def list(self, principal: str | None = None) -> list[str]:
        """Qualified token names, sorted."""
        return self._node._service_tokens_list(principal)


class Node:
    """One node of a :class:`Cluster`."""

    __slots__ = ("_cluster", "_node")

    def __init__(self, node: _core.Node, cluster: _core.Cluster | None = None) -> None:
        self._node = node
        self._cluster = cluster

    @property
    def requests(self) -> RequestLog:
        """The REST requests this node answered (see :attr:`Cluster.requests`)."""
        if self._cluster is None:
            raise TypeError("this Node was not reached through its Cluster (cluster.node(name))")
        return RequestLog(self._cluster._requests, node=self.name)

    @property
    def name(self) -> str:
        return self._node.name

    @property
    def id(self) -> str:
        return self._node.id

    @property
    def running(self) -> bool:
        return self._node.running

    @property
    def partitioned(self) -> bool:
        """In the cluster but unreachable: other nodes' fan-outs list it under ``_nodes.failures``."""
        return self._node.partitioned

    @partitioned.setter
    def partitioned(self, value: bool) -> None:
        self._node.partitioned = bool(value)

    @property
    def in_cluster_state(self) -> bool:
        """Running and in the cluster state: False for a stopped node, and for a partitioned one the
        simulator's fault detection removed until it joins again (rules CA-PT3 and CA-PT4)."""
        return self._node.in_cluster_state

    @property
    def crypto_pool_mode(self) -> str:
        """``"immediate"`` (default), ``"held"`` or ``"saturated"`` (every hash verification is rejected: 429)."""
        return self._node.crypto_pool_mode

    @crypto_pool_mode.setter
    def crypto_pool_mode(self, mode: str) -> None:
        self._node.crypto_pool_mode = mode

    @property
    def caches(self) -> Caches:
        return Caches(self._node)

    @property
    def service_tokens_file(self) -> str | bytes:
        """The node's ``config/service_tokens`` file (``bytes`` only when it is not UTF-8). Settable
        (``str`` or ``bytes``): the node's watcher re-reads it at its next poll, every 5 s of virtual
        time from the node's start."""
        raw = self._node.service_tokens_file
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw  # a file Elasticsearch would refuse to parse (F3)

    @service_tokens_file.setter
    def service_tokens_file(self, value: str | bytes) -> None:
        self._node.service_tokens_file = value

    @property
    def service_tokens(self) -> ServiceTokensTool:
        return ServiceTokensTool(self._node)

    def stop(self) -> None:
        """Stops the node: it leaves the cluster and loses its caches."""
        self._node.stop()

    def start(self) -> None:
        """Starts the node again, with empty caches."""
        self._node.start()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Node) and self._node == other._node

    def __hash__(self) -> int:
        return hash(self._node)

    def __repr__(self) -> str:
        return repr(self._node)

    def _repr_html_(self) -> str:
        from escache._display import node_html  # noqa: PLC0415 - display code loads on first use

        return node_html(self)


class EventTrace:
    """The cluster's event trace: every cache hit, miss, put and removal (with its reason), every
    authentication with its outcome, every clear-cache and cluster event, in order. Events hold ids,
    never secrets."""

    #: The columns of an exported trace (``to_jsonl``, ``to_arrow``) and what they hold. Iteration,
    #: ``rows()`` and ``to_pandas()`` give the same columns without ``v``.
    SCHEMA: ClassVar[dict[str, str]] = {
        "v": "trace schema version (TRACE_SCHEMA_VERSION, now 1)",
        "time": "virtual time of the event, in nanoseconds since the cluster started",
        "node": "name of the node it happened on; empty for cluster-wide events (security index changes)",
        "kind": "what happened: cache_hit, cache_miss, cache_put, cache_replaced, cache_invalidated, "
        "cache_evicted, auth_success, auth_failure, auth_rejected, clear_cache, node_unreachable, "
        "security_index_change, node_stopped, node_started, node_partitioned, node_healed, "
        "hash_verification, log_warn, rest_request, file_reloaded, index_get, "
        "node_removed, node_joined",
        "cache": "the cache concerned (api_key_auth, api_key_doc, api_key_role_descriptors, "
        "file_service_account_token, index_service_account_token) or empty",
        "key": "the cache key or credential id (API key id, qualified token name), a cache name for "
        "clear_cache, a method and path for rest_request; never a secret",
        "detail": "the outcome's message (auth_failure, auth_rejected, log_warn), 'stale' for a "
        "simulated acceptance of a credential that was no longer valid, the hash algorithm "
        "(hash_verification), the keys cleared (clear_cache), the transition (security_index_change)",
    }

    def __init__(self, cluster: _core.Cluster) -> None:
        self._cluster = cluster

    def __len__(self) -> int:
        return self._cluster._events_len()

    def rows(self, start: int = 0, stop: int | None = None) -> list[tuple[int, str, str, str, str, str]]:
        """Events as ``(time_nanos, node, kind, cache, key, detail)`` tuples."""
        return self._cluster._events_rows(start, len(self) if stop is None else stop)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in self.rows():
            yield dict(zip(EVENT_COLUMNS, row, strict=True))

    def __getitem__(self, i: int) -> dict[str, Any]:
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("event index out of range")
        return dict(zip(EVENT_COLUMNS, self.rows(i, i + 1)[0], strict=True))

    def clear(self) -> None:
        self._cluster._events_clear()

    def to_jsonl(self, path: Any) -> int:
        """Writes one JSON object per event to ``path`` (a path or an open text file); returns the
        number written.

        Each line is ``{"v": 1, "time": ..., "node": ..., "kind": ..., "cache": ..., "key": ...,
        "detail": ...}``: ``v`` is the trace schema version (``escache.simulation.TRACE_SCHEMA_VERSION``),
        ``time`` is virtual nanoseconds, and the other columns are strings (see :attr:`SCHEMA`).
        The same events give the same bytes.
        """
        if hasattr(path, "write"):
            return self._write_jsonl(path)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            return self._write_jsonl(f)

    def _write_jsonl(self, f: Any) -> int:
        # The core serializes the rows (escache::trace): ASCII-only JSON, one object per line.
        total = len(self)
        written = 0
        for start in range(0, total, _CHUNK):
            chunk = self._cluster._events_jsonl(start, min(total, start + _CHUNK))
            written += chunk.count(b"\n")
            f.write(chunk.decode("ascii"))
        return written

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """The Arrow PyCapsule interface: a capsule holding an ``ArrowArrayStream`` of every event,
        with the columns of :meth:`to_arrow`, built by the core without a Python object per row, so
        ``pyarrow.table(trace)`` and ``polars.DataFrame(trace)`` read the trace directly.
        ``requested_schema`` is not honoured, as the interface allows."""
        return self._cluster._events_arrow(requested_schema)

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` with one row per event and the columns of :meth:`rows` (no ``v``).
        With ``pyarrow`` installed it is read through Arrow (``node``, ``kind`` and ``cache`` as
        ``category``); with pandas alone, from the rows. ``pandas`` must be installed
        (``pip install pandas``); without it this raises :class:`escache.MissingDependencyError`."""
        try:
            import pandas as pd  # noqa: PLC0415 - optional dependency
        except ImportError:
            raise MissingDependencyError(
                "EventTrace.to_pandas() needs pandas, which is not installed: pip install pandas"
            ) from None
        try:
            import pyarrow  # noqa: F401, PLC0415 - optional: the columnar path when installed
        except ImportError:
            return pd.DataFrame.from_records(self.rows(), columns=list(EVENT_COLUMNS))
        return _tables.to_pandas(self, "EventTrace.to_pandas()", drop=["v"])

    def to_arrow(self) -> Any:
        """A ``pyarrow.Table`` with one row per event and the columns of :meth:`to_jsonl`: ``v``
        (uint8), ``time`` (int64 virtual nanoseconds), ``node``, ``kind`` and ``cache``
        (dictionary-encoded strings), ``key`` and ``detail`` (strings). The schema metadata carries
        ``escache.trace_schema_version``. ``pyarrow`` must be installed (``pip install pyarrow``);
        without it this raises :class:`escache.MissingDependencyError`.
        """
        return _tables.to_arrow(self, "EventTrace.to_arrow()")

    def to_polars(self) -> Any:
        """A ``polars.DataFrame`` with one row per event and the columns of :meth:`rows` (no ``v``;
        ``node``, ``kind`` and ``cache`` as ``Categorical``), read through Arrow. ``polars`` must be
        installed (``pip install polars``); without it this raises :class:`escache.MissingDependencyError`."""
        return _tables.to_polars(self, "EventTrace.to_polars()", drop=["v"])

    def __repr__(self) -> str:
        return f"<escache.EventTrace events={len(self)}>"

    def _repr_html_(self) -> str:
        from escache._display import event_trace_html  # noqa: PLC0415 - display code loads on first use

        return event_trace_html(self)


class Cluster(_core.Cluster):
    """A simulated Elasticsearch cluster in virtual time.

    >>> c = Cluster(nodes=3, seed=0)
    >>> c.perform_request("GET", "/_security/_authenticate", headers={"Authorization": c.basic_auth_header()}).status
    200
    """

    def __init__(
        self,
        nodes: int | Iterable[str] | None = None,
        *,
        cluster_name: str | None = None,
        seed: int | None = None,
        settings: dict[str, str | int | float | bool] | None = None,
        password: str | None = None,
        trace: bool = True,
        es_version: str | None = None,
    ) -> None:
        """``nodes``: a count (``node-0``, ``node-1``, ...; 3 by default, at most 1000) or the node names.
        ``cluster_name`` defaults to ``"escache"``, ``password`` (the ``elastic`` user's) to ``"changeme"``,
        ``seed`` to 0; ``settings`` are Elasticsearch setting names and values; ``trace=False`` records no
        events; ``es_version`` picks a version profile (``"7.17"``, ``"8.19"``, ``"9.1"``, the newest by
        default; docs/versions.md). (The Rust constructor, ``escache._core.Cluster``, takes the same
        arguments and builds it.)"""
        super().__init__()
        self._password = "changeme" if password is None else password

    @property
    def nodes(self) -> list[Node]:
        """The nodes, in order."""
        return [Node(self._node(name), self) for name in self._node_names()]

    def node(self, name: str) -> Node:
        """A node by name (``escache.UnknownNodeError``, a ``KeyError``, otherwise)."""
        return Node(self._node(name), self)

    @property
    def events(self) -> EventTrace:
        return EventTrace(self)

    @property
    def requests(self) -> RequestLog:
        """Every REST request the cluster answered (in-process or over HTTP), oldest first, as typed
        records (:class:`escache.RequestRecord`: ``api``, ``method``, ``path``, ``params``, ``node``,
        ``principal``, ``realm``, ``status``, ``cleared``). Bounded (``requests.maxlen``, 10 000 by
        default) and clearable; never holds a secret."""
        return RequestLog(self._requests)

    def reset(self) -> None:
        """Returns the cluster to the state it was built in, in place: the same nodes (names and ids),
        seed, settings and password; virtual time 0, no security index, empty caches and
        ``service_tokens`` files, an empty trace and request log. Everything holding the cluster (its
        ``Node`` views, clients, a server from ``escache.serve``) sees the reset cluster. Whether the
        trace and the request log record is kept. (A ``Simulation`` keeps its own schedule: build a
        new one after a reset.)"""
        self._reset()

    def basic_auth_header(self, username: str = "elastic", password: str | None = None) -> str:
        """``Basic ...`` for a user (default: ``elastic`` with the cluster's password)."""
        pw = self._password if password is None else password
        return "Basic " + base64.b64encode(f"{username}:{pw}".encode()).decode()

    def perform_request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        node: str | None = None,
    ) -> Response:
        """Sends one REST request to ``node`` (default: the first running node). Never raises for an
        HTTP error: the response carries Elasticsearch's status and error body. ``body`` may be a dict
        or list (sent as JSON), ``str`` or ``bytes``."""
        status, fields, raw = self._perform(method, path, headers, None if body is None else _encode_body(body), node)
        # Response._from_wire, inlined: this is the hot path of every in-process request.
        r = _new_object(Response)
        _set_status(r, status)
        _set_raw(r, raw)
        _set_header_fields(r, fields)
        return r

    def client(
        self,
        *,
        api_key: Any = None,
        bearer_auth: str | None = None,
        basic_auth: tuple[str, str] | None = None,
        node: str | None = None,
        nodes: Iterable[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """The official ``elasticsearch`` client, wired to this cluster in-process (no socket).
        Default credentials: ``elastic`` with the cluster's password.

        It spans every node (or ``nodes``), one transport node each: a stopped node raises the
        transport's ``ConnectionError`` inside the client, whose retry and dead-node logic then moves
        on to the next node (requests go to the first node alive, in node order; pass
        ``node_selector_class="round_robin"`` to spread them). ``node=`` pins the client to one node,
        where a stopped node raises :class:`escache.NodeUnavailableError`."""
        from escache.client import make_client  # noqa: PLC0415 - imports elasticsearch lazily

        return self._wired(make_client, api_key, bearer_auth, basic_auth, node, nodes, kwargs)

    def async_client(
        self,
        *,
        api_key: Any = None,
        bearer_auth: str | None = None,
        basic_auth: tuple[str, str] | None = None,
        node: str | None = None,
        nodes: Iterable[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """The official ``elasticsearch.AsyncElasticsearch``, in-process, as :meth:`client`. Close it
        with ``await client.close()``."""
        from escache.client import make_async_client  # noqa: PLC0415 - imports elasticsearch lazily

        return self._wired(make_async_client, api_key, bearer_auth, basic_auth, node, nodes, kwargs)

    def _wired(
        self,
        make: Any,
        api_key: Any,
        bearer_auth: str | None,
        basic_auth: tuple[str, str] | None,
        node: str | None,
        nodes: Iterable[str] | None,
        kwargs: dict[str, Any],
    ) -> Any:
        if api_key is None and bearer_auth is None and basic_auth is None:
            basic_auth = ("elastic", self._password)
        chosen = None if nodes is None else list(nodes)
        return make(self, _auth_header(api_key, bearer_auth, basic_auth), node, nodes=chosen, **kwargs)

    def __repr__(self) -> str:
        return super().__repr__()

    def _repr_html_(self) -> str:
        from escache._display import cluster_html  # noqa: PLC0415 - display code loads on first use

        return cluster_html(self)
