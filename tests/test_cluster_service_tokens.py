"""Service account tokens and their two caches on the simulated cluster, driven the way users drive
Elasticsearch: through the official ``elasticsearch`` client (``Cluster.client()``) and raw REST
(``Cluster.perform_request``).

Expected values come from the rules in ``docs/rules.md`` (the ``ST-`` ones: T, V, A, S, C, I, R, M, F
rules and the scenarios ST-SC1 to ST-SC20) and from Elasticsearch's own texts and test data, not from a run
of escache.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pathlib

import elasticsearch
import pytest
from conftest import admin

import escache

FILE = "file_service_account_token"
INDEX = "index_service_account_token"
FLEET = "elastic/fleet-server"
CLEAR_ACTION = "cluster:admin/xpack/security/cache/clear"
HASHING = {"xpack.security.authc.service_token_hashing.algorithm": "bcrypt4"}
DATA = pathlib.Path(__file__).parent / "data"
REAL_SECRETS = {  # tests/data/README.md
    "bcrypt": "XE90eAaoT1iW1W-vJf34qw",
    "bcrypt10": "52ejXlazRBafLuzGM5hFcg",
    "pbkdf2": "5DjRC_XRSAql5Hlampyv7Q",
    "pbkdf2_50000": "wn0Xfx5IRHy2lOKScvfwrg",
    "pbkdf2_stretch": "aI_0QLRfRyGBP1U60Sby2w",
}


def v1_message(name: str) -> str:
    return (
        f"invalid service token name [{name}]. service account token name must have at least 1 character "
        "and at most 256 characters that are alphanumeric (A-Z, a-z, 0-9) or hyphen (-) or underscore (_). "
        "It must not begin with an underscore (_)."
    )


def auth_failed(principal: str, name: str) -> str:
    return f"failed to authenticate service account [{principal}] with token name [{name}]"


# ---- helpers ---------------------------------------------------------------------------------------


def bearer(principal: str, name: str, secret: str) -> str:
    """T2: ``00 01 00 01`` + ``ns/svc/name:secret``, standard Base64 without padding."""
    raw = b"\x00\x01\x00\x01" + f"{principal}/{name}:{secret}".encode()
    return base64.b64encode(raw).decode().rstrip("=")


def secret_of(value: str) -> str:
    raw = base64.b64decode(value + "=" * (-len(value) % 4))
    assert raw[:4] == b"\x00\x01\x00\x01"
    return raw[4:].decode().split(":", 1)[1]


def ssha256(secret: str, salt: bytes) -> str:
    """A ``{SSHA256}`` hash as Elasticsearch's file accepts it: Base64 of the 8-byte salt, then of
    SHA-256(secret + salt)."""
    digest = hashlib.sha256(secret.encode() + salt).digest()
    return "{SSHA256}" + base64.b64encode(salt).decode() + base64.b64encode(digest).decode()


def line(principal: str, name: str, secret: str) -> str:
    return f"{principal}/{name}:{ssha256(secret, os.urandom(8))}"


def authenticate(c: escache.Cluster, value: str, node: str = "node-0") -> escache.Response:
    return c.perform_request(
        "GET", "/_security/_authenticate", headers={"Authorization": f"Bearer {value}"}, node=node
    )


def keys(c: escache.Cluster, node: str, cache: str) -> set[str]:
    return set(c.node(node).caches[cache].keys())


def snapshot(c: escache.Cluster) -> dict[str, tuple[list[str], list[str]]]:
    return {n.name: (n.caches[FILE].keys(), n.caches[INDEX].keys()) for n in c.nodes if n.running}


def events_of(c: escache.Cluster, kind: str, since: int = 0) -> list[dict]:
    return [e for e in list(c.events)[since:] if e["kind"] == kind]


def write_file(c: escache.Cluster, node: str, text: str | bytes) -> None:
    c.node(node).service_tokens_file = text
    c.advance("5s")


@pytest.fixture
def cluster() -> escache.Cluster:
    c = escache.Cluster(nodes=3, seed=0, settings=HASHING)
    c.security_index.create()
    return c


@pytest.fixture
def warmed(cluster, es):
    """Every node's two caches hold ``t1`` and ``t1-b`` of fleet-server (a file token and an index
    token of each name) and index token ``c`` of kibana."""
    text = "\n".join(line(FLEET, n, f"file-secret-{n}") for n in ("t1", "t1-b")) + "\n"
    for n in cluster.nodes:
        n.service_tokens_file = text
    cluster.advance("5s")
    values = {
        name: es.security.create_service_token(namespace="elastic", service="fleet-server", name=name)["token"][
            "value"
        ]
        for name in ("t1", "t1-b")
    }
    kibana = es.security.create_service_token(namespace="elastic", service="kibana", name="c")["token"]["value"]
    for n in cluster.nodes:
        for name, value in values.items():
            assert authenticate(cluster, bearer(FLEET, name, f"file-secret-{name}"), n.name).status == 200
            assert authenticate(cluster, value, n.name).status == 200
        assert authenticate(cluster, kibana, n.name).status == 200
        assert keys(cluster, n.name, FILE) == {"elastic/fleet-server/t1", "elastic/fleet-server/t1-b"}
        assert keys(cluster, n.name, INDEX) == {
            "elastic/fleet-server/t1",
            "elastic/fleet-server/t1-b",
            "elastic/kibana/c",
        }
    return values


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
    assert len(events_of(c, "hash_verification")) == 3
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
    r = c.perform_request(
        "DELETE", "/_security/service/elastic/fleet-server/credential/token/t1", headers=admin(c)
    )
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


# ---- determinism and secret hygiene -----------------------------------------------------------------


def _script(seed: int) -> tuple[list[str], list[tuple]]:
    c = escache.Cluster(nodes=3, seed=seed, settings=HASHING)
    es = c.client()
    values = [
        es.security.create_service_token(namespace="elastic", service="fleet-server", name=n)["token"]["value"]
        for n in ("t1", "t2")
    ]
    values.append(es.security.create_service_token(namespace="elastic", service="kibana")["token"]["value"])
    values.append(c.node("node-2").service_tokens.create(FLEET, "f1"))
    c.advance("5s")
    for v in values:
        for n in c.nodes:
            authenticate(c, v, n.name)
    es.security.clear_cached_service_tokens(namespace="elastic", service="fleet-server", name="t1")
    es.security.delete_service_token(namespace="elastic", service="fleet-server", name="t2")
    c.security_index.recreate()
    return values, c.events.rows()


def test_determinism_same_seed_same_tokens_and_trace():
    a_values, a_rows = _script(7)
    b_values, b_rows = _script(7)
    assert a_values == b_values
    assert a_rows == b_rows
    c_values, _ = _script(8)
    assert set(c_values).isdisjoint(a_values)


def test_no_secret_leaks(cluster, es, tmp_path):
    values = [
        es.security.create_service_token(namespace="elastic", service="fleet-server", name="t1")["token"]["value"],
        cluster.node("node-1").service_tokens.create(FLEET, "f1"),
    ]
    cluster.advance("5s")
    wrong = bearer(FLEET, "t1", "WRONGSECRET1-wrong")
    short = bearer(FLEET, "t1", "short123")
    bodies = []
    for n in cluster.nodes:
        for v in [*values, wrong, short]:
            bodies.append(authenticate(cluster, v, n.name).raw.decode())
    cluster.security_index.delete()
    bodies.append(authenticate(cluster, values[0], "node-2").raw.decode())
    cluster.security_index.create()
    cluster.node("node-1").service_tokens_file = "broken\n"
    cluster.advance("5s")
    bodies.append(authenticate(cluster, values[1], "node-1").raw.decode())
    bodies.append(
        cluster.perform_request(
            "POST",
            "/_security/service/elastic/fleet-server/credential/token/a%20b/_clear_cache",
            headers=admin(cluster),
        ).raw.decode()
    )
    bodies.append(
        cluster.perform_request(
            "GET", "/_security/service/elastic/fleet-server/credential", headers=admin(cluster)
        ).raw.decode()
    )
    secrets = [secret_of(v) for v in [*values, wrong, short]] + values + [wrong, short]
    trace = json.dumps(list(cluster.events))
    path = tmp_path / "trace.jsonl"
    cluster.events.to_jsonl(path)
    reprs = [repr(cluster), repr(cluster.security_index), repr(cluster.events)] + [
        repr(x) for n in cluster.nodes for x in (n, n.caches[FILE], n.caches[INDEX])
    ]
    for text in [*bodies, trace, path.read_text(), *reprs]:
        for s in secrets:
            assert s not in text
    # The file holds hashes only.
    assert secret_of(values[1]) not in cluster.node("node-1").service_tokens_file


def test_cache_view_reflects_the_service_caches(cluster, es):
    value = es.security.create_service_token(namespace="elastic", service="fleet-server", name="t1")["token"]["value"]
    view = cluster.node("node-2").caches[INDEX]
    assert view.enabled and view.max_weight == 100_000
    assert "elastic/fleet-server/t1" not in view
    authenticate(cluster, value, "node-2")
    assert "elastic/fleet-server/t1" in view
    assert list(view) == view.keys() == ["elastic/fleet-server/t1"]
    assert len(view) == 1 and view.weight == 1
    assert "elastic/fleet-server/t1" not in cluster.node("node-0").caches[INDEX]


# ---- issue 8 ---------------------------------------------------------------------------------------


def test_issue8_d16_each_node_polls_from_its_own_start(cluster):
    # ResourceWatcherService polls every 5 s from the node's start: node-1, restarted at 3 s, polls at
    # 8 s, 13 s, ... while node-0 and node-2 poll at 5 s, 10 s, ...
    cluster.advance("1s")
    cluster.node("node-1").stop()
    cluster.advance("2s")
    cluster.node("node-1").start()
    cluster.advance("1s")  # 4 s
    mark = len(cluster.events)
    for node in ("node-0", "node-1"):
        cluster.node(node).service_tokens_file = line(FLEET, "f1", "file-secret-f1") + "\n"

    def reloads() -> list[tuple[str, float]]:
        return [(e["node"], e["time"] / 1e9) for e in events_of(cluster, "file_reloaded", mark)]

    cluster.advance("1s")
    assert reloads() == [("node-0", 5.0)]
    cluster.advance("2999ms")
    assert reloads() == [("node-0", 5.0)]
    assert authenticate(cluster, bearer(FLEET, "f1", "file-secret-f1"), "node-1").status == 401
    cluster.advance("1ms")
    assert reloads() == [("node-0", 5.0), ("node-1", 8.0)]
    assert authenticate(cluster, bearer(FLEET, "f1", "file-secret-f1"), "node-1").status == 200


@pytest.mark.parametrize("command", ["create", "delete", "list"])
def test_issue8_d17_unknown_principal_lists_the_accounts_in_map_order(cluster, command):
    tool = cluster.node("node-0").service_tokens
    call = {
        "create": lambda: tool.create("elastic/nope", "t1"),
        "delete": lambda: tool.delete("elastic/nope", "t1"),
        "list": lambda: tool.list("elastic/nope"),
    }[command]
    with pytest.raises(escache.ServiceTokensToolError) as exc:
        call()
    assert exc.value.exit_code == 67
    assert str(exc.value) == (
        "Unknown service account principal: [elastic/nope]. Must be one of "
        "[elastic/fleet-server,elastic/fleet-server-remote,elastic/auto-ops,elastic/kibana]"
    )
