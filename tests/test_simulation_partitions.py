"""Partitions as Elasticsearch experiences them (issue 16.2, rules CA-PT1 to CA-PT5): follower checks,
a clear-cache fan-out that waits on a partitioned node, the node's removal from the cluster state and
its rejoining. Every expected time is derived by hand from the follower check settings (defaults:
interval 1 s, timeout 10 s, retry_count 3; checks fall on whole seconds from the start)."""

from __future__ import annotations

import copy

import pytest
from conftest import admin
from simulation_helpers import MS, S, jsonl_digest

import escache
from escache.simulation import format_report, load_scenario

BASE: dict = {
    "cluster": {"nodes": 3, "seed": 1},
    "settings": {"xpack.security.authc.api_key.doc_cache.ttl": "5m"},
    "simulation": {"seed": 1, "sample_interval": "5s", "fault_detection": {}},
    "workloads": [
        {
            "name": "agents",
            "kind": "api_key",
            "population": 20,
            "rate": 40,
            "popularity": "uniform",
            "node_choice": "round_robin",
        }
    ],
}
CLEAR = "cluster:admin/xpack/security/cache/clear"


def scenario(*actions: dict, fault_detection: dict | None = None, **simulation) -> dict:
    doc = copy.deepcopy(BASE)
    doc["actions"] = list(actions)
    doc["simulation"].update(simulation)
    if fault_detection is not None:
        doc["simulation"]["fault_detection"] = fault_detection
    return doc


def run(doc: dict, until: float):
    cluster, sim, _ = load_scenario(doc)
    report = sim.run(until)
    return cluster, sim, report, cluster.events.rows()


def events(rows, kind: str, node: str | None = None) -> list[tuple]:
    return [r for r in rows if r[2] == kind and (node is None or r[1] == node)]


def partition(at: float, node: str = "node-2") -> dict:
    return {"at": at, "action": "partition", "node": node}


def heal(at: float, node: str = "node-2") -> dict:
    return {"at": at, "action": "heal", "node": node}


def revoke(at: float, node: str = "node-0", top: int = 3) -> dict:
    return {"at": at, "action": "invalidate_api_keys", "workload": "agents", "top": top, "node": node}


# ---- CA-PT1: follower checks ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("partitioned_at", "fault_detection", "removed_at"),
    [
        # On a check (10 s): it times out at 20, the next check at 21 times out at 31, the third at 42.
        (10.0, {}, 42.0),
        # Between checks: the first to fail is sent at 11 s.
        (10.5, {}, 43.0),
        # interval 2 s, timeout 3 s, 2 retries: checks at 10 (fails 13), 15 (fails 18).
        (10.0, {"follower_check": {"interval": "2s", "timeout": "3s", "retry_count": 2}}, 18.0),
    ],
)
def test_rule_ca_pt1_a_partitioned_node_is_removed_when_its_follower_checks_have_failed(
    partitioned_at, fault_detection, removed_at
):
    _, _, _, rows = run(scenario(partition(partitioned_at), fault_detection=fault_detection), 60)
    removed = events(rows, "node_removed")
    retry_count = fault_detection.get("follower_check", {}).get("retry_count", 3)
    assert [(r[0], r[1], r[5]) for r in removed] == [
        (
            round(removed_at * S),
            "node-2",
            f"followers check retry count exceeded [timeouts={retry_count}, failures=0]",
        )
    ]


def test_rule_ca_pt1_a_heal_before_the_last_check_fails_keeps_the_node():
    cluster, _, _, rows = run(scenario(partition(10), heal(41)), 60)
    assert events(rows, "node_removed") == []
    assert all(n.in_cluster_state for n in cluster.nodes)


def test_rule_ca_pt1_the_table_is_checked_like_elasticsearch_settings():
    with pytest.raises(escache.IllegalArgumentError, match=r"follower_check.interval\] must be at least \[100ms\]"):
        load_scenario(scenario(fault_detection={"follower_check": {"interval": "50ms"}}))
    with pytest.raises(escache.IllegalArgumentError, match="unknown field `retries`"):
        load_scenario(scenario(fault_detection={"follower_check": {"retries": 3}}))
    with pytest.raises(escache.IllegalArgumentError, match=r"fault_detection.*expected a table"):
        load_scenario(scenario(fault_detection=3))  # type: ignore[arg-type]
    cluster = escache.Cluster(nodes=2)
    with pytest.raises(escache.IllegalArgumentError, match="must be a table"):
        escache.Simulation(cluster, fault_detection=3)  # type: ignore[arg-type]


# ---- CA-PT2: the fan-out waits ---------------------------------------------------------------------


def test_rule_ca_pt2_the_clear_waits_on_the_partition_and_arrives_when_it_heals():
    _, sim, report, rows = run(scenario(partition(10), revoke(15), heal(20)), 40)
    (clear,) = report.clears
    assert (clear.time, clear.coordinator, clear.action, clear.cache) == (15.0, "node-0", CLEAR, "api_key")
    assert (clear.nodes, clear.successful, clear.failures, clear.waiting_on) == (3, 3, (), ())
    assert clear.latency_seconds == 5.0
    # The request reached node-2 at the heal, and cleared the keys there then.
    assert [r[0] for r in events(rows, "clear_cache", "node-2")] == [20 * S]
    assert [r[5] for r in events(rows, "node_unreachable", "node-2")] == ["waiting"]
    revoked = set(sim.credential_ids("agents")[:3])
    stale = [r for r in events(rows, "auth_success", "node-2") if r[4] in revoked and r[0] > 15 * S]
    assert stale and all(15 * S < r[0] <= 20 * S and r[5] == "stale" for r in stale)
    assert report.nodes["node-0"].stale_acceptances == report.nodes["node-1"].stale_acceptances == 0


def test_rule_ca_pt2_the_removal_fails_the_waiting_request_with_node_disconnected():
    cluster, _, report, rows = run(scenario(partition(10), revoke(15)), 60)
    (clear,) = report.clears
    assert clear.latency_seconds == 27.0  # removed at 42 s
    assert (clear.nodes, clear.successful) == (3, 2)
    assert [(f.node, f.type) for f in clear.failures] == [("node-2", "node_disconnected_exception")]
    assert [(r[0], r[5]) for r in events(rows, "node_unreachable", "node-2")] == [
        (15 * S, "waiting"),
        (42 * S, "disconnected"),
    ]
    assert events(rows, "clear_cache", "node-2") == []
    assert not cluster.nodes[2].in_cluster_state


def test_rule_ca_pt2_a_partitioned_coordinator_waits_on_every_other_node():
    _, _, report, _ = run(scenario(partition(10, "node-0"), revoke(15, "node-0")), 60)
    (clear,) = report.clears
    assert clear.latency_seconds == 27.0
    assert clear.successful == 1  # node-0 itself
    assert sorted(f.node for f in clear.failures) == ["node-1", "node-2"]


def test_rule_ca_pt2_a_node_stopped_while_waited_on_fails_at_once():
    stop = {"at": 20, "action": "stop_node", "node": "node-2"}
    _, _, report, rows = run(scenario(partition(10), revoke(15), stop), 60)
    (clear,) = report.clears
    assert clear.latency_seconds == 5.0
    assert [(f.node, f.type) for f in clear.failures] == [("node-2", "node_disconnected_exception")]
    assert events(rows, "node_removed") == []  # stopped, not removed by fault detection


def test_rule_ca_pt2_a_report_made_while_waiting_says_so():
    _, sim, _ = load_scenario(scenario(partition(10), revoke(15)))
    (clear,) = sim.run(30).clears
    assert clear.latency_seconds is None
    assert clear.waiting_on == ("node-2",)
    (clear,) = sim.run(45).clears
    assert clear.latency_seconds == 27.0 and clear.waiting_on == ()


def test_without_fault_detection_a_partitioned_node_fails_at_once_and_stays():
    doc = scenario(partition(10), revoke(15))
    del doc["simulation"]["fault_detection"]
    cluster, _, report, rows = run(doc, 60)
    assert report.clears is None and report.cluster_state_changes is None
    assert [(r[0], r[5]) for r in events(rows, "node_unreachable", "node-2")] == [(15 * S, CLEAR)]
    assert events(rows, "node_removed") == []
    assert cluster.nodes[2].in_cluster_state


# ---- CA-PT3: out of the cluster state ------------------------------------------------------------


def test_rule_ca_pt3_a_removed_node_is_neither_sent_to_nor_counted():
    clear_all = {"at": 50, "action": "clear_cache", "cache": "api_key", "node": "node-0"}
    _, sim, report, rows = run(scenario(partition(10), revoke(50), clear_all), 60)
    assert [(c.time, c.nodes, c.successful, c.failures, c.latency_seconds) for c in report.clears] == [
        (50.0, 2, 2, (), 0.0),
        (50.0, 2, 2, (), 0.0),
    ]
    assert [r for r in events(rows, "node_unreachable") if r[0] >= 50 * S] == []
    # Clients that reach node-2 still get the revoked keys accepted: the explanation names the cause.
    revoked = sim.credential_ids("agents")[0]
    explanation = sim.explain(revoked, node="node-2")
    assert explanation.stale and explanation.cause == "left_cluster"


def test_rule_ca_pt3_the_rest_apis_count_the_cluster_state_nodes():
    cluster, _, _, _ = run(scenario(partition(10)), 60)
    health = cluster.perform_request("GET", "/_cluster/health", headers=admin(cluster)).body
    assert health["number_of_nodes"] == 2
    nodes = cluster.perform_request("GET", "/_nodes", headers=admin(cluster)).body
    assert nodes["_nodes"]["total"] == 2 and "failures" not in nodes["_nodes"]
    assert [n.in_cluster_state for n in cluster.nodes] == [True, True, False]


# ---- CA-PT4: rejoining ---------------------------------------------------------------------------


def test_rule_ca_pt4_a_healed_node_rejoins_at_its_next_peer_finding_round_and_applies_what_it_missed():
    # Removed at 42 s; peer-finding rounds at 42 + k s; healed at 60.5 s: joins at 61 s. The security
    # index was deleted at 50 s while node-2 was out: node-2 clears its API key caches when it joins.
    delete = {"at": 50, "action": "index_delete"}
    cluster, sim, _, rows = run(scenario(partition(10), delete, heal(60.5)), 70)
    assert [r[0] for r in events(rows, "node_joined", "node-2")] == [61 * S]
    assert cluster.nodes[2].in_cluster_state
    report = sim.report()
    assert [(c.time, c.node, c.change) for c in report.cluster_state_changes] == [
        (42.0, "node-2", "removed"),
        (61.0, "node-2", "joined"),
    ]
    text = format_report(report)
    assert "cluster state     node-2 removed at 42.00s, node-2 joined at 1m01.0s" in text
    invalidated_on_2 = {r[0] for r in events(rows, "cache_invalidated", "node-2")}
    assert 61 * S in invalidated_on_2
    assert not any(50 * S <= t < 61 * S for t in invalidated_on_2)
    # The others cleared theirs at the deletion.
    assert 50 * S in {r[0] for r in events(rows, "cache_invalidated", "node-0")}


def test_rule_ca_pt4_find_peers_interval_sets_the_rejoin_round():
    doc = scenario(partition(10), heal(43), fault_detection={"find_peers_interval": "5s"})
    _, _, _, rows = run(doc, 60)
    assert [r[0] for r in events(rows, "node_joined", "node-2")] == [47 * S]


def test_rule_ca_pt4_a_rejoined_node_is_checked_again_from_its_join():
    # Joined at 61 s (as above); partitioned again at 70.5 s: checks at 61 + k s, first failing at
    # 71 s, removed at 103 s.
    _, _, _, rows = run(scenario(partition(10), heal(60.5), partition(70.5)), 120)
    assert [r[0] for r in events(rows, "node_removed", "node-2")] == [42 * S, 103 * S]


# ---- determinism ---------------------------------------------------------------------------------


def test_partition_runs_are_deterministic():
    doc = scenario(partition(10), revoke(15), heal(60.5))
    digests = []
    for _ in range(2):
        cluster, sim, _ = load_scenario(doc)
        sim.run(90)
        digests.append(jsonl_digest(cluster))
    assert digests[0] == digests[1]


# ---- CA-TM5: transport hops ---------------------------------------------------------------------


def test_rule_ca_tm5_a_fan_out_reaches_other_nodes_a_hop_later_and_answers_a_hop_after_that():
    # transport_hop 50 ms, fixed: revoked at 15 s through node-0, the keys are cleared on node-0 at
    # once, on node-1 and node-2 at 15.05 s; the last answer is back at 15.1 s.
    doc = scenario(revoke(15), latency={"transport_hop": "50ms"})
    del doc["simulation"]["fault_detection"]
    _, sim, report, rows = run(doc, 20)
    assert [(r[1], r[0]) for r in events(rows, "clear_cache")] == [
        ("node-0", 15 * S),
        ("node-1", 15 * S + 50 * MS),
        ("node-2", 15 * S + 50 * MS),
    ]
    (clear,) = report.clears
    assert (clear.nodes, clear.successful, clear.failures) == (3, 3, ())
    assert clear.latency_seconds == pytest.approx(0.1)
    # Between the revocation and the arrival the other nodes still accept the keys from their caches.
    revoked = set(sim.credential_ids("agents")[:3])
    stale = [r for r in rows if r[2] == "auth_success" and r[5] == "stale" and r[4] in revoked]
    assert all(r[1] != "node-0" and 15 * S < r[0] <= 15 * S + 50 * MS for r in stale)


def test_rule_ca_tm5_a_request_in_transit_to_a_node_partitioned_meanwhile_waits_for_the_heal():
    # Sent at 15 s; node-2 partitioned at 15.02 s, before the request arrives at 15.05 s: it waits
    # (CA-PT2) and arrives at the heal, 20 s; its answer is back at 20.05 s.
    doc = scenario(revoke(15), partition(15.02), heal(20), latency={"transport_hop": "50ms"})
    _, _, report, rows = run(doc, 30)
    assert [(r[0], r[5]) for r in events(rows, "node_unreachable", "node-2")] == [(15 * S + 50 * MS, "waiting")]
    assert [r[0] for r in events(rows, "clear_cache", "node-2")] == [20 * S]
    (clear,) = report.clears
    assert clear.successful == 3 and clear.latency_seconds == pytest.approx(5.05)


def test_rule_ca_tm5_without_fault_detection_a_request_arriving_at_a_partition_fails():
    doc = scenario(revoke(15), partition(15.02), latency={"transport_hop": "50ms"})
    del doc["simulation"]["fault_detection"]
    _, _, report, _ = run(doc, 30)
    (clear,) = report.clears
    assert [(f.node, f.type) for f in clear.failures] == [("node-2", "node_not_connected_exception")]
    assert clear.latency_seconds == pytest.approx(0.1)  # node-1's answer
