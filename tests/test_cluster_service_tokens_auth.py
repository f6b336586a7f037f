"""Service account token authentication and its caches: ST-A2, ST-A3, ST-C1, ST-C3 and ST-S4."""

from __future__ import annotations

import json

import cluster_service_tokens_helpers
import elasticsearch
import pytest
from cluster_service_tokens_helpers import FILE, FLEET, HASHING, INDEX, auth_failed, authenticate, bearer, events_of

import escache

# The shared fixtures (pytest finds a fixture by its name in the test's module).
cluster = cluster_service_tokens_helpers.cluster


# ---- authentication (A2, A3, C3) --------------------------------------------------------------------


def test_a3_authenticate_with_index_and_file_tokens(cluster, es):
    value = es.security.create_service_token(namespace="elastic", service="fleet-server", name="api")["token"]["value"]
    file_value = cluster.node("node-1").service_tokens.create(FLEET, "from-file")
    cluster.advance("5s")
    expected = {
        "username": FLEET,
        "roles": [],
        "full_name": "Service account - elastic/fleet-server",
        "email": None,
        "metadata": {"_elastic_service_account": True},
        "enabled": True,
        "authentication_realm": {"name": "_service_account", "type": "_service_account"},
        "lookup_realm": {"name": "_service_account", "type": "_service_account"},
        "authentication_type": "token",
    }
    for node in ("node-0", "node-1", "node-2"):
        body = cluster.client(bearer_auth=value, node=node).security.authenticate().body
        assert body["token"] == {"name": "api", "type": "_service_account_index"}
        assert {k: v for k, v in body.items() if k != "token"} == expected
    body = cluster.client(bearer_auth=file_value, node="node-1").security.authenticate().body
    assert body["token"] == {"name": "from-file", "type": "_service_account_file"}
    assert {k: v for k, v in body.items() if k != "token"} == expected
    # The file token is only on node-1.
    with pytest.raises(elasticsearch.AuthenticationException) as exc:
        cluster.client(bearer_auth=file_value, node="node-0").security.authenticate()
    assert exc.value.meta.status == 401
    assert exc.value.body["error"]["reason"] == auth_failed(FLEET, "from-file")


def test_c3_hit_skips_the_store_and_wrong_secret_keeps_the_entry(cluster, es):
    value = es.security.create_service_token(namespace="elastic", service="fleet-server", name="t1")["token"]["value"]
    view = cluster.node("node-0").caches[INDEX]
    assert authenticate(cluster, value).status == 200
    assert view.stats() == {"hits": 0, "misses": 1, "evictions": 0}
    assert "elastic/fleet-server/t1" in view and len(view) == 1
    mark = len(cluster.events)
    assert authenticate(cluster, value).status == 200
    assert view.stats()["hits"] == 1
    assert events_of(cluster, "hash_verification", mark) == []
    wrong = authenticate(cluster, bearer(FLEET, "t1", "WRONGSECRET1"))
    assert wrong.status == 401
    assert wrong.body["error"]["type"] == "security_exception"
    assert wrong.body["error"]["reason"] == auth_failed(FLEET, "t1")
    assert 'Bearer realm="security"' in wrong.headers["WWW-Authenticate"]
    assert events_of(cluster, "hash_verification", mark) == []
    assert "elastic/fleet-server/t1" in view


def test_c3_failures_are_not_cached(cluster, es):
    es.security.create_service_token(namespace="elastic", service="fleet-server", name="t1")
    view = cluster.node("node-0").caches[INDEX]
    for i in range(1, 3):
        r = authenticate(cluster, bearer(FLEET, "t2", "secret-of-t2-0001"))
        assert r.status == 401
        assert r.body["error"]["reason"] == auth_failed(FLEET, "t2")
        assert view.stats()["misses"] == i
        assert len(view) == 0


@pytest.mark.parametrize(
    "principal, secret",
    [(FLEET, "123456789"), ("other/fleet-server", "long-enough-secret"), ("elastic/foo", "long-enough-secret")],
)
def test_a2_early_failures_touch_no_cache(cluster, es, principal, secret):
    es.security.create_service_token(namespace="elastic", service="fleet-server", name="t1")
    mark = len(cluster.events)
    r = authenticate(cluster, bearer(principal, "t1", secret))
    assert r.status == 401
    assert r.body["error"]["reason"] == auth_failed(principal, "t1")
    for cache in (FILE, INDEX):
        assert cluster.node("node-0").caches[cache].stats() == {"hits": 0, "misses": 0, "evictions": 0}
    assert [e for e in list(cluster.events)[mark:] if e["cache"] in (FILE, INDEX)] == []


def test_s4_no_security_index_is_a_401_mentioning_it(cluster, es):
    value = es.security.create_service_token(namespace="elastic", service="fleet-server", name="t1")["token"]["value"]
    cluster.security_index.delete()
    r = authenticate(cluster, value)
    assert r.status == 401
    assert "no such index [.security]" in json.dumps(r.body)
    assert len(cluster.node("node-0").caches[INDEX]) == 0


def test_c1_ttl_counts_from_the_write():
    c = escache.Cluster(nodes=1, seed=0, settings={**HASHING, "xpack.security.authc.service_token.cache.ttl": "1s"})
    value = c.client().security.create_service_token(namespace="elastic", service="fleet-server", name="t1")["token"][
        "value"
    ]
    view = c.node("node-0").caches[INDEX]
    assert authenticate(c, value).status == 200
    c.advance(0.6)
    assert authenticate(c, value).status == 200
    assert view.stats()["misses"] == 1
    c.advance(0.401)  # 1.001 s after the write, 0.401 s after the last access
    assert authenticate(c, value).status == 200
    assert view.stats()["misses"] == 2


@pytest.mark.parametrize("ttl", ["0s", "-1"])
def test_c1_cache_disabled(ttl):
    c = escache.Cluster(nodes=2, seed=0, settings={**HASHING, "xpack.security.authc.service_token.cache.ttl": ttl})
    es = c.client()
    value = es.security.create_service_token(namespace="elastic", service="fleet-server", name="t1")["token"]["value"]
    for cache in (FILE, INDEX):
        assert c.node("node-0").caches[cache].enabled is False
    for _ in range(3):
        assert authenticate(c, value).status == 200
    # Each authentication verified the token's stored hash (the realm cache verified elastic's once).
    assert len([e for e in events_of(c, "hash_verification") if e["cache"] in (FILE, INDEX)]) == 3
    resp = es.security.clear_cached_service_tokens(namespace="elastic", service="fleet-server", name="*")
    assert resp["_nodes"] == {"total": 2, "successful": 2, "failed": 0}


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"xpack.security.authc.service_token.cache.hash_algo": "x"}, "unknown hash function [x]"),
        (
            {"xpack.security.authc.service_token.cache.ttl": "1x"},
            "failed to parse setting [xpack.security.authc.service_token.cache.ttl] with value [1x] as a time "
            "value: unit is missing or unrecognized",
        ),
        (
            {"xpack.security.authc.service_token.cache.max_tokens": "many"},
            "Failed to parse value [many] for setting [xpack.security.authc.service_token.cache.max_tokens]",
        ),
        (
            {"xpack.security.authc.service_token_hashing.algorithm": "ssha256"},
            "Invalid algorithm: ssha256. Valid values for password hashing are [",
        ),
    ],
)
def test_c1_bad_settings_are_refused(settings, message):
    with pytest.raises(ValueError) as exc:
        escache.Cluster(nodes=1, settings=settings)
    assert isinstance(exc.value, escache.EscacheError)
    assert str(exc.value).startswith(message)
