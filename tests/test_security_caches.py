"""The realm user caches (docs/rules.md CA-RC1 to CA-RC6): Basic authentication through each node's
realm cache, bcrypt only on a miss, and the clear-realm-cache API as the official client calls it."""

from __future__ import annotations

import elasticsearch
import pytest
from conftest import admin

import escache

NATIVE = "native_realm_users"
RESERVED = "reserved_realm_users"


@pytest.fixture
def cluster() -> escache.Cluster:
    c = escache.Cluster(nodes=3, seed=5)
    c.client(node="node-0").security.put_user(username="bob", password="bob-password", roles=["viewer"])
    return c


def login(c: escache.Cluster, user: str, password: str, node: str = "node-0") -> int:
    h = {"Authorization": c.basic_auth_header(user, password)}
    return c.perform_request("GET", "/_security/_authenticate", headers=h, node=node).status


def verifications(c: escache.Cluster, node: str, cache: str, user: str, since: int) -> list[str]:
    """The stored-hash verifications a realm ran for a user on a node since event `since`."""
    return [
        detail
        for _, n, kind, ca, key, detail in c.events.rows(since)
        if n == node and kind == "hash_verification" and ca == cache and key == user
    ]


def test_ca_rc1_realm_cache_settings() -> None:
    c = escache.Cluster(nodes=1)
    for name in (RESERVED, NATIVE, "file_realm_users"):
        view = c.node("node-0").caches[name]
        assert view.enabled and view.max_weight == 100_000 and len(view) == 0
    # A realm setting names the realm and sets its cache; a TTL of 0 turns the cache off.
    off = escache.Cluster(nodes=1, settings={"xpack.security.authc.realms.native.corp.cache.ttl": "0s"})
    assert not off.node("node-0").caches[NATIVE].enabled
    small = escache.Cluster(nodes=1, settings={"xpack.security.authc.realms.native.corp.cache.max_users": 7})
    assert small.node("node-0").caches[NATIVE].max_weight == 7
    with pytest.raises(escache.IllegalArgumentError, match=r"multiple \[native\] realms are configured"):
        escache.Cluster(
            nodes=1,
            settings={
                "xpack.security.authc.realms.native.a.cache.ttl": "1m",
                "xpack.security.authc.realms.native.b.cache.ttl": "1m",
            },
        )
    with pytest.raises(escache.IllegalArgumentError, match="unknown setting"):
        escache.Cluster(nodes=1, settings={"xpack.security.authc.realms.ldap.l.cache.ttl": "1m"})
    # The authenticating realm is named after the setting.
    c2 = escache.Cluster(nodes=1, settings={"xpack.security.authc.realms.native.corp.cache.ttl": "5m"})
    c2.client().security.put_user(username="bob", password="bob-password", roles=[])
    who = c2.client(basic_auth=("bob", "bob-password")).security.authenticate()
    assert who["authentication_realm"] == {"name": "corp", "type": "native"}
    # Expire-after-write: an entry older than the TTL is a miss, and bcrypt runs again.
    assert "bob" in c2.node("node-0").caches[NATIVE]
    mark = len(c2.events)
    c2.advance("5m")
    assert login(c2, "bob", "bob-password") == 200
    assert verifications(c2, "node-0", NATIVE, "bob", mark) == []
    c2.advance("1s")
    assert login(c2, "bob", "bob-password") == 200
    assert verifications(c2, "node-0", NATIVE, "bob", mark) == ["bcrypt"]


def test_ca_rc2_basic_auth_hits_the_realm_cache_without_bcrypt(cluster: escache.Cluster) -> None:
    mark = len(cluster.events)
    assert login(cluster, "bob", "bob-password") == 200
    # The first request verifies the stored bcrypt hash and caches the user.
    assert verifications(cluster, "node-0", NATIVE, "bob", mark) == ["bcrypt"]
    assert cluster.node("node-0").caches[NATIVE].keys() == ["bob"]
    before = cluster.node("node-0").caches[NATIVE].stats()
    mark = len(cluster.events)
    for _ in range(3):
        assert login(cluster, "bob", "bob-password") == 200
    assert verifications(cluster, "node-0", NATIVE, "bob", mark) == []
    after = cluster.node("node-0").caches[NATIVE].stats()
    assert after["hits"] == before["hits"] + 3
    # Each node has its own cache: node-1 verifies once too.
    assert "bob" not in cluster.node("node-1").caches[NATIVE]
    mark = len(cluster.events)
    assert login(cluster, "bob", "bob-password", node="node-1") == 200
    assert verifications(cluster, "node-1", NATIVE, "bob", mark) == ["bcrypt"]
    # elastic goes through the reserved realm's cache.
    assert "elastic" in cluster.node("node-0").caches[RESERVED]
    # The cache holds a hash of the password, never the password.
    assert "bob-password" not in repr(cluster.node("node-0").caches[NATIVE])


def test_ca_rc3_wrong_or_changed_password_goes_to_the_realm(cluster: escache.Cluster) -> None:
    assert login(cluster, "bob", "bob-password") == 200
    mark = len(cluster.events)
    # A wrong password does not match the cached hash: the realm checks bcrypt and refuses.
    assert login(cluster, "bob", "not-the-password") == 401
    assert verifications(cluster, "node-0", NATIVE, "bob", mark) == ["bcrypt"]
    # The cached entry stays: the right password is still a hit.
    mark = len(cluster.events)
    assert login(cluster, "bob", "bob-password") == 200
    assert verifications(cluster, "node-0", NATIVE, "bob", mark) == []
    # A disabled user is never cached.
    es = cluster.client(node="node-0")
    es.security.put_user(username="off", password="off-password", roles=[], enabled=False)
    assert login(cluster, "off", "off-password") == 401
    assert "off" not in cluster.node("node-0").caches[NATIVE]


def test_ca_rc4_expire_one_user_or_all(cluster: escache.Cluster) -> None:
    es = cluster.client(node="node-0")
    es.security.put_user(username="amy", password="amy-password", roles=[])
    for user in ("bob", "amy"):
        assert login(cluster, user, f"{user}-password") == 200
    es.security.clear_cached_realms(realms="default_native", usernames="amy")
    assert cluster.node("node-0").caches[NATIVE].keys() == ["bob"]
    # The reserved realm was not named: elastic stays.
    assert "elastic" in cluster.node("node-0").caches[RESERVED]
    es.security.clear_cached_realms(realms="*")
    for name in (NATIVE, RESERVED):
        assert len(cluster.node("node-0").caches[name]) == 0
    assert cluster.node("node-0").caches[NATIVE].removals()["INVALIDATED"] == 2


def test_ca_rc5_security_index_changes_clear_the_native_realm(cluster: escache.Cluster) -> None:
    assert login(cluster, "bob", "bob-password") == 200
    view = cluster.node("node-0").caches[NATIVE]
    # An up-to-date flip clears the API key caches (AK-R4.1) but not the native realm.
    cluster.security_index.up_to_date = False
    assert "bob" in view
    cluster.security_index.up_to_date = True
    # Yellow is still non-red: nothing to clear.
    cluster.security_index.health = "yellow"
    assert "bob" in view
    cluster.security_index.health = "red"
    cluster.security_index.health = "green"
    assert "bob" not in view
    assert login(cluster, "bob", "bob-password") == 200
    cluster.security_index.recreate()
    assert len(view) == 0
    # The reserved realm does not listen to the index.
    assert "elastic" in cluster.node("node-0").caches[RESERVED]


def test_ca_rc6_clear_cached_realms_with_the_official_client(cluster: escache.Cluster) -> None:
    for node in ("node-0", "node-1", "node-2"):
        assert login(cluster, "bob", "bob-password", node=node) == 200
    es = cluster.client(node="node-1")
    resp = es.security.clear_cached_realms(realms="default_native", usernames=["bob"])
    body = resp.body
    assert body["_nodes"] == {"total": 3, "successful": 3, "failed": 0}
    assert body["cluster_name"] == "escache"
    assert sorted(v["name"] for v in body["nodes"].values()) == ["node-0", "node-1", "node-2"]
    for node in ("node-0", "node-1", "node-2"):
        assert "bob" not in cluster.node(node).caches[NATIVE]
    # The request the client sent.
    r = cluster.perform_request("POST", "/_security/realm/_all/_clear_cache?usernames=bob,amy", headers=admin(cluster))
    assert r.status == 200 and r.body["_nodes"]["successful"] == 3
    # A stopped node is not in the cluster; a partitioned one is a failure of the response.
    cluster.node("node-2").partitioned = True
    r = cluster.perform_request("POST", "/_security/realm/*/_clear_cache", headers=admin(cluster), node="node-0")
    assert r.status == 200 and r.body["_nodes"]["failed"] == 1
    assert r.body["_nodes"]["failures"][0]["type"] == "failed_node_exception"
    # No body is accepted; unknown parameters are refused.
    r = cluster.perform_request(
        "POST", "/_security/realm/*/_clear_cache?user=bob", headers=admin(cluster), node="node-0"
    )
    assert r.status == 400 and "unrecognized parameter: [user]" in r.body["error"]["reason"]


def test_ca_rc6_unknown_realm_fails_on_each_node_and_privileges(cluster: escache.Cluster) -> None:
    assert login(cluster, "bob", "bob-password") == 200
    r = cluster.perform_request(
        "POST", "/_security/realm/default_native,ldap1/_clear_cache", headers=admin(cluster), node="node-0"
    )
    assert r.status == 200
    assert r.body["_nodes"] == {
        "total": 3,
        "successful": 0,
        "failed": 3,
        "failures": r.body["_nodes"]["failures"],
    }
    cause = r.body["_nodes"]["failures"][0]["caused_by"]
    assert cause == {"type": "illegal_argument_exception", "reason": "could not find active realm [ldap1]"}
    # A node that failed cleared nothing, even for the realm it has.
    assert "bob" in cluster.node("node-0").caches[NATIVE]
    # bob (viewer) may not clear caches: the 403 names the action and the privileges that grant it.
    bob = cluster.client(basic_auth=("bob", "bob-password"), node="node-0")
    with pytest.raises(elasticsearch.AuthorizationException) as e:
        bob.security.clear_cached_realms(realms="*")
    assert e.value.meta.status == 403
    assert e.value.body["error"]["reason"] == (
        "action [cluster:admin/xpack/security/realm/cache/clear] is unauthorized for user [bob] with effective "
        "roles [] (assigned roles [viewer] were not found), this action is granted by the cluster "
        "privileges [manage_security,all]"
    )


def test_ca_rc2_the_simulator_reports_the_realm_and_roles_caches() -> None:
    c = escache.Cluster(nodes=2, seed=3)
    c.client(node="node-0").security.put_user(username="bob", password="bob-password", roles=["superuser", "x"])
    sim = escache.Simulation(c, seed=3)
    bob = c.basic_auth_header("bob", "bob-password")
    sim.schedule(0, "rest", every="1s", path="/_security/_authenticate", node="node-1", authorization=bob)
    report = sim.run("10s")
    node1 = report.nodes["node-1"]
    realm = node1.caches["native_realm_users"]
    roles = node1.caches["roles"]
    # One bcrypt miss, then hits for every later request (expire-after-write 20m).
    assert realm is not None and roles is not None
    assert realm.hit_ratio == pytest.approx(realm_hits(c) / (realm_hits(c) + 1))
    assert roles.hit_ratio > 0.8
    assert report.to_dict()["nodes"]["node-1"]["caches"]["native_realm_users"]["hit_ratio"] == realm.hit_ratio


def realm_hits(c: escache.Cluster) -> int:
    return sum(
        1 for _, n, kind, cache, _, _ in c.events.rows() if n == "node-1" and kind == "cache_hit" and cache == NATIVE
    )


def test_ca_rc3_the_simulator_charges_bcrypt_on_a_realm_cache_miss_only() -> None:
    c = escache.Cluster(nodes=2, seed=3)
    c.client(node="node-0").security.put_user(username="bob", password="bob-password", roles=["superuser"])
    sim = escache.Simulation(c, seed=3)
    bob = c.basic_auth_header("bob", "bob-password")
    sim.schedule(0, "rest", every="1s", path="/_security/_authenticate", node="node-1", authorization=bob)
    first = sim.run("500ms").nodes["node-1"]
    # The first request missed the realm cache: one bcrypt verification (cost 10), charged.
    assert first.hashing_cpu_seconds > 0
    later = sim.run("10s").nodes["node-1"]
    # Ten more requests hit the cache: no more hashing.
    assert later.hashing_cpu_seconds == first.hashing_cpu_seconds
    c.client(node="node-0").security.clear_cached_realms(realms="*")
    cleared = sim.run("1s").nodes["node-1"]
    assert cleared.hashing_cpu_seconds == pytest.approx(2 * first.hashing_cpu_seconds)
