"""escache.strategies: what the strategies call valid the cluster accepts, what they call invalid it
refuses, and the credentials they make are well-formed but never accepted."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import quote

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import escache
from escache import strategies as es_st
from escache.assertions import authorization_header

CLUSTER = escache.Cluster(nodes=1, trace=False)
CLUSTER.requests.enabled = False
ADMIN = {"Authorization": CLUSTER.basic_auth_header()}
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def token_status(name: str) -> int:
    path = f"/_security/service/elastic/fleet-server/credential/token/{quote(name, safe='')}"
    return CLUSTER.perform_request("POST", path, ADMIN).status


@FAST
@given(es_st.token_names())
def test_valid_token_names_are_accepted(name: str) -> None:
    assert token_status(name) in (200, 409)  # 409: the same name drawn twice


@FAST
@given(es_st.invalid_token_names())
def test_invalid_token_names_are_refused(name: str) -> None:
    assume(name != "")  # an empty last path segment is the route without a name
    assert token_status(name) == 400


@FAST
@given(es_st.api_key_names())
def test_valid_api_key_names_are_accepted(name: str) -> None:
    assert CLUSTER.perform_request("POST", "/_security/api_key", ADMIN, {"name": name}).status == 200


@FAST
@given(es_st.invalid_api_key_names())
def test_invalid_api_key_names_are_refused(name: str) -> None:
    resp = CLUSTER.perform_request("POST", "/_security/api_key", ADMIN, {"name": name})
    assert resp.status == 400
    assert resp.body["error"]["type"] == "action_request_validation_exception"


@FAST
@given(
    st.one_of(
        es_st.api_key_credentials().map(authorization_header), es_st.service_token_credentials().map("Bearer {}".format)
    )
)
def test_made_up_credentials_are_refused_with_401(header: str) -> None:
    resp = CLUSTER.perform_request("GET", "/_security/_authenticate", {"Authorization": header})
    assert resp.status == 401


@given(es_st.api_key_ids())
def test_ids_look_like_elasticsearch_ids(key_id: str) -> None:
    created = CLUSTER.perform_request("POST", "/_security/api_key", ADMIN, {"name": "shape"}).body["id"]
    assert len(key_id) == len(created) == 20
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert set(key_id) <= alphabet and set(created) <= alphabet


@settings(max_examples=25, deadline=None)
@given(es_st.actions(max_size=15))
def test_action_sequences_run_and_a_cleared_invalidated_key_is_refused_everywhere(steps) -> None:
    c = escache.Cluster(nodes=3, trace=False)
    keys = es_st.run_actions(c, steps)
    for n in c.nodes:
        n.partitioned = False
        n.start()
    es = c.client()
    if keys:
        es.security.invalidate_api_key(ids=[k["id"] for k in keys])
    es.security.clear_api_key_cache(ids="*")
    for k in keys:
        escache.assert_rejected(c, k)


def test_strategies_without_hypothesis_raise_missing_dependency() -> None:
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "import escache\n"
        "try:\n"
        "    import escache.strategies\n"
        "except escache.MissingDependencyError as e:\n"
        "    print('MISSING', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("MISSING escache.strategies needs hypothesis")
