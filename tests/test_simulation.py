"""The simulator (``escache.Simulation``, ``escache.load_scenario``), its example scenarios, the trace
export and ``escache run``.

Each example's headline figure is checked against a value derived by hand from the rules it
exercises, read off the event trace (which records what each node did and when), never against a
number copied from a run:

- stale_window_missed_broadcast: a revoked key stays accepted on the node that missed the broadcast
  until its cached document is strictly older than ``doc_cache.ttl`` (R2.2, R3.7; R6.3 strict
  expiry), so the stale window is the TTL left at revocation, within one request interval;
- clear_all_caches_hash_storm: after a clear-all each node verifies each key it serves exactly once
  while the auth cache holds (R2.6, R3.4, AK-S4), at 65 ms per PBKDF2 verification (cost model); a
  verification is rejected (429) only when threads + queue tasks are already in the pool (R3.4);
- service_tokens_partial_update: a node re-reads its file at the first 5 s poll after the edit (I3);
- security_index_red_recovery: a red index fails the GET of a doc-cache miss (R3.2) and its recovery
  clears the API key caches (R4.1 (a)).
"""

from __future__ import annotations

import tomllib
from collections import Counter, defaultdict

import pytest
from simulation_helpers import (
    AUTH_KINDS,
    COST_NANOS,
    EXAMPLES,
    PACKAGED,
    REQUIRED_EXAMPLES,
    S,
    action_time,
    at,
    by_node_key,
    jsonl_digest,
    run_example,
    scenario_doc,
)

import escache
from escache.simulation import load_scenario, scenario_names, scenario_path

# ---- the example files ---------------------------------------------------------------------------------


def test_the_examples_are_shipped_in_the_package_byte_for_byte():
    names = sorted(p.stem for p in EXAMPLES.glob("*.toml"))
    assert set(REQUIRED_EXAMPLES) <= set(names)
    assert sorted(p.stem for p in PACKAGED.glob("*.toml")) == names
    assert scenario_names() == names
    for name in names:
        source = (EXAMPLES / f"{name}.toml").read_bytes()
        assert (PACKAGED / f"{name}.toml").read_bytes() == source, f"examples/{name}.toml differs from the package copy"
        assert scenario_path(name).read_bytes() == source, f"the installed {name}.toml is stale: pip install ."


@pytest.mark.parametrize("name", REQUIRED_EXAMPLES)
def test_each_example_explains_its_question_and_headline(name):
    text = (EXAMPLES / f"{name}.toml").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("# ")
    header = "\n".join(line for line in lines[: lines.index("")] if line.startswith("#"))
    assert "Question:" in header and "Expected headline:" in header and "Measured" in header
    doc = tomllib.loads(text)
    assert doc["name"] == name and doc["description"]


# ---- determinism ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REQUIRED_EXAMPLES)
def test_same_seed_same_trace_and_report_other_seed_other(runs, name):
    first = runs[name]
    assert len(first.rows) > 1000
    again = run_example(name)
    assert again.digest == first.digest
    assert again.report == first.report
    assert again.sim.timeline() == first.sim.timeline()
    seed = first.sim.seed
    other = run_example(name, seed=seed + 1)
    assert other.digest != first.digest
    assert other.report != first.report


def test_running_in_slices_is_running_at_once(runs):
    # What `escache run --progress` does: the run stops 100 times on the way.
    name = "stale_window_missed_broadcast"
    cluster, sim, duration = load_scenario(EXAMPLES / f"{name}.toml")
    fractions = []
    report = sim.run(duration, progress=fractions.append, steps=100)
    assert fractions[-1] == 1.0 and len(fractions) == 100
    assert report == runs[name].report
    assert jsonl_digest(cluster) == runs[name].digest


# ---- conservation --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REQUIRED_EXAMPLES)
def test_every_request_ends_in_exactly_one_outcome(runs, name):
    r = runs[name].report
    outcomes = r["authentications"]
    assert r["requests"] == sum(outcomes.values()) + r["in_flight"]
    assert r["finished"] == sum(outcomes.values())
    unfinished = 0
    for w in r["workloads"].values():
        done = sum(w["authentications"].values())
        assert w["requests"] >= done
        unfinished += w["requests"] - done
    assert unfinished == r["in_flight"]
    for outcome in outcomes:
        assert outcomes[outcome] == sum(n["authentications"][outcome] for n in r["nodes"].values())
        assert outcomes[outcome] == sum(w["authentications"][outcome] for w in r["workloads"].values())
    # One authentication event per finished request, on the node that answered it; a client's
    # retried attempts have their own events, whose detail says so (CA-CL4).
    rows = [row for row in runs[name].rows if row[2] in AUTH_KINDS or row[2] == "node_unreachable"]
    retried = [row for row in rows if "(retry " in row[5]]
    assert len(retried) == r["retries"]
    events = Counter((row[1], row[2]) for row in rows if "(retry " not in row[5])
    for node, n in r["nodes"].items():
        assert events[(node, "auth_success")] == n["authentications"]["success"]
        assert events[(node, "auth_failure")] == n["authentications"]["401"]
        assert events[(node, "auth_rejected")] == n["authentications"]["429"]


@pytest.mark.parametrize("name", REQUIRED_EXAMPLES)
def test_hashing_cpu_is_the_sum_of_the_modelled_costs(runs, name):
    run = runs[name]
    assert run.report.in_flight == 0  # every verification that started has finished
    per_node: dict[str, list[str]] = defaultdict(list)
    for row in run.rows:
        if row[2] == "hash_verification":
            per_node[row[1]].append(row[5])
    total = 0
    for node, n in run.report.nodes.items():
        algorithms = per_node.get(node, [])
        assert n.hash_verifications == len(algorithms)
        expected = sum(COST_NANOS[a] for a in algorithms)
        assert n.hashing_cpu_seconds == pytest.approx(expected / S, abs=1e-9)
        total += expected
    assert run.report.hashing_cpu_seconds == pytest.approx(total / S, abs=1e-9)
    assert total > 0


# ---- (1) the stale window after a missed broadcast ------------------------------------------------------


def test_stale_window_equals_the_doc_cache_ttl_left_at_revocation(runs):
    name = "stale_window_missed_broadcast"
    run = runs[name]
    doc = scenario_doc(name)
    ttl = escache.parse_time_value(doc["settings"]["xpack.security.authc.api_key.doc_cache.ttl"], "ttl")
    revoked_at = action_time(name, "invalidate_api_keys")
    (inv,) = [a for a in doc["actions"] if a["action"] == "invalidate_api_keys"]
    revoked = run.sim.credential_ids("agents")[: inv["top"]]
    puts = by_node_key(run.rows, {"cache_put"}, "api_key_doc")
    auths = by_node_key(run.rows, AUTH_KINDS)

    # The nodes that got the broadcast reject every revoked key from the moment of revocation.
    for node in ("node-0", "node-1"):
        assert run.report.nodes[node].stale_acceptances == 0
        for key in revoked:
            after = [r for r in auths[(node, key)] if r[0] > revoked_at]
            assert after and all(r[2] == "auth_failure" and "has been invalidated" in r[5] for r in after)

    # node-2 serves each revoked key from its doc cache until the cached document is strictly older
    # than the TTL (R6.3), then re-reads it and rejects: the last acceptance comes at or before
    # written + ttl, the next request after it comes later and fails.
    windows, ttl_left, gaps = {}, {}, {}
    stale = 0
    for key in revoked:
        written = max(r[0] for r in puts[("node-2", key)] if r[0] <= revoked_at)
        ttl_left[key] = written + ttl - revoked_at
        assert 0 < ttl_left[key] <= ttl
        after = [r for r in auths[("node-2", key)] if r[0] > revoked_at]
        accepted = [r for r in after if r[2] == "auth_success"]
        assert accepted and all(r[5] == "stale" for r in accepted)
        last = accepted[-1][0]
        nxt = [r for r in after if r[0] > last]
        assert last - revoked_at <= ttl_left[key] < nxt[0][0] - revoked_at
        assert all(r[2] == "auth_failure" and "has been invalidated" in r[5] for r in nxt)
        windows[key] = last - revoked_at
        gaps[key] = nxt[0][0] - last
        stale += len(accepted)

    node2 = run.report.nodes["node-2"]
    assert node2.stale_acceptances == stale == run.report.stale_acceptances
    assert node2.longest_stale_window_seconds == pytest.approx(max(windows.values()) / S, abs=1e-9)
    # The headline: the longest stale window is the doc cache TTL left at revocation, within one
    # request interval (of the key whose document had the most TTL left).
    longest_ttl_key = max(ttl_left, key=ttl_left.get)
    longest = node2.longest_stale_window_seconds * S
    assert ttl_left[longest_ttl_key] - gaps[longest_ttl_key] < longest <= ttl_left[longest_ttl_key]
    # The busy keys' documents were first read in the first seconds and re-read once that copy had
    # expired, just after 5m; revoked at 6m, they had between 4m and 5m left.
    assert 2 * ttl - revoked_at < ttl_left[longest_ttl_key] <= ttl


# ---- (2) the hash storm after clearing every API key cache ------------------------------------------------


def test_clear_all_costs_one_verification_per_key_per_node(runs):
    name = "clear_all_caches_hash_storm"
    run = runs[name]
    doc = scenario_doc(name)
    cleared_at = action_time(name, "clear_cache")
    threads = (doc["settings"]["node.processors"] + 1) // 2  # security-crypto: (processors + 1) / 2
    cost = COST_NANOS["pbkdf2"]
    verified = defaultdict(list)
    served = defaultdict(set)
    for row in run.rows:
        if row[0] <= cleared_at:
            continue
        if row[2] == "hash_verification":
            assert row[5] == "pbkdf2"
            verified[row[1]].append((row[0], row[4]))
        elif row[2] in AUTH_KINDS:
            served[row[1]].add(row[4])
    population = doc["workloads"][0]["population"]
    for node in run.report["nodes"]:
        keys = [k for _, k in verified[node]]
        # Each key this node served after the clear was verified exactly once (the cache then holds).
        assert sorted(keys) == sorted(served[node])
        assert len(served[node]) == population
        # Two threads need population x 65 ms / 2 of virtual time to get through them.
        last = max(t for t, _ in verified[node])
        assert last - cleared_at >= population * cost // threads
    burst = sum(len(v) for v in verified.values())
    assert burst == 3 * population  # the headline: 300 verifications, 19.5 s of CPU
    timeline = run.sim.timeline()
    for node in run.report["nodes"]:
        samples = [s for s in timeline if s["node"] == node]
        before = [s for s in samples if s["time"] * S <= cleared_at][-1]
        cpu = samples[-1]["hashing_cpu_seconds"] - before["hashing_cpu_seconds"]
        assert cpu == pytest.approx(population * cost / S)
    # The queue peaks below threads + 1000 (it cannot hold more than the keys): no 429.
    for n in run.report["nodes"].values():
        assert 0 < n["max_crypto_queue_depth"] < population
        assert n["authentications"]["429"] == 0
    assert run.report["latency_ms"]["p99"] > 100  # requests wait for the verifications


def pool_occupancy_at_rejections(rows) -> tuple[dict[str, list[int]], dict[str, int]]:
    """Replays the trace: tasks in a node's security-crypto pool (running or queued) go up when a
    request puts a pending future in the auth cache and down when its verification completes; a
    put the pool rejects (the WARN of R3.4, right after it) never entered the pool. Returns the
    occupancy found by each rejected submission, and the largest occupancy of each node."""
    occupancy: Counter[str] = Counter()
    at_rejection: dict[str, list[int]] = defaultdict(list)
    history: dict[str, list[int]] = defaultdict(list)
    for t, node, kind, cache, _key, detail in rows:
        if t == 0:
            continue  # the creating node pre-warms its auth cache (R3.8): no verification
        if kind == "cache_put" and cache == "api_key_auth":
            occupancy[node] += 1
            history[node].append(occupancy[node])
        elif kind == "hash_verification":
            occupancy[node] -= 1
        elif kind == "log_warn" and "threadpool is full" in detail:
            occupancy[node] -= 1
            history[node].pop()  # the rejected put
            at_rejection[node].append(occupancy[node])
    return dict(at_rejection), {node: max(h) for node, h in history.items()}


def test_a_429_needs_threads_plus_queue_tasks_in_the_pool(runs):
    name = "clear_all_caches_hash_storm"
    # The default queue (1000): the pool never fills.
    at_rejection, peak = pool_occupancy_at_rejections(runs[name].rows)
    assert at_rejection == {}
    assert max(peak.values()) < 2 + 1000
    # The same scenario with a queue of 20 (threads 2): rejections, each when 22 tasks were in the pool.
    doc = scenario_doc(name)
    doc["settings"]["xpack.security.crypto.thread_pool.queue_size"] = 20
    doc["simulation"]["duration"] = "50s"
    small = run_example(name, doc=doc)
    at_rejection, peak = pool_occupancy_at_rejections(small.rows)
    rejected = sum(n["authentications"]["429"] for n in small.report["nodes"].values())
    assert rejected > 0
    assert sum(len(v) for v in at_rejection.values()) == rejected
    for node, seen in at_rejection.items():
        assert set(seen) == {2 + 20}, node
        assert peak[node] == 2 + 20
        assert small.report["nodes"][node]["max_crypto_queue_depth"] == 20
    assert {row[5] for row in small.rows if row[2] == "auth_rejected"} == {"server is too busy to respond"}
    assert small.report["requests"] == sum(small.report["authentications"].values()) + small.report["in_flight"]


# ---- (3) a service_tokens file changed on some nodes only ------------------------------------------------


def test_removed_file_tokens_stop_at_the_next_5s_poll_on_the_edited_nodes_only(runs):
    name = "service_tokens_partial_update"
    run = runs[name]
    doc = scenario_doc(name)
    (rm,) = [a for a in doc["actions"] if a["action"] == "remove_file_tokens"]
    removed_at = at(rm["at"])
    poll = 5 * S
    reload_at = (removed_at // poll + 1) * poll  # the first poll after the edit (I3)
    assert reload_at - removed_at < poll
    removed = run.sim.credential_ids("fleet")[: rm["top"]]
    edited = rm["nodes"]
    untouched = [n for n in run.report["nodes"] if n not in edited]
    reloads = [(r[0], r[1]) for r in run.rows if r[2] == "file_reloaded" and r[0] > removed_at]
    assert sorted(reloads) == sorted((reload_at, n) for n in edited)

    auths = by_node_key(run.rows, AUTH_KINDS)
    for node in edited:
        n = run.report["nodes"][node]
        stale = 0
        for key in removed:
            after = [r for r in auths[(node, key)] if r[0] > removed_at]
            before_reload = [r for r in after if r[0] < reload_at]
            assert all(r[2] == "auth_success" and r[5] == "stale" for r in before_reload)
            assert all(r[2] == "auth_failure" for r in after if r[0] >= reload_at)
            stale += len(before_reload)
        assert n["stale_acceptances"] == stale > 0
        assert n["longest_stale_window_seconds"] * S <= reload_at - removed_at < 5 * S
        # The reload emptied the node's file cache: each remaining token is verified once more.
        again = [r[4] for r in run.rows if r[2] == "hash_verification" and r[1] == node and r[0] >= reload_at]
        assert sorted(again) == sorted(set(run.sim.credential_ids("fleet")) - set(removed))
    for node in untouched:
        assert run.report["nodes"][node]["stale_acceptances"] == 0
        later = [r for key in removed for r in auths[(node, key)] if r[0] >= reload_at]
        assert later and all(r[2] == "auth_success" for r in later)
        assert run.report["nodes"][node]["authentications"]["401"] == 0


# ---- (4) the security index red, then green --------------------------------------------------------------


def test_red_index_fails_doc_cache_misses_and_recovery_clears_the_caches(runs):
    name = "security_index_red_recovery"
    run = runs[name]
    doc = scenario_doc(name)
    red, green = [at(a["at"]) for a in doc["actions"]]
    end = escache.parse_time_value(doc["simulation"]["duration"], "duration")
    ttl = 300 * S  # doc_cache.ttl default
    assert green - red < ttl and end - green < ttl

    failures_while_red = Counter()
    doc_misses_while_red = Counter()
    successes_while_red = 0
    last_doc_put: dict[tuple[str, str], int] = {}
    cached_at_red: dict[tuple[str, str], int] = {}
    first_failure: dict[tuple[str, str], int] = {}
    for t, node, kind, cache, key, detail in run.rows:
        if kind == "cache_put" and cache == "api_key_doc":
            last_doc_put[(node, key)] = t
            if t < red:
                cached_at_red[(node, key)] = t
        if not red < t < green:
            continue
        if kind == "cache_miss" and cache == "api_key_doc":
            doc_misses_while_red[node] += 1
        elif kind == "auth_failure":
            assert detail == f"API key: apikey authentication for id {key} encountered a failure"
            failures_while_red[node] += 1
            first_failure.setdefault((node, key), t)
        elif kind == "auth_success":
            # Served from the doc cache: the cached document is at most ttl old (R2.2, R6.3).
            assert t - last_doc_put[(node, key)] <= ttl
            successes_while_red += 1
    # Every doc-cache miss while red is a failed GET and a 401; every hit still authenticates.
    assert failures_while_red == doc_misses_while_red
    assert successes_while_red > 0 and sum(failures_while_red.values()) > 0
    # The busiest key was cached before the index went red and failed only once that copy expired.
    top = run.sim.credential_ids("agents")[0]
    for node in run.report["nodes"]:
        cached, failed = cached_at_red[(node, top)], first_failure[(node, top)]
        assert red < cached + ttl < failed < green

    # RED -> GREEN clears every API key cache on every node (R4.1 (a)); GREEN -> RED cleared nothing.
    timeline = run.sim.timeline()
    for node in run.report["nodes"]:
        at_red = next(s for s in timeline if s["node"] == node and s["time"] * S == red)
        at_green = next(s for s in timeline if s["node"] == node and s["time"] * S == green)
        assert at_red["caches"]["api_key_doc"]["count"] > 0
        assert at_green["caches"]["api_key_doc"]["count"] == 0
        assert at_green["caches"]["api_key_auth"]["count"] == 0
    # After the recovery each node misses its doc cache exactly once per key it serves (nothing can
    # expire in the time left): the burst of misses.
    misses, served = Counter(), defaultdict(set)
    for t, node, kind, cache, key, _ in run.rows:
        if t <= green:
            continue
        if kind == "cache_miss" and cache == "api_key_doc":
            misses[(node, key)] += 1
        elif kind in AUTH_KINDS:
            served[node].add(key)
    for node in run.report["nodes"]:
        assert {k for (n, k) in misses if n == node} == served[node]
        assert all(v == 1 for (n, _), v in misses.items() if n == node)
