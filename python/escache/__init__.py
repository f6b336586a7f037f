"""escache: Elasticsearch's security credential caches, modelled rule by rule in virtual time.

The generic cache engine every Elasticsearch security cache is built on::

    >>> import escache
    >>> cache = escache.Cache(max_weight=25_000, expire_after_access="24h")
    >>> cache.put("key-id", "value")
    >>> cache.get("key-id")
    'value'
    >>> cache.advance("25h")
    90000.0
    >>> cache.get("key-id") is None       # expired: a miss, pruned lazily
    True
"""

from __future__ import annotations

from array import array

from escache._cluster import CacheView, Cluster, EventTrace, Node, Response, SecurityIndex
from escache._core import (
    Cache,
    ReplayResult,
    __version__,
    _zipf_trace_bytes,
    parse_time_value,
    replay_api_key_auth_cache,
)
from escache._http import Server, serve
from escache._requests import Cleared, RequestLog, RequestRecord
from escache._types import RemovalReason
from escache.assertions import (
    EscacheAssertionError,
    assert_accepted,
    assert_called,
    assert_cleared,
    assert_not_called,
    assert_rejected,
)
from escache.errors import (
    ActionRequestValidationError,
    BrokenStateError,
    ElasticsearchError,
    EscacheError,
    ExecutionError,
    IllegalArgumentError,
    IllegalArgumentTypeError,
    IllegalStateError,
    KeyTypeError,
    MissingDependencyError,
    NodeUnavailableError,
    ParseError,
    ReentrantCallError,
    ResourceNotFoundError,
    SecurityError,
    ServiceTokensToolError,
    UnknownNodeError,
)
from escache.explain import Explanation
from escache.plot import sweep_plot
from escache.simulation import Simulation, load_scenario
from escache.sweep import sweep
from escache.timeline import Timeline

__all__ = [
    "Cluster",
    "Simulation",
    "Explanation",
    "load_scenario",
    "sweep",
    "sweep_plot",
    "serve",
    "Server",
    "Node",
    "CacheView",
    "SecurityIndex",
    "EventTrace",
    "Timeline",
    "Response",
    "RequestLog",
    "RequestRecord",
    "Cleared",
    "assert_called",
    "assert_not_called",
    "assert_cleared",
    "assert_accepted",
    "assert_rejected",
    "EscacheAssertionError",
    "UnknownNodeError",
    "NodeUnavailableError",
    "ServiceTokensToolError",
    "Cache",
    "ReplayResult",
    "RemovalReason",
    "EscacheError",
    "IllegalArgumentError",
    "IllegalArgumentTypeError",
    "ActionRequestValidationError",
    "ParseError",
    "SecurityError",
    "ResourceNotFoundError",
    "IllegalStateError",
    "ElasticsearchError",
    "BrokenStateError",
    "KeyTypeError",
    "MissingDependencyError",
    "ExecutionError",
    "ReentrantCallError",
    "parse_time_value",
    "replay_api_key_auth_cache",
    "zipf_trace",
    "__version__",
]


def zipf_trace(keys: int, requests: int, alpha: float = 1.0, seed: int = 0) -> array[int]:
    """``requests`` key ranks in ``range(keys)`` drawn from a Zipf law with exponent ``alpha``
    (rank 0 the most popular), as an ``array.array('q')``. The same arguments give the same trace."""
    out = array("q")
    out.frombytes(_zipf_trace_bytes(keys, requests, alpha, seed))
    return out
