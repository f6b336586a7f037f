"""The clear API key cache API on a cluster: ids, response shape, partitions, authorization
(AK-R5.3 to AK-R5.7, AK-S9 to AK-S11), and invalidation across nodes (AK-R3.7).

Expected values come from the rules in ``docs/rules.md`` and from Elasticsearch's own tests cited
there, never from escache itself."""

from __future__ import annotations

import cluster_api_keys_helpers
import elasticsearch
import pytest
from cluster_api_keys_helpers import (
    AUTH,
    CHALLENGES,
    CLEAR_ACTION,
    DOC,
    RD,
    authenticate,
    cached,
    events_of,
    expect_full_success,
    names,
    snapshot,
    unsuccessful_reason,
    warm,
)
from conftest import admin

import escache
from escache.client import make_client

# The shared fixtures (pytest finds a fixture by its name in the test's module).
cluster = cluster_api_keys_helpers.cluster
three_keys = cluster_api_keys_helpers.three_keys


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
    # put_role and put_user cleared the roles and realm caches (CA-RL5, CA-UM1); the 403 clears nothing.
    clears = len(events_of(cluster, "clear_cache"))
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
    assert len(events_of(cluster, "clear_cache")) == clears


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
