"""cluster.requests: one typed record per REST request (escache::cluster::requests)."""

from __future__ import annotations

import base64
import dataclasses

import pytest

import escache


def admin(c: escache.Cluster) -> dict[str, str]:
    return {"Authorization": c.basic_auth_header()}


def test_each_request_is_a_typed_record_with_api_params_and_who() -> None:
    c = escache.Cluster(nodes=2, seed=1)
    es = c.client()
    key = es.security.create_api_key(name="ci-deploy")
    c.advance("10s")
    es.security.clear_api_key_cache(ids=key["id"])
    c.client(api_key=key["encoded"], node="node-1").security.authenticate()
    create, clear, auth = c.requests
    assert isinstance(create, escache.RequestRecord)
    assert (create.api, create.method, create.path, create.status) == (
        "security.create_api_key",
        "PUT",
        "/_security/api_key",
        200,
    )
    assert create.params == {"name": "ci-deploy"}
    assert (create.node, create.principal, create.realm, create.time) == ("node-0", "elastic", "reserved", 0.0)
    assert clear.params == {"ids": key["id"]} and clear.time == 10.0
    assert (auth.api, auth.node, auth.principal, auth.realm) == (
        "security.authenticate",
        "node-1",
        "elastic",
        "_es_api_key",
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        create.status = 500  # type: ignore[misc]


def test_path_parts_query_params_and_body_ids_are_params() -> None:
    c = escache.Cluster(nodes=1)
    c.perform_request("POST", "/_security/service/elastic/fleet-server/credential/token/t1?refresh=true", admin(c))
    c.perform_request("DELETE", "/_security/api_key", admin(c), {"ids": ["a", "b"], "owner": False})
    token, invalidate = c.requests
    assert token.api == "security.create_service_token"
    assert token.params == {"namespace": "elastic", "service": "fleet-server", "name": "t1", "refresh": "true"}
    assert invalidate.params == {"ids": ["a", "b"], "owner": "false"}
    assert invalidate.param_list("ids") == ["a", "b"]


def test_unrouted_and_unauthenticated_requests_are_recorded_too() -> None:
    c = escache.Cluster(nodes=1)
    c.perform_request("GET", "/_no/such/api", admin(c))
    c.perform_request("DELETE", "/_security/_authenticate", admin(c))
    c.perform_request("GET", "/_security/_authenticate", {"Authorization": "Basic bm9ib2R5Ondyb25n"})
    no_handler, not_allowed, refused = c.requests
    assert (no_handler.api, no_handler.status, no_handler.principal) == (None, 400, None)
    assert (not_allowed.api, not_allowed.status) == (None, 405)
    assert (refused.api, refused.status, refused.principal, refused.realm) == ("security.authenticate", 401, None, None)


def test_cleared_says_which_keys_of_which_caches_on_which_nodes() -> None:
    c = escache.Cluster(nodes=3)
    c.node("node-2").stop()
    c.node("node-1").partitioned = True
    es = c.client()
    key = es.security.create_api_key(name="k")
    es.security.clear_api_key_cache(ids=key["id"])
    es.security.clear_api_key_cache(ids="*")
    by_id, everything = c.requests[1], c.requests[2]
    # node-1 is unreachable (a failure in the response) and node-2 stopped: only node-0 cleared.
    assert by_id.cleared == (
        escache.Cleared("node-0", "api_key_doc", (key["id"],)),
        escache.Cleared("node-0", "api_key_auth", (key["id"],)),
    )
    assert {(x.cache, x.keys) for x in everything.cleared} == {
        ("api_key_doc", None),
        ("api_key_role_descriptors", None),
        ("api_key_auth", None),
    }
    assert c.requests[0].cleared == ()


def test_invalidation_records_the_clears_it_broadcasts() -> None:
    c = escache.Cluster(nodes=2)
    es = c.client()
    key = es.security.create_api_key(name="k")
    es.security.invalidate_api_key(ids=[key["id"]])
    inv = c.requests[-1]
    assert {x.node for x in inv.cleared} == {"node-0", "node-1"}
    assert all(x.keys == (key["id"],) for x in inv.cleared)


def test_node_requests_are_that_nodes_only() -> None:
    c = escache.Cluster(nodes=2)
    c.perform_request("GET", "/", admin(c), node="node-1")
    c.perform_request("GET", "/", admin(c), node="node-0")
    c.perform_request("GET", "/", admin(c), node="node-1")
    assert len(c.node("node-1").requests) == 2
    assert [r.node for r in c.nodes[0].requests] == ["node-0"]
    assert c.requests.filter("info", node="node-1") == list(c.node("node-1").requests)


def test_log_is_bounded_clearable_and_can_be_switched_off() -> None:
    c = escache.Cluster(nodes=1)
    assert c.requests.enabled and c.requests.maxlen == 10_000
    c.requests.maxlen = 3
    for i in range(5):
        c.perform_request("GET", f"/?i={i}", admin(c))
    assert [r.params["i"] for r in c.requests] == ["2", "3", "4"]
    assert c.requests.dropped == 2
    c.requests.clear()
    assert len(c.requests) == 0 and c.requests.dropped == 0
    c.requests.enabled = False
    c.perform_request("GET", "/", admin(c))
    assert len(c.requests) == 0
    # The trace still sees the request: only the request log is off.
    assert c.events[-1]["kind"] == "rest_request"


def test_requests_over_http_are_recorded() -> None:
    c = escache.Cluster(nodes=2)
    with escache.serve(c) as srv:
        srv.client().security.authenticate()
    (r,) = c.requests
    assert (r.api, r.principal, r.status) == ("security.authenticate", "elastic", 200)


def test_no_secret_is_ever_recorded_in_any_encoding() -> None:
    c = escache.Cluster(nodes=2, password="bootstrap-pw-123")
    es = c.client()
    es.security.put_user(username="tooling", password="user-secret-456", roles=["superuser"])
    user = c.client(basic_auth=("tooling", "user-secret-456"))
    key = user.security.create_api_key(name="rotating")
    token = user.security.create_service_token(namespace="elastic", service="fleet-server", name="t")
    c.client(api_key=key["encoded"]).security.authenticate()
    c.client(bearer_auth=token["token"]["value"]).security.authenticate()
    c.perform_request(
        "GET", "/_security/_authenticate", {"Authorization": "Basic " + base64.b64encode(b"x:wrong-pw-789").decode()}
    )
    secrets = ["bootstrap-pw-123", "user-secret-456", "wrong-pw-789", key["api_key"], token["token"]["value"]]
    forms = set()
    for s in secrets:
        forms |= {s, base64.b64encode(s.encode()).decode(), base64.b64encode(s.encode()).decode().rstrip("=")}
    forms |= {key["encoded"], base64.b64encode(b"tooling:user-secret-456").decode()}
    dump = "\n".join(repr(r) + str(r) for r in c.requests) + repr(c.requests)
    assert len(c.requests) == 6
    for form in forms:
        assert form not in dump


def test_reset_rebuilds_in_place() -> None:
    c = escache.Cluster(nodes=2, seed=4, password="pw-123456")
    ids = [n.id for n in c.nodes]
    node = c.node("node-1")
    es = c.client()
    es.security.create_api_key(name="k")
    c.advance("1h")
    node.stop()
    c.reset()
    assert c.now == 0 and len(c.requests) == 0 and len(c.events) == 0
    assert node.running and [n.id for n in c.nodes] == ids
    assert not c.security_index.exists
    # The client made before the reset still works, with the same password.
    assert es.security.get_api_key()["api_keys"] == []
