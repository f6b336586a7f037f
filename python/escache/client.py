"""The official ``elasticsearch`` client, wired to an :class:`escache.Cluster` in-process.

A custom ``elastic_transport`` node class hands each request to the cluster's REST router instead of a
socket, so everything the client does (paths, query strings, bodies, headers, error classes) is
exercised exactly as against a real cluster.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders, NodeConfig
from elastic_transport._node import NodeApiResponse

from escache._cluster import _join_header_fields

if TYPE_CHECKING:
    from escache._cluster import Cluster

__all__ = ["InProcessNode", "make_client"]


class InProcessNode(BaseNode):
    """An ``elastic_transport`` node whose requests run in an escache cluster."""

    _CLIENT_META_HTTP_CLIENT = ("escache", "0.1")
    cluster: Cluster
    node_name: str | None = None

    def perform_request(
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: HttpHeaders | None = None,
        request_timeout: Any = None,
    ) -> NodeApiResponse:
        merged = self.headers.copy()
        if headers:
            merged.update(headers)
        start = time.perf_counter()
        status, fields, raw = self.cluster._perform_raw(method, target, list(merged.items()), body, self.node_name)
        meta = ApiResponseMeta(
            status=status,
            http_version="1.1",
            # Repeated fields (the three WWW-Authenticate challenges) joined, as the urllib3 node does.
            headers=HttpHeaders(_join_header_fields(fields)),
            duration=time.perf_counter() - start,
            node=self.config,
        )
        return NodeApiResponse(meta, bytes(raw))


def make_client(cluster: Cluster, authorization: str | None, node: str | None, **kwargs: Any) -> Any:
    """An ``elasticsearch.Elasticsearch`` whose single node is ``cluster`` (optionally pinned to ``node``)."""
    from elasticsearch import Elasticsearch  # noqa: PLC0415

    node_class = type(
        "EscacheInProcessNode",
        (InProcessNode,),
        {"cluster": cluster, "node_name": node},
    )
    headers = dict(kwargs.pop("headers", {}) or {})
    if authorization is not None:
        headers["Authorization"] = authorization
    host = node or "escache"
    return Elasticsearch(
        hosts=[NodeConfig(scheme="http", host=host, port=9200)],
        node_class=node_class,
        headers=headers,
        **kwargs,
    )
