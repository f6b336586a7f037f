"""The official ``elasticsearch`` clients, wired to an :class:`escache.Cluster` in-process.

Custom ``elastic_transport`` node classes hand each request to the cluster's REST router instead of a
socket, so everything the client does (paths, query strings, bodies, headers, error classes) is
exercised exactly as against a real cluster.

A client spans every node of the cluster (or the ``nodes`` chosen), one transport node per escache
node, as a client configured with every node's URL does: a stopped node raises the transport's
``ConnectionError`` inside the client, which marks it dead and retries on another node, so the
client's own failover runs. Requests go to the first node the transport considers alive (node order;
deterministic, and the same node as before for a cluster whose first node is up); pass
``node_selector_class="round_robin"`` to spread them. A client pinned with ``node=`` has that node
only, and a stopped node raises :class:`escache.NodeUnavailableError` as ``perform_request`` does.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from elastic_transport import (
    ApiResponseMeta,
    BaseAsyncNode,
    BaseNode,
    HttpHeaders,
    NodeConfig,
    NodeSelector,
)
from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport._node import NodeApiResponse

from escache._cluster import _join_header_fields
from escache.errors import NodeUnavailableError

if TYPE_CHECKING:
    from escache._cluster import Cluster

__all__ = ["AsyncInProcessNode", "FirstAliveSelector", "InProcessNode", "make_async_client", "make_client"]

_EXTRA = "escache_node"  # the NodeConfig extra naming the escache node a transport node talks to


class FirstAliveSelector(NodeSelector):
    """Picks the first live node in the order the nodes were given (the cluster's node order)."""

    def __init__(self, node_configs: list[NodeConfig]) -> None:
        super().__init__(node_configs)
        self._order = {cfg: i for i, cfg in enumerate(node_configs)}

    def select(self, nodes: Sequence[BaseNode]) -> BaseNode:
        return min(nodes, key=lambda n: self._order.get(n.config, len(self._order)))


class _InProcess:
    """What the sync and async node classes share: one request through the cluster's router."""

    _CLIENT_META_HTTP_CLIENT = ("escache", "0.1")
    cluster: Cluster
    #: True when the client was pinned with ``node=``: a stopped node then raises NodeUnavailableError.
    pinned: bool = False
    config: NodeConfig
    headers: HttpHeaders

    def _perform(self, method: str, target: str, body: bytes | None, headers: HttpHeaders | None) -> NodeApiResponse:
        merged = self.headers.copy()
        if headers:
            merged.update(headers)
        node_name = self.config._extras.get(_EXTRA)
        start = time.perf_counter()
        try:
            status, fields, raw = self.cluster._perform_raw(method, target, list(merged.items()), body, node_name)
        except NodeUnavailableError as e:
            if self.pinned:
                raise
            # As a socket to a stopped node would: the transport marks this node dead and retries.
            raise TransportConnectionError(f"Connection refused: node [{node_name}] is stopped", errors=(e,)) from None
        meta = ApiResponseMeta(
            status=status,
            http_version="1.1",
            # Repeated fields (the three WWW-Authenticate challenges) joined, as the urllib3 node does.
            headers=HttpHeaders(_join_header_fields(fields)),
            duration=time.perf_counter() - start,
            node=self.config,
        )
        return NodeApiResponse(meta, bytes(raw))


class InProcessNode(_InProcess, BaseNode):
    """An ``elastic_transport`` node whose requests run in an escache cluster."""

    def perform_request(
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: HttpHeaders | None = None,
        request_timeout: Any = None,
    ) -> NodeApiResponse:
        return self._perform(method, target, body, headers)


class AsyncInProcessNode(_InProcess, BaseAsyncNode):
    """The ``AsyncElasticsearch`` twin of :class:`InProcessNode`. The cluster answers at once (it is
    in-process and never waits on I/O), so a request completes without yielding to the event loop."""

    async def perform_request(  # type: ignore[override]
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: HttpHeaders | None = None,
        request_timeout: Any = None,
    ) -> NodeApiResponse:
        return self._perform(method, target, body, headers)

    async def close(self) -> None:  # type: ignore[override]
        pass


def _client_args(
    cluster: Cluster,
    base: type[_InProcess],
    authorization: str | None,
    node: str | None,
    nodes: Sequence[str] | None,
    kwargs: dict[str, Any],
) -> dict[str, Any]:
    if node is not None and nodes is not None:
        raise TypeError("give node= (one pinned node) or nodes= (a set to fail over between), not both")
    names = [node] if node is not None else list(nodes) if nodes is not None else cluster._node_names()
    for name in names:
        cluster.node(name)  # UnknownNodeError (a KeyError) for a name the cluster does not have
    if not names:
        raise ValueError("nodes= must name at least one node")
    node_class = type("EscacheInProcessNode", (base,), {"cluster": cluster, "pinned": node is not None})
    headers = dict(kwargs.pop("headers", {}) or {})
    if authorization is not None:
        headers["Authorization"] = authorization
    hosts = [
        NodeConfig(scheme="http", host=name, port=9200 + i, _extras={_EXTRA: name}) for i, name in enumerate(names)
    ]
    kwargs.setdefault("node_selector_class", FirstAliveSelector)
    kwargs.setdefault("randomize_nodes_in_pool", False)
    return {"hosts": hosts, "node_class": node_class, "headers": headers, **kwargs}


def make_client(
    cluster: Cluster, authorization: str | None, node: str | None, *, nodes: Sequence[str] | None = None, **kwargs: Any
) -> Any:
    """An ``elasticsearch.Elasticsearch`` over ``cluster``'s nodes (``nodes``, or only ``node``, or all)."""
    from elasticsearch import Elasticsearch  # noqa: PLC0415

    return Elasticsearch(**_client_args(cluster, InProcessNode, authorization, node, nodes, kwargs))


def make_async_client(
    cluster: Cluster, authorization: str | None, node: str | None, *, nodes: Sequence[str] | None = None, **kwargs: Any
) -> Any:
    """An ``elasticsearch.AsyncElasticsearch`` over ``cluster``'s nodes, as :func:`make_client`."""
    from elasticsearch import AsyncElasticsearch  # noqa: PLC0415

    return AsyncElasticsearch(**_client_args(cluster, AsyncInProcessNode, authorization, node, nodes, kwargs))
