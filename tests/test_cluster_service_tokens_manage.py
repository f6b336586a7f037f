"""Managing service account tokens (ST-M1 to ST-M5), index changes (ST-I1), file reloads (ST-I3) and
Elasticsearch's own ``service_tokens`` file (ST-F rules)."""

from __future__ import annotations

import base64

import cluster_service_tokens_helpers
import elasticsearch
import pytest
from cluster_service_tokens_helpers import (
    DATA,
    FILE,
    FLEET,
    HASHING,
    INDEX,
    REAL_SECRETS,
    auth_failed,
    authenticate,
    bearer,
    events_of,
    keys,
    line,
    secret_of,
    snapshot,
    v1_message,
    write_file,
)
from conftest import admin

import escache

# The shared fixtures (pytest finds a fixture by its name in the test's module).
cluster = cluster_service_tokens_helpers.cluster
warmed = cluster_service_tokens_helpers.warmed


# ---- M1-M4: create, delete, get ---------------------------------------------------------------------


def test_m1_create(cluster, es):
    resp = es.security.create_service_token(namespace="elastic", service="fleet-server", name="t1")
    assert resp.meta.status == 200
    assert list(resp.body) == ["created", "token"]
    assert resp["created"] is True
    assert resp["token"]["name"] == "t1"
    value = resp["token"]["value"]
    assert value.startswith("AAEAA") and "=" not in value
    assert base64.b64decode(value + "=" * (-len(value) % 4))[4:].decode().startswith("elastic/fleet-server/t1:")
    assert len(secret_of(value)) == 22
    auto = es.security.create_service_token(namespace="elastic", service="fleet-server")
    assert auto["token"]["name"].startswith("token_") and len(auto["token"]["name"]) == 26
    with pytest.raises(elasticsearch.ConflictError) as exc:
        es.security.create_service_token(namespace="elastic", service="fleet-server", name="t1")
    assert exc.value.meta.status == 409
    assert "document already exists" in exc.value.body["error"]["reason"]
    with pytest.raises(elasticsearch.BadRequestError) as exc:
        es.security.create_service_token(namespace="elastic", service="foo", name="t1")
    assert exc.value.body["error"]["type"] == "illegal_argument_exception"
    assert exc.value.body["error"]["reason"] == "service account [elastic/foo] does not exist"
    with pytest.raises(elasticsearch.BadRequestError) as exc:
        es.security.create_service_token(namespace="elastic", service="fleet-server", name="_bad")
    assert exc.value.body["error"]["type"] == "action_request_validation_exception"
    assert exc.value.body["error"]["reason"] == f"Validation Failed: 1: {v1_message('_bad')};"


def test_m1_create_clears_nothing(cluster, es, warmed):
    before = snapshot(cluster)
    es.security.create_service_token(namespace="elastic", service="fleet-server", name="t3")
    assert snapshot(cluster) == before


def test_m2_delete_clears_the_index_cache_on_every_node(cluster, es, warmed):
    mark = len(cluster.events)
    resp = es.security.delete_service_token(namespace="elastic", service="fleet-server", name="t1")
    assert resp.meta.status == 200
    assert resp.body == {"found": True}
    assert [(e["node"], e["key"], e["detail"]) for e in events_of(cluster, "clear_cache", mark)] == [
        (n, INDEX, "elastic/fleet-server/t1") for n in ("node-0", "node-1", "node-2")
    ]
    for n in cluster.nodes:
        # Exact key: t1-b stays; the file cache is not touched.
        assert keys(cluster, n.name, INDEX) == {"elastic/fleet-server/t1-b", "elastic/kibana/c"}
        assert keys(cluster, n.name, FILE) == {"elastic/fleet-server/t1", "elastic/fleet-server/t1-b"}
        r = authenticate(cluster, warmed["t1"], n.name)
        assert r.status == 401
        assert r.body["error"]["reason"] == auth_failed(FLEET, "t1")
    with pytest.raises(elasticsearch.NotFoundError) as exc:
        es.security.delete_service_token(namespace="elastic", service="fleet-server", name="t1")
    assert exc.value.meta.status == 404
    assert exc.value.body == {"found": False}


def test_m2_delete_without_index_clears_nothing():
    c = escache.Cluster(nodes=2, seed=0, settings=HASHING)
    mark = len(c.events)
    r = c.perform_request("DELETE", "/_security/service/elastic/fleet-server/credential/token/t1", headers=admin(c))
    assert (r.status, r.body) == (404, {"found": False})
    assert events_of(c, "clear_cache", mark) == []


def test_m3_get_credentials():
    c = escache.Cluster(nodes=["n0", "n1", "n2"], seed=0, settings=HASHING)
    es = c.client()
    empty = es.security.get_service_credentials(namespace="elastic", service="fleet-server")
    assert empty.body == {
        "service_account": FLEET,
        "count": 0,
        "tokens": {},
        "nodes_credentials": {"_nodes": {"total": 3, "successful": 3, "failed": 0}, "file_tokens": {}},
    }
    for name in ("api-token-2", "api-token-1"):
        es.security.create_service_token(namespace="elastic", service="fleet-server", name=name)
    es.security.create_service_token(namespace="elastic", service="kibana", name="other")
    c.node("n1").service_tokens.create(FLEET, "token1")
    c.node("n0").service_tokens_file = c.node("n1").service_tokens_file
    c.node("n2").service_tokens.create("elastic/kibana", "token1")
    c.advance("5s")
    resp = es.security.get_service_credentials(namespace="elastic", service="fleet-server")
    assert resp.body == {
        "service_account": FLEET,
        "count": 3,
        "tokens": {"api-token-1": {}, "api-token-2": {}},
        "nodes_credentials": {
            "_nodes": {"total": 3, "successful": 3, "failed": 0},
            "file_tokens": {"token1": {"nodes": ["n0", "n1"]}},
        },
    }
    assert list(resp["tokens"]) == ["api-token-1", "api-token-2"]


def test_m4_get_service_accounts(es):
    everything = es.security.get_service_accounts().body
    assert set(everything) == {
        "elastic/auto-ops",
        "elastic/fleet-server",
        "elastic/fleet-server-remote",
        "elastic/kibana",
    }
    one = es.security.get_service_accounts(namespace="elastic", service="fleet-server").body
    assert list(one) == [FLEET]
    assert set(one[FLEET]) == {"role_descriptor"}
    assert es.security.get_service_accounts(namespace="elastic", service="foo").body == {}


def test_m5_same_name_in_file_and_index(cluster, es):
    write_file(cluster, "node-0", line(FLEET, "shared", "file-secret-sh") + "\n")
    value = es.security.create_service_token(namespace="elastic", service="fleet-server", name="shared")["token"][
        "value"
    ]
    file_value = bearer(FLEET, "shared", "file-secret-sh")
    for _ in range(2):
        assert authenticate(cluster, file_value).body["token"]["type"] == "_service_account_file"
        assert authenticate(cluster, value).body["token"]["type"] == "_service_account_index"
    assert "elastic/fleet-server/shared" in cluster.node("node-0").caches[FILE]
    assert "elastic/fleet-server/shared" in cluster.node("node-0").caches[INDEX]


# ---- I1, I3: automatic invalidation -----------------------------------------------------------------


@pytest.mark.parametrize("change", ["recreate", "delete", "up_to_date", "red_to_green"])
def test_i1_index_changes_clear_the_index_cache_only(cluster, warmed, change):
    if change == "recreate":
        cluster.security_index.recreate()
    elif change == "delete":
        cluster.security_index.delete()
    elif change == "up_to_date":
        cluster.security_index.up_to_date = False
    else:
        cluster.security_index.health = "red"
        assert len(cluster.node("node-0").caches[INDEX]) == 3  # going red clears nothing
        cluster.security_index.health = "green"
    for n in cluster.nodes:
        assert len(n.caches[INDEX]) == 0
        assert keys(cluster, n.name, FILE) == {"elastic/fleet-server/t1", "elastic/fleet-server/t1-b"}


def test_i1_partitioned_node_catches_up_when_healed(cluster, warmed):
    node1 = cluster.node("node-1")
    node1.partitioned = True
    cluster.security_index.recreate()
    assert len(cluster.node("node-0").caches[INDEX]) == 0
    assert len(node1.caches[INDEX]) == 3
    node1.partitioned = False
    assert len(node1.caches[INDEX]) == 0
    assert len(node1.caches[FILE]) == 2


def test_i3_file_reload(cluster, es):
    a, b = line(FLEET, "a", "file-secret-a1"), line(FLEET, "b", "file-secret-b1")
    write_file(cluster, "node-0", f"{a}\n{b}\n")
    va, vb = bearer(FLEET, "a", "file-secret-a1"), bearer(FLEET, "b", "file-secret-b1")
    assert authenticate(cluster, va).status == 200
    assert authenticate(cluster, vb).status == 200
    view = cluster.node("node-0").caches[FILE]
    assert len(view) == 2
    # Same map: comments, blank lines, reordering.
    mark = len(cluster.events)
    write_file(cluster, "node-0", f"# comment\n\n{b}\n   \n{a}\n")
    assert len(view) == 2
    assert events_of(cluster, "file_reloaded", mark) == []
    # Not before the watcher's next poll.
    c_line = line(FLEET, "c", "file-secret-c1")
    cluster.node("node-0").service_tokens_file = f"{a}\n{b}\n{c_line}\n"
    cluster.advance("4s")
    assert len(view) == 2
    assert authenticate(cluster, bearer(FLEET, "c", "file-secret-c1")).status == 401
    cluster.advance("1s")
    assert len(view) == 0  # the whole file cache
    assert [e["detail"] for e in events_of(cluster, "file_reloaded", mark)] == [
        "service tokens file [config/service_tokens] changed. updating ..."
    ]
    assert authenticate(cluster, bearer(FLEET, "c", "file-secret-c1")).status == 200
    # Malformed: every file token fails; fixed: they work again.
    assert authenticate(cluster, va).status == 200
    write_file(cluster, "node-0", f"{a}\nmissing-colon\n")
    assert len(view) == 0
    r = authenticate(cluster, va)
    assert r.status == 401
    assert r.body["error"]["reason"] == auth_failed(FLEET, "a")
    assert any(
        e["detail"] == "failed to parse service tokens file [config/service_tokens]. skipping/removing all tokens..."
        for e in events_of(cluster, "log_warn", mark)
    )
    write_file(cluster, "node-0", f"{a}\n")
    assert authenticate(cluster, va).status == 200
    # A UTF-16 file fails the whole file too.
    write_file(cluster, "node-0", f"{a}\n".encode("utf-16"))
    assert authenticate(cluster, va).status == 401


def test_f_real_service_tokens_file(cluster):
    node = cluster.node("node-1")
    mark = len(cluster.events)
    write_file(cluster, "node-1", (DATA / "service_tokens").read_bytes())
    assert node.service_tokens.list() == [f"{FLEET}/{n}" for n in sorted(REAL_SECRETS)]
    assert [e["detail"] for e in events_of(cluster, "log_warn", mark)] == [
        "skipping plaintext service account token for key [elastic/fleet-server/plain]"
    ]
    for name, secret in REAL_SECRETS.items():
        value = bearer(FLEET, name, secret)
        body = cluster.client(bearer_auth=value, node="node-1").security.authenticate().body
        assert body["token"] == {"name": name, "type": "_service_account_file"}
        with pytest.raises(elasticsearch.AuthenticationException) as exc:
            cluster.client(bearer_auth=value, node="node-0").security.authenticate()
        assert exc.value.body["error"]["reason"] == auth_failed(FLEET, name)
    # The plaintext line was skipped: its "secret" does not authenticate.
    with pytest.raises(elasticsearch.AuthenticationException):
        plain = bearer(FLEET, "plain", "_By842iQQVKSCLxVcJZWvw")
        cluster.client(bearer_auth=plain, node="node-1").security.authenticate()
    assert keys(cluster, "node-1", FILE) == {f"{FLEET}/{n}" for n in REAL_SECRETS}
    creds = cluster.client().security.get_service_credentials(namespace="elastic", service="fleet-server")
    assert creds["nodes_credentials"]["file_tokens"] == {n: {"nodes": ["node-1"]} for n in sorted(REAL_SECRETS)}


def test_f_elasticsearch_it_token():
    # ServiceAccountIT's file line and VALID_SERVICE_TOKEN (tests/data/README.md).
    c = escache.Cluster(nodes=1, seed=0, settings=HASHING)
    c.security_index.create()
    it_line = (
        "elastic/fleet-server/token1:{PBKDF2_STRETCH}10000$8QN+eThJEaCd18sCP0nfzxJq2D9yhmSZgI20TDooYcE=$"
        "+0ELfqW4D2+/SlHvm/885dzv67qO2SMJg32Mv/9epXk="
    )
    valid = "AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyL3Rva2VuMTpyNXdkYmRib1FTZTl2R09Ld2FKR0F3"
    write_file(c, "node-0", it_line + "\n")
    r = authenticate(c, valid)
    assert r.status == 200, r.body
    assert r.body["token"] == {"name": "token1", "type": "_service_account_file"}
    assert authenticate(c, bearer(FLEET, "token1", "3aJCLaQWRN2sXlOdtxA0SQ")).status == 401
