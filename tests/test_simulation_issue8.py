"""Issue 8 regressions of the simulator: failed REST actions without credentials, actions missing
their node, bounded scenario inputs, ``load_scenario`` paths and bad durations."""

from __future__ import annotations

import json
import sys

import pytest
from simulation_helpers import small_sim

import escache
from escache.cli import main
from escache.simulation import load_scenario

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
    # The tqdm bar, in a terminal's form: virtual seconds done, and a final newline.
    assert "100%" in err and "10.0/10.0 s virtual" in err and "requests/s" in err and err.endswith("\n")
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
