"""``Cluster.perform_request`` and its ``Response`` (issue 13): the body is parsed and the headers joined
on first access, the object stays immutable and compares as before, headers are taken as
``dict(headers)`` takes them, and the cluster lock is taken attached only when it is free."""

from __future__ import annotations

import dataclasses
import json
import threading

import pytest

import escache
from escache.errors import IllegalArgumentTypeError


@pytest.fixture
def cluster() -> escache.Cluster:
    return escache.Cluster(nodes=2, seed=0)


def admin(c: escache.Cluster) -> dict[str, str]:
    return {"Authorization": c.basic_auth_header()}


def test_body_is_the_raw_json_and_headers_the_joined_fields(cluster: escache.Cluster) -> None:
    r = cluster.perform_request("GET", "/_security/_authenticate", headers=admin(cluster))
    assert r.status == 200
    assert r.body == json.loads(r.raw)
    assert r.body is r.body  # parsed once, then kept
    assert r.body["username"] == "elastic"
    assert r.headers == {"X-Elastic-Product": "Elasticsearch", "Content-Type": "application/json"}
    assert r.get_all("content-type") == ["application/json"]
    # A 401's three challenges: one field each, joined in the dict view.
    r = cluster.perform_request("GET", "/_security/_authenticate")
    assert r.status == 401
    assert len(r.get_all("WWW-Authenticate")) == 3
    assert r.headers["WWW-Authenticate"] == ", ".join(r.get_all("WWW-Authenticate"))


def test_a_response_without_a_body_has_none(cluster: escache.Cluster) -> None:
    r = cluster.perform_request("HEAD", "/", headers=admin(cluster))
    assert r.status == 200
    assert (r.raw, r.body) == (b"", None)


def test_a_response_is_immutable_and_compares_by_its_fields(cluster: escache.Cluster) -> None:
    a = cluster.perform_request("GET", "/_security/_authenticate", headers=admin(cluster))
    b = cluster.perform_request("GET", "/_security/_authenticate", headers=admin(cluster))
    assert a == b and a is not b
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.status = 500  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.body = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        hash(a)
    built = escache.Response(status=a.status, headers=a.headers, body=a.body, raw=a.raw, header_fields=a.header_fields)
    assert built == a
    bare = escache.Response(200, {}, {"x": 1})
    assert (bare.raw, bare.header_fields, bare.body) == (b"", [], {"x": 1})
    assert bare != a
    assert repr(bare) == "<escache.Response status=200 body=dict bytes=0>"  # no body text: it may hold a secret


def test_headers_are_taken_as_dict_takes_them(cluster: escache.Cluster) -> None:
    auth = cluster.basic_auth_header()
    for headers in ({"Authorization": auth}, [("Authorization", auth)], (("Authorization", auth),)):
        assert cluster.perform_request("GET", "/_security/_authenticate", headers=headers).status == 200
    for empty in (None, {}, []):
        assert cluster.perform_request("GET", "/_security/_authenticate", headers=empty).status == 401
    with pytest.raises(TypeError):
        cluster.perform_request("GET", "/", headers=5)  # type: ignore[arg-type]
    with pytest.raises(IllegalArgumentTypeError, match=r"\[headers\[Authorization\]\] must be a str"):
        cluster.perform_request("GET", "/", headers={"Authorization": 5})  # type: ignore[dict-item]
    with pytest.raises(IllegalArgumentTypeError, match=r"\[header name\] must be a str"):
        cluster.perform_request("GET", "/", headers={5: "x"})  # type: ignore[dict-item]


def test_a_body_is_sent_as_json_unless_a_content_type_is_given(cluster: escache.Cluster) -> None:
    body = {"name": "k"}
    r = cluster.perform_request("POST", "/_security/api_key", headers=admin(cluster), body=body)
    assert r.status == 200 and r.body["name"] == "k"
    # A Content-Type of any case is kept as given: text/plain is refused as Elasticsearch refuses it.
    r = cluster.perform_request(
        "POST", "/_security/api_key", headers={**admin(cluster), "content-TYPE": "text/plain"}, body=body
    )
    assert r.status == 406


def test_requests_from_many_threads_mixed_with_calls_that_lock_detached(cluster: escache.Cluster) -> None:
    """perform_request takes a free cluster lock without releasing the GIL; a lock held by a thread
    that released the GIL (advance, other readers) is waited for detached: no deadlock, no lost call."""
    headers = admin(cluster)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def requests() -> None:
        try:
            for _ in range(200):
                statuses.append(cluster.perform_request("GET", "/_security/_authenticate", headers=headers).status)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def others() -> None:
        try:
            for _ in range(200):
                cluster.advance("1ms")
                len(cluster.events)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=requests) for _ in range(4)] + [
        threading.Thread(target=others) for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert statuses == [200] * 800
