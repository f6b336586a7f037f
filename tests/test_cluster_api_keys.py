"""The simulated cluster's API key caches, driven the way users drive Elasticsearch: through the official
``elasticsearch`` client (``Cluster.client()``) and raw REST (``Cluster.perform_request``).

Expected values come from the rules in ``docs/rules.md`` (AK-R1 to AK-R5, scenarios AK-S1 to AK-S20, the
401 body of AK-R3.6) and from Elasticsearch's own texts, not from a run of escache.
"""

from __future__ import annotations

import base64
import json
import string

import elasticsearch
import pytest
from conftest import admin
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

import escache
from escache.client import make_client

PASSWORD = "changeme"
AUTH = "api_key_auth"
DOC = "api_key_doc"
RD = "api_key_role_descriptors"
DOC_CACHE_TTL = 300.0  # xpack.security.authc.api_key.doc_cache.ttl default: 5m
CLEAR_ACTION = "cluster:admin/xpack/security/cache/clear"
CHALLENGES = ['Basic realm="security", charset="UTF-8"', 'Bearer realm="security"', "ApiKey"]
GENERIC_401 = (
    "unable to authenticate with provided credentials and anonymous access is not allowed for this request"
)


# ---- helpers ---------------------------------------------------------------------------------------


def encoded(key_id: str, secret: str) -> str:
    return base64.b64encode(f"{key_id}:{secret}".encode()).decode()


def authenticate(c: escache.Cluster, key: dict, node: str, secret: str | None = None):
    """``GET /_security/_authenticate`` with the key (or another secret for its id) on ``node``."""
    value = key["encoded"] if secret is None else encoded(key["id"], secret)
    return c.perform_request(
        "GET", "/_security/_authenticate", headers={"Authorization": "ApiKey " + value}, node=node
    )


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
    assert err["root_cause"][0]["additional_unsuccessful_credentials"] == err[
        "additional_unsuccessful_credentials"
    ]
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


@pytest.mark.parametrize(
    "ids_of, cleared",
    [
        pytest.param(lambda k: "*", {0, 1, 2}, id="star"),
        pytest.param(lambda k: "_all", {0, 1, 2}, id="_all"),
        pytest.param(lambda k: k[1]["id"], {1}, id="one-id"),
        pytest.param(lambda k: [k[0]["id"], k[2]["id"]], {0, 2}, id="id-list"),
        pytest.param(lambda k: f"{k[0]['id']},{k[1]['id']}", {0, 1}, id="comma-string"),
        pytest.param(lambda k: "abc*", set(), id="abc-star-is-literal"),
        pytest.param(lambda k: k[0]["id"][:6] + "*", set(), id="prefix-star-is-literal"),
        pytest.param(lambda k: f"{k[2]['id']},*", {2}, id="id-and-star-are-two-literals"),
        pytest.param(lambda k: "nope-1,nope-2", set(), id="unknown-ids-noop"),
    ],
)
def test_clear_api_key_cache_ids(cluster, es, three_keys, ids_of, cleared):
    keys = three_keys
    before = snapshot(cluster)
    resp = es.security.clear_api_key_cache(ids=ids_of(keys))
    assert resp.meta.status == 200
    expect_full_success(cluster, resp.body)
    gone = {keys[i]["id"] for i in cleared}
    for node in names(cluster):
        remaining = {k["id"] for k in keys} - gone
        assert cached(cluster, node, AUTH) == remaining
        assert cached(cluster, node, DOC) == remaining
        # Clearing by key leaves the role-descriptor cache alone; clearing all empties it (R2.6).
        rd = len(cluster.node(node).caches[RD])
        assert rd == (0 if cleared == {0, 1, 2} else before[node][2])
    # Every node processed the request, with the keys parsed as R5.6 says.
    assert len(events_of(cluster, "clear_cache")) == 3


def test_clear_ids_parsing_edge_cases_over_rest(cluster, three_keys):
    """R5.6: Java split semantics: inner empty items are kept, trailing ones dropped; `,` alone (an
    empty array) and `_all,` (one element `_all`) mean everything; `*,*` is two literal keys."""
    keys = three_keys
    k0, k1, k2 = (k["id"] for k in keys)

    def clear(ids: str):
        r = cluster.perform_request("POST", f"/_security/api_key/{ids}/_clear_cache", headers=admin(cluster))
        assert r.status == 200, r.body
        expect_full_success(cluster, r.body)

    clear("*,*")
    assert all(cached(cluster, n, DOC) == {k0, k1, k2} for n in names(cluster))
    clear(f"{k0},,{k1},")
    assert all(cached(cluster, n, DOC) == {k2} for n in names(cluster))
    warm(cluster, keys)
    clear("_all,")
    assert all(not cached(cluster, n, DOC) and not cached(cluster, n, AUTH) for n in names(cluster))
    warm(cluster, keys)
    clear(",")
    assert all(not cached(cluster, n, AUTH) for n in names(cluster))
    warm(cluster, keys)
    clear(f"{k1}%2C{k2}")  # an encoded comma is decoded before the split
    assert all(cached(cluster, n, AUTH) == {k0} for n in names(cluster))


def test_clear_response_shape_single_node():
    c = escache.Cluster(nodes=1, cluster_name="solo", seed=3)
    es = c.client()
    resp = es.security.clear_api_key_cache(ids="*")
    node = c.nodes[0]
    assert resp.body == {
        "_nodes": {"total": 1, "successful": 1, "failed": 0},
        "cluster_name": "solo",
        "nodes": {node.id: {"name": "node-0"}},
    }


def test_clear_with_partitioned_node_reports_it_and_leaves_its_caches(cluster, es, three_keys):
    n0, n1, n2 = cluster.nodes
    n1.partitioned = True
    resp = es.security.clear_api_key_cache(ids="*")  # coordinated by node-0
    assert resp.meta.status == 200
    body = resp.body
    assert body["_nodes"]["total"] == 3
    assert body["_nodes"]["successful"] == 2
    assert body["_nodes"]["failed"] == 1
    (failure,) = body["_nodes"]["failures"]
    assert failure["node_id"] == n1.id
    assert failure["type"] == "failed_node_exception"
    assert failure["reason"] == f"Failed node [{n1.id}]"
    assert failure["caused_by"]["type"] == "node_not_connected_exception"
    assert "node-1" in failure["caused_by"]["reason"]
    assert body["cluster_name"] == "prod-east"
    assert body["nodes"] == {n0.id: {"name": "node-0"}, n2.id: {"name": "node-2"}}
    # The unreachable node kept everything; the others are empty.
    ids = {k["id"] for k in three_keys}
    assert cached(cluster, "node-1", AUTH) == ids and cached(cluster, "node-1", DOC) == ids
    for node in ("node-0", "node-2"):
        assert not cached(cluster, node, AUTH) and not cached(cluster, node, DOC)
    # Healing does not replay a missed broadcast.
    n1.partitioned = False
    assert cached(cluster, "node-1", DOC) == ids
    assert es.security.clear_api_key_cache(ids="*").body["_nodes"]["failed"] == 0
    assert not cached(cluster, "node-1", DOC) and not cached(cluster, "node-1", AUTH)


def test_clear_coordinated_by_partitioned_node_reaches_only_itself(cluster, three_keys):
    n0, n1, n2 = cluster.nodes
    n1.partitioned = True
    body = cluster.client(node="node-1").security.clear_api_key_cache(ids="*").body
    assert body["_nodes"] == {
        "total": 3,
        "successful": 1,
        "failed": 2,
        "failures": body["_nodes"]["failures"],
    }
    assert [f["node_id"] for f in body["_nodes"]["failures"]] == [n0.id, n2.id]
    assert body["nodes"] == {n1.id: {"name": "node-1"}}
    assert not cached(cluster, "node-1", AUTH)
    assert len(cached(cluster, "node-0", AUTH)) == 3 and len(cached(cluster, "node-2", AUTH)) == 3


def test_stopped_node_is_not_counted_in_clear(cluster, es, three_keys):
    cluster.node("node-2").stop()
    body = es.security.clear_api_key_cache(ids="*").body
    assert body["_nodes"] == {"total": 2, "successful": 2, "failed": 0}
    assert set(body["nodes"]) == {cluster.node("node-0").id, cluster.node("node-1").id}


# ---- 2. who may clear (R5.7) ------------------------------------------------------------------------


def test_clear_without_credentials_is_401(cluster, three_keys):
    anonymous = make_client(cluster, None, None)
    before = snapshot(cluster)
    with pytest.raises(elasticsearch.AuthenticationException) as exc:
        anonymous.security.clear_api_key_cache(ids="*")
    e = exc.value
    assert e.meta.status == 401
    err = e.body["error"]
    assert err["type"] == "security_exception"
    assert err["reason"] == "missing authentication credentials for REST request [/_security/api_key/*/_clear_cache]"
    assert err["root_cause"][0]["reason"] == err["reason"]
    assert err["header"]["WWW-Authenticate"] == CHALLENGES
    header = e.meta.headers["WWW-Authenticate"]
    for challenge in CHALLENGES:
        assert challenge in header
    assert e.body["status"] == 401
    assert snapshot(cluster) == before
    assert not events_of(cluster, "clear_cache")


def _user_with_privilege(c, es, privilege: str) -> tuple[str, str]:
    role, user = f"role_{privilege}", f"user_{privilege}"
    es.security.put_role(name=role, cluster=[privilege])
    es.security.put_user(username=user, password="s3cret-pass", roles=[role])
    return user, role


@pytest.mark.parametrize("privilege", ["manage_api_key", "manage", "manage_own_api_key"])
def test_clear_is_forbidden_without_manage_security(cluster, es, three_keys, privilege):
    user, role = _user_with_privilege(cluster, es, privilege)
    before = snapshot(cluster)
    with pytest.raises(elasticsearch.AuthorizationException) as exc:
        cluster.client(basic_auth=(user, "s3cret-pass")).security.clear_api_key_cache(ids="*")
    assert exc.value.meta.status == 403
    err = exc.value.body["error"]
    assert err["type"] == "security_exception"
    assert err["reason"] == (
        f"action [{CLEAR_ACTION}] is unauthorized for user [{user}] with effective roles [{role}], "
        "this action is granted by the cluster privileges [manage_security,all]"
    )
    assert snapshot(cluster) == before
    assert not events_of(cluster, "clear_cache")


@pytest.mark.parametrize("privilege", ["manage_security", "all"])
def test_clear_is_allowed_with_manage_security_or_all(cluster, es, three_keys, privilege):
    user, _ = _user_with_privilege(cluster, es, privilege)
    resp = cluster.client(basic_auth=(user, "s3cret-pass")).security.clear_api_key_cache(ids="*")
    assert resp.meta.status == 200
    expect_full_success(cluster, resp.body)
    assert all(not cached(cluster, n, AUTH) for n in names(cluster))


def test_manage_api_key_user_may_still_invalidate(cluster, es):
    """Invalidation broadcasts its clear as the internal security origin: no cache privilege needed."""
    user, _ = _user_with_privilege(cluster, es, "manage_api_key")
    k = es.security.create_api_key(name="k")
    warm(cluster, [k])
    resp = cluster.client(basic_auth=(user, "s3cret-pass")).security.invalidate_api_key(ids=[k["id"]])
    assert resp["invalidated_api_keys"] == [k["id"]]
    assert all(k["id"] not in cached(cluster, n, DOC) for n in names(cluster))


# ---- 3. the README session: which node still accepts a revoked key, and for how long ---------------


@pytest.mark.parametrize("doc_ttl, ttl_seconds", [(None, 300), ("1m", 60), ("15m", 900)])
def test_partitioned_node_accepts_invalidated_key_until_doc_cache_expires(doc_ttl, ttl_seconds):
    settings_ = {"xpack.security.authc.api_key.doc_cache.ttl": doc_ttl} if doc_ttl else {}
    c = escache.Cluster(nodes=3, seed=11, settings=settings_)
    es = c.client(node="node-0")
    k = es.security.create_api_key(name="ci-deploy")
    c.advance("10s")
    assert authenticate(c, k, "node-1").status == 200
    assert authenticate(c, k, "node-2").status == 200  # node-2's doc cache is written now
    written = c.now
    c.advance("20s")
    c.node("node-2").partitioned = True
    resp = es.security.invalidate_api_key(ids=[k["id"]])
    assert resp["invalidated_api_keys"] == [k["id"]]
    assert resp["previously_invalidated_api_keys"] == []
    assert resp["error_count"] == 0
    invalidated_msg = f"API key: api key [{k['id']}] has been invalidated"
    for node in ("node-0", "node-1"):
        assert unsuccessful_reason(authenticate(c, k, node)) == invalidated_msg
        with pytest.raises(elasticsearch.AuthenticationException) as exc:
            c.client(api_key=k["encoded"], node=node).security.authenticate()
        assert exc.value.body["error"]["additional_unsuccessful_credentials"] == invalidated_msg
    # node-2 never received the broadcast: its cached document still says "valid".
    assert authenticate(c, k, "node-2").status == 200
    assert c.client(api_key=k["encoded"], node="node-2").security.authenticate()["api_key"]["id"] == k["id"]
    # A hit in between does not extend the entry: the doc cache expires after write.
    c.advance(ttl_seconds / 2 - (c.now - written))
    assert authenticate(c, k, "node-2").status == 200
    c.advance(written + ttl_seconds - c.now)  # exactly the TTL since the write: still cached
    assert c.now == pytest.approx(written + ttl_seconds)
    assert authenticate(c, k, "node-2").status == 200
    c.advance("1s")  # strictly more than the TTL: the document is fetched again
    assert unsuccessful_reason(authenticate(c, k, "node-2")) == invalidated_msg
    assert k["id"] not in cached(c, "node-2", AUTH)  # R3.3: an invalidated key drops its auth entry
    # ...and it stays rejected.
    c.advance("1h")
    assert unsuccessful_reason(authenticate(c, k, "node-2")) == invalidated_msg


def test_heal_then_clear_stops_a_stale_node_at_once():
    c = escache.Cluster(nodes=3, seed=12)
    es = c.client()
    k = es.security.create_api_key(name="ci-deploy")
    warm(c, [k], ["node-1", "node-2"])
    c.node("node-2").partitioned = True
    assert es.security.invalidate_api_key(ids=[k["id"]])["invalidated_api_keys"] == [k["id"]]
    assert authenticate(c, k, "node-2").status == 200
    c.advance("1m")
    c.node("node-2").partitioned = False
    assert authenticate(c, k, "node-2").status == 200  # healing alone replays nothing
    r = c.perform_request("POST", f"/_security/api_key/{k['id']}/_clear_cache", headers=admin(c))
    assert r.status == 200
    expect_full_success(c, r.body)
    reason = unsuccessful_reason(authenticate(c, k, "node-2"))
    assert reason == f"API key: api key [{k['id']}] has been invalidated"


def test_invalidation_broadcast_clears_only_the_invalidated_key(cluster, es, three_keys):
    k0, k1, k2 = three_keys
    before_rd = {n: len(cluster.node(n).caches[RD]) for n in names(cluster)}
    es.security.invalidate_api_key(ids=[k1["id"]])
    for n in names(cluster):
        assert cached(cluster, n, AUTH) == {k0["id"], k2["id"]}
        assert cached(cluster, n, DOC) == {k0["id"], k2["id"]}
        assert len(cluster.node(n).caches[RD]) == before_rd[n]
    clear_events = events_of(cluster, "clear_cache")
    assert [(e["node"], e["key"], e["detail"]) for e in clear_events] == [
        (n, "api_key", k1["id"]) for n in names(cluster)
    ]
    # Invalidating it again finds nothing (already-invalidated keys are excluded) and broadcasts nothing.
    again = es.security.invalidate_api_key(ids=[k1["id"]])
    assert again["invalidated_api_keys"] == [] and again["error_count"] == 0
    assert len(events_of(cluster, "clear_cache")) == len(clear_events)


# ---- 4. per-node caches (AK-R2, R3.8, AK-S1, S5-S7) ----------------------------------------------------


def test_create_prewarms_only_the_creating_nodes_auth_cache(cluster):
    k = cluster.client(node="node-1").security.create_api_key(name="k")
    assert cached(cluster, "node-1", AUTH) == {k["id"]}
    assert not cached(cluster, "node-0", AUTH) and not cached(cluster, "node-2", AUTH)
    for n in names(cluster):
        assert not cached(cluster, n, DOC) and len(cluster.node(n).caches[RD]) == 0
    # The pre-warmed entry saves the creating node a hash verification; the others must hash once.
    warm(cluster, [k])
    assert events_of(cluster, "hash_verification", "node-1") == []
    assert len(events_of(cluster, "hash_verification", "node-0")) == 1
    assert len(events_of(cluster, "hash_verification", "node-2")) == 1


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


# ---- 7. invalidate, update, get (R4.2, R4.3, R3.5, S14, S15) ------------------------------------------


def test_get_api_key_by_id_and_unknown_id(cluster, es):
    k = es.security.create_api_key(name="reporting", metadata={"team": "ops"})
    got = es.security.get_api_key(id=k["id"])["api_keys"]
    assert len(got) == 1
    info = got[0]
    assert info["id"] == k["id"] and info["name"] == "reporting"
    assert info["invalidated"] is False
    assert info["username"] == "elastic"
    assert info["metadata"] == {"team": "ops"}
    assert "api_key" not in info and "encoded" not in info
    r = cluster.perform_request("GET", "/_security/api_key?id=does-not-exist", headers=admin(cluster))
    assert r.status == 404
    assert r.body == {"api_keys": []}
    with pytest.raises(elasticsearch.NotFoundError):
        es.security.get_api_key(id="does-not-exist")
    es.security.invalidate_api_key(ids=[k["id"]])
    assert es.security.get_api_key(id=k["id"])["api_keys"][0]["invalidated"] is True


def test_update_clears_that_keys_doc_cache_on_every_node(cluster, es, three_keys):
    k0, k1, k2 = three_keys
    before = snapshot(cluster)
    resp = es.security.update_api_key(id=k1["id"], metadata={"env": "prod"})
    assert resp.body == {"updated": True}
    for n in names(cluster):
        assert cached(cluster, n, DOC) == {k0["id"], k2["id"]}
        assert cached(cluster, n, AUTH) == before[n][0]  # the secret did not change
        assert len(cluster.node(n).caches[RD]) == before[n][2]
    assert es.security.get_api_key(id=k1["id"])["api_keys"][0]["metadata"] == {"env": "prod"}
    warm(cluster, three_keys)
    before = snapshot(cluster)
    clears = len(events_of(cluster, "clear_cache"))
    again = es.security.update_api_key(id=k1["id"], metadata={"env": "prod"})
    assert again.body == {"updated": False}
    assert snapshot(cluster) == before
    assert len(events_of(cluster, "clear_cache")) == clears


def test_update_unknown_key_is_404(cluster, es):
    with pytest.raises(elasticsearch.NotFoundError) as exc:
        es.security.update_api_key(id="nope", metadata={"a": 1})
    assert exc.value.body["error"]["reason"] == "no API key owned by requesting user found for ID [nope]"


def test_expired_key_is_refused_even_from_cache(cluster, es):
    k = es.security.create_api_key(name="short", expiration="1s")
    assert k["expiration"] > 0
    c = cluster
    c.advance("500ms")
    warm(c, [k])  # doc cached on every node before expiry
    c.advance("499ms")
    assert authenticate(c, k, "node-1").status == 200
    c.advance("2s")
    for n in names(c):
        assert unsuccessful_reason(authenticate(c, k, n)) == "API key: api key is expired"
    with pytest.raises(elasticsearch.AuthenticationException) as exc:
        c.client(api_key=k["encoded"]).security.authenticate()
    assert exc.value.body["error"]["additional_unsuccessful_credentials"] == "API key: api key is expired"


def test_unknown_key_id(cluster, es):
    es.security.create_api_key(name="k")
    r = cluster.perform_request(
        "GET", "/_security/_authenticate", headers={"Authorization": "ApiKey " + encoded("ghost", "s" * 22)}
    )
    assert unsuccessful_reason(r) == "API key: unable to find apikey with id ghost"
    assert r.body["error"]["header"]["WWW-Authenticate"] == CHALLENGES


# ---- 8. errors, and that they change nothing ---------------------------------------------------------


@pytest.mark.parametrize(
    "settings_, message",
    [
        (
            {"xpack.security.authc.api_key.doc_cache.ttl": "20m"},
            "failed to parse value [20m] for setting [xpack.security.authc.api_key.doc_cache.ttl], must be <= [15m]",
        ),
        (
            {"xpack.security.authc.api_key.doc_cache.ttl": "-1"},
            "failed to parse value [-1] for setting [xpack.security.authc.api_key.doc_cache.ttl], must be >= [0m]",
        ),
        (
            {"xpack.security.authc.api_key.cache.ttl": "10"},
            "failed to parse setting [xpack.security.authc.api_key.cache.ttl] with value [10] as a time value: "
            "unit is missing or unrecognized",
        ),
        (
            {"xpack.security.authc.api_key.cache.max_keys": "many"},
            "Failed to parse value [many] for setting [xpack.security.authc.api_key.cache.max_keys]",
        ),
        ({"xpack.security.authc.api_key.cache.max_keys": -1}, "maximumWeight < 0"),
        (
            {"xpack.security.authc.api_key.enabled": "yes"},
            "Failed to parse value [yes] as only [true] or [false] are allowed.",
        ),
        (
            {"cluster.name": "x"},
            "unknown setting [cluster.name] please check that any required plugins are installed, or check the "
            "breaking changes documentation for removed settings",
        ),
        ({"node.processor": 2}, "unknown setting [node.processor] did you mean [node.processors]?"),
    ],
)
def test_settings_errors(settings_, message):
    with pytest.raises(escache.IllegalArgumentError) as exc:
        escache.Cluster(nodes=2, settings=settings_)
    assert str(exc.value) == message
    assert isinstance(exc.value, ValueError) and isinstance(exc.value, escache.EscacheError)


def test_unknown_setting_suggests_close_names():
    with pytest.raises(ValueError) as exc:
        escache.Cluster(settings={"xpack.security.authc.api_key.cache.tll": "1h"})
    assert str(exc.value).startswith(
        "unknown setting [xpack.security.authc.api_key.cache.tll] did you mean any of "
        "[xpack.security.authc.api_key.cache.ttl, "
    )


def test_unknown_node_and_stopped_node(cluster, es, three_keys):
    before_events = len(cluster.events)
    with pytest.raises(escache.UnknownNodeError) as exc:
        cluster.node("node-9")
    assert isinstance(exc.value, KeyError)
    assert str(exc.value) == "unknown node [node-9]"
    with pytest.raises(KeyError):
        cluster.perform_request("GET", "/", headers=admin(cluster), node="node-9")
    cluster.node("node-2").stop()
    before_events = len(cluster.events)
    with pytest.raises(escache.NodeUnavailableError):
        authenticate(cluster, three_keys[0], "node-2")
    with pytest.raises(escache.NodeUnavailableError):
        cluster.client(node="node-2").security.clear_api_key_cache(ids="*")
    assert len(cluster.events) == before_events
    assert cluster.node("node-2").running is False
    assert all_full(cluster, three_keys, ["node-0", "node-1"])


def test_unknown_route_and_wrong_method(cluster, three_keys):
    before = snapshot(cluster)
    r = cluster.perform_request("GET", "/_security/nope", headers=admin(cluster))
    assert r.status == 400
    assert r.body == {"error": "no handler found for uri [/_security/nope] and method [GET]"}
    r = cluster.perform_request("GET", "/_security/api_key/*/_clear_cache", headers=admin(cluster))
    assert r.status == 405
    assert r.body == {
        "error": "Incorrect HTTP method for uri [/_security/api_key/*/_clear_cache] and method [GET], allowed: [POST]",
        "status": 405,
    }
    assert r.headers["Allow"] == "POST"
    r = cluster.perform_request("POST", "/_security/api_key/*/_clear_cache?foo=bar", headers=admin(cluster))
    assert r.status == 400
    assert r.body["error"]["reason"] == (
        "request [/_security/api_key/*/_clear_cache] contains unrecognized parameter: [foo]"
    )
    assert snapshot(cluster) == before
    assert r.headers["X-Elastic-Product"] == "Elasticsearch"
    assert not events_of(cluster, "clear_cache")


def test_clear_with_a_body_is_refused_and_clears_nothing(cluster, three_keys):
    """BaseRestHandler refuses a body the handler does not read, before the action runs."""
    before = snapshot(cluster)
    r = cluster.perform_request(
        "POST", "/_security/api_key/*/_clear_cache", headers=admin(cluster), body={"ids": ["x"]}
    )
    assert r.status == 400
    assert r.body["error"]["type"] == "illegal_argument_exception"
    assert r.body["error"]["reason"] == (
        "request [POST /_security/api_key/*/_clear_cache] does not support having a body"
    )
    assert snapshot(cluster) == before
    assert not events_of(cluster, "clear_cache")
    # An empty body is no body.
    r = cluster.perform_request("POST", "/_security/api_key/*/_clear_cache", headers=admin(cluster), body="")
    assert r.status == 200
    assert all_empty(cluster)


def test_malformed_json_bodies_change_nothing(cluster, es, three_keys):
    before = snapshot(cluster)
    n_keys = len(es.security.get_api_key()["api_keys"])
    r = cluster.perform_request("POST", "/_security/api_key", headers=admin(cluster), body='{"name": "k",}')
    assert r.status == 400
    assert r.body["error"]["type"] == "x_content_parse_exception"
    assert r.body["error"]["reason"].startswith("[1:")
    assert r.body["status"] == 400
    r = cluster.perform_request("DELETE", "/_security/api_key", headers=admin(cluster), body="{ids: [1]}")
    assert r.status == 400 and r.body["error"]["type"] == "x_content_parse_exception"
    r = cluster.perform_request(
        "DELETE", "/_security/api_key", headers=admin(cluster), body={"ids": [three_keys[0]["id"]], "bogus": 1}
    )
    assert r.status == 400
    assert r.body["error"]["reason"].endswith("[invalidate_api_key] unknown field [bogus]")
    with pytest.raises(elasticsearch.BadRequestError):
        es.security.invalidate_api_key(ids=[])
    assert len(es.security.get_api_key()["api_keys"]) == n_keys
    assert snapshot(cluster) == before
    warm(cluster, three_keys)  # every key still valid everywhere
    assert not events_of(cluster, "clear_cache")


# ---- 9. secrets never leak -----------------------------------------------------------------------------


def _leaks(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s in text]


def test_secrets_never_appear_in_reprs_events_errors_or_traces(tmp_path):
    c = escache.Cluster(nodes=3, seed=21, password="hunter2-pw")
    es = c.client()
    keys = [es.security.create_api_key(name=f"k{i}", expiration="1h") for i in range(3)]
    keys.append(c.client(node="node-2").security.create_api_key(name="k3"))
    secrets = [k["api_key"] for k in keys] + [k["encoded"] for k in keys]
    wrong = "Wr0ngSecretValue123456"
    secrets += [wrong, encoded(keys[0]["id"], wrong), "hunter2-pw", "s3cret-pass"]
    bodies: list[bytes] = []
    es.security.put_role(name="ops", cluster=["manage_api_key"])
    es.security.put_user(username="opsuser", password="s3cret-pass", roles=["ops"])
    warm(c, keys)
    for node in names(c):
        bodies.append(authenticate(c, keys[0], node, secret=wrong).raw)
        bodies.append(authenticate(c, keys[1], node, secret=keys[0]["api_key"]).raw)
    c.node("node-1").partitioned = True
    es.security.invalidate_api_key(ids=[keys[2]["id"]])
    for node in names(c):
        bodies.append(authenticate(c, keys[2], node).raw)
    es.security.clear_api_key_cache(ids=keys[3]["id"])
    c.node("node-0").crypto_pool_mode = "saturated"
    rejected = authenticate(c, keys[3], "node-0")
    assert rejected.status == 429
    bodies.append(rejected.raw)
    c.advance("2h")
    bodies.append(authenticate(c, keys[0], "node-2").raw)  # expired
    bodies.append(
        c.perform_request(
            "GET", "/_security/_authenticate", headers={"Authorization": "ApiKey " + keys[0]["encoded"] + "-"}
        ).raw
    )
    ops = {"Authorization": c.basic_auth_header("opsuser", "s3cret-pass")}
    forbidden = c.perform_request("POST", "/_security/api_key/*/_clear_cache", headers=ops)
    assert forbidden.status == 403
    bodies.append(forbidden.raw)
    bad_password = c.perform_request(
        "GET", "/_security/_authenticate", headers={"Authorization": c.basic_auth_header("elastic", "wrong-pw")}
    )
    assert bad_password.status == 401
    bodies.append(bad_password.raw)
    bodies.append(c.perform_request("GET", "/_security/api_key", headers=admin(c)).raw)
    assert all(b for b in bodies)
    for raw in bodies:
        assert _leaks(raw.decode(), secrets) == []
    reprs = [repr(c), repr(c.security_index), repr(c.events)]
    for n in c.nodes:
        reprs.append(repr(n))
        reprs.extend(repr(n.caches[name]) for name in n.caches)
    assert _leaks("\n".join(reprs), secrets) == []
    events = list(c.events)
    assert len(events) > 50
    assert _leaks(json.dumps(events), secrets) == []
    assert _leaks(json.dumps(c.events.rows()), secrets) == []
    path = tmp_path / "trace.jsonl"
    assert c.events.to_jsonl(path) == len(events)
    text = path.read_text()
    assert len(text.splitlines()) == len(events)
    # Each line is the event plus the trace schema version.
    assert json.loads(text.splitlines()[0]) == {"v": escache.simulation.TRACE_SCHEMA_VERSION, **events[0]}
    assert _leaks(text, secrets) == []
    # The key ids, which are not secret, are in the trace: the check above is meaningful.
    assert all(k["id"] in text for k in keys)


# ---- 10. determinism -------------------------------------------------------------------------------------


def _scripted_session(seed: int) -> tuple[list, list]:
    c = escache.Cluster(nodes=3, seed=seed)
    out = []
    es = c.client()
    for node in names(c):
        k = c.perform_request("POST", "/_security/api_key", headers=admin(c), body={"name": f"key-{node}"}, node=node)
        out.append((k.status, k.body))
    keys = [b for _, b in out]
    for key in keys:
        for node in names(c):
            r = authenticate(c, key, node)
            out.append((r.status, r.body))
        r = authenticate(c, key, "node-1", secret="not-the-secret-at-all!")
        out.append((r.status, r.body))
    c.advance("90s")
    c.node("node-2").partitioned = True
    out.append(dict(es.security.invalidate_api_key(ids=[keys[0]["id"]])))
    out.append(dict(es.security.clear_api_key_cache(ids=keys[1]["id"])))
    c.security_index.health = "red"
    c.security_index.health = "green"
    c.node("node-2").partitioned = False
    c.advance("6m")
    for node in names(c):
        out.append(authenticate(c, keys[0], node).body)
    out.append(dict(es.security.get_api_key()))
    return out, list(c.events)


def test_same_seed_same_responses_and_trace():
    a, ev_a = _scripted_session(42)
    b, ev_b = _scripted_session(42)
    assert a == b
    assert ev_a == ev_b
    assert len(ev_a) > 100
    other, ev_other = _scripted_session(43)
    ids_a = {r[1]["id"] for r in a[:3]}
    ids_o = {r[1]["id"] for r in other[:3]}
    assert ids_a.isdisjoint(ids_o)
    assert {r[1]["api_key"] for r in a[:3]}.isdisjoint({r[1]["api_key"] for r in other[:3]})
    assert ev_a != ev_other


def test_same_seed_same_node_ids_and_jsonl(tmp_path):
    c1, c2 = escache.Cluster(nodes=3, seed=9), escache.Cluster(nodes=3, seed=9)
    assert [n.id for n in c1.nodes] == [n.id for n in c2.nodes]
    assert [n.id for n in escache.Cluster(nodes=3, seed=10).nodes] != [n.id for n in c1.nodes]
    for c in (c1, c2):
        k = c.client().security.create_api_key(name="k")
        warm(c, [k])
    c1.events.to_jsonl(tmp_path / "a.jsonl")
    c2.events.to_jsonl(tmp_path / "b.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


# ---- 11. a stateful property test ------------------------------------------------------------------------

SECRET_ALPHABET = string.ascii_letters + string.digits + "-_"
NODE_NAMES = ["node-0", "node-1", "node-2"]
# A wrong secret: none (the right one), the right one with one character changed, or an unrelated one
# (prefixed so that it cannot occur by chance in a trace, e.g. as digits of a timestamp).
WRONG_SECRETS = (
    st.none()
    | st.tuples(st.integers(0, 21), st.sampled_from(SECRET_ALPHABET))
    | st.text(SECRET_ALPHABET, min_size=20, max_size=20).map(lambda s: "Wx" + s)
)


def wrong_secret(real: str, spec) -> str | None:
    if spec is None or isinstance(spec, str):
        return spec
    i, ch = spec
    i %= len(real)
    if real[i] == ch:
        ch = "A" if ch != "A" else "B"
    return real[:i] + ch + real[i + 1 :]


class ApiKeyCluster(RuleBasedStateMachine):
    """Random creates, authentications, invalidations (optionally with a node partitioned), partitions,
    heals, restarts, time advances and clears against a 3-node cluster.

    The model tracks, per (node, key), whether the node *may* still accept an invalidated key: only a node
    that did not receive the invalidation broadcast, until it processes a clear covering that key, is
    restarted, or strictly more than the doc-cache TTL has passed since the invalidation (any doc it cached
    was written before it)."""

    keys = Bundle("keys")

    @initialize(target=keys, seed=st.integers(0, 2**32), node=st.sampled_from(NODE_NAMES))
    def setup(self, seed, node):
        self.c = escache.Cluster(nodes=3, seed=seed)
        self.secrets: list[str] = ["changeme"]
        self.info: dict[str, dict] = {}  # id -> {"key", "invalidated"}
        self.stale: dict[tuple[str, str], float] = {}  # (node, id) -> last instant it may accept
        self.checked_events = 0
        return self.create(node)

    # -- helpers
    def running(self) -> list[str]:
        return [n.name for n in self.c.nodes if n.running]

    def reachable_from(self, coordinator: str) -> list[str]:
        coord = self.c.node(coordinator)
        return [
            n.name
            for n in self.c.nodes
            if n.running and (n.name == coordinator or (not n.partitioned and not coord.partitioned))
        ]

    def assert_no_leak(self, text: str) -> None:
        assert _leaks(text, self.secrets) == []

    # -- rules
    @rule(target=keys, node=st.sampled_from(NODE_NAMES))
    def create(self, node):
        if not self.c.node(node).running:
            node = self.running()[0]
        k = dict(self.c.client(node=node).security.create_api_key(name="k"))
        self.secrets += [k["api_key"], k["encoded"]]
        self.info[k["id"]] = {"key": k, "invalidated": None}
        assert k["id"] in self.c.node(node).caches[AUTH]
        return k["id"]

    @rule(key_id=keys)
    def authenticate_everywhere(self, key_id):
        for node in self.running():
            self.authenticate(key_id, node, None)

    @rule(key_id=keys, node=st.sampled_from(NODE_NAMES), wrong_spec=WRONG_SECRETS)
    def authenticate(self, key_id, node, wrong_spec):
        if not self.c.node(node).running:
            with pytest.raises(escache.NodeUnavailableError):
                authenticate(self.c, self.info[key_id]["key"], node)
            return
        key = self.info[key_id]["key"]
        wrong = wrong_secret(key["api_key"], wrong_spec)
        assert wrong != key["api_key"]
        if wrong is not None:
            self.secrets += [wrong, encoded(key_id, wrong)]
        r = authenticate(self.c, key, node, secret=wrong)
        self.assert_no_leak(r.raw.decode())
        if wrong is not None:
            event("wrong secret")
            # (b) a wrong secret is never accepted, whatever is cached.
            assert r.status == 401, (node, r.body)
            return
        if self.info[key_id]["invalidated"] is None:
            assert r.status == 200, (node, r.body)
            return
        deadline = self.stale.get((node, key_id))
        may_accept = deadline is not None and self.c.now <= deadline + 1e-9
        # (a) only a node that missed the broadcast, within the doc-cache TTL, may accept.
        if not may_accept:
            assert r.status == 401, (node, key_id, r.body)
            assert r.body["error"]["additional_unsuccessful_credentials"] == (
                f"API key: api key [{key_id}] has been invalidated"
            )
        else:
            assert r.status in (200, 401), r.body
            event(f"stale node answered {r.status}")
            if r.status == 401:
                # Once it has read the invalidated document, it never accepts the key again.
                del self.stale[(node, key_id)]

    @rule(
        data=st.data(),
        coordinator=st.sampled_from(NODE_NAMES),
        partition=st.none() | st.sampled_from(NODE_NAMES),
        warm_first=st.booleans(),
    )
    def invalidate(self, data, coordinator, partition, warm_first):
        # Mostly a key that is still valid (re-invalidating one is a no-op, checked too).
        valid = sorted(k for k, v in self.info.items() if v["invalidated"] is None)
        if valid and data.draw(st.integers(0, 4), label="fresh") > 0:
            key_id = data.draw(st.sampled_from(valid), label="key")
        else:
            key_id = data.draw(st.sampled_from(sorted(self.info)), label="key")
        if warm_first:
            self.authenticate_everywhere(key_id)
        if partition is not None:
            self.c.node(partition).partitioned = True
        if not self.c.node(coordinator).running:
            coordinator = self.running()[0]
        resp = self.c.client(node=coordinator).security.invalidate_api_key(ids=[key_id])
        if self.info[key_id]["invalidated"] is not None:
            assert resp["invalidated_api_keys"] == []
            assert resp["previously_invalidated_api_keys"] == []
            return
        assert resp["invalidated_api_keys"] == [key_id]
        self.info[key_id]["invalidated"] = self.c.now
        reached = set(self.reachable_from(coordinator))
        for node in self.running():
            if node in reached:
                assert key_id not in self.c.node(node).caches[DOC]
                assert key_id not in self.c.node(node).caches[AUTH]
            else:
                self.stale[(node, key_id)] = self.c.now + DOC_CACHE_TTL
                if warm_first:
                    # It cached the valid document a moment ago and missed the broadcast (R3.7).
                    event("stale node checked right after invalidation")
                    assert authenticate(self.c, self.info[key_id]["key"], node).status == 200

    @rule(node=st.sampled_from(NODE_NAMES), value=st.booleans())
    def partition(self, node, value):
        self.c.node(node).partitioned = value

    @rule(node=st.sampled_from(NODE_NAMES))
    def restart(self, node):
        n = self.c.node(node)
        if n.running and len(self.running()) > 1:
            n.stop()
        elif not n.running:
            n.start()
            for k in [k for k in self.stale if k[0] == node]:
                del self.stale[k]
            assert len(n.caches[AUTH]) == 0 and len(n.caches[DOC]) == 0

    @rule(seconds=st.sampled_from([0.001, 1, 30, 60, 299, 300, 301, 600]))
    def advance(self, seconds):
        self.c.advance(seconds)

    @rule(coordinator=st.sampled_from(NODE_NAMES), data=st.data())
    def clear(self, coordinator, data):
        if not self.c.node(coordinator).running:
            coordinator = self.running()[0]
        known = sorted(self.info)
        if known and data.draw(st.booleans(), label="by_ids"):
            ids = data.draw(st.lists(st.sampled_from(known), min_size=1, max_size=3, unique=True), label="ids")
        else:
            ids = data.draw(st.sampled_from(["*", "_all"]), label="all")
        resp = self.c.client(node=coordinator).security.clear_api_key_cache(ids=ids)
        reached = self.reachable_from(coordinator)
        body = resp.body
        assert body["_nodes"]["total"] == len(self.running())
        assert body["_nodes"]["successful"] == len(reached)
        assert body["_nodes"]["failed"] == len(self.running()) - len(reached)
        assert sorted(v["name"] for v in body["nodes"].values()) == sorted(reached)
        cleared = set(self.info) if isinstance(ids, str) else set(ids)
        for node in reached:
            for key_id in cleared:
                self.stale.pop((node, key_id), None)
                assert key_id not in self.c.node(node).caches[AUTH]
                assert key_id not in self.c.node(node).caches[DOC]

    # -- (c) secrets never leak
    @invariant()
    def no_secret_in_events_or_reprs(self):
        if not hasattr(self, "c"):
            return
        rows = self.c.events.rows(self.checked_events)
        self.checked_events += len(rows)
        self.assert_no_leak(json.dumps(rows))
        reprs = [repr(self.c)] + [repr(n) for n in self.c.nodes]
        reprs += [repr(n.caches[name]) for n in self.c.nodes for name in (AUTH, DOC, RD)]
        self.assert_no_leak("\n".join(reprs))


ApiKeyCluster.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_api_key_cluster_state_machine = ApiKeyCluster.TestCase


# ---- issue 8 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["abcdéx", "abcdé", "Basiéc", "ApiKeé x", "Beareré", "ééééééé"])
def test_issue8_d02_non_ascii_authorization_header_is_a_401_not_a_panic(cluster, header):
    # The report: `é` at bytes 4..6 of the header used to panic (PanicException in Python, a dropped
    # connection over HTTP). No scheme matches: Elasticsearch's "missing authentication credentials".
    r = cluster.perform_request("GET", "/", headers={"Authorization": header})
    assert r.status == 401
    assert r.body["error"]["type"] == "security_exception"
    assert r.body["error"]["reason"] == "missing authentication credentials for REST request [/]"
    assert r.get_all("WWW-Authenticate") == CHALLENGES
    # The cluster goes on serving.
    assert cluster.perform_request("GET", "/_security/_authenticate", headers=admin(cluster)).status == 200


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (base64.b64encode(b"no-colon").decode(), "invalid ApiKey value"),
        (base64.b64encode(b":secret").decode(), "invalid ApiKey value"),
        ("a-b", "Illegal base64 character 2d"),
        ("abcé", "Illegal base64 character -3d"),  # Java prints the signed byte 0xC3
    ],
)
def test_issue8_d12_malformed_api_key_header_is_a_401(cluster, value, message):
    anonymous = make_client(cluster, f"ApiKey {value}", None)
    with pytest.raises(elasticsearch.AuthenticationException) as exc:
        anonymous.security.authenticate()
    e = exc.value
    assert e.meta.status == 401
    err = e.body["error"]
    assert err["type"] == "security_exception"
    assert err["reason"] == GENERIC_401
    assert err["additional_unsuccessful_credentials"] == f"API key: {message}"
    assert err["header"]["WWW-Authenticate"] == CHALLENGES
    # The in-process transport shows the three fields joined, as the urllib3 node does.
    assert e.meta.headers["WWW-Authenticate"] == ", ".join(CHALLENGES)


def test_issue8_d13_one_www_authenticate_field_per_challenge(cluster):
    r = cluster.perform_request("GET", "/_security/_authenticate")
    assert r.status == 401
    fields = [(k, v) for k, v in r.header_fields if k.lower() == "www-authenticate"]
    assert fields == [("WWW-Authenticate", c) for c in CHALLENGES]
    assert r.get_all("www-authenticate") == CHALLENGES
    assert r.headers["WWW-Authenticate"] == ", ".join(CHALLENGES)
    assert r.body["error"]["header"]["WWW-Authenticate"] == CHALLENGES
    # Headers sent once stay single fields.
    assert r.get_all("X-Elastic-Product") == ["Elasticsearch"]
