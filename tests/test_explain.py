""" "Why was this accepted?" (``report.explain``, ``escache run --explain``): every stale acceptance of the
example scenarios gets an explanation that names the right cache entry, change, cause and end."""

from __future__ import annotations

import pytest
from simulation_helpers import S, action_time, run_example

import escache
from escache.cli import main
from escache.explain import CAUSES, Explanation
from escache.report import SimulationReport
from escache.simulation import scenario_names

EXPECTED_CAUSES = {
    "stale_window_missed_broadcast": {"broadcast_dropped"},
    "service_tokens_partial_update": {"file_watcher_pending"},
    "security_index_red_recovery": set(),
    "clear_all_caches_hash_storm": set(),
    "clear_all_caches_429_storm_clients": set(),
    "replay_revoke_from_audit_log": set(),
    # The incident library, explained in its CI form (`[short]`): the full forms run for minutes.
    "fleet_auth_cache_thrash": set(),
    "pbkdf2_pool_saturation": set(),
    "ssha256_false_thrashing_warn": set(),
    "expired_keys_index_load": set(),
    "node_failure_stale_cache": {"partitioned"},
    # The revocation's clear waited on node-2 (CA-PT2) and failed when node-2 was removed.
    "partition_clear_latency": {"partitioned"},
}
SHORT_FORM = {
    "fleet_auth_cache_thrash",
    "pbkdf2_pool_saturation",
    "ssha256_false_thrashing_warn",
    "expired_keys_index_load",
    "node_failure_stale_cache",
    "partition_clear_latency",
}


def test_every_shipped_scenario_has_its_expected_causes():
    assert set(EXPECTED_CAUSES) == set(scenario_names())


@pytest.mark.parametrize("name", sorted(EXPECTED_CAUSES))
def test_every_stale_acceptance_is_explained_with_its_cause(runs, name):
    run = runs[name] if name in runs else run_example(name, short=name in SHORT_FORM)
    explanations = run.report.explain_stale()
    assert len(explanations) == run.report.stale_acceptances
    assert {e.cause for e in explanations} == EXPECTED_CAUSES[name]
    stale_rows = [(r[0] / S, r[1], r[4]) for r in run.rows if r[2] == "auth_success" and r[5] == "stale"]
    assert [(e.time, e.node, e.credential) for e in explanations] == stale_rows
    for e in explanations:
        assert e.stale and e.cause in CAUSES and e.stale_for_seconds is not None
        assert e.invalidation is not None
        assert e.stale_for_seconds == pytest.approx(e.time - e.invalidation.time)


def test_missed_broadcast_names_the_doc_cache_entry_the_dropped_clear_and_the_ttl_expiry(runs):
    run = runs["stale_window_missed_broadcast"]
    revoked = action_time("stale_window_missed_broadcast", "invalidate_api_keys") / S
    ttl = 300.0
    for e in run.report.explain_stale():
        assert e.node == "node-2"
        assert e.served_by is not None and e.served_by.cache == "api_key_doc"
        # The entry was put by a request on node-2 that missed the doc cache, before the revocation.
        assert e.served_by.put_at is not None and e.served_by.put_at < revoked
        assert e.served_by.put_by is not None and e.served_by.put_by.node == "node-2"
        assert e.served_by.put_by.time == e.served_by.put_at and e.served_by.put_by.outcome == "success"
        inv = e.invalidation
        assert inv.change == "invalidated" and inv.time == revoked
        assert inv.cleared_on == ("node-0", "node-1") and inv.missed_at == revoked
        # The entry ends when found expired: more than the TTL after it was put, and node-2 refuses then.
        assert e.ended is not None and e.ended.how == "expired"
        assert e.served_by.put_at + ttl < e.ended.time
        assert e.first_refused is not None and e.first_refused.outcome == "401"
        assert e.first_refused.time == e.ended.time and e.first_refused.node == "node-2"
    text = str(run.report.explain_stale()[0])
    assert "dropped" in text and "api_key_doc" in text and "expired" in text


def test_a_key_on_a_node_the_broadcast_reached_is_not_stale(runs):
    run = runs["stale_window_missed_broadcast"]
    key = run.report.explain_stale()[0].credential
    e = run.report.explain(key, node="node-0")
    revoked = action_time("stale_window_missed_broadcast", "invalidate_api_keys") / S
    assert not e.stale and e.cause == "not_stale" and e.invalidation is None and e.time < revoked
    assert e.first_refused is not None and e.first_refused.time >= revoked
    # `at` picks the latest acceptance at or before it.
    early = run.report.explain(key, node="node-2", at=100)
    assert early.time <= 100 and not early.stale
    assert run.report.explain(key, node="node-2", at="7m").time <= 420


def test_file_token_removed_on_some_nodes_waits_for_the_watcher(runs):
    run = runs["service_tokens_partial_update"]
    removed = action_time("service_tokens_partial_update", "remove_file_tokens") / S
    stale = run.report.explain_stale()
    assert {e.node for e in stale} == {"node-1", "node-2"}
    for e in stale:
        assert e.invalidation.change == "removed_from_file" and e.invalidation.time == removed
        assert e.served_by is not None and e.served_by.cache == "file_service_account_token"
        # The next 5 s poll after the edit reloads the file and clears the node's file token cache.
        assert e.ended is not None and e.ended.how == "file_reloaded" and e.ended.time == 35.0
        assert removed <= e.time < 35.0
    # node-0 kept its file: its acceptances of the same token are not stale.
    e0 = run.report.explain(stale[0].credential, node="node-0")
    assert not e0.stale and e0.cause == "not_stale" and e0.time > 35.0


def _partition_doc(fault: list[dict]) -> dict:
    return {
        "cluster": {"nodes": 3, "seed": 2},
        "simulation": {"seed": 2, "duration": "60s", "sample_interval": "5s"},
        "workloads": [
            {"name": "ci", "kind": "api_key", "population": 20, "rate": 60, "popularity": "uniform"},
        ],
        "actions": [
            *fault,
            {"at": "40s", "action": "invalidate_api_keys", "workload": "ci", "top": 5, "node": "node-0"},
        ],
    }


def test_a_partitioned_node_is_named_as_the_cause():
    run = run_example("partitioned", doc=_partition_doc([{"at": "30s", "action": "partition", "node": "node-2"}]))
    stale = run.report.explain_stale()
    assert stale and {(e.node, e.cause) for e in stale} == {("node-2", "partitioned")}
    for e in stale:
        assert e.invalidation.missed_at == 40.0 and e.invalidation.cleared_on == ("node-0", "node-1")
        assert e.ended is None and e.first_refused is None  # the doc cache TTL (5m) outlasts the run
        assert "partitioned" in str(e)


def test_a_node_down_during_the_revocation_comes_back_with_empty_caches():
    doc = _partition_doc(
        [
            {"at": "30s", "action": "stop_node", "node": "node-2"},
            {"at": "45s", "action": "start_node", "node": "node-2"},
        ]
    )
    run = run_example("node_down", doc=doc)
    assert run.report.stale_acceptances == 0 and run.report.explain_stale() == []


def test_explain_refuses_what_the_trace_does_not_hold(runs):
    report = runs["stale_window_missed_broadcast"].report
    with pytest.raises(escache.ResourceNotFoundError, match=r"no accepted authentication of \[nope\]"):
        report.explain("nope")
    key = report.explain_stale()[0].credential
    with pytest.raises(escache.IllegalArgumentError, match=r"no node named \[node-9\]"):
        report.explain(key, node="node-9")
    with pytest.raises(escache.ResourceNotFoundError, match="at or before 0s"):
        report.explain(key, at=0)
    # A report read back from JSON has no simulation behind it.
    with pytest.raises(escache.IllegalStateError, match="read from JSON"):
        SimulationReport.from_json(report.to_json()).explain(key)


def test_explain_needs_the_trace():
    c = escache.Cluster(nodes=2, seed=0, trace=False)
    sim = escache.Simulation(c, seed=0)
    sim.add_workload(name="w", population=5, rate=10)
    report = sim.run("5s")
    with pytest.raises(escache.IllegalStateError, match="trace=False"):
        report.explain_stale()


def test_a_report_explains_up_to_its_own_time(runs):
    run = runs["stale_window_missed_broadcast"]
    # The same simulation's report at 7m: only the stale acceptances before then.
    early = [e for e in run.report.explain_stale() if e.time <= 420]
    cut = run.sim.explain_stale(until="7m")
    assert all(isinstance(e, Explanation) for e in cut)
    assert [(e.time, e.node, e.credential, e.served_by, e.invalidation, e.cause) for e in cut] == [
        (e.time, e.node, e.credential, e.served_by, e.invalidation, e.cause) for e in early
    ]
    # What happened after 7m (the expiry at about 10m) is not in a 7m answer.
    assert all(e.ended is None and e.first_refused is None for e in cut)


def test_cli_explain_prints_the_explanation(runs, capsys, tmp_path):
    from simulation_helpers import EXAMPLES

    key = runs["service_tokens_partial_update"].report.explain_stale()[0].credential
    assert main(["run", str(EXAMPLES / "service_tokens_partial_update.toml"), "--no-progress", "--explain", key]) == 0
    out = capsys.readouterr().out
    assert f"Why was {key} accepted?" in out and "file watcher had not reloaded" in out
    # With the JSON report on stdout, the explanation goes to stderr.
    args = ["run", str(EXAMPLES / "service_tokens_partial_update.toml"), "--no-progress", "--json", "-"]
    assert main([*args, "--explain", "nope"]) == 2
    captured = capsys.readouterr()
    assert "no accepted authentication of [nope]" in captured.err
