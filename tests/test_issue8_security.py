"""Issue 8, points 1, 8 and 11, driven from outside as a user would: raw REST
(``Cluster.perform_request``) and the official ``elasticsearch`` client (``Cluster.client()``).

Expected answers come from Elasticsearch's sources: Jackson's default nesting limit of 1000 (kept by
``XContentImplUtils.configure``), its ``StreamConstraintsException`` message, and
``RestController``'s ``no handler found for uri [..] and method [..]``.
"""

from __future__ import annotations

import pytest
from conftest import admin

import escache

PASSWORD = "changeme"


@pytest.fixture
def cluster() -> escache.Cluster:
    return escache.Cluster(nodes=1, seed=3, password=PASSWORD)


def nested(depth: int) -> str:
    """``depth`` nested objects: ``{"a":{"a":...{}}}``."""
    return '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)


def restricted_body(depth: int) -> str:
    """A create-key body granting ``monitor`` only, ``depth`` levels deep in all."""
    return (
        '{"name":"restricted","role_descriptors":{"r":{"cluster":["monitor"],"metadata":{"m":'
        + nested(depth - 4)
        + "}}}}"
    )


def can_create_superuser(c: escache.Cluster, key: dict, user: str) -> int:
    r = c.perform_request(
        "PUT",
        f"/_security/user/{user}",
        headers={"Authorization": "ApiKey " + key["encoded"]},
        body={"password": "s3cr3t-pass", "roles": ["superuser"]},
    )
    return r.status


def test_issue8_d01_deep_metadata_key_cannot_create_a_superuser(cluster):
    for depth in (126, 130, 500, 1000):
        r = cluster.perform_request("POST", "/_security/api_key", headers=admin(cluster), body=restricted_body(depth))
        assert r.status == 200, (depth, r.body)
        key = r.body
        assert can_create_superuser(cluster, key, f"evil{depth}") == 403
        # The restricted key still does what it may.
        me = cluster.perform_request(
            "GET", "/_security/_authenticate", headers={"Authorization": "ApiKey " + key["encoded"]}
        )
        assert me.status == 200
        assert me.body["api_key"]["id"] == key["id"]
        # Nobody named evil<depth> can log in.
        login = cluster.perform_request(
            "GET",
            "/_security/_authenticate",
            headers={"Authorization": cluster.basic_auth_header(f"evil{depth}", "s3cr3t-pass")},
        )
        assert login.status == 401


def test_issue8_d01_too_deep_is_refused_and_nothing_is_stored(cluster):
    es = cluster.client()
    r = cluster.perform_request("POST", "/_security/api_key", headers=admin(cluster), body=restricted_body(1001))
    assert r.status == 400
    assert r.body["error"]["type"] == "x_content_parse_exception"
    assert r.body["error"]["caused_by"]["type"] == "stream_constraints_exception"
    assert "Document nesting depth (1001) exceeds the maximum allowed (1000" in r.body["error"]["reason"]
    assert es.security.get_api_key()["api_keys"] == []


def test_issue8_d08_two_megabyte_nested_body_is_answered(cluster):
    # The reported body: a million zeros in 990 nested arrays, as API key metadata.
    zeros = ",".join(["0"] * 1_000_000)
    body = '{"name":"big","metadata":{"m":' + "[" * 990 + zeros + "]" * 990 + "}}"
    assert len(body) > 2_000_000
    r = cluster.perform_request("POST", "/_security/api_key", headers=admin(cluster), body=body)
    assert r.status == 200, r.body
    # One level more than Elasticsearch allows is its nesting error.
    too_deep = '{"name":"big","metadata":{"m":' + "[" * 999 + zeros + "]" * 999 + "}}"
    r = cluster.perform_request("POST", "/_security/api_key", headers=admin(cluster), body=too_deep)
    assert r.status == 400
    assert r.body["error"]["caused_by"]["type"] == "stream_constraints_exception"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/_security/role"),
        ("DELETE", "/_security/role"),
    ],
)
def test_issue8_d11_unimplemented_apis_reach_no_other_handler(cluster, method, path):
    r = cluster.perform_request(
        method, path, headers=admin(cluster), body={"password": "s3cr3t-pass", "roles": ["superuser"]}
    )
    assert r.status == 400
    assert r.body == {"error": f"no handler found for uri [{path}] and method [{method}]"}
    # Nothing was created: no user named after the path segment can log in.
    user = path.rstrip("/").split("/")[-1]
    login = cluster.perform_request(
        "GET", "/_security/_authenticate", headers={"Authorization": cluster.basic_auth_header(user, "s3cr3t-pass")}
    )
    assert login.status == 401


def test_issue8_d11_has_privileges_with_the_official_client(cluster):
    # Issue 15 serves has-privileges: the official client's call reaches its own handler, never
    # put-user (which would have created a user named `_has_privileges`).
    es = cluster.client()
    assert es.security.has_privileges(cluster=["manage_security"])["has_all_requested"] is True
    login = cluster.perform_request(
        "GET",
        "/_security/_authenticate",
        headers={"Authorization": cluster.basic_auth_header("_has_privileges", "x" * 8)},
    )
    assert login.status == 401
    # A method Elasticsearch does not declare there is its 405, naming the methods it does.
    r = cluster.perform_request("PUT", "/_security/user/_has_privileges", headers=admin(cluster), body={})
    assert r.status == 405
    assert r.headers.get("Allow") == "GET,POST"
    # Put-user itself still works on ordinary names.
    assert es.security.put_user(username="bob", password="s3cr3t-pass", roles=["monitor"])["created"] is True
