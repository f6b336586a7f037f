"""The three API key caches on a cluster: pre-warming, the doc cache, TTL and size settings,
security-index transitions, restarts and the crypto pool (docs/rules.md, AK-R2 to AK-R4, AK-S1 to AK-S20)."""

from __future__ import annotations

import cluster_api_keys_helpers
import elasticsearch
import pytest
from cluster_api_keys_helpers import (
    AUTH,
    DOC,
    RD,
    all_empty,
    all_full,
    authenticate,
    cached,
    events_of,
    expect_full_success,
    names,
    unsuccessful_reason,
    warm,
)

import escache

# The shared fixtures (pytest finds a fixture by its name in the test's module).
cluster = cluster_api_keys_helpers.cluster
three_keys = cluster_api_keys_helpers.three_keys


# ---- 4. per-node caches (AK-R2, R3.8, AK-S1, S5-S7) ----------------------------------------------------


def test_create_prewarms_only_the_creating_nodes_auth_cache(cluster):
    k = cluster.client(node="node-1").security.create_api_key(name="k")
    assert cached(cluster, "node-1", AUTH) == {k["id"]}
    assert not cached(cluster, "node-0", AUTH) and not cached(cluster, "node-2", AUTH)
    for n in names(cluster):
        assert not cached(cluster, n, DOC) and len(cluster.node(n).caches[RD]) == 0
    # The pre-warmed entry saves the creating node a hash verification; the others must hash once.
    warm(cluster, [k])

    def key_verifications(node: str) -> list[dict]:
        # The API key's stored hash only: the creator's Basic authentication went through the realm
        # cache, a verification of its own (CA-RC3).
        return [e for e in events_of(cluster, "hash_verification", node) if e["cache"] == AUTH]

    assert key_verifications("node-1") == []
    assert len(key_verifications("node-0")) == 1
    assert len(key_verifications("node-2")) == 1


def test_doc_cache_fills_on_first_authentication(cluster, es):
    k1 = es.security.create_api_key(name="k1")
    k2 = es.security.create_api_key(name="k2")
    view = cluster.node("node-2").caches[DOC]
    assert len(view) == 0 and view.enabled
    assert view.max_weight == 25_000
    assert authenticate(cluster, k1, "node-2").status == 200
    assert k1["id"] in view and len(view) == 1
    assert view.stats()["misses"] == 1 and view.stats()["hits"] == 0
    rd = cluster.node("node-2").caches[RD]
    assert len(rd) == 2  # the key's own (empty) roles and its owner's limited-by roles
    assert rd.max_weight == 50_000  # twice max_keys (R2.3)
    assert authenticate(cluster, k1, "node-2").status == 200
    assert view.stats()["hits"] == 1 and view.stats()["misses"] == 1
    assert len(events_of(cluster, "hash_verification", "node-2")) == 1  # second time: auth-cache hit
    # A second key with the same role descriptors shares the byte entries (S7).
    assert authenticate(cluster, k2, "node-2").status == 200
    assert set(view.keys()) == {k1["id"], k2["id"]} and len(rd) == 2
    assert view.keys()[0] == k2["id"]  # most recently used first
    # Other nodes were not touched.
    assert not cached(cluster, "node-1", DOC)


def test_wrong_secret_keeps_good_auth_entry(cluster, es):
    k = es.security.create_api_key(name="k")
    assert authenticate(cluster, k, "node-1").status == 200
    r = authenticate(cluster, k, "node-1", secret="x" * 22)
    assert unsuccessful_reason(r) == f"API key: invalid credentials for API key [{k['id']}]"
    assert k["id"] in cluster.node("node-1").caches[AUTH]
    assert authenticate(cluster, k, "node-1").status == 200


def test_cache_ttl_zero_disables_all_three_caches_and_clear_fails_per_node():
    c = escache.Cluster(nodes=3, seed=5, settings={"xpack.security.authc.api_key.cache.ttl": "0s"})
    es = c.client()
    k = es.security.create_api_key(name="k")  # no NPE, nothing cached (S5, PR #120483)
    for n in c.nodes:
        for cache in (AUTH, DOC, RD):
            view = n.caches[cache]
            assert view.enabled is False
            assert len(view) == 0
        assert authenticate(c, k, n.name).status == 200
        assert len(n.caches[AUTH]) == 0 and len(n.caches[DOC]) == 0
    resp = es.security.clear_api_key_cache(ids="*")
    assert resp.meta.status == 200
    body = resp.body
    assert body["_nodes"]["total"] == 3
    assert body["_nodes"]["successful"] == 0
    assert body["_nodes"]["failed"] == 3
    assert body["nodes"] == {}
    assert [f["node_id"] for f in body["_nodes"]["failures"]] == [n.id for n in c.nodes]
    for f, n in zip(body["_nodes"]["failures"], c.nodes, strict=True):
        assert f["type"] == "failed_node_exception"
        assert f["reason"] == f"Failed node [{n.id}]"
        assert f["caused_by"] == {
            "type": "illegal_argument_exception",
            "reason": "No cache named [api_key] is found",
        }
    # Invalidation still succeeds (R5.9), and with no cache no node can be stale.
    c.node("node-2").partitioned = True
    assert es.security.invalidate_api_key(ids=[k["id"]])["invalidated_api_keys"] == [k["id"]]
    for n in names(c):
        assert unsuccessful_reason(authenticate(c, k, n)) == f"API key: api key [{k['id']}] has been invalidated"


@pytest.mark.parametrize("ttl", ["-1", "0ms"])
def test_cache_ttl_non_positive_disables_caches(ttl):
    c = escache.Cluster(nodes=1, settings={"xpack.security.authc.api_key.cache.ttl": ttl})
    assert not c.nodes[0].caches[AUTH].enabled


def test_doc_cache_ttl_zero_disables_only_doc_and_role_descriptor_caches():
    c = escache.Cluster(nodes=3, seed=6, settings={"xpack.security.authc.api_key.doc_cache.ttl": "0s"})
    es = c.client()
    k = es.security.create_api_key(name="k")
    for n in c.nodes:
        assert n.caches[AUTH].enabled is True
        assert n.caches[DOC].enabled is False
        assert n.caches[RD].enabled is False
    warm(c, [k])
    for n in names(c):
        assert cached(c, n, AUTH) == {k["id"]}
        assert len(c.node(n).caches[DOC]) == 0 and len(c.node(n).caches[RD]) == 0
    # The REST clear works (the `api_key` invalidator exists) ...
    expect_full_success(c, es.security.clear_api_key_cache(ids=k["id"]).body)
    assert all(not cached(c, n, AUTH) for n in names(c))
    # ... and without a doc cache a partitioned node cannot keep accepting an invalidated key.
    warm(c, [k])
    c.node("node-2").partitioned = True
    es.security.invalidate_api_key(ids=[k["id"]])
    assert authenticate(c, k, "node-2").status == 401


def test_max_keys_bounds_auth_and_doc_caches():
    c = escache.Cluster(nodes=1, seed=8, settings={"xpack.security.authc.api_key.cache.max_keys": 2})
    es = c.client()
    keys = [es.security.create_api_key(name=f"k{i}") for i in range(3)]
    view = c.nodes[0].caches[AUTH]
    assert view.max_weight == 2 and len(view) == 2
    assert set(view.keys()) == {keys[1]["id"], keys[2]["id"]}  # the oldest was evicted
    warm(c, keys)
    assert len(c.nodes[0].caches[DOC]) == 2
    assert c.nodes[0].caches[DOC].max_weight == 2 and c.nodes[0].caches[RD].max_weight == 4


def test_closing_security_index_empties_every_nodes_caches(cluster, three_keys):
    assert all_full(cluster, three_keys)
    cluster.security_index.close()
    assert cluster.security_index.health is None
    assert all_empty(cluster)
    # While closed the keys cannot be read: every node answers 401, and nothing is cached.
    r = authenticate(cluster, three_keys[0], "node-1")
    assert unsuccessful_reason(r) == (
        f"API key: apikey authentication for id {three_keys[0]['id']} encountered a failure"
    )
    assert all_empty(cluster)
    cluster.security_index.open()
    assert cluster.security_index.health == "green"
    warm(cluster, three_keys)
    assert all_full(cluster, three_keys)


@pytest.mark.parametrize(
    "path, clears",
    [
        (["yellow"], [False]),
        (["red"], [False]),
        (["yellow", "green"], [False, False]),
        (["red", "green"], [False, True]),
        (["red", "yellow"], [False, True]),
        (["yellow", "red", "yellow"], [False, False, True]),
    ],
)
def test_health_transitions(cluster, three_keys, path, clears):
    for health, should_clear in zip(path, clears, strict=True):
        if not all_full(cluster, three_keys):
            warm(cluster, three_keys)
        assert all_full(cluster, three_keys)
        cluster.security_index.health = health
        assert cluster.security_index.health == health
        if should_clear:
            assert all_empty(cluster), health
        else:
            assert all_full(cluster, three_keys), health


def test_recreating_security_index_clears_caches(cluster, es, three_keys):
    old_uuid = cluster.security_index.uuid
    cluster.security_index.recreate()
    assert cluster.security_index.uuid not in (None, old_uuid)
    assert all_empty(cluster)
    # The keys went with the old index.
    r = authenticate(cluster, three_keys[0], "node-0")
    assert unsuccessful_reason(r) == f"API key: unable to find apikey with id {three_keys[0]['id']}"


def test_deleting_security_index_clears_caches(cluster, three_keys):
    cluster.security_index.delete()
    assert cluster.security_index.health is None and not cluster.security_index.exists
    assert all_empty(cluster)


def test_up_to_date_flip_clears_caches(cluster, three_keys):
    cluster.security_index.up_to_date = False
    assert cluster.security_index.up_to_date is False
    assert all_empty(cluster)
    warm(cluster, three_keys)
    cluster.security_index.up_to_date = False  # no change: nothing cleared
    assert all_full(cluster, three_keys)
    cluster.security_index.up_to_date = True
    assert all_empty(cluster)


@pytest.mark.parametrize("change", ["close", "recreate", "delete", "up_to_date", "red_to_green"])
def test_partitioned_node_catches_up_on_heal(cluster, three_keys, change):
    if change == "red_to_green":
        cluster.security_index.health = "red"
        assert all_full(cluster, three_keys)
    cluster.node("node-1").partitioned = True
    if change == "close":
        cluster.security_index.close()
    elif change == "recreate":
        cluster.security_index.recreate()
    elif change == "delete":
        cluster.security_index.delete()
    elif change == "up_to_date":
        cluster.security_index.up_to_date = False
    else:
        cluster.security_index.health = "green"
    assert all_empty(cluster, ["node-0", "node-2"])
    assert all_full(cluster, three_keys, ["node-1"])  # it has not seen the change yet
    cluster.node("node-1").partitioned = False
    assert all_empty(cluster)


def test_partitioned_node_heals_without_a_clearing_change(cluster, three_keys):
    cluster.node("node-1").partitioned = True
    cluster.security_index.health = "yellow"  # not a clearing change
    cluster.node("node-1").partitioned = False
    assert all_full(cluster, three_keys)


def test_restarted_node_starts_with_empty_caches(cluster, three_keys):
    cluster.node("node-2").stop()
    assert cluster.node("node-2").running is False
    cluster.node("node-2").start()
    assert all_empty(cluster, ["node-2"]) and all_full(cluster, three_keys, ["node-0", "node-1"])
    warm(cluster, three_keys, ["node-2"])
    assert all_full(cluster, three_keys)


# ---- 6. a saturated crypto pool (R3.4, S20) ----------------------------------------------------------


def test_saturated_crypto_pool_answers_429_and_caches_nothing(cluster, es):
    k = es.security.create_api_key(name="k")  # pre-warmed on node-0 only
    cluster.node("node-1").crypto_pool_mode = "saturated"
    assert cluster.node("node-1").crypto_pool_mode == "saturated"
    r = authenticate(cluster, k, "node-1")
    assert r.status == 429
    assert r.body["error"]["type"] == "es_rejected_execution_exception"
    assert "security-crypto" in r.body["error"]["reason"]
    assert k["id"] not in cluster.node("node-1").caches[AUTH]  # no toxic entry (PR #111369)
    warns = [e for e in events_of(cluster, "log_warn", "node-1") if e["key"] == k["id"]]
    assert warns and warns[0]["detail"] == (
        "rejecting possibly valid API key authentication because the [security-crypto] threadpool is full"
    )
    with pytest.raises(elasticsearch.ApiError) as exc:
        cluster.client(api_key=k["encoded"], node="node-1", max_retries=0).security.authenticate()
    assert exc.value.meta.status == 429
    assert exc.value.body["error"]["type"] == "es_rejected_execution_exception"
    assert k["id"] not in cluster.node("node-1").caches[AUTH]
    # Once the pool has room again, the key works on that node (no never-completing future cached).
    cluster.node("node-1").crypto_pool_mode = "immediate"
    assert authenticate(cluster, k, "node-1").status == 200
    assert k["id"] in cluster.node("node-1").caches[AUTH]


def test_saturated_crypto_pool_still_serves_cached_keys(cluster, es):
    k = es.security.create_api_key(name="k")  # created (and pre-warmed) on node-0
    other = cluster.client(node="node-1").security.create_api_key(name="other")
    cluster.node("node-0").crypto_pool_mode = "saturated"
    assert authenticate(cluster, k, "node-0").status == 200  # auth-cache hit: no hashing needed
    assert authenticate(cluster, other, "node-0").status == 429  # not cached here
    # A wrong secret for the cached key is refused without hashing (401, not 429).
    assert authenticate(cluster, k, "node-0", secret="w" * 22).status == 401
    with pytest.raises(escache.IllegalArgumentError):
        cluster.node("node-0").crypto_pool_mode = "busy"
    assert cluster.node("node-0").crypto_pool_mode == "saturated"
