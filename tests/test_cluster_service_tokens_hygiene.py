"""Service account tokens: determinism, no secret in any output, the cache view, and issue 8 regressions."""

from __future__ import annotations

import json

import cluster_service_tokens_helpers
import pytest
from cluster_service_tokens_helpers import FILE, FLEET, HASHING, INDEX, authenticate, bearer, events_of, line, secret_of
from conftest import admin

import escache

# The shared fixtures (pytest finds a fixture by its name in the test's module).
cluster = cluster_service_tokens_helpers.cluster


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
