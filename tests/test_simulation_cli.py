"""``escache run`` and ``escache demo``: the report and the trace they write, their errors, the
removals by reason, and the example notebook."""

from __future__ import annotations

import hashlib
import json

import pytest
from simulation_helpers import EXAMPLES

import escache
from escache.cli import main
from escache.simulation import TRACE_SCHEMA_VERSION

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
    assert "100%" in stderr and "70.0/70.0 s virtual" in stderr and stderr.endswith("\n")
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
