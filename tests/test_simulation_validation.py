"""The simulator refuses bad workload, action and scenario descriptions with Elasticsearch-style
errors, and a refused description changes nothing."""

from __future__ import annotations

import pytest
from simulation_helpers import small_sim

import escache
from escache.simulation import load_scenario

# ---- validation: refused descriptions change nothing ------------------------------------------------------


BAD_WORKLOADS = [
    ({"name": "w", "colour": "red"}, "[workload [w].colour]: unknown field `colour`"),
    (
        {"name": "w", "kind": "password"},
        "[workload [w].kind]: unknown variant `password`, expected one of `api_key`, `service_token`, `replay`",
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
