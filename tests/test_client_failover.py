"""The in-process clients span the cluster's nodes: a stopped node is a ConnectionError inside the
transport, whose retry and dead-node logic move on (escache.client)."""

from __future__ import annotations

import asyncio

import elastic_transport
import elasticsearch
import pytest

import escache


def test_client_without_node_fails_over_when_a_node_stops() -> None:
    c = escache.Cluster(nodes=3)
    es = c.client()
    assert [n.config.host for n in es.transport.node_pool.all()] == ["node-0", "node-1", "node-2"]
    assert es.security.authenticate()["username"] == "elastic"
    c.node("node-0").stop()
    assert es.security.authenticate()["username"] == "elastic"
    # The stopped node was tried, refused the connection and was marked dead; node-1 answered.
    assert [r.node for r in c.requests] == ["node-0", "node-1"]
    assert es.transport.node_pool._dead_nodes.qsize() == 1


def test_every_node_stopped_is_the_transports_connection_error() -> None:
    c = escache.Cluster(nodes=2)
    es = c.client(max_retries=1)
    for n in c.nodes:
        n.stop()
    with pytest.raises(elastic_transport.ConnectionError) as exc:
        es.info()
    assert "is stopped" in str(exc.value)
    assert len(c.requests) == 0


def test_max_retries_zero_surfaces_the_connection_error() -> None:
    c = escache.Cluster(nodes=2)
    c.node("node-0").stop()
    with pytest.raises(elastic_transport.ConnectionError):
        c.client(max_retries=0).info()
    assert c.client().info()["name"] == "node-1"


def test_nodes_chooses_the_set_and_node_pins_one() -> None:
    c = escache.Cluster(nodes=3)
    es = c.client(nodes=["node-2", "node-1"])
    assert es.info()["name"] == "node-2"
    c.node("node-2").stop()
    assert es.info()["name"] == "node-1"
    with pytest.raises(escache.NodeUnavailableError):
        c.client(node="node-2").info()
    with pytest.raises(escache.UnknownNodeError):
        c.client(nodes=["node-9"])
    with pytest.raises(TypeError, match="not both"):
        c.client(node="node-0", nodes=["node-1"])


def test_round_robin_spreads_requests_when_asked() -> None:
    c = escache.Cluster(nodes=3)
    es = c.client(node_selector_class="round_robin")
    names = {es.info()["name"] for _ in range(6)}
    assert names == {"node-0", "node-1", "node-2"}


def test_async_client_in_process() -> None:
    c = escache.Cluster(nodes=2)

    async def main() -> tuple[str, str]:
        es = c.async_client()
        assert isinstance(es, elasticsearch.AsyncElasticsearch)
        key = await es.security.create_api_key(name="async")
        user = c.async_client(api_key=key["encoded"], node="node-1")
        who = await user.security.authenticate()
        with pytest.raises(elasticsearch.AuthenticationException):
            await c.async_client(api_key=(key["id"], "wrong-secret")).security.authenticate()
        await es.close()
        await user.close()
        return key["id"], who["api_key"]["id"]

    created, authenticated = asyncio.run(main())
    assert created == authenticated
    assert [r.api for r in c.requests] == ["security.create_api_key", "security.authenticate", "security.authenticate"]


def test_async_client_fails_over() -> None:
    c = escache.Cluster(nodes=2)
    c.node("node-0").stop()

    async def main() -> str:
        es = c.async_client()
        try:
            info = await es.info()
            return str(info["name"])
        finally:
            await es.close()

    assert asyncio.run(main()) == "node-1"
    with pytest.raises(escache.NodeUnavailableError):
        asyncio.run(c.async_client(node="node-0").info())
