"""Time inside a request (rules CA-TM1 to CA-TM4, ``[simulation.latency]``): the timed document GET
in the trace, determinism, the counter race of AK-R2.4 at scale and its counter-less what-if, and the
errors of the table. The exact single-request figures are derived in ``src/sim/timing_tests.rs``."""

from __future__ import annotations

import pytest

import escache
from escache.simulation import load_scenario

S = 1_000_000_000
MS = 1_000_000
T = 1075 * MS  # when the invalidation lands

# One node; every key is fetched at the start (each GET 50 ms) and its document lives 1 s, so from
# about 1.05 s the 200 keys are fetched again: the invalidation at 1.075 s lands among those GETs.
RACE = """
[cluster]
nodes = 1
seed = 3
[settings]
"xpack.security.authc.api_key.doc_cache.ttl" = "1s"
[simulation]
seed = 3
{simulation}
[simulation.latency]
index_get = "50ms"
[[workloads]]
name = "keys"
population = 200
rate = 5000
[[actions]]
at = "1075ms"
action = "invalidate_api_keys"
workload = "keys"
all = true
node = "node-0"
"""


def run(extra: str = "", until: str = "3s") -> tuple[escache.Simulation, list[tuple]]:
    _, sim, _ = load_scenario(RACE.replace("{simulation}", extra))
    sim.run(until)
    return sim, [tuple(r) for r in sim.trace.rows()]


def test_ca_tm2_every_get_takes_its_latency_and_shows_in_the_trace():
    sim, rows = run(until="1s")
    started = {(r[4], r[0]) for r in rows if r[2] == "index_get" and r[5] == "started"}
    done = [(r[4], r[0]) for r in rows if r[2] == "index_get" and r[5].startswith("done")]
    assert started and done
    # Each response arrives 50 ms after its GET started, for the same key.
    assert all((key, t - 50 * MS) in started for key, t in done)
    # A GET per doc-cache miss; those still in flight at 1 s are the requests in flight.
    misses = sim.report().nodes["node-0"].caches["api_key_doc"].misses
    assert len(started) == misses
    assert len(started) - len(done) == sim.in_flight
    # The report's GET latencies: every GET took 50 ms.
    get = sim.report().index_get_ms
    assert get is not None and get.max == 50.0 and get.mean == 50.0
    assert "index GET latency " in escache.simulation.format_report(sim.report())


def test_ca_tm1_same_seed_same_trace_and_the_arrivals_do_not_move(tmp_path):
    a, _ = run(until="2s")
    b, _ = run(until="2s")
    a.trace.to_jsonl(tmp_path / "a.jsonl")
    b.trace.to_jsonl(tmp_path / "b.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    # The latency draws come from their own stream: without the table, the same requests arrive.
    _, plain, _ = load_scenario(RACE.replace("{simulation}", "").replace('index_get = "50ms"', ""))
    plain_report = plain.run("2s")
    assert plain_report.requests == a.report().requests
    # Without the table the report is the one it always was: no GET latencies.
    assert "index_get_ms" not in plain_report.to_dict() and plain_report.index_get_ms is None


def test_ca_tm2_the_counter_confines_stale_acceptances_to_gets_started_before_the_clear():
    # The invalidation lands at T = 1.075 s, while the documents first cached at about 50 ms
    # (1 s TTL) are being fetched again. With the counter, a document fetched by a GET that started
    # before it is not cached; later requests read the invalidated document. Only requests whose GET
    # read the index before T can still succeed: they finish by T + 50 ms (+ 2 µs hashing).
    _, rows = run()
    stale = [r[0] for r in rows if r[2] == "auth_success" and r[5] == "stale"]
    assert stale, "no GET was in flight at the clear: the scenario does not race"
    assert max(stale) <= T + 50 * MS + 2_000
    refused = [r for r in rows if r[2] == "index_get" and r[5].startswith("done: not cached")]
    assert refused and all(T < r[0] <= T + 50 * MS for r in refused)


def test_ca_tm3_without_the_counter_the_revoked_keys_stay_accepted_until_the_ttl():
    with_counter, _ = run()
    sim, rows = run("doc_cache_counter = false")
    stale = [r[0] for r in rows if r[2] == "auth_success" and r[5] == "stale"]
    # The documents cached by GETs in flight at the clear answer for their 1 s TTL.
    assert max(stale) > T + 50 * MS + 500 * MS
    assert max(stale) <= T + 50 * MS + S
    assert sim.report().stale_acceptances > with_counter.report().stale_acceptances
    assert not [r for r in rows if r[2] == "index_get" and r[5].startswith("done: not cached")]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[simulation.latency]\nindex_gte = '1ms'\n", "unknown operation [index_gte]; known: index_get, index_write"),
        (
            "[simulation.latency]\nindex_get = {distribution = 'lognormal', median = '5ms'}\n",
            "[simulation.latency.index_get.p99] is required by a lognormal distribution",
        ),
        (
            "[simulation.latency]\nindex_get = {distribution = 'uniform', low = '5ms', high = '1ms'}\n",
            "[simulation.latency.index_get.low] must not be above [simulation.latency.index_get.high]",
        ),
        ("[simulation.latency]\nindex_get = 'soon'\n", "simulation.latency.index_get"),
        ("[simulation]\ndoc_cache_counter = 'no'\n", "simulation.doc_cache_counter: invalid type"),
    ],
)
def test_ca_tm1_bad_latency_tables_are_refused_naming_the_field(table, message):
    with pytest.raises(escache.IllegalArgumentError) as info:
        load_scenario(table)
    assert message in str(info.value)


def test_ca_tm1_the_python_face_takes_the_same_table():
    c = escache.Cluster(nodes=1, seed=0)
    sim = escache.Simulation(c, seed=0, latency={"index_get": {"distribution": "exponential", "mean": 0.002}})
    sim.add_workload(name="w", population=5, rate=100)
    sim.run("1s")
    assert any(r[2] == "index_get" for r in sim.trace.rows())
    with pytest.raises(escache.IllegalArgumentError, match=r"\[doc_cache_counter\] must be true or false"):
        escache.Simulation(c, doc_cache_counter="no")  # type: ignore[arg-type]
