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

import datetime
import hashlib
import io
import json
import sys
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import escache
from escache.cli import main
from escache.report import SimulationReport
from escache.simulation import TRACE_SCHEMA_VERSION, load_scenario, scenario_names, scenario_path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PACKAGED = ROOT / "python" / "escache" / "scenarios"
S = 1_000_000_000  # nanoseconds per second
MS = 1_000_000

REQUIRED_EXAMPLES = (
    "stale_window_missed_broadcast",
    "clear_all_caches_hash_storm",
    "service_tokens_partial_update",
    "security_index_red_recovery",
)

# The cost model's defaults (src/sim/cost.rs): 6.5 ms per 1,000 PBKDF2 iterations, 2 µs per salted
# SHA-256; Elasticsearch's pbkdf2 and pbkdf2_stretch use 10,000 iterations.
COST_NANOS = {"pbkdf2": 65 * MS, "pbkdf2_stretch": 65 * MS, "ssha256": 2_000}


# ---- running the examples once per seed ------------------------------------------------------------


@dataclass
class Run:
    cluster: Any
    sim: Any
    report: SimulationReport
    rows: list[tuple]
    digest: str


def jsonl_digest(cluster) -> str:
    buf = io.StringIO()
    cluster.events.to_jsonl(buf)
    return hashlib.sha256(buf.getvalue().encode("utf-8")).hexdigest()


def run_example(name: str, seed: int | None = None, doc: dict | None = None) -> Run:
    source = doc if doc is not None else EXAMPLES / f"{name}.toml"
    cluster, sim, duration = load_scenario(source, seed=seed)
    report = sim.run(duration)
    return Run(cluster, sim, report, cluster.events.rows(), jsonl_digest(cluster))


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    return {name: run_example(name) for name in REQUIRED_EXAMPLES}


def scenario_doc(name: str) -> dict[str, Any]:
    return tomllib.loads((EXAMPLES / f"{name}.toml").read_text(encoding="utf-8"))


def at(value: str | float) -> int:
    """An action's `at` in nanoseconds (time values or seconds, as the scenario files write them)."""
    return escache.parse_time_value(value, "at") if isinstance(value, str) else round(value * S)


def action_time(name: str, action: str) -> int:
    (a,) = [a for a in scenario_doc(name)["actions"] if a["action"] == action]
    return at(a["at"])


def by_node_key(rows, kinds: set[str], cache: str | None = None) -> dict[tuple[str, str], list[tuple]]:
    out: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for r in rows:
        if r[2] in kinds and (cache is None or r[3] == cache):
            out[(r[1], r[4])].append(r)
    return out


AUTH_KINDS = {"auth_success", "auth_failure", "auth_rejected"}


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
    # One authentication event per finished request, on the node that answered it.
    events = Counter((row[1], row[2]) for row in runs[name].rows if row[2] in AUTH_KINDS)
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


# ---- the trace ------------------------------------------------------------------------------------------


def test_jsonl_rows_carry_the_schema_version_and_match_the_events(tmp_path, runs):
    run = runs["service_tokens_partial_update"]
    path = tmp_path / "t.jsonl"
    assert run.cluster.events.to_jsonl(path) == len(run.rows)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(run.rows)
    columns = ("time", "node", "kind", "cache", "key", "detail")
    for line, row in zip(lines, run.rows, strict=True):
        assert line == json.dumps(
            {"v": TRACE_SCHEMA_VERSION, **dict(zip(columns, row, strict=True))}, separators=(",", ":")
        )
    assert TRACE_SCHEMA_VERSION == 1
    assert list(json.loads(lines[0])) == ["v", *columns]
    assert list(escache.EventTrace.SCHEMA) == ["v", *columns]
    # The same events give the same bytes, whichever way they are written.
    assert hashlib.sha256(path.read_bytes()).hexdigest() == run.digest


def test_to_pandas_keeps_its_columns(runs):
    pd = pytest.importorskip("pandas")
    frame = runs["service_tokens_partial_update"].cluster.events.to_pandas()
    assert list(frame.columns) == ["time", "node", "kind", "cache", "key", "detail"]
    assert isinstance(frame, pd.DataFrame)


def test_to_arrow(runs):
    pa = pytest.importorskip("pyarrow")
    run = runs["service_tokens_partial_update"]
    table = run.cluster.events.to_arrow()
    assert isinstance(table, pa.Table)
    assert table.column_names == ["v", "time", "node", "kind", "cache", "key", "detail"]
    assert table.num_rows == len(run.rows)
    assert table.schema.field("time").type == pa.int64()
    assert table.schema.metadata[b"escache.trace_schema_version"] == b"1"
    assert set(table.column("v").to_pylist()) == {TRACE_SCHEMA_VERSION}
    columns = {name: table.column(name).to_pylist() for name in table.column_names}
    rebuilt = list(zip(*(columns[c] for c in ("time", "node", "kind", "cache", "key", "detail")), strict=True))
    assert rebuilt == run.rows
    empty = escache.Cluster(nodes=1, seed=0, trace=False).events.to_arrow()
    assert empty.num_rows == 0 and empty.column_names == table.column_names


def test_to_arrow_without_pyarrow_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
    with pytest.raises(escache.MissingDependencyError, match="pip install pyarrow") as info:
        escache.Cluster(nodes=1, seed=0).events.to_arrow()
    assert isinstance(info.value, ImportError) and isinstance(info.value, escache.EscacheError)


# ---- validation: refused descriptions change nothing ------------------------------------------------------


BAD_WORKLOADS = [
    ({"name": "w", "colour": "red"}, "[workload [w].colour]: unknown field `colour`"),
    (
        {"name": "w", "kind": "password"},
        "[workload [w].kind]: unknown variant `password`, expected `api_key` or `service_token`",
    ),
    ({"name": "w", "creator_node": "node-9"}, "unknown node [node-9]"),
    ({"name": "w", "node_choice": {"node-1": 1, "node-8": 2}}, "unknown node [node-8]"),
    ({"name": "w", "start": "5 minutes"}, "failed to parse"),
    ({"name": "w", "start": "1m", "stop": "30s"}, "[workload [w].stop] must be later than"),
    ({"name": "w", "rate": -3}, "rate must be a non-negative number"),
    ({"name": "w", "population": 0}, "population must be at least 1"),
    ({"name": "w", "popularity": {"zipf": -1}}, "zipf exponent"),
    (
        {"name": "w", "kind": "service_token", "account": "elastic/nobody"},
        "service account [elastic/nobody] does not exist",
    ),
    ({"name": "w", "start": float("nan")}, "invalid description"),
    ({"name": "w", "start": object()}, "cannot describe"),
]

BAD_ACTIONS = [
    (("1m", "partition"), {"noed": "node-1"}, "[action [partition].noed]: unknown field `noed`"),
    (("1m", "partition"), {"node": "node-7"}, "unknown node [node-7]"),
    (("1m", "explode"), {}, "unknown action [explode]"),
    (("soon", "partition"), {"node": "node-1"}, "[at] with value [soon] as a time value"),
    ((-5, "partition"), {"node": "node-1"}, "must not be negative"),
    (("1m", "partition"), {"node": "node-1", "every": "0s"}, "[every] must be positive"),
    (("1m", "invalidate_api_keys"), {"workload": "ghost", "top": 1}, "unknown workload [ghost]"),
    (("1m", "invalidate_api_keys"), {"workload": "agents", "top": 1, "all": True}, "takes one of"),
    (
        ("1m", "clear_cache"),
        {"cache": "api_key", "keys": [1, 2], "node": "node-0"},
        "[action [clear_cache].keys]: a name or a list of names",
    ),
    (("1m", "index_health"), {"health": "purple"}, "must be green, yellow or red"),
    (("1m", "drop_clear_cache"), {"nodes": ["node-1", "node-4"]}, "unknown node [node-4]"),
]


def small_sim():
    c = escache.Cluster(nodes=3, seed=1)
    sim = escache.Simulation(c, seed=1)
    sim.add_workload(name="agents", population=50, rate=40, popularity="zipf")
    return c, sim


@pytest.fixture(scope="module")
def untouched_report():
    c, sim = small_sim()
    return sim.run("30s"), c.events.rows()


@pytest.mark.parametrize(("description", "message"), BAD_WORKLOADS)
def test_a_bad_workload_is_refused_and_changes_nothing(description, message, untouched_report):
    c, sim = small_sim()
    with pytest.raises(escache.IllegalArgumentError) as info:
        sim.add_workload(**description)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)
    assert sim.run("30s") == untouched_report[0]
    assert c.events.rows() == untouched_report[1]


@pytest.mark.parametrize(("args", "fields", "message"), BAD_ACTIONS)
def test_a_bad_action_is_refused_and_changes_nothing(args, fields, message, untouched_report):
    c, sim = small_sim()
    fields = dict(fields)
    every = fields.pop("every", None)
    with pytest.raises(escache.IllegalArgumentError) as info:
        sim.schedule(*args, every=every, **fields)
    assert message in str(info.value)
    report = sim.run("30s")
    assert report == untouched_report[0]
    assert report["action_errors"] == []
    assert c.events.rows() == untouched_report[1]
    assert not any(n.partitioned for n in c.nodes)


def test_two_workloads_of_one_name_are_refused():
    _, sim = small_sim()
    with pytest.raises(escache.IllegalArgumentError, match=r"a workload named \[agents\] already exists"):
        sim.add_workload(name="agents", population=5)
    assert sim.run("1s")["workloads"].keys() == {"agents"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[cluster]\nnodes = 3\ncolour = 'red'\n", "cluster.colour: unknown field `colour`"),
        ("[simulation]\nduraton = '1m'\n", "simulation.duraton: unknown field `duraton`"),
        ("[simulation]\nduration = 'forever'\n", "with value [forever] as a time value"),
        ("[scenario]\n", "scenario: unknown field `scenario`"),
        ("workloads = 3\n", "workloads: invalid type: integer `3`, expected a sequence"),
        ("[cluster]\nnodes = 'three'\n", "cluster.nodes: a positive number or a list of node names"),
        ("[settings]\n'xpack.security.authc.api_key.cache.ttl' = '10'\n", "unit is missing or unrecognized"),
        ("[[actions]]\nat = '1m'\n", "actions[0]: every action needs an [action] field"),
        ("[[workloads]]\nname = 'w'\nrate = 'fast'\n", 'workloads[0].rate: invalid type: string "fast", expected f64'),
        ("[cluster\n", "invalid scenario file"),
    ],
)
def test_bad_scenarios_are_refused(text, message):
    with pytest.raises(escache.IllegalArgumentError) as info:
        load_scenario(text + "\n")
    assert message in str(info.value)


# ---- escache run -----------------------------------------------------------------------------------------


def test_run_writes_the_report_and_the_trace(tmp_path, capsys, runs):
    name = "stale_window_missed_broadcast"
    out, trace = tmp_path / "report.json", tmp_path / "trace.jsonl"
    code = main(["run", str(EXAMPLES / f"{name}.toml"), "--json", str(out), "--trace", str(trace), "--no-progress"])
    assert code == 0
    stdout, stderr = capsys.readouterr()
    assert stderr == ""
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["scenario"] == {"name": name, "file": str(EXAMPLES / f"{name}.toml"), "seed": 7}
    assert {k: v for k, v in report.items() if k != "scenario"} == runs[name].report
    lines = trace.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(runs[name].rows)
    assert all(json.loads(line)["v"] == TRACE_SCHEMA_VERSION for line in lines[:1000])
    assert hashlib.sha256(trace.read_bytes()).hexdigest() == runs[name].digest
    # The readable report: totals, the node table, latencies, action errors.
    node2 = runs[name].report["nodes"]["node-2"]
    assert f"escache run: {name}" in stdout
    assert f"stale acceptances {runs[name].report['stale_acceptances']:,}" in stdout
    row = next(line for line in stdout.splitlines() if line.startswith("node-2"))
    assert f"{node2['stale_acceptances']:,}" in row and "4m" in row
    for heading in ("success", "401", "429", "longest stale", "hash CPU", "max queue", "auth hit", "doc hit"):
        assert heading in stdout
    assert "latency" in stdout and "p99" in stdout and "action errors     none" in stdout


def test_run_with_another_seed_and_a_progress_bar(tmp_path, capsys, runs):
    name = "service_tokens_partial_update"
    out = tmp_path / "r.json"
    assert main(["run", str(EXAMPLES / f"{name}.toml"), "--json", str(out), "--progress"]) == 0
    _, stderr = capsys.readouterr()
    assert "[" + "#" * 30 + "] 100%" in stderr and stderr.endswith("\n")
    report = json.loads(out.read_text(encoding="utf-8"))
    assert {k: v for k, v in report.items() if k != "scenario"} == runs[name].report
    assert main(["run", str(EXAMPLES / f"{name}.toml"), "--json", "-", "--seed", "99"]) == 0
    stdout, stderr = capsys.readouterr()
    assert stderr == ""  # not a terminal: no progress bar
    other = json.loads(stdout)
    assert other["scenario"]["seed"] == 99 and other["requests"] != runs[name].report["requests"]


def test_run_can_stream_the_trace_to_stdout(capsys, runs):
    name = "security_index_red_recovery"
    assert main(["run", str(EXAMPLES / f"{name}.toml"), "--trace", "-", "--no-progress"]) == 0
    stdout, _ = capsys.readouterr()
    assert hashlib.sha256(stdout.encode("utf-8")).hexdigest() == runs[name].digest
    assert main(["run", str(EXAMPLES / f"{name}.toml"), "--trace", "-", "--json", "-"]) == 2
    assert "cannot both write to stdout" in capsys.readouterr().err


def test_run_reports_action_errors(tmp_path, capsys):
    path = tmp_path / "errors.toml"
    path.write_text(
        """
[cluster]
nodes = 2
[simulation]
duration = "10s"
[[workloads]]
name = "w"
population = 5
rate = 5
[[actions]]
at = "5s"
action = "rest"
method = "GET"
path = "/_security/nothing/here"
""",
        encoding="utf-8",
    )
    assert main(["run", str(path), "--no-progress"]) == 0
    stdout, _ = capsys.readouterr()
    assert "action errors     1" in stdout
    assert "at 5.00s: rest GET /_security/nothing/here (Authorization: Basic <redacted>): [node-0] answered 4" in stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[cluster\nnodes = 3\n", "escache: invalid scenario file ["),
        ("[[workloads]]\nname = 'w'\ncolour = 'red'\n", "escache: workloads[0].colour: unknown field `colour`"),
        (
            "[[actions]]\nat = 'soon'\naction = 'heal'\n",
            "escache: actions[0]: failed to parse setting [at] with value [soon]",
        ),
        ("[[actions]]\nat = '1m'\naction = 'heal'\nnode = 'node-9'\n", "unknown node [node-9]"),
        ("[simulation]\nseed = -1\n", "simulation.seed: invalid value: integer `-1`, expected u64"),
        ("description = 3\n", "description: invalid type: integer `3`, expected a string"),
        (b"\xff\xfe[cluster]", "not UTF-8 text"),
    ],
)
def test_run_with_a_bad_file_exits_2_with_a_message(tmp_path, capsys, content, message):
    path = tmp_path / "bad.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    out = tmp_path / "report.json"
    assert main(["run", str(path), "--no-progress", "--json", str(out)]) == 2
    stdout, stderr = capsys.readouterr()
    assert stdout == ""
    assert message in stderr
    assert stderr.startswith("escache: ") and stderr.count("\n") == 1 and "Traceback" not in stderr
    assert not out.exists()  # nothing written for a refused scenario


def test_run_with_a_missing_file_or_an_unwritable_output_exits_2(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.toml")]) == 2
    assert "escache: cannot read scenario file [" in capsys.readouterr().err
    good = str(EXAMPLES / "security_index_red_recovery.toml")
    assert main(["run", good, "--json", str(tmp_path / "no" / "dir" / "r.json")]) == 2
    _, err = capsys.readouterr()
    assert "escache: cannot write the report to [" in err


# ---- escache demo ----------------------------------------------------------------------------------------


def test_demo_runs_the_stale_window_example(capsys, runs):
    assert main(["demo", "--no-progress"]) == 0
    stdout, stderr = capsys.readouterr()
    assert stderr == ""
    assert "escache demo: stale_window_missed_broadcast" in stdout
    assert f"stale acceptances {runs['stale_window_missed_broadcast'].report['stale_acceptances']:,}" in stdout
    assert main(["demo", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {k: v for k, v in report.items() if k != "scenario"} == runs["stale_window_missed_broadcast"].report


def test_demo_auth_cache_flag_selects_the_replay_demo(capsys):
    assert main(["demo", "--auth-cache", "--keys", "100", "--requests", "500", "--json"]) == 0
    a = json.loads(capsys.readouterr().out)
    assert a["hits"] + a["misses"] == 500 and a["workload"]["seed"] == 0
    # Any of its workload flags selects it too (the invocation `escache demo --keys ...` still works).
    assert main(["demo", "--keys", "100", "--requests", "500", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == a


def test_removals_by_reason_are_counted_per_cache_and_reported():
    """Evictions by reason (REPLACED / INVALIDATED / EVICTED) come from the caches' listeners, trace or not."""
    c = escache.Cluster(nodes=1, seed=3, trace=False, settings={"xpack.security.authc.api_key.cache.max_keys": 2})
    es = c.client()
    keys = [es.security.create_api_key(name=f"k{i}") for i in range(3)]
    auth = c.node("node-0").caches["api_key_auth"]
    # Three pre-warmed puts into a cache of two: the oldest is evicted for size.
    assert auth.removals() == {"REPLACED": 0, "INVALIDATED": 0, "EVICTED": 1}
    es.security.clear_api_key_cache(ids=keys[2]["id"])
    assert auth.removals()["INVALIDATED"] == 1
    assert auth.stats()["evictions"] == 2  # Elasticsearch counts the invalidation as an eviction too
    sim = escache.Simulation(c, seed=0)
    report = sim.run("1s")
    assert report["nodes"]["node-0"]["caches"]["api_key_auth"]["removals"] == auth.removals()


def test_example_notebook_runs_and_shows_the_doc_cache_stale_window():
    """examples/stale_window.ipynb: its code cells run, and the stale node stops at the 5m doc-cache TTL."""
    import pathlib

    pytest.importorskip("pandas")
    nb_path = pathlib.Path(__file__).resolve().parent.parent / "examples" / "stale_window.ipynb"
    nb = json.loads(nb_path.read_text())
    ns: dict = {}
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), str(nb_path), "exec"), ns)  # noqa: S102 - the example notebook's own code
    # The doc was cached at t=0; it expires when strictly more than 5 minutes have passed.
    expected = [(m, 401, 200 if m * 60 <= 300 else 401) for m in range(7)]
    assert ns["timeline"] == expected
    assert ns["report"]["stale_acceptances"] > 0


# ---- issue 8 -------------------------------------------------------------------------------------------


def test_issue8_d03_a_failed_rest_action_shows_no_credentials(tmp_path, capsys):
    """`escache run` and its JSON report show a failed `rest` action as method, path and node, its
    `Authorization` header by scheme only, and never the cluster password in any encoding."""
    import base64

    password = "s3cr3t-pass"
    path = tmp_path / "leak.toml"
    path.write_text(
        f"""
[cluster]
nodes = 2
password = "{password}"
[simulation]
duration = "3s"
[[actions]]
at = "2s"
action = "rest"
method = "GET"
path = "/_nope"
""",
        encoding="utf-8",
    )
    out = tmp_path / "r.json"
    assert main(["run", str(path), "--no-progress", "--json", str(out)]) == 0
    stdout, stderr = capsys.readouterr()
    report = out.read_text(encoding="utf-8")
    (error,) = json.loads(report)["action_errors"]
    assert error["action"] == "rest GET /_nope (Authorization: Basic <redacted>)"
    assert error["error"].startswith("[node-0] answered 4")
    encoded = base64.b64encode(f"elastic:{password}".encode()).decode()
    for text in (stdout, stderr, report):
        assert password not in text and encoded not in text and "Some(" not in text


def test_issue8_d22_an_action_without_its_node_is_refused(untouched_report):
    c, sim = small_sim()
    for action in ("partition", "heal", "stop_node", "start_node", "clear_cache"):
        with pytest.raises(escache.IllegalArgumentError, match=rf"\[action \[{action}\]\.node\] is required"):
            sim.schedule("1s", action)
    with pytest.raises(escache.IllegalArgumentError, match=r"\[action \[invalidate_api_keys\]\.node\] is required"):
        sim.schedule("1s", "invalidate_api_keys", workload="agents", top=1)
    with pytest.raises(escache.IllegalArgumentError, match=r"\[action \[drop_clear_cache\]\.nodes\] is required"):
        sim.schedule("1s", "drop_clear_cache")
    # Nothing was scheduled: the run is the untouched one.
    assert sim.run("30s") == untouched_report[0]
    assert not any(n.partitioned for n in c.nodes)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[[workloads]]\nname = 'w'\nrate = 1e300\n",
            "workloads[0]: workload [w]: rate must be a non-negative number of at most 1000000 requests per virtual second, got [1e300]",
        ),
        (
            "[[workloads]]\nname = 'w'\npopulation = 100_000_000_000\n",
            "workloads[0]: workload [w]: population must be at least 1 and at most 10000000",
        ),
        ("[[workloads]]\nname = 'a'\nrate = 1\n[[workloads]]\n", "[workloads[1]] is empty"),
        (
            "[[actions]]\nat = '1s'\naction = 'clear_cache'\ncache = 'bogus'\nnode = 'node-0'\n",
            "actions[0]: [action [clear_cache].cache]: No cache named [bogus] is found",
        ),
        ("[simulation]\nduration = 1e300\n", "[simulation.duration] must be at most"),
        # Deep nesting is refused by the TOML parser's depth limit (found by fuzz/atheris_scenario.py).
        ("x = " + "[" * 5000 + "]" * 5000 + "\n", "max recursion depth met"),
    ],
)
def test_issue8_d09_unbounded_or_empty_scenario_inputs_are_refused(text, message):
    with pytest.raises(escache.IllegalArgumentError) as info:
        load_scenario(text)
    assert message in str(info.value)


def test_issue8_d24_to_pandas_without_pandas_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    with pytest.raises(escache.MissingDependencyError, match="pip install pandas") as info:
        escache.Cluster(nodes=1, seed=0).events.to_pandas()
    assert isinstance(info.value, ImportError)


def test_issue8_d24_run_with_progress_true_draws_a_bar_and_bad_progress_runs_nothing(capsys):
    c, sim = small_sim()
    before = c.now_nanos
    for bad in ({"progress": "yes"}, {"progress": 3}, {"progress": True, "steps": 0}, {"progress": True, "steps": 2.5}):
        with pytest.raises(escache.IllegalArgumentError):
            sim.run("10s", **bad)
        assert c.now_nanos == before and sim.report()["requests"] == 0
    report = sim.run("10s", progress=True, steps=4)
    assert report["virtual_seconds"] == pytest.approx(10.0)
    err = capsys.readouterr().err
    assert "[" + "#" * 30 + "] 100%" in err and err.endswith("\n")
    assert sim.run("1s", progress=False)["virtual_seconds"] == pytest.approx(11.0)
    assert capsys.readouterr().err == ""


def test_issue8_d24_load_scenario_reads_paths_and_refuses_missing_files(tmp_path, monkeypatch):
    text = "[cluster]\nnodes = 2\n[simulation]\nduration = '5s'\n"
    (tmp_path / "scen.txt").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for source in ("scen.txt", str(tmp_path / "scen.txt"), tmp_path / "scen.txt", text):
        cluster, _, duration = load_scenario(source)
        assert len(cluster.nodes) == 2 and duration == "5s"
    for missing in ("nope.txt", "nope.toml", tmp_path / "nope.toml", "scen"):
        with pytest.raises(
            escache.IllegalArgumentError, match=r"cannot read scenario file \[.*nope|cannot read scenario file \[scen\]"
        ):
            load_scenario(missing)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[simulation]\nduration = '10 minutes'\n", "[simulation.duration]: failed to parse [10 minutes]"),
        (
            "[[workloads]]\nname = 'w'\nstart = '10 minutes'\n",
            "workloads[0]: [workload [w].start]: failed to parse [10 minutes]",
        ),
        (
            "[[actions]]\nat = '10 minutes'\naction = 'heal'\nnode = 'node-0'\n",
            "actions[0]: [at]: failed to parse [10 minutes]",
        ),
        (
            "[[actions]]\nat = '1s'\nevery = 'often'\naction = 'heal'\nnode = 'node-0'\n",
            "actions[0]: failed to parse setting [every] with value [often]",
        ),
    ],
)
def test_issue8_d24_a_bad_duration_names_its_table_and_field(text, message):
    with pytest.raises(escache.IllegalArgumentError) as info:
        load_scenario(text)
    assert message in str(info.value)


# ---- the typed report and the scenario types -------------------------------------------------------------


def test_the_typed_report_round_trips_the_cores_json(runs):
    run = runs["stale_window_missed_broadcast"]
    raw = json.loads(run.sim._sim._report())
    report = run.sim.report()
    assert isinstance(report, SimulationReport)
    assert report.to_dict() == raw
    assert json.loads(report.to_json()) == raw
    assert SimulationReport.from_json(report.to_json()) == report
    # Attributes carry the JSON's key names; outcomes and removal reasons that are not Python names
    # have their own (see escache.report).
    node2 = report.nodes["node-2"]
    assert node2.caches["api_key_doc"] is not None
    assert node2.caches["api_key_doc"].hit_ratio == raw["nodes"]["node-2"]["caches"]["api_key_doc"]["hit_ratio"]
    assert node2.authentications.unauthorized == raw["nodes"]["node-2"]["authentications"]["401"]
    assert (
        node2.caches["api_key_doc"].removals.invalidated
        == raw["nodes"]["node-2"]["caches"]["api_key_doc"]["removals"]["INVALIDATED"]
    )
    assert report.stale_acceptances == raw["stale_acceptances"] > 0
    # The mapping view reads as the dict did.
    assert dict(report) == raw and report["nodes"]["node-2"]["stale_acceptances"] == node2.stale_acceptances
    # Like the dict it reads as, a report is unhashable (it defines equality with dicts).
    assert report == raw
    with pytest.raises(TypeError, match="unhashable"):
        hash(report)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "[[workloads]]\nname = 'a'\n[[workloads]]\nname = 'b'\nrate = 'x'\n",
            'workloads[1].rate: invalid type: string "x", expected f64',
        ),
        (
            {"workloads": [{"name": "a"}, {"name": "b", "rate": "x"}]},
            'workloads[1].rate: invalid type: string "x", expected f64',
        ),
        ("[[workloads]]\nname = 'w'\nratee = 5\n", "workloads[0].ratee: unknown field `ratee`, expected one of"),
        ({"simulation": {"cost_model": {"argon2": "1ms"}}}, "simulation.cost_model.argon2: unknown field `argon2`"),
        (
            "[[actions]]\naction = 'heal'\nnode = 3\n",
            "actions[0]: [action [heal].node]: invalid type: integer `3`, expected a string",
        ),
        (
            {"actions": [{"action": "partition", "nodee": "node-1"}]},
            "actions[0]: [action [partition].nodee]: unknown field `nodee`",
        ),
        ({"cluster": {"seed": -1}}, "cluster.seed: invalid value: integer `-1`, expected u64"),
    ],
)
def test_a_bad_scenario_names_the_path_of_its_field(source, message):
    with pytest.raises(escache.IllegalArgumentError) as info:
        load_scenario(source)
    assert message in str(info.value)


def test_a_dict_scenario_and_the_same_toml_give_the_same_report_and_trace():
    text = """
[cluster]
nodes = 3
seed = 4
[simulation]
duration = "40s"
cost_model = { pbkdf2_per_1000_iterations = "1ms" }
[[workloads]]
name = "agents"
population = 40
rate = 30
popularity = { zipf = 1.1 }
node_choice = { node-0 = 1, node-2 = 2 }
[[actions]]
at = "10s"
action = "invalidate_api_keys"
workload = "agents"
top = 3
node = "node-0"
[[actions]]
at = 15
every = "10s"
action = "partition"
node = "node-1"
"""
    doc = {
        "cluster": {"nodes": 3, "seed": 4},
        "simulation": {"duration": "40s", "cost_model": {"pbkdf2_per_1000_iterations": "1ms"}},
        "workloads": [
            {
                "name": "agents",
                "population": 40,
                "rate": 30,
                "popularity": {"zipf": 1.1},
                "node_choice": {"node-0": 1, "node-2": 2},
            }
        ],
        "actions": [
            {"at": "10s", "action": "invalidate_api_keys", "workload": "agents", "top": 3, "node": "node-0"},
            {"at": datetime.timedelta(seconds=15), "every": "10s", "action": "partition", "node": "node-1"},
        ],
    }
    runs = []
    for source in (text, doc):
        cluster, sim, duration = load_scenario(source)
        runs.append((sim.run(duration), cluster.events.rows()))
    assert runs[0] == runs[1]
    assert runs[0][0].requests > 0
