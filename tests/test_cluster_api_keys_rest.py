"""The API key REST APIs and their errors: get, update, expiry, unknown ids and nodes, settings errors,
routes, bodies, headers, and secrets kept out of every output (docs/rules.md)."""

from __future__ import annotations

import base64
import json

import cluster_api_keys_helpers
import elasticsearch
import pytest
from cluster_api_keys_helpers import (
    AUTH,
    CHALLENGES,
    DOC,
    GENERIC_401,
    RD,
    _leaks,
    all_empty,
    all_full,
    authenticate,
    cached,
    encoded,
    events_of,
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
