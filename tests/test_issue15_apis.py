"""Issue 15, parts 2 and 4: the APIs tooling calls around the caches, driven as a user would, with the
official ``elasticsearch`` client in-process (``Cluster.client()``) and raw REST. Rule ids are the
``API-`` entries of ``docs/rules.md``; expected texts come from the Elasticsearch sources they cite.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import elasticsearch
import pytest
from conftest import admin

import escache

PASSWORD = "changeme"


@pytest.fixture
def cluster() -> escache.Cluster:
    c = escache.Cluster(nodes=3, seed=15, password=PASSWORD)
    es = c.client()
    es.security.put_role(
        name="logs_reader",
        cluster=["monitor", "manage_own_api_key"],
        indices=[{"names": ["logs-*"], "privileges": ["read", "view_index_metadata"]}],
        applications=[{"application": "kibana-.kibana", "privileges": ["read"], "resources": ["space:*"]}],
        run_as=["svc-*"],
    )
    es.security.put_role(
        name="granter",
        cluster=["grant_api_key", "monitor"],
    )
    es.security.put_user(username="bob", password="bob-password", roles=["logs_reader"])
    es.security.put_user(username="gina", password="gina-password", roles=["granter"])
    es.security.put_user(username="nobody", password="nobody-password", roles=[])
    return c


def as_user(c: escache.Cluster, user: str) -> elasticsearch.Elasticsearch:
    return c.client(basic_auth=(user, f"{user}-password"))


# ---- has_privileges (API-HP1 to API-HP5) ------------------------------------------------------


def test_api_hp1_has_privileges_answers_for_the_caller(cluster):
    r = as_user(cluster, "bob").security.has_privileges(cluster=["monitor"])
    assert r.body == {
        "username": "bob",
        "has_all_requested": True,
        "cluster": {"monitor": True},
        "index": {},
        "application": {},
    }
    # GET with the privileges as the body, and the user's own name in the path, work too.
    r = cluster.perform_request(
        "GET",
        "/_security/user/bob/_has_privileges",
        headers={"Authorization": cluster.basic_auth_header("bob", "bob-password")},
        body={"cluster": ["manage"]},
    )
    assert r.status == 200
    assert r.body["cluster"] == {"manage": False}
    assert r.body["has_all_requested"] is False
    # Another user's privileges: the superuser passes authorization, then the action refuses.
    with pytest.raises(elasticsearch.BadRequestError) as e:
        cluster.client().security.has_privileges(user="bob", cluster=["monitor"])
    assert e.value.body["error"]["reason"] == "users may only check the privileges of their own account"
    # A user without the privilege for another user is denied with the 403 text.
    with pytest.raises(elasticsearch.AuthorizationException) as e:
        as_user(cluster, "bob").security.has_privileges(user="elastic", cluster=["monitor"])
    assert e.value.body["error"]["reason"].startswith(
        "action [cluster:admin/xpack/security/user/has_privileges] is unauthorized for user [bob]"
    )
    # It never reaches put-user: no user called `_has_privileges` was created.
    login = cluster.perform_request(
        "GET", "/_security/_authenticate", headers={"Authorization": cluster.basic_auth_header("_has_privileges", "x")}
    )
    assert login.status == 401


def test_api_hp2_cluster_privileges_by_implication(cluster):
    r = as_user(cluster, "bob").security.has_privileges(
        cluster=["monitor", "manage_own_api_key", "manage_api_key", "cluster:monitor/health", "all"]
    )
    assert r["cluster"] == {
        "monitor": True,
        "manage_own_api_key": True,
        "manage_api_key": False,
        "cluster:monitor/health": True,
        "all": False,
    }
    superuser = cluster.client().security.has_privileges(cluster=["all", "manage_security", "manage_own_api_key"])
    assert superuser["cluster"] == {"all": True, "manage_security": True, "manage_own_api_key": True}
    # Elasticsearch's api_key/30_update.yml: a key holding `all` whose owner holds only
    # manage_own_api_key has manage_own_api_key (both sides imply it).
    key = as_user(cluster, "bob").security.create_api_key(name="all", role_descriptors={"r": {"cluster": ["all"]}})
    r = cluster.client(api_key=key["encoded"]).security.has_privileges(cluster=["manage_own_api_key", "manage"])
    assert r["cluster"] == {"manage_own_api_key": True, "manage": False}
    with pytest.raises(elasticsearch.BadRequestError) as e:
        as_user(cluster, "bob").security.has_privileges(cluster=["not_a_privilege"])
    assert e.value.body["error"]["type"] == "illegal_argument_exception"
    assert e.value.body["error"]["reason"].startswith("unknown cluster privilege [not_a_privilege]")


def test_api_hp3_index_and_application_privileges(cluster):
    r = as_user(cluster, "bob").security.has_privileges(
        index=[
            {"names": ["logs-2024", "logs-*"], "privileges": ["read", "indices:data/read/search"]},
            {"names": ["metrics"], "privileges": ["read"]},
            {"names": ["logs-x"], "privileges": ["write"]},
        ],
        application=[{"application": "kibana-.kibana", "privileges": ["read", "all"], "resources": ["space:a"]}],
    )
    assert r["index"] == {
        "logs-*": {"read": True, "indices:data/read/search": True},
        "logs-2024": {"read": True, "indices:data/read/search": True},
        "logs-x": {"write": False},
        "metrics": {"read": False},
    }
    assert r["application"] == {"kibana-.kibana": {"space:a": {"read": True, "all": False}}}
    assert r["has_all_requested"] is False
    # The superuser's `*` does not cover the security index without allow_restricted_indices.
    su = cluster.client().security.has_privileges(index=[{"names": [".security-7", "x"], "privileges": ["read"]}])
    assert su["index"] == {".security-7": {"read": True}, "x": {"read": True}}
    with pytest.raises(elasticsearch.BadRequestError) as e:
        as_user(cluster, "bob").security.has_privileges(index=[{"names": ["a"], "privileges": ["reed"]}])
    assert e.value.body["error"]["reason"].startswith("unknown index privilege [reed]")


def test_api_hp4_api_key_answers_are_limited_by_the_owner(cluster):
    bob = as_user(cluster, "bob")
    key = bob.security.create_api_key(
        name="narrow",
        role_descriptors={"r": {"cluster": ["all"], "indices": [{"names": ["*"], "privileges": ["all"]}]}},
    )
    es = cluster.client(api_key=key["encoded"])
    r = es.security.has_privileges(
        cluster=["monitor", "manage"], index=[{"names": ["logs-1"], "privileges": ["read", "write"]}]
    )
    assert r["username"] == "bob"
    assert r["cluster"] == {"monitor": True, "manage": False}
    assert r["index"] == {"logs-1": {"read": True, "write": False}}


def test_api_hp5_request_validation(cluster):
    bob = {"Authorization": cluster.basic_auth_header("bob", "bob-password")}
    cases = [
        (
            {},
            "failed to parse privileges check [bob/has_privileges]. All privilege fields [cluster,index,applications] are missing",
        ),
        (
            {"clusters": ["monitor"]},
            "failed to parse privileges check [bob/has_privileges]. unexpected field [clusters]",
        ),
        ({"cluster": []}, "Validation Failed: 1: must specify at least one privilege;"),
        (
            {"index": [{"names": ["a"], "privileges": ["read"], "query": {"match_all": {}}}]},
            "Field [query] is not supported in a has_privileges request",
        ),
        (
            {"application": [{"application": "ab", "privileges": ["read"], "resources": ["*"]}]},
            "Validation Failed: 1: An application name prefix must be at least 3 characters long (found 'ab');",
        ),
    ]
    for body, reason in cases:
        r = cluster.perform_request("POST", "/_security/user/_has_privileges", headers=bob, body=body)
        assert r.status == 400, body
        assert r.body["error"]["reason"] == reason
    r = cluster.perform_request("POST", "/_security/user/_has_privileges", headers=bob)
    assert r.body["error"]["reason"] == "request body or source parameter is required"
    r = cluster.perform_request("POST", "/_security/user/_has_privileges", headers=bob, body="[1]")
    assert r.body["error"]["reason"] == (
        "failed to parse privileges check [bob/has_privileges]. expected an object but found [START_ARRAY] instead"
    )
    r = cluster.perform_request("POST", "/_security/user/_has_privileges", headers=bob, body='{"cluster": [')
    assert (r.status, r.body["error"]["type"]) == (400, "x_content_e_o_f_exception")


# ---- get_user_privileges (API-UP1) -------------------------------------------------------------


def test_api_up1_get_user_privileges(cluster):
    r = as_user(cluster, "bob").security.get_user_privileges()
    assert r.body == {
        "cluster": ["manage_own_api_key", "monitor"],
        "global": [],
        "indices": [
            {"names": ["logs-*"], "privileges": ["read", "view_index_metadata"], "allow_restricted_indices": False}
        ],
        "applications": [{"application": "kibana-.kibana", "privileges": ["read"], "resources": ["space:*"]}],
        "run_as": ["svc-*"],
    }
    assert as_user(cluster, "nobody").security.get_user_privileges()["cluster"] == []
    # A key with its own role descriptors is refused, as Elasticsearch does.
    key = as_user(cluster, "bob").security.create_api_key(name="k", role_descriptors={"r": {"cluster": ["monitor"]}})
    with pytest.raises(elasticsearch.BadRequestError) as e:
        cluster.client(api_key=key["encoded"]).security.get_user_privileges()
    assert e.value.body["error"]["reason"].startswith("Cannot retrieve privileges for API keys with assigned role")


# ---- query_api_keys (API-Q1 to API-Q6) ---------------------------------------------------------


@pytest.fixture
def keys(cluster):
    es = cluster.client()
    made = {}
    for name, meta in [("alpha", {"env": "prod", "team": "a"}), ("beta", {"env": "dev"}), ("gamma", {"env": "prod"})]:
        made[name] = es.security.create_api_key(name=name, metadata=meta)["id"]
        cluster.advance("1m")
    made["bob-key"] = as_user(cluster, "bob").security.create_api_key(name="bob-key")["id"]
    es.security.invalidate_api_key(ids=[made["beta"]])
    return made


def names(resp) -> list[str]:
    return [k["name"] for k in resp["api_keys"]]


def test_api_q1_query_dsl_subset(cluster, keys):
    es = cluster.client()
    assert es.security.query_api_keys()["total"] == 4
    assert names(es.security.query_api_keys(query={"term": {"metadata.env": "prod"}})) == ["alpha", "gamma"]
    assert names(es.security.query_api_keys(query={"prefix": {"name": "al"}})) == ["alpha"]
    assert names(es.security.query_api_keys(query={"wildcard": {"name": "*a"}})) == ["alpha", "beta", "gamma"]
    assert names(es.security.query_api_keys(query={"terms": {"username": ["bob"]}})) == ["bob-key"]
    assert names(es.security.query_api_keys(query={"ids": {"values": [keys["gamma"]]}})) == ["gamma"]
    assert names(es.security.query_api_keys(query={"exists": {"field": "invalidation"}})) == ["beta"]
    q = {"bool": {"must": [{"term": {"invalidated": False}}], "must_not": [{"term": {"username": "bob"}}]}}
    assert names(es.security.query_api_keys(query=q)) == ["alpha", "gamma"]
    q = {"bool": {"should": [{"term": {"name": "alpha"}}, {"term": {"name": "beta"}}]}}
    assert names(es.security.query_api_keys(query=q)) == ["alpha", "beta"]
    assert names(es.security.query_api_keys(query={"range": {"creation": {"gte": "now-90s"}}})) == ["gamma", "bob-key"]
    assert names(
        es.security.query_api_keys(query={"simple_query_string": {"query": "dev", "fields": ["metadata"]}})
    ) == ["beta"]
    assert names(es.security.query_api_keys(query={"match": {"name": "gamma"}})) == ["gamma"]
    assert es.security.query_api_keys(query={"match_all": {}})["count"] == 4


def test_api_q2_owner_only_queries(cluster, keys):
    # manage_own_api_key: the query is narrowed to the caller's keys (AuthorizationService retry).
    assert names(as_user(cluster, "bob").security.query_api_keys()) == ["bob-key"]
    with pytest.raises(elasticsearch.AuthorizationException) as e:
        as_user(cluster, "nobody").security.query_api_keys()
    assert "action [cluster:admin/xpack/security/api_key/query] is unauthorized for user [nobody]" in str(e.value)
    # An API key sees only itself.
    key = as_user(cluster, "bob").security.create_api_key(name="self")
    assert names(cluster.client(api_key=key["encoded"]).security.query_api_keys()) == ["self"]


def test_api_q3_sort_from_size_search_after(cluster, keys):
    es = cluster.client()
    r = es.security.query_api_keys(sort=[{"name": "desc"}], size=2)
    assert (r["total"], r["count"], names(r)) == (4, 2, ["gamma", "bob-key"])
    assert r["api_keys"][0]["_sort"] == ["gamma"]
    r = es.security.query_api_keys(sort=["name"], from_=1, size=2)
    assert names(r) == ["beta", "bob-key"]
    r = es.security.query_api_keys(sort=["creation"], search_after=[r["api_keys"][0]["creation"]])
    assert names(r) == ["gamma", "bob-key"]
    # A date given as text (as Elasticsearch's YAML tests pass stashed values) works the same.
    first = es.security.query_api_keys(sort=["creation"], size=1)["api_keys"][0]
    r = es.security.query_api_keys(sort=["creation"], search_after=[str(first["creation"])])
    assert names(r) == ["beta", "gamma", "bob-key"]
    assert "_sort" not in es.security.query_api_keys()["api_keys"][0]


def test_api_q4_validation_and_refused_fields(cluster, keys):
    admin_h = admin(cluster)

    def query(body):
        return cluster.perform_request("POST", "/_security/_query/api_key", headers=admin_h, body=body)

    cases = [
        ({"query": {"term": {"api_key_hash": "x"}}}, "Field [api_key_hash] is not allowed for querying or aggregation"),
        ({"query": {"prefix": {"na*": "x"}}}, "Field name pattern [na*] is not allowed for querying or aggregation"),
        ({"query": {"fuzzy": {"name": "x"}}}, "Query type [fuzzy] is not currently supported in this context"),
        (
            {"query": {"range": {"creation": {"gte": 1, "relation": "within"}}}},
            "range query with relation is not currently supported in this context",
        ),
        ({"from": -1}, "Validation Failed: 1: [from] parameter cannot be negative but was [-1];"),
        ({"aggs": {"x": {"avg": {"field": "creation"}}}}, "Unsupported API Keys agg [x] of type [avg]"),
    ]
    for body, reason in cases:
        r = query(body)
        assert r.status == 400, body
        assert r.body["error"]["reason"] == reason
    r = query({"sise": 3})
    assert r.status == 400
    assert r.body["error"]["type"] == "x_content_parse_exception"
    assert r.body["error"]["reason"].endswith("[query_api_key_request_payload] unknown field [sise]")


def test_api_q5_aggregations(cluster, keys):
    es = cluster.client()
    r = es.security.query_api_keys(aggregations={"by_user": {"terms": {"field": "username"}}}, size=0)
    assert r["count"] == 0
    assert r["aggregations"]["by_user"]["buckets"] == [
        {"key": "elastic", "doc_count": 3},
        {"key": "bob", "doc_count": 1},
    ]
    # The composite form of Elasticsearch's own YAML test (api_key/21_query_with_aggs.yml).
    aggs = {
        "my_buckets": {"composite": {"sources": [{"key_name": {"terms": {"field": "name"}}}]}},
        "users": {"cardinality": {"field": "username"}},
        "expiring": {"missing": {"field": "expiration"}},
        "states": {
            "filters": {"filters": {"live": {"term": {"invalidated": False}}, "dead": {"term": {"invalidated": True}}}}
        },
    }
    r = es.security.query_api_keys(size=0, aggs=aggs, typed_keys=False)
    assert [b["key"]["key_name"] for b in r["aggregations"]["my_buckets"]["buckets"]] == [
        "alpha",
        "beta",
        "bob-key",
        "gamma",
    ]
    assert r["aggregations"]["my_buckets"]["after_key"] == {"key_name": "gamma"}
    assert r["aggregations"]["users"] == {"value": 2}
    assert r["aggregations"]["expiring"] == {"doc_count": 4}
    assert r["aggregations"]["states"]["buckets"] == {"live": {"doc_count": 3}, "dead": {"doc_count": 1}}
    typed = es.security.query_api_keys(size=0, aggs={"u": {"terms": {"field": "username"}}}, typed_keys=True)
    assert list(typed["aggregations"]) == ["sterms#u"]


def test_api_q6_with_limited_by(cluster, keys):
    es = cluster.client()
    r = es.security.query_api_keys(query={"ids": {"values": [keys["alpha"]]}}, with_limited_by=True)
    assert "superuser" in r["api_keys"][0]["limited_by"][0]
    assert "limited_by" not in es.security.query_api_keys()["api_keys"][0]
    key = as_user(cluster, "bob").security.create_api_key(name="k")
    with pytest.raises(elasticsearch.AuthorizationException):
        cluster.client(api_key=key["encoded"]).security.query_api_keys(with_limited_by=True)


# ---- bulk_update_api_keys (API-BU1), grant_api_key (API-GR1) -----------------------------------


def test_api_bu1_bulk_update_api_keys(cluster):
    bob = as_user(cluster, "bob")
    a = bob.security.create_api_key(name="a")
    b = bob.security.create_api_key(name="b")
    # Warm the doc cache on every node, then update: each updated key's doc entry is cleared.
    for node in cluster.nodes:
        assert cluster.client(api_key=a["encoded"], node=node.name).security.authenticate()["api_key"]["id"] == a["id"]
    assert all(a["id"] in n.caches["api_key_doc"] for n in cluster.nodes)
    r = bob.security.bulk_update_api_keys(ids=[a["id"], b["id"], "missing"], metadata={"v": 2})
    assert r["updated"] == [a["id"], b["id"]]
    assert r["noops"] == []
    assert r["errors"]["count"] == 1
    assert r["errors"]["details"]["missing"]["type"] == "resource_not_found_exception"
    assert not any(a["id"] in n.caches["api_key_doc"] for n in cluster.nodes)
    again = bob.security.bulk_update_api_keys(ids=[a["id"]], metadata={"v": 2})
    assert again.body == {"updated": [], "noops": [a["id"]]}
    r = cluster.perform_request("POST", "/_security/api_key/_bulk_update", headers=admin(cluster), body={"ids": []})
    assert r.body["error"]["reason"] == "Validation Failed: 1: Field [ids] cannot be empty;"
    with pytest.raises(elasticsearch.BadRequestError) as e:
        cluster.client(api_key=a["encoded"]).security.bulk_update_api_keys(ids=[a["id"]])
    assert "only the owner user can update an API key" in str(e.value)


def test_api_gr1_grant_api_key(cluster):
    gina = as_user(cluster, "gina")
    r = gina.security.grant_api_key(
        grant_type="password", username="bob", password="bob-password", api_key={"name": "granted"}
    )
    assert set(r.body) >= {"id", "name", "api_key", "encoded"}
    # The key is bob's, and authenticates as him.
    who = cluster.client(api_key=r["encoded"]).security.authenticate()
    assert who["username"] == "bob"
    assert who["api_key"] == {"id": r["id"], "name": "granted"} or who["api_key"]["id"] == r["id"]
    # A wrong password does not authenticate; nothing is created.
    before = cluster.client().security.query_api_keys()["total"]
    with pytest.raises(elasticsearch.AuthorizationException) as e:
        gina.security.grant_api_key(grant_type="password", username="bob", password="nope", api_key={"name": "x"})
    assert e.value.body["error"]["reason"] == "Failed to authenticate api key grant"
    assert e.value.body["error"]["caused_by"]["reason"].startswith("unable to authenticate user [bob]")
    assert "nope" not in json.dumps(e.value.body)
    assert cluster.client().security.query_api_keys()["total"] == before
    # Validation texts, and the privilege it needs.
    r = cluster.perform_request(
        "POST", "/_security/api_key/grant", headers=admin(cluster), body={"grant_type": "password", "api_key": {}}
    )
    assert r.body["error"]["reason"] == (
        "Validation Failed: 1: [username] is required for grant_type [password];"
        "2: [password] is required for grant_type [password];3: api key name is required;"
    )
    with pytest.raises(elasticsearch.AuthorizationException) as e:
        as_user(cluster, "bob").security.grant_api_key(
            grant_type="password", username="gina", password="gina-password", api_key={"name": "x"}
        )
    assert "action [cluster:admin/xpack/security/api_key/grant] is unauthorized for user [bob]" in str(e.value)


def test_api_gr1_grant_with_run_as(cluster):
    es = cluster.client()
    es.security.put_role(name="runner", run_as=["bob"])
    es.security.put_user(username="rita", password="rita-password", roles=["runner"])
    gina = as_user(cluster, "gina")
    r = gina.security.grant_api_key(
        grant_type="password", username="rita", password="rita-password", run_as="bob", api_key={"name": "as-bob"}
    )
    assert cluster.client(api_key=r["encoded"]).security.authenticate()["username"] == "bob"
    with pytest.raises(elasticsearch.AuthorizationException) as e:
        gina.security.grant_api_key(
            grant_type="password", username="rita", password="rita-password", run_as="gina", api_key={"name": "x"}
        )
    assert e.value.body["error"]["reason"] == (
        "action [cluster:admin/xpack/security/user/authenticate] is unauthorized for user [rita] with effective"
        " roles [runner], because user [rita] is unauthorized to run as [gina]"
    )


# ---- cluster.health (API-CH1 to API-CH3), nodes.info (API-N1 to API-N3) ------------------------


def test_api_ch1_cluster_health_follows_the_security_index(cluster):
    es = cluster.client()
    h = es.cluster.health()
    assert (h["cluster_name"], h["status"], h["timed_out"], h["number_of_nodes"]) == ("escache", "green", False, 3)
    assert (h["active_primary_shards"], h["active_shards"], h["unassigned_shards"]) == (1, 2, 0)
    cluster.security_index.health = "yellow"
    assert es.cluster.health()["status"] == "yellow"
    cluster.security_index.health = "red"
    h = es.cluster.health()
    assert (h["status"], h["active_primary_shards"], h["unassigned_primary_shards"]) == ("red", 0, 1)
    # A native user cannot even authenticate now (the native realm reads the red index).
    with pytest.raises(elasticsearch.AuthenticationException):
        as_user(cluster, "bob").cluster.health()
    cluster.security_index.health = "green"
    assert as_user(cluster, "bob").cluster.health()["status"] == "green"  # `monitor` grants it
    with pytest.raises(elasticsearch.AuthorizationException) as e:
        as_user(cluster, "nobody").cluster.health()
    assert "action [cluster:monitor/health] is unauthorized for user [nobody]" in str(e.value)


def test_api_ch2_waiting_in_virtual_time_times_out_at_once(cluster):
    es = cluster.client()
    assert es.cluster.health(wait_for_status="yellow")["timed_out"] is False
    cluster.security_index.health = "red"
    r = cluster.perform_request("GET", "/_cluster/health?wait_for_status=yellow&timeout=1s", headers=admin(cluster))
    assert r.status == 408
    assert (r.body["status"], r.body["timed_out"]) == ("red", True)
    r = cluster.perform_request("GET", "/_cluster/health?wait_for_nodes=>=4", headers=admin(cluster))
    assert r.status == 408
    r = cluster.perform_request("GET", "/_cluster/health?wait_for_status=blue", headers=admin(cluster))
    assert r.status == 400
    assert r.body["error"]["reason"] == "No enum constant org.elasticsearch.cluster.health.ClusterHealthStatus.BLUE"


def test_api_ch3_index_scope(cluster):
    es = cluster.client()
    cluster.security_index.health = "yellow"
    h = es.cluster.health(index=".security", level="indices")
    assert h["status"] == "yellow"
    assert list(h["indices"]) == [".security-7"]
    assert es.cluster.health(index="logs-*")["status"] == "green"
    r = cluster.perform_request("GET", "/_cluster/health/missing", headers=admin(cluster))
    assert (r.status, r.body["status"], r.body["timed_out"]) == (408, "red", True)


def test_api_n1_nodes_info_in_process(cluster):
    es = cluster.client()
    info = es.nodes.info()
    assert info["_nodes"] == {"total": 3, "successful": 3, "failed": 0}
    assert [n["name"] for n in info["nodes"].values()] == ["node-0", "node-1", "node-2"]
    http = es.nodes.info(node_id="_all", metric="http")
    published = [n["http"]["publish_address"] for n in http["nodes"].values()]
    assert published == ["node-0/127.0.0.1:9200", "node-1/127.0.0.1:9201", "node-2/127.0.0.1:9202"]
    assert next(iter(es.nodes.info(node_id="node-1")["nodes"].values()))["name"] == "node-1"
    # `/_nodes/http`: `http` is a metric there, not a node id.
    assert len(cluster.perform_request("GET", "/_nodes/http", headers=admin(cluster)).body["nodes"]) == 3
    cluster.node("node-2").stop()
    assert es.nodes.info()["_nodes"]["total"] == 2
    cluster.node("node-1").partitioned = True
    r = es.nodes.info()
    assert (r["_nodes"]["successful"], r["_nodes"]["failed"]) == (1, 1)
    assert r["_nodes"]["failures"][0]["type"] == "failed_node_exception"


def test_api_n2_nodes_info_needs_monitor(cluster):
    with pytest.raises(elasticsearch.AuthorizationException) as e:
        as_user(cluster, "nobody").nodes.info()
    assert "action [cluster:monitor/nodes/info] is unauthorized for user [nobody]" in str(e.value)
    assert as_user(cluster, "bob").nodes.info()["_nodes"]["successful"] == 3


def test_api_n3_other_nodes_apis_stay_elasticsearchs_no_handler(cluster):
    for method, path in [
        ("GET", "/_nodes/stats"),
        ("GET", "/_nodes/node-0/hot_threads"),
        ("POST", "/_nodes/reload_secure_settings"),
    ]:
        r = cluster.perform_request(method, path, headers=admin(cluster))
        assert r.status == 400
        assert r.body == {"error": f"no handler found for uri [{path}] and method [{method}]"}
    r = cluster.perform_request("POST", "/_nodes", headers=admin(cluster))
    assert r.status == 405
    assert r.headers["Allow"] == "GET"


def test_api_n2_the_http_server_publishes_its_bound_addresses():
    c = escache.Cluster(nodes=2, seed=1)
    with escache.serve(c) as srv:
        info = srv.client().nodes.info(metric="http")
        got = [n["http"]["publish_address"] for n in info["nodes"].values()]
        assert got == [f"{h}:{p}" for h, p in srv.addresses]
    # In-process, the same cluster publishes its node names again.
    assert "node-0/" in json.dumps(c.client().nodes.info(metric="http").body)


# ---- authenticate details (API-AU1) ------------------------------------------------------------


def test_api_au1_authenticate_details(cluster):
    me = as_user(cluster, "bob").security.authenticate()
    assert me["authentication_realm"] == {"name": "default_native", "type": "native"}
    assert me["lookup_realm"] == {"name": "default_native", "type": "native"}
    assert me["authentication_type"] == "realm"
    assert "api_key" not in me
    key = as_user(cluster, "bob").security.create_api_key(name="who")
    me = cluster.client(api_key=key["encoded"]).security.authenticate()
    assert me["authentication_type"] == "api_key"
    assert me["authentication_realm"] == {"name": "_es_api_key", "type": "_es_api_key"}
    assert me["api_key"]["id"] == key["id"]
    assert me["api_key"]["name"] == "who"
    assert cluster.client().security.authenticate()["authentication_realm"] == {"name": "reserved", "type": "reserved"}


# ---- rendering: X-Opaque-Id, ?pretty, filter_path (API-H1 to API-H4) ---------------------------


def test_api_h1_opaque_id_is_echoed_in_process(cluster):
    es = cluster.client()
    resp = es.options(opaque_id="job-42").security.authenticate()
    assert resp.meta.headers["X-Opaque-Id"] == "job-42"
    r = cluster.perform_request("GET", "/_nope", headers={**admin(cluster), "X-Opaque-Id": "e1"})
    assert (r.status, r.headers["X-Opaque-Id"]) == (400, "e1")


def test_api_h2_pretty_is_elasticsearchs(cluster):
    r = cluster.perform_request("GET", "/_cluster/health?pretty&filter_path=status", headers=admin(cluster))
    assert r.raw == b'{\n  "status" : "green"\n}\n'
    r = cluster.perform_request("GET", "/_cluster/health?pretty=false&filter_path=status", headers=admin(cluster))
    assert r.raw == b'{"status":"green"}'
    r = cluster.perform_request("GET", "/?pretty=maybe", headers=admin(cluster))
    assert r.status == 400
    assert r.body["error"]["type"] == "illegal_argument_exception"


def test_api_h3_filter_path(cluster):
    es = cluster.client()
    r = es.options(opaque_id="x").nodes.info(filter_path="nodes.*.http.publish_address")
    assert set(r.body) == {"nodes"}
    assert all(set(n) == {"http"} for n in r["nodes"].values())
    r = es.cluster.health(filter_path=["-number_of_*", "-active_*"])
    assert "number_of_nodes" not in r and "status" in r
    # Error bodies are never filtered.
    with pytest.raises(elasticsearch.BadRequestError) as e:
        es.security.query_api_keys(query={"fuzzy": {"name": "x"}}, filter_path="api_keys")
    assert e.value.body["error"]["type"] == "illegal_argument_exception"


def test_api_h4_http_and_in_process_render_the_same_bytes():
    c = escache.Cluster(nodes=1, seed=2)
    path = "/_cluster/health?pretty&filter_path=cluster_name,status"
    in_process = c.perform_request("GET", path, headers=admin(c)).raw
    with escache.serve(c) as srv:
        over_http = srv.client().perform_request("GET", path, headers={"X-Opaque-Id": "h4"})
        assert over_http.meta.headers["X-Opaque-Id"] == "h4"
    assert in_process == b'{\n  "cluster_name" : "escache",\n  "status" : "green"\n}\n'
    assert json.loads(in_process) == over_http.body


# ---- the rule book ------------------------------------------------------------------------------

RULES = Path(__file__).resolve().parent.parent / "docs" / "rules.md"


def test_api_rule_ids_cited_in_code_have_entries():
    entries = set(re.findall(r"^### (API-[A-Z]+\d+): ", RULES.read_text(encoding="utf-8"), re.M))
    cited = set()
    root = RULES.parent.parent
    for base in ("src", "tests", "python"):
        for p in (root / base).rglob("*"):
            if p.suffix in {".rs", ".py"} and ".venv" not in p.parts:
                cited |= set(re.findall(r"\bAPI-[A-Z]+\d+\b", p.read_text(encoding="utf-8", errors="replace")))
    assert cited, "the code cites API- rules"
    assert cited <= entries, sorted(cited - entries)
