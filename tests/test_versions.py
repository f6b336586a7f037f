"""Version profiles (docs/rules.md CA-VP0 to CA-VP8, docs/versions.md): one test per difference."""

from __future__ import annotations

import base64

import elasticsearch
import pytest
from conftest import admin

import escache
from escache import cli

VERSIONS = ("7.17", "8.19", "9.1")


def test_ca_vp0_unknown_version_lists_the_supported_ones(tmp_path) -> None:
    assert escache.Cluster(nodes=1).es_version == "9.1"
    assert escache.Cluster(nodes=1, es_version="8.19.3").es_version == "8.19"
    message = "unsupported Elasticsearch version [8.15]: supported versions are [7.17, 8.19, 9.1]"
    with pytest.raises(escache.IllegalArgumentError) as e:
        escache.Cluster(nodes=1, es_version="8.15")
    assert str(e.value) == message
    assert isinstance(e.value, ValueError)
    # A scenario's [cluster] es_version, refused naming its field.
    bad = tmp_path / "bad.toml"
    bad.write_text('[cluster]\nnodes = 1\nes_version = "8.15"\n')
    with pytest.raises(escache.IllegalArgumentError) as e:
        escache.load_scenario(str(bad))
    assert "cluster.es_version" in str(e.value) and message in str(e.value)
    good = tmp_path / "good.toml"
    good.write_text('[cluster]\nnodes = 1\nes_version = "7.17"\n')
    cluster, _, _ = escache.load_scenario(str(good))
    assert cluster.es_version == "7.17"
    # `escache serve --es-version`.
    args = cli._parser().parse_args(["serve", "--es-version", "8.19"])
    assert args.es_version == "8.19"


def _stored_hash_verifications(c: escache.Cluster) -> list[str]:
    return [d for _, _, kind, cache, _, d in c.events.rows() if kind == "hash_verification" and cache == "api_key_auth"]


@pytest.mark.parametrize(("version", "algorithm"), [("7.17", "pbkdf2"), ("8.19", "pbkdf2"), ("9.1", "ssha256")])
def test_ca_vp1_api_key_stored_hash(version: str, algorithm: str) -> None:
    c = escache.Cluster(nodes=2, es_version=version)
    key = c.client(node="node-0").security.create_api_key(name="k")
    encoded = base64.b64encode(f"{key['id']}:{key['api_key']}".encode()).decode()
    r = c.perform_request(
        "GET", "/_security/_authenticate", headers={"Authorization": f"ApiKey {encoded}"}, node="node-1"
    )
    assert r.status == 200
    assert _stored_hash_verifications(c) == [algorithm]
    setting = {"xpack.security.authc.api_key.hashing.algorithm": "ssha256"}
    if version == "9.1":
        escache.Cluster(nodes=1, es_version=version, settings=setting)
    else:
        with pytest.raises(escache.IllegalArgumentError, match="Invalid algorithm: ssha256"):
            escache.Cluster(nodes=1, es_version=version, settings=setting)


@pytest.mark.parametrize("version", VERSIONS)
def test_ca_vp2_max_keys_default(version: str) -> None:
    c = escache.Cluster(nodes=1, es_version=version)
    assert c.node("node-0").caches["api_key_auth"].max_weight == 25_000


@pytest.mark.parametrize(("version", "registered"), [("7.17", False), ("8.19", True), ("9.1", True)])
def test_ca_vp3_api_key_doc_invalidator(version: str, registered: bool) -> None:
    c = escache.Cluster(nodes=2, es_version=version)
    sim = escache.Simulation(c)
    sim.schedule(0, "clear_cache", cache="api_key", node="node-0")
    if registered:
        sim.schedule(0, "clear_cache", cache="api_key_doc", node="node-0")
    else:
        # The registry of every node lacks the name: the action is refused when scheduled.
        with pytest.raises(escache.IllegalArgumentError, match=r"No cache named \[api_key_doc\] is found"):
            sim.schedule(0, "clear_cache", cache="api_key_doc", node="node-0")
    sim.run("1s")
    cleared = [key for _, _, kind, _, key, _ in c.events.rows() if kind == "clear_cache"]
    assert cleared.count("api_key") == 2
    assert cleared.count("api_key_doc") == (2 if registered else 0)


@pytest.mark.parametrize(
    ("version", "wording"),
    [
        ("7.17", "with roles [ops,ghost]"),
        ("8.19", "with effective roles [ops] (assigned roles [ghost] were not found)"),
        ("9.1", "with effective roles [ops] (assigned roles [ghost] were not found)"),
    ],
)
def test_ca_vp4_denial_wording(version: str, wording: str) -> None:
    c = escache.Cluster(nodes=1, es_version=version)
    es = c.client()
    es.security.put_role(name="ops", cluster=["monitor"])
    es.security.put_user(username="bob", password="bob-password", roles=["ops", "ghost"])
    with pytest.raises(elasticsearch.AuthorizationException) as e:
        c.client(basic_auth=("bob", "bob-password")).security.clear_cached_roles(name="*")
    assert e.value.body["error"]["reason"] == (
        f"action [cluster:admin/xpack/security/roles/cache/clear] is unauthorized for user [bob] {wording}, "
        "this action is granted by the cluster privileges [manage_security,all]"
    )


@pytest.mark.parametrize(
    ("version", "basic"),
    [
        ("7.17", 'Basic realm="security" charset="UTF-8"'),
        ("8.19", 'Basic realm="security", charset="UTF-8"'),
        ("9.1", 'Basic realm="security", charset="UTF-8"'),
    ],
)
def test_ca_vp5_basic_challenge(version: str, basic: str) -> None:
    c = escache.Cluster(nodes=1, es_version=version)
    r = c.perform_request("GET", "/_security/_authenticate")
    assert r.status == 401
    challenges = [basic, 'Bearer realm="security"', "ApiKey"]
    assert r.get_all("WWW-Authenticate") == challenges
    assert r.body["error"]["header"]["WWW-Authenticate"] == challenges
    assert r.body["error"]["root_cause"][0]["header"]["WWW-Authenticate"] == challenges
    # A 200 is untouched.
    assert c.perform_request("GET", "/", headers=admin(c)).status == 200


@pytest.mark.parametrize(
    ("version", "number", "lucene", "wire"),
    [
        ("7.17", "7.17.29", "8.11.3", "6.8.0"),
        ("8.19", "8.19.0", "9.12.2", "7.17.0"),
        ("9.1", "9.1.0", "10.2.2", "8.19.0"),
    ],
)
def test_ca_vp6_main_reports_the_profile(version: str, number: str, lucene: str, wire: str) -> None:
    c = escache.Cluster(nodes=1, es_version=version)
    info = c.client().info().body
    assert info["version"]["number"] == number
    assert info["version"]["lucene_version"] == lucene
    assert info["version"]["minimum_wire_compatibility_version"] == wire


@pytest.mark.parametrize("version", VERSIONS)
def test_ca_vp7_apis_newer_than_the_profile_have_no_handler(version: str) -> None:
    c = escache.Cluster(nodes=1, es_version=version)
    es = c.client()
    key = es.security.create_api_key(name="k")["id"]
    calls = [
        ("PUT", f"/_security/api_key/{key}", lambda: es.security.update_api_key(id=key, metadata={"a": 1})),
        (
            "POST",
            "/_security/api_key/_bulk_update",
            lambda: es.security.bulk_update_api_keys(ids=[key], metadata={"a": 1}),
        ),
    ]
    for method, path, call in calls:
        if version == "7.17":
            with pytest.raises(elasticsearch.BadRequestError) as e:
                call()
            assert e.value.body == {"error": f"no handler found for uri [{path}] and method [{method}]"}
            assert c.requests[-1].api is None
        else:
            assert call().meta.status == 200
    # Older APIs answer in every profile.
    assert es.security.get_api_key(id=key)["api_keys"][0]["id"] == key


@pytest.mark.parametrize(
    ("version", "accounts"),
    [
        ("7.17", ["elastic/fleet-server", "elastic/kibana"]),
        ("8.19", ["elastic/fleet-server", "elastic/fleet-server-remote", "elastic/auto-ops", "elastic/kibana"]),
        ("9.1", ["elastic/fleet-server", "elastic/fleet-server-remote", "elastic/auto-ops", "elastic/kibana"]),
    ],
)
def test_ca_vp8_service_accounts_of_the_profile(version: str, accounts: list[str]) -> None:
    c = escache.Cluster(nodes=1, es_version=version)
    es = c.client()
    assert list(es.security.get_service_accounts()) == accounts
    assert list(es.security.get_service_accounts(namespace="elastic", service="auto-ops")) == [
        a for a in accounts if a == "elastic/auto-ops"
    ]
    token = es.security.create_service_token(namespace="elastic", service="fleet-server", name="t")["token"]["value"]
    assert c.perform_request("GET", "/_security/_authenticate", {"Authorization": f"Bearer {token}"}).status == 200
    if version == "7.17":
        with pytest.raises(elasticsearch.BadRequestError) as e:
            es.security.create_service_token(namespace="elastic", service="auto-ops", name="t")
        assert e.value.body["error"]["reason"] == "service account [elastic/auto-ops] does not exist"
    else:
        value = es.security.create_service_token(namespace="elastic", service="auto-ops", name="t")["token"]["value"]
        assert c.perform_request("GET", "/_security/_authenticate", {"Authorization": f"Bearer {value}"}).status == 200
