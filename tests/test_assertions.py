"""escache.assert_called / assert_not_called / assert_cleared / assert_accepted / assert_rejected."""

from __future__ import annotations

import pytest

import escache
from escache.assertions import MAX_LISTED, authorization_header


@pytest.fixture
def rotated() -> tuple[escache.Cluster, dict, dict]:
    c = escache.Cluster(nodes=3)
    es = c.client()
    old = es.security.create_api_key(name="old").body
    new = es.security.create_api_key(name="new").body
    es.security.invalidate_api_key(ids=[old["id"]])
    es.security.clear_api_key_cache(ids=old["id"])
    return c, old, new


def test_assert_called_matches_api_params_and_fields(rotated) -> None:
    c, old, _ = rotated
    found = escache.assert_called(c, "security.clear_api_key_cache", ids=[old["id"]], node="node-0", status=200)
    assert len(found) == 1
    escache.assert_called(c, "security.invalidate_api_key", ids=[old["id"]], principal="elastic")
    escache.assert_called(c, "security.create_api_key", times=2)
    escache.assert_called(c, "security.create_api_key", name="new", method="put")
    with pytest.raises(escache.EscacheAssertionError, match=r"expected 1 call to security.create_api_key\(\), found 2"):
        escache.assert_called(c, "security.create_api_key", times=1)


def test_assert_called_failure_lists_the_requests_made(rotated) -> None:
    c, old, _ = rotated
    with pytest.raises(AssertionError) as exc:
        escache.assert_called(c, "security.clear_api_key_cache", ids=["other"])
    message = str(exc.value)
    assert isinstance(exc.value, escache.EscacheAssertionError)
    assert "found 0\n4 requests made:\n" in message
    assert f"4. POST /_security/api_key/{old['id']}/_clear_cache -> 200  [security.clear_api_key_cache]" in message
    assert "1. PUT /_security/api_key -> 200  [security.create_api_key]  name='old'" in message


def test_failure_lists_only_the_last_requests_of_a_long_log() -> None:
    c = escache.Cluster(nodes=1)
    for _ in range(MAX_LISTED + 5):
        c.perform_request("GET", "/", {"Authorization": c.basic_auth_header()})
    with pytest.raises(escache.EscacheAssertionError) as exc:
        escache.assert_called(c, "security.authenticate")
    assert f"{MAX_LISTED + 5} requests made (the last {MAX_LISTED} shown):" in str(exc.value)
    assert f"  {MAX_LISTED + 5}. GET / -> 200  [info]" in str(exc.value)
    assert "  5. GET" not in str(exc.value)


def test_assert_not_called(rotated) -> None:
    c, old, new = rotated
    escache.assert_not_called(c, "security.invalidate_api_key", ids=[new["id"]])
    escache.assert_not_called(c, "security.clear_cached_service_tokens")
    with pytest.raises(escache.EscacheAssertionError, match="1 matching requests"):
        escache.assert_not_called(c, "security.invalidate_api_key", ids=[old["id"]])


def test_assert_cleared_per_key_and_node(rotated) -> None:
    c, old, new = rotated
    escache.assert_cleared(c, cache="api_key_auth", keys=[old["id"]])
    escache.assert_cleared(c, cache="api_key_doc", keys=[old["id"]], nodes=["node-1"])
    with pytest.raises(escache.EscacheAssertionError) as exc:
        escache.assert_cleared(c, cache="api_key_auth", keys=[new["id"]], nodes=["node-0", "node-2"])
    assert f"not cleared on node-0: [{new['id']!r}]; node-2: [{new['id']!r}]" in str(exc.value)
    with pytest.raises(escache.EscacheAssertionError, match="node-0: nothing"):
        escache.assert_cleared(c, cache="index_service_account_token")


def test_a_whole_cache_clear_clears_every_key_but_a_missed_node_fails() -> None:
    c = escache.Cluster(nodes=3)
    c.node("node-2").partitioned = True
    c.client().security.clear_api_key_cache(ids="*")
    escache.assert_cleared(c, cache="api_key_auth", keys=["any-id"], nodes=["node-0", "node-1"])
    with pytest.raises(escache.EscacheAssertionError, match="node-2: \\['any-id'\\]"):
        escache.assert_cleared(c, cache="api_key_auth", keys=["any-id"])


def test_assert_accepted_and_rejected_across_nodes_and_time(rotated) -> None:
    c, old, new = rotated
    before = len(c.requests)
    escache.assert_accepted(c, new)
    escache.assert_rejected(c, old)
    escache.assert_accepted(c, (new["id"], new["api_key"]), "node-2")
    escache.assert_accepted(c, f"ApiKey {new['encoded']}", at="+1h")
    assert c.now == 3600
    escache.assert_accepted(c, new, at=7200)
    assert c.now == 7200
    with pytest.raises(escache.IllegalArgumentError, match="never goes back"):
        escache.assert_accepted(c, new, at=10)
    with pytest.raises(escache.EscacheAssertionError, match="refused on node-0: 401"):
        escache.assert_accepted(c, old, "node-0")
    with pytest.raises(escache.EscacheAssertionError, match="node-1: accepted"):
        escache.assert_rejected(c, new, "node-1")
    # The checks are not something the tooling did.
    assert len(c.requests) == before


def test_stale_cache_is_honoured_by_assert_accepted() -> None:
    c = escache.Cluster(nodes=2)
    es = c.client()
    key = es.security.create_api_key(name="k")
    escache.assert_accepted(c, key, "node-1")  # node-1 caches the document
    c.node("node-1").partitioned = True
    es.security.invalidate_api_key(ids=[key["id"]])
    escache.assert_rejected(c, key, "node-0")
    escache.assert_accepted(c, key, "node-1")  # the broadcast never reached it
    escache.assert_rejected(c, key, "node-1", at="+6m")  # the doc cache expired (5 minutes)


def test_authorization_header_forms() -> None:
    assert authorization_header("Bearer abc") == "Bearer abc"
    assert authorization_header({"encoded": "ZW5j"}) == "ApiKey ZW5j"
    assert authorization_header(("id", "secret")) == "ApiKey aWQ6c2VjcmV0"
    assert authorization_header({"token": {"name": "t", "value": "AAEA"}}) == "Bearer AAEA"
    with pytest.raises(escache.IllegalArgumentError, match="Authorization header value"):
        authorization_header("just-a-secret")
    with pytest.raises(escache.IllegalArgumentError, match="cannot make an Authorization header from a \\[int\\]"):
        authorization_header(42)
