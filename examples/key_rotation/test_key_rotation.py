"""Tests of key_rotation.py, written as a user of escache writes them: the fixtures come from
escache's pytest plugin (installed with escache; no conftest), and the assertions from escache."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from key_rotation import RotationIncomplete, rotate

import escache
from escache import strategies

HERE = Path(__file__).parent


def test_rotation_retires_the_old_key_on_every_node(escache_cluster, escache_client):
    old = escache_client.security.create_api_key(name="ingest")
    escache.assert_accepted(escache_cluster, old)  # every node has it cached now
    deployed = []

    r = rotate(escache_client, "ingest-2", deployed.append, old_id=old["id"])

    assert deployed == [r.new_encoded]
    escache.assert_called(escache_cluster, "security.invalidate_api_key", ids=[old["id"]])
    escache.assert_called(escache_cluster, "security.clear_api_key_cache", ids=[old["id"]], times=1)
    escache.assert_cleared(escache_cluster, cache="api_key_auth", keys=[old["id"]])
    escache.assert_cleared(escache_cluster, cache="api_key_doc", keys=[old["id"]])
    escache.assert_rejected(escache_cluster, old)
    escache.assert_accepted(escache_cluster, f"ApiKey {r.new_encoded}", at="+1h")


def test_the_new_key_is_deployed_before_the_old_one_is_invalidated(escache_cluster, escache_client):
    old = escache_client.security.create_api_key(name="ingest")
    seen_at_switch = []
    rotate(escache_client, "ingest-2", lambda _: seen_at_switch.append(len(escache_cluster.requests)), old["id"])
    apis = [r.api for r in escache_cluster.requests]
    assert apis[seen_at_switch[0] :] == ["security.invalidate_api_key", "security.clear_api_key_cache"]


def test_a_first_rotation_invalidates_nothing(escache_cluster, escache_client):
    rotate(escache_client, "ingest", lambda _: None)
    escache.assert_not_called(escache_cluster, "security.invalidate_api_key")
    escache.assert_not_called(escache_cluster, "security.clear_api_key_cache")


@pytest.mark.escache(nodes=["es01", "es02", "es03"])
def test_a_node_that_misses_the_clear_is_reported(escache_cluster, escache_client):
    old = escache_client.security.create_api_key(name="ingest")
    escache.assert_accepted(escache_cluster, old, "es03")
    escache_cluster.node("es03").partitioned = True

    with pytest.raises(RotationIncomplete) as exc:
        rotate(escache_client, "ingest-2", lambda _: None, old["id"])

    assert len(exc.value.failures) == 1
    # Why the tool must say so: es03 still accepts the invalidated key from its cache...
    escache.assert_accepted(escache_cluster, old, "es03")
    escache.assert_rejected(escache_cluster, old, "es01")
    # ...until its cached document expires (xpack.security.authc.api_key.doc_cache.ttl, 5m).
    escache.assert_rejected(escache_cluster, old, "es03", at="+301s")


def test_rotation_survives_a_stopped_node(escache_cluster, escache_client):
    old = escache_client.security.create_api_key(name="ingest")
    escache_cluster.node("node-0").stop()
    rotate(escache_client, "ingest-2", lambda _: None, old["id"])
    # The client failed over; the stopped node left the cluster with its caches.
    assert {r.node for r in escache_cluster.requests[1:]} == {"node-1"}
    escache.assert_rejected(escache_cluster, old)


@pytest.mark.escache(settings={"xpack.security.authc.api_key.doc_cache.ttl": "30s"})
def test_command_line_over_http(escache_server, escache_cluster, tmp_path):
    old = escache_server.client().security.create_api_key(name="ingest")
    out = tmp_path / "es_api_key"
    urls = [a for u in escache_server.urls for a in ("--url", u)]
    cmd = [sys.executable, str(HERE / "key_rotation.py"), *urls, "--user", "elastic", "--password", "changeme"]
    done = subprocess.run(
        [*cmd, "--name", "ingest-2", "--old-id", old["id"], "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.startswith("rotated: new key ")
    escache.assert_accepted(escache_cluster, f"ApiKey {out.read_text().strip()}")
    escache.assert_rejected(escache_cluster, old)


# A new cluster per example: the function-scoped factory is meant to be called many times.
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=strategies.api_key_names())
def test_any_valid_key_name_rotates(escache_factory, name):
    cluster = escache_factory(nodes=2)
    es = cluster.client()
    old = es.security.create_api_key(name="old")
    rotate(es, name, lambda _: None, old["id"])
    escache.assert_called(cluster, "security.create_api_key", name=name)
    escache.assert_rejected(cluster, old)
