"""The typed simulation report and the scenario types: round trips of the core's JSON, errors naming
the path of their field, and dict and TOML scenarios giving the same run."""

from __future__ import annotations

import datetime
import json

import pytest

import escache
from escache.report import SimulationReport
from escache.simulation import load_scenario

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
