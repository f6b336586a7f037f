"""The clear service account token cache API on a cluster (ST-R2 to ST-R5): name lists, response shape,
partitions and authorization.

Expected values come from the rules in ``docs/rules.md`` (the ``ST-`` rules and the scenarios ST-SC1 to
ST-SC20) and from Elasticsearch's own tests cited there, never from escache itself."""

from __future__ import annotations

import cluster_service_tokens_helpers
import elasticsearch
import pytest
from cluster_service_tokens_helpers import CLEAR_ACTION, FILE, INDEX, events_of, keys, snapshot, v1_message
from conftest import admin

# The shared fixtures (pytest finds a fixture by its name in the test's module).
cluster = cluster_service_tokens_helpers.cluster
warmed = cluster_service_tokens_helpers.warmed


# ---- ST-R2: the name list ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["*", "_all", ["*"], ["_all"]])
def test_r2_wildcard_clears_the_account(cluster, es, warmed, name):
    mark = len(cluster.events)
    resp = es.security.clear_cached_service_tokens(namespace="elastic", service="fleet-server", name=name)
    assert resp.meta.status == 200
    assert resp["_nodes"] == {"total": 3, "successful": 3, "failed": 0}
    for n in cluster.nodes:
        assert keys(cluster, n.name, FILE) == set()
        assert keys(cluster, n.name, INDEX) == {"elastic/kibana/c"}
    assert [(e["node"], e["key"], e["detail"]) for e in events_of(cluster, "clear_cache", mark)] == [
        (n, "service", "elastic/fleet-server/") for n in ("node-0", "node-1", "node-2")
    ]


@pytest.mark.parametrize("raw", ["", ",", ",,", "*,", "_all,,"])
def test_r2_empty_list_means_all(cluster, warmed, raw):
    # The client refuses an empty name ("Empty value passed"); a raw request can send it. Java's split
    # drops trailing empty strings, so "," and "*," are empty / a single wildcard too.
    with pytest.raises(ValueError):
        cluster.client().security.clear_cached_service_tokens(namespace="elastic", service="fleet-server", name="")
    r = cluster.perform_request(
        "POST", f"/_security/service/elastic/fleet-server/credential/token/{raw}/_clear_cache", headers=admin(cluster)
    )
    assert r.status == 200, r.body
    for n in cluster.nodes:
        assert keys(cluster, n.name, FILE) == set()
        assert keys(cluster, n.name, INDEX) == {"elastic/kibana/c"}


@pytest.mark.parametrize(
    "name, cleared",
    [
        ("t1", {"t1"}),
        ("t1-b", {"t1-b"}),
        ("t1,t1-b", {"t1", "t1-b"}),
        (["t1", "t1-b"], {"t1", "t1-b"}),
        ("t1,t1,t1", {"t1"}),
        (["t1-b", "t1-b", "t1"], {"t1", "t1-b"}),
        ("t1,does-not-exist", {"t1"}),
        ("t1,", {"t1"}),
        ("T1", set()),
    ],
)
def test_r2_exact_names(cluster, es, warmed, name, cleared):
    mark = len(cluster.events)
    resp = es.security.clear_cached_service_tokens(namespace="elastic", service="fleet-server", name=name)
    assert resp.meta.status == 200
    assert resp["_nodes"] == {"total": 3, "successful": 3, "failed": 0}
    left = {f"elastic/fleet-server/{n}" for n in {"t1", "t1-b"} - cleared}
    for n in cluster.nodes:
        assert keys(cluster, n.name, FILE) == left
        assert keys(cluster, n.name, INDEX) == left | {"elastic/kibana/c"}
    # Duplicates are removed: each node gets each key once.
    details = {e["detail"] for e in events_of(cluster, "clear_cache", mark)}
    assert len(details) == 1
    sent = details.pop().split(",")
    assert len(sent) == len(set(sent))


@pytest.mark.parametrize(
    "name, first_bad",
    [
        ("_bad", "_bad"),
        ("*,t1", "*"),
        ("t1,*", "*"),
        ("a,,b", ""),
        (",t1", ""),
        ("a b", "a b"),
        ("t1,_all", "_all"),
        ("t1,é", "é"),
        ("x" * 257, "x" * 257),
        (["t1", "a b", "_c"], "a b"),
    ],
)
def test_r2_invalid_names_are_a_400_and_clear_nothing(cluster, es, warmed, name, first_bad):
    before = snapshot(cluster)
    mark = len(cluster.events)
    with pytest.raises(elasticsearch.BadRequestError) as exc:
        es.security.clear_cached_service_tokens(namespace="elastic", service="fleet-server", name=name)
    assert exc.value.meta.status == 400
    assert exc.value.body["status"] == 400
    err = exc.value.body["error"]
    assert err["type"] == "illegal_argument_exception"
    assert err["reason"] == v1_message(first_bad)
    assert err["root_cause"][0]["reason"] == v1_message(first_bad)
    assert snapshot(cluster) == before
    assert events_of(cluster, "clear_cache", mark) == []


def test_r2_url_encoded_space_raw(cluster, warmed):
    before = snapshot(cluster)
    r = cluster.perform_request(
        "POST", "/_security/service/elastic/fleet-server/credential/token/a%20b/_clear_cache", headers=admin(cluster)
    )
    assert r.status == 400
    assert r.body["error"]["reason"] == v1_message("a b")
    assert snapshot(cluster) == before


def test_r2_bad_name_wins_over_an_unknown_parameter(cluster, warmed):
    # innerPrepareRequest throws for the name before BaseRestHandler looks at unconsumed parameters.
    path = "/_security/service/elastic/fleet-server/credential/token/{}/_clear_cache?foo=1"
    before = snapshot(cluster)
    r = cluster.perform_request("POST", path.format("_bad"), headers=admin(cluster))
    assert (r.status, r.body["error"]["reason"]) == (400, v1_message("_bad"))
    r = cluster.perform_request("POST", path.format("t1"), headers=admin(cluster))
    assert r.status == 400
    assert "contains unrecognized parameter: [foo]" in r.body["error"]["reason"]
    assert snapshot(cluster) == before


def test_r2_256_characters_is_still_valid(cluster, es, warmed):
    resp = es.security.clear_cached_service_tokens(namespace="elastic", service="fleet-server", name="x" * 256)
    assert resp.meta.status == 200


# ---- ST-R3, ST-R4, ST-R5 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "namespace, service, name, key",
    [
        ("foo", "bar", "*", "foo/bar/"),
        ("*", "*", "*", "*/*/"),
        ("elastic", "foo", "t1", "elastic/foo/t1"),
        ("other", "fleet-server", "t1", "other/fleet-server/t1"),
        ("elastic", "fleet-server-remote", "*", "elastic/fleet-server-remote/"),
    ],
)
def test_r3_namespace_and_service_are_not_checked(cluster, es, warmed, namespace, service, name, key):
    before = snapshot(cluster)
    mark = len(cluster.events)
    resp = es.security.clear_cached_service_tokens(namespace=namespace, service=service, name=name)
    assert resp.meta.status == 200
    assert resp["_nodes"] == {"total": 3, "successful": 3, "failed": 0}
    assert snapshot(cluster) == before
    assert [e["detail"] for e in events_of(cluster, "clear_cache", mark)] == [key] * 3


def test_r5_response_shape(cluster, es, warmed):
    resp = es.security.clear_cached_service_tokens(namespace="elastic", service="fleet-server", name="t1")
    assert list(resp.body) == ["_nodes", "cluster_name", "nodes"]
    assert resp["cluster_name"] == "escache"
    assert resp["nodes"] == {n.id: {"name": n.name} for n in cluster.nodes}


def test_r5_partitioned_node_is_a_failure(cluster, es, warmed):
    cluster.node("node-1").partitioned = True
    resp = es.security.clear_cached_service_tokens(namespace="elastic", service="fleet-server", name="t1")
    assert resp.meta.status == 200
    nodes = resp["_nodes"]
    assert (nodes["total"], nodes["successful"], nodes["failed"]) == (3, 2, 1)
    assert len(nodes["failures"]) == 1
    failure = nodes["failures"][0]
    node1 = cluster.node("node-1")
    assert failure["type"] == "failed_node_exception"
    assert failure["reason"] == f"Failed node [{node1.id}]"
    assert set(resp["nodes"]) == {cluster.node("node-0").id, cluster.node("node-2").id}
    assert "elastic/fleet-server/t1" not in cluster.node("node-0").caches[INDEX]
    assert "elastic/fleet-server/t1" not in cluster.node("node-2").caches[FILE]
    # The unreachable node keeps its entries: the broadcast is not replayed when it heals.
    assert "elastic/fleet-server/t1" in node1.caches[INDEX]
    assert "elastic/fleet-server/t1" in node1.caches[FILE]
    node1.partitioned = False
    assert "elastic/fleet-server/t1" in node1.caches[INDEX]


def test_r5_stopped_node_is_not_counted(cluster, es, warmed):
    cluster.node("node-2").stop()
    resp = es.security.clear_cached_service_tokens(namespace="elastic", service="fleet-server", name="*")
    assert resp["_nodes"] == {"total": 2, "successful": 2, "failed": 0}


def _user(es, role: str, privilege: str) -> tuple[str, str]:
    es.security.put_role(name=role, cluster=[privilege])
    es.security.put_user(username=f"u_{role}", password="s3cret-pass", roles=[role])
    return f"u_{role}", "s3cret-pass"


def test_r4_manage_service_account_is_not_enough(cluster, es, warmed):
    user = _user(es, "svc", "manage_service_account")
    before = snapshot(cluster)
    mark = len(cluster.events)
    with pytest.raises(elasticsearch.AuthorizationException) as exc:
        cluster.client(basic_auth=user).security.clear_cached_service_tokens(
            namespace="elastic", service="fleet-server", name="t1"
        )
    assert exc.value.meta.status == 403
    err = exc.value.body["error"]
    assert err["type"] == "security_exception"
    assert err["reason"] == (
        f"action [{CLEAR_ACTION}] is unauthorized for user [u_svc] with effective roles [svc], "
        "this action is granted by the cluster privileges [manage_security,all]"
    )
    assert snapshot(cluster) == before
    assert events_of(cluster, "clear_cache", mark) == []
    # It does cover the service account APIs themselves.
    svc_client = cluster.client(basic_auth=user)
    creds = svc_client.security.get_service_credentials(namespace="elastic", service="fleet-server")
    assert creds.meta.status == 200


@pytest.mark.parametrize("privilege", ["manage_security", "all"])
def test_r4_manage_security_may_clear(cluster, es, warmed, privilege):
    user = _user(es, "sec", privilege)
    resp = cluster.client(basic_auth=user).security.clear_cached_service_tokens(
        namespace="elastic", service="fleet-server", name="t1"
    )
    assert resp.meta.status == 200
    for n in cluster.nodes:
        assert "elastic/fleet-server/t1" not in n.caches[INDEX]
        assert "elastic/fleet-server/t1" not in n.caches[FILE]


def test_r2_invalid_name_is_checked_before_authorization(cluster, es, warmed):
    # The REST handler parses the names before the transport action is authorized.
    user = _user(es, "svc", "manage_service_account")
    with pytest.raises(elasticsearch.BadRequestError):
        cluster.client(basic_auth=user).security.clear_cached_service_tokens(
            namespace="elastic", service="fleet-server", name="_bad"
        )
