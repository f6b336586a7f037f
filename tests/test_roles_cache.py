"""The roles caches and the application privileges caches (docs/rules.md CA-RL1 to CA-RL5, CA-AP1 to
CA-AP3): filled by each node as its users' requests resolve roles, cleared by the role APIs, the
clear-cache APIs and the security index."""

from __future__ import annotations

import elasticsearch
import pytest
from conftest import admin

import escache

ROLES = "roles"
NEGATIVE = "roles_negative_lookup"


@pytest.fixture
def cluster() -> escache.Cluster:
    c = escache.Cluster(nodes=2, seed=9)
    es = c.client(node="node-0")
    es.security.put_role(name="ops", cluster=["manage_security"])
    es.security.put_user(username="bob", password="bob-password", roles=["ops", "ghost"])
    return c


def as_bob(c: escache.Cluster, node: str = "node-0") -> elasticsearch.Elasticsearch:
    return c.client(basic_auth=("bob", "bob-password"), node=node)


def test_ca_rl1_roles_cache_settings() -> None:
    c = escache.Cluster(nodes=1)
    assert c.node("node-0").caches[ROLES].max_weight == 10_000
    assert c.node("node-0").caches[NEGATIVE].max_weight == 10_000
    s = escache.Cluster(
        nodes=1,
        settings={
            "xpack.security.authz.store.roles.cache.max_size": 1,
            "xpack.security.authz.store.roles.negative_lookup_cache.max_size": -1,
        },
    )
    assert s.node("node-0").caches[ROLES].max_weight == 1
    assert s.node("node-0").caches[NEGATIVE].max_weight is None  # negative: unbounded


def test_ca_rl2_a_users_role_is_cached_per_node(cluster: escache.Cluster) -> None:
    as_bob(cluster).security.authenticate()
    roles = cluster.node("node-0").caches[ROLES]
    # Keyed by the set of role names; the missing one is remembered in the negative lookup cache.
    assert roles.keys() == ['["ghost","ops"]']
    assert cluster.node("node-0").caches[NEGATIVE].keys() == ["ghost"]
    assert len(cluster.node("node-1").caches[ROLES]) == 0
    as_bob(cluster).security.authenticate()
    assert roles.stats()["hits"] == 1
    # elastic (exactly {superuser}) bypasses the cache.
    cluster.client(node="node-1").security.authenticate()
    assert len(cluster.node("node-1").caches[ROLES]) == 0
    # With the cached role, bob may clear caches (ops: manage_security).
    assert as_bob(cluster).security.clear_cached_roles(name="*").body["_nodes"]["successful"] == 2


def test_ca_rl3_put_role_is_seen_at_once(cluster: escache.Cluster) -> None:
    bob = as_bob(cluster)
    bob.security.authenticate()
    cluster.client(node="node-1").security.put_role(name="ops", cluster=["monitor"])
    # Put-role cleared `ops` from every node's cache: bob loses manage_security at once.
    assert len(cluster.node("node-0").caches[ROLES]) == 0
    with pytest.raises(elasticsearch.AuthorizationException):
        bob.security.clear_cached_roles(name="*")
    # Creating the missing role clears its negative lookup entry too.
    assert "ghost" in cluster.node("node-0").caches[NEGATIVE]
    cluster.client(node="node-1").security.put_role(name="ghost", cluster=["manage_security"])
    assert "ghost" not in cluster.node("node-0").caches[NEGATIVE]
    assert bob.security.clear_cached_roles(name="ghost").body["_nodes"]["successful"] == 2


def test_ca_rl4_security_index_changes_clear_the_roles_caches(cluster: escache.Cluster) -> None:
    as_bob(cluster).security.authenticate()
    assert len(cluster.node("node-0").caches[ROLES]) == 1
    cluster.security_index.up_to_date = False
    assert len(cluster.node("node-0").caches[ROLES]) == 0
    assert len(cluster.node("node-0").caches[NEGATIVE]) == 0


def test_ca_rl5_clear_cached_roles_with_the_official_client(cluster: escache.Cluster) -> None:
    for node in ("node-0", "node-1"):
        as_bob(cluster, node).security.authenticate()
    es = cluster.client(node="node-0")
    # A role bob does not have leaves his entry alone.
    assert es.security.clear_cached_roles(name="other").body["_nodes"]["successful"] == 2
    assert len(cluster.node("node-1").caches[ROLES]) == 1
    body = es.security.clear_cached_roles(name=["ops", "x"]).body
    assert body["_nodes"] == {"total": 2, "successful": 2, "failed": 0}
    assert sorted(v["name"] for v in body["nodes"].values()) == ["node-0", "node-1"]
    for node in ("node-0", "node-1"):
        assert len(cluster.node(node).caches[ROLES]) == 0
        assert cluster.node(node).caches[NEGATIVE].keys() == ["ghost"]
    r = cluster.perform_request("POST", "/_security/role/_all/_clear_cache", headers=admin(cluster))
    assert r.status == 200 and len(cluster.node("node-0").caches[NEGATIVE]) == 0
    r = cluster.perform_request("POST", "/_security/role/x/_clear_cache", headers=admin(cluster), body={"a": 1})
    assert r.status == 400
    assert r.body["error"]["reason"] == "request [POST /_security/role/x/_clear_cache] does not support having a body"
    cluster.client(node="node-0").security.put_user(username="eve", password="eve-password", roles=["nobody"])
    with pytest.raises(elasticsearch.AuthorizationException) as e:
        cluster.client(basic_auth=("eve", "eve-password")).security.clear_cached_roles(name="*")
    assert "action [cluster:admin/xpack/security/roles/cache/clear] is unauthorized for user [eve]" in str(e.value)


def test_ca_ap1_privileges_ttl_zero_unregisters_the_invalidator() -> None:
    c = escache.Cluster(nodes=2, settings={"xpack.security.authz.store.privileges.cache.ttl": "0s"})
    assert not c.node("node-0").caches["application_privileges"].enabled
    body = c.client().security.clear_cached_privileges(application="app").body
    assert body["_nodes"]["failed"] == 2
    assert body["_nodes"]["failures"][0]["caused_by"] == {
        "type": "illegal_argument_exception",
        "reason": "No cache named [application_privileges] is found",
    }
    d = escache.Cluster(nodes=1)
    assert d.node("node-0").caches["application_names"].max_weight == 10_000


def test_ca_ap2_roles_with_applications_fill_the_names_cache(cluster: escache.Cluster) -> None:
    es = cluster.client(node="node-0")
    es.security.put_role(
        name="kib",
        cluster=["monitor"],
        applications=[{"application": "kibana-.kibana", "privileges": ["read"], "resources": ["*"]}],
    )
    es.security.put_user(username="kay", password="kay-password", roles=["kib"])
    cluster.client(basic_auth=("kay", "kay-password"), node="node-0").security.authenticate()
    names = cluster.node("node-0").caches["application_names"]
    # No privilege documents: the expansion is empty (a negative lookup); no descriptors cached.
    assert names.keys() == ["kibana-.kibana"]
    assert len(cluster.node("node-0").caches["application_privileges"]) == 0
    assert len(cluster.node("node-1").caches["application_names"]) == 0


def test_ca_ap3_clear_cached_privileges_with_the_official_client(cluster: escache.Cluster) -> None:
    test_ca_ap2_roles_with_applications_fill_the_names_cache(cluster)
    es = cluster.client(node="node-1")
    body = es.security.clear_cached_privileges(application="other-app").body
    assert body["_nodes"] == {"total": 2, "successful": 2, "failed": 0}
    # Any named application drops every name expansion.
    assert len(cluster.node("node-0").caches["application_names"]) == 0
    # cluster.requests: the named descriptors, and the whole names cache, on each node.
    cleared = {(c.node, c.cache, c.keys) for c in cluster.requests[-1].cleared}
    assert cleared == {
        (node, cache, keys)
        for node in ("node-0", "node-1")
        for cache, keys in (("application_privileges", ("other-app",)), ("application_names", None))
    }
    with pytest.raises(elasticsearch.AuthorizationException) as e:
        cluster.client(basic_auth=("kay", "kay-password")).security.clear_cached_privileges(application="*")
    assert "action [cluster:admin/xpack/security/cache/clear] is unauthorized for user [kay]" in str(e.value)
    # The roles cache still holds kay's role: only a rebuilt role asks for privileges again.
    cluster.client(basic_auth=("kay", "kay-password"), node="node-0").security.authenticate()
    assert len(cluster.node("node-0").caches["application_names"]) == 0
    es.security.clear_cached_roles(name="kib")
    cluster.client(basic_auth=("kay", "kay-password"), node="node-0").security.authenticate()
    # Cleared with the other opted-in invalidators when the index is recreated.
    assert len(cluster.node("node-0").caches["application_names"]) == 1
    cluster.security_index.recreate()
    assert len(cluster.node("node-0").caches["application_names"]) == 0
