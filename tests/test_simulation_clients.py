"""Client models in scenarios (issue 16.3, rules CA-CL1 to CA-CL5): the 429 storm after clearing every
cache, as elasticsearch-py clients amplify it. Expected relations are derived by hand from the rules:
each logical request makes at most 1 + 3 attempts; a retried attempt here is always a 429 (no node
stops); a request keeps its 429 only after four rejected attempts; clients that do not retry 429
(Java, Go) leave the run as it is without a client."""

from __future__ import annotations

import copy

import pytest
from simulation_helpers import jsonl_digest, run_example, scenario_doc

import escache
from escache.simulation import load_scenario

NAME = "clear_all_caches_429_storm_clients"


def test_python_clients_retry_each_429_up_to_three_times(runs):
    run = runs[NAME]
    r = run.report
    retries, rejected = r["retries"], r["authentications"]["429"]
    assert retries > 0 and rejected > 0
    assert r.retries == retries == r["workloads"]["services"]["retries"]
    assert r["amplification"] == pytest.approx((r["requests"] + retries) / r["requests"])
    assert 1.0 < r["amplification"] <= 4.0
    # Every rejected attempt is in the trace once: retried (its detail says so) or final.
    rejections = [row for row in run.rows if row[2] == "auth_rejected"]
    assert len(rejections) == rejected + retries
    assert sum("(retry " in row[5] for row in rejections) == retries
    # A logical request ends in 429 only after its third retry was rejected too.
    assert sum("(retry 3/3 " in row[5] for row in rejections) == rejected
    # Each logical request ends once.
    assert r["requests"] == sum(r["authentications"].values()) + r["in_flight"]


@pytest.mark.parametrize("preset", ["elasticsearch-java", "go-elasticsearch"])
def test_clients_that_do_not_retry_429_leave_the_storm_as_it_is(preset):
    doc = scenario_doc(NAME)
    bare = copy.deepcopy(doc)
    del bare["workloads"][0]["client"]
    doc["workloads"][0]["client"] = preset
    base, other = run_example(NAME, doc=bare), run_example(NAME, doc=doc)
    assert other.digest == base.digest
    assert other.report["retries"] == 0 and other.report["amplification"] == 1.0
    assert other.report["authentications"] == base.report["authentications"]


def test_retries_cut_the_final_429s_of_the_storm(runs):
    doc = scenario_doc(NAME)
    del doc["workloads"][0]["client"]
    bare = run_example(NAME, doc=doc)
    assert bare.report["retries"] == 0
    assert runs[NAME].report["authentications"]["429"] < bare.report["authentications"]["429"]


def test_client_table_errors_name_the_field():
    doc = scenario_doc(NAME)
    doc["workloads"][0]["client"] = {"preset": "elasticsearch-py", "backoff": "exponential:1s,speed=2"}
    with pytest.raises(escache.IllegalArgumentError, match=r"client\.backoff"):
        load_scenario(doc)
    doc["workloads"][0]["client"] = {"retry_on": [42]}
    with pytest.raises(escache.IllegalArgumentError, match=r"retry_on"):
        load_scenario(doc)
    doc["workloads"][0]["client"] = "urllib3"
    with pytest.raises(escache.IllegalArgumentError, match=r"client"):
        load_scenario(doc)


def test_a_client_run_is_deterministic(runs):
    again = run_example(NAME)
    assert again.digest == runs[NAME].digest == jsonl_digest(again.cluster)
