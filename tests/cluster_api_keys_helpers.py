"""Helpers and fixtures shared by the ``tests/test_cluster_api_keys*.py`` suites: a three-node cluster,
three warmed API keys, and views of the three API key caches (docs/rules.md, AK-R1 to AK-R6)."""

from __future__ import annotations

import base64

import pytest

import escache

PASSWORD = "changeme"


AUTH = "api_key_auth"


DOC = "api_key_doc"


RD = "api_key_role_descriptors"


DOC_CACHE_TTL = 300.0  # xpack.security.authc.api_key.doc_cache.ttl default: 5m


CLEAR_ACTION = "cluster:admin/xpack/security/cache/clear"


CHALLENGES = ['Basic realm="security", charset="UTF-8"', 'Bearer realm="security"', "ApiKey"]


GENERIC_401 = "unable to authenticate with provided credentials and anonymous access is not allowed for this request"


# ---- helpers ---------------------------------------------------------------------------------------


def encoded(key_id: str, secret: str) -> str:
    return base64.b64encode(f"{key_id}:{secret}".encode()).decode()


def authenticate(c: escache.Cluster, key: dict, node: str, secret: str | None = None):
    """``GET /_security/_authenticate`` with the key (or another secret for its id) on ``node``."""
    value = key["encoded"] if secret is None else encoded(key["id"], secret)
    return c.perform_request("GET", "/_security/_authenticate", headers={"Authorization": "ApiKey " + value}, node=node)


def names(c: escache.Cluster) -> list[str]:
    return [n.name for n in c.nodes]


def cached(c: escache.Cluster, node: str, cache: str) -> set[str]:
    return set(c.node(node).caches[cache].keys())


def warm(c: escache.Cluster, keys: list[dict], nodes: list[str] | None = None) -> None:
    """Authenticates every key on every node, so each node's auth and doc caches hold every key."""
    for node in nodes or names(c):
        for k in keys:
            r = authenticate(c, k, node)
            assert r.status == 200, r.body
            assert r.body["api_key"]["id"] == k["id"]


def snapshot(c: escache.Cluster) -> dict[str, tuple[frozenset, frozenset, int]]:
    return {
        n.name: (
            frozenset(n.caches[AUTH].keys()),
            frozenset(n.caches[DOC].keys()),
            len(n.caches[RD]),
        )
        for n in c.nodes
        if n.running
    }


def unsuccessful_reason(r) -> str:
    assert r.status == 401, r.body
    err = r.body["error"]
    assert err["type"] == "security_exception"
    assert err["reason"] == GENERIC_401
    assert err["root_cause"][0]["additional_unsuccessful_credentials"] == err["additional_unsuccessful_credentials"]
    return err["additional_unsuccessful_credentials"]


def events_of(c: escache.Cluster, kind: str, node: str | None = None) -> list[dict]:
    return [e for e in c.events if e["kind"] == kind and (node is None or e["node"] == node)]


@pytest.fixture
def cluster() -> escache.Cluster:
    return escache.Cluster(nodes=3, cluster_name="prod-east", seed=7, password=PASSWORD)


@pytest.fixture
def three_keys(cluster, es):
    keys = [dict(es.security.create_api_key(name=f"k{i}")) for i in range(3)]
    warm(cluster, keys)
    return keys


# ---- 1. the clear API key cache API: ids, response shape, partitions (R5.3-R5.6, S9-S11) -------------


def expect_full_success(c: escache.Cluster, body: dict) -> None:
    assert set(body) == {"_nodes", "cluster_name", "nodes"}
    n = len(c.nodes)
    assert body["_nodes"] == {"total": n, "successful": n, "failed": 0}  # no `failures` key at all
    assert body["cluster_name"] == c.name
    assert list(body["nodes"]) == [node.id for node in c.nodes]
    assert body["nodes"] == {node.id: {"name": node.name} for node in c.nodes}


# ---- 5. security index changes (R4.1, S12) -----------------------------------------------------------


def all_empty(c: escache.Cluster, nodes: list[str] | None = None) -> bool:
    return all(
        len(c.node(n).caches[AUTH]) == 0 and len(c.node(n).caches[DOC]) == 0 and len(c.node(n).caches[RD]) == 0
        for n in nodes or names(c)
    )


def all_full(c: escache.Cluster, keys: list[dict], nodes: list[str] | None = None) -> bool:
    ids = {k["id"] for k in keys}
    return all(
        cached(c, n, AUTH) == ids and cached(c, n, DOC) == ids and len(c.node(n).caches[RD]) == 2
        for n in nodes or names(c)
    )


# ---- 9. secrets never leak -----------------------------------------------------------------------------


def _leaks(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s in text]
