"""escache.sweep: one scenario over a grid of values and seeds, on any executor, with the same rows
whatever ran them; failed runs recorded; resumable Parquet output; grid keys and metrics checked
before anything runs; the command line and the plot."""

from __future__ import annotations

import concurrent.futures
import concurrent.futures.process
import multiprocessing
import sys

import pytest

import escache
from escache.cli import _grid, _seed_list, main
from escache.simulation import _read_scenario, load_scenario
from escache.sweep import DEFAULT_METRICS, _apply

# escache.sweep is the function; its module, for monkeypatching.
sweep_module = sys.modules["escache.sweep"]

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

TTL = "settings.xpack.security.authc.api_key.doc_cache.ttl"
RATE = "workloads.agents.rate"

# A few virtual seconds of traffic: node-1 misses the revocation's clear-cache broadcast and serves the
# revoked keys from its doc cache until their documents expire.
TINY = """
name = "tiny"
[cluster]
nodes = 2
[settings]
"xpack.security.authc.api_key.doc_cache.ttl" = "10s"
[simulation]
duration = "30s"
[[workloads]]
name = "agents"
population = 20
rate = 10
[[actions]]
at = "10s"
action = "drop_clear_cache"
nodes = ["node-1"]
[[actions]]
at = "12s"
action = "invalidate_api_keys"
workload = "agents"
top = 5
node = "node-0"
"""

GRID = {TTL: ["5s", "15s"], RATE: [5, 10]}
SEEDS = range(3)


def _same(a, b):
    pd.testing.assert_frame_equal(a.drop(columns="wall_time_s"), b.drop(columns="wall_time_s"))


@pytest.fixture(scope="module")
def serial():
    return escache.sweep(TINY, GRID, seeds=SEEDS, executor="serial", progress=False)


class CountingExecutor(concurrent.futures.Executor):
    """Runs each task at once in this process, counting them."""

    def __init__(self):
        self.submitted = 0

    def submit(self, fn, /, *args, **kwargs):
        self.submitted += 1
        future = concurrent.futures.Future()
        future.set_result(fn(*args, **kwargs))
        return future


def test_rows_are_points_then_seeds_with_grid_values_seed_metrics_wall_time_and_error(serial):
    assert list(serial.columns) == [TTL, RATE, "seed", *DEFAULT_METRICS, "wall_time_s", "error"]
    expected = [(ttl, rate, seed) for ttl in GRID[TTL] for rate in GRID[RATE] for seed in SEEDS]
    assert list(serial[[TTL, RATE, "seed"]].itertuples(index=False, name=None)) == expected
    assert serial["error"].isna().all()
    assert (serial["wall_time_s"] > 0).all()
    # Each row holds the figures of that run, as a direct run of the same scenario, point and seed reports.
    doc = _apply(_read_scenario(TINY), {TTL: "15s", RATE: 10})
    _, sim, duration = load_scenario(doc, seed=2)
    report = sim.run(duration)
    row = serial.iloc[-1]
    assert row["stale_acceptances"] == report.stale_acceptances > 0
    assert row["longest_stale_window_seconds"] == report.longest_stale_window_seconds
    assert row["authentications.too_busy"] == report.authentications.too_busy
    hits = sum(n.caches["api_key_auth"].hits for n in report.nodes.values())
    misses = sum(n.caches["api_key_auth"].misses for n in report.nodes.values())
    assert row["hit_ratio.api_key_auth"] == hits / (hits + misses)
    # A longer doc cache TTL keeps revoked keys accepted for longer (R2.2), seed by seed.
    short = serial[serial[TTL] == "5s"]["longest_stale_window_seconds"].to_numpy()
    long = serial[serial[TTL] == "15s"]["longest_stale_window_seconds"].to_numpy()
    assert (long >= short).all() and (long > short).any()


def test_process_pools_give_the_same_rows_as_a_serial_sweep(serial):
    _same(serial, escache.sweep(TINY, GRID, seeds=SEEDS, workers=2, progress=False))
    # forkserver (and spawn) start fresh interpreters: the run function is found by import.
    ctx = multiprocessing.get_context("forkserver")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        some = escache.sweep(TINY, {TTL: ["15s"], RATE: [10]}, seeds=[2], executor=pool, progress=False)
    _same(serial.iloc[[-1]].reset_index(drop=True), some)


def test_a_dask_local_cluster_gives_the_same_rows_as_a_serial_sweep(serial):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as lc,
        distributed.Client(lc) as client,
    ):
        _same(serial, escache.sweep(TINY, GRID, seeds=SEEDS, executor=client, progress=False))
        _same(serial, escache.sweep(TINY, GRID, seeds=SEEDS, executor=client.get_executor(), progress=False))


def test_a_ray_pool_gives_the_same_rows_as_a_serial_sweep(serial):
    ray = pytest.importorskip(
        "ray",
        reason="ray is not in the test extra (an 80 MB wheel and about 14 s to start a local instance on two cores); "
        "pip install ray to run this test",
    )
    from ray.util.multiprocessing import Pool

    pool = Pool(processes=2)
    try:
        _same(serial, escache.sweep(TINY, GRID, seeds=SEEDS, executor=pool, progress=False))
    finally:
        pool.terminate()
        ray.shutdown()


def test_a_failing_run_is_recorded_with_its_error_and_the_sweep_goes_on(monkeypatch):
    real = sweep_module.load_scenario

    def flaky(doc, *, seed=None):
        if seed == 1 and doc["settings"][TTL.removeprefix("settings.")] == "15s":
            raise escache.IllegalStateError("the simulator broke")
        return real(doc, seed=seed)

    monkeypatch.setattr(sweep_module, "load_scenario", flaky)
    df = escache.sweep(TINY, {TTL: ["5s", "15s"]}, seeds=[0, 1], executor="serial", progress=False)
    assert df["error"].isna().tolist() == [True, True, True, False]
    assert df["error"].iloc[3] == "IllegalStateError: the simulator broke"
    assert df["requests"].iloc[:3].notna().all() and pd.isna(df["requests"].iloc[3])

    class Dying(CountingExecutor):
        def submit(self, fn, /, *args, **kwargs):
            future = concurrent.futures.Future()
            future.set_exception(concurrent.futures.process.BrokenProcessPool("a worker died"))
            return future

    df = escache.sweep(TINY, {TTL: ["5s"]}, seeds=[0], executor=Dying(), progress=False)
    assert df["error"].tolist() == ["BrokenProcessPool: a worker died"]


def test_resuming_from_a_partial_parquet_runs_only_the_missing_runs(serial, tmp_path):
    out = tmp_path / "runs.parquet"
    grid = {TTL: ["5s", "15s"], RATE: [10]}
    full = escache.sweep(TINY, grid, seeds=range(2), executor="serial", progress=False, out=out)
    _same(serial[(serial[RATE] == 10) & (serial["seed"] < 2)].reset_index(drop=True), full)
    stored = pd.read_parquet(out)
    _same(full, stored)
    # A sweep killed after two runs, one of which failed: the failed one and the two never run are run.
    partial = stored.iloc[:2].copy()
    partial.loc[1, "error"] = "BrokenProcessPool: a worker died"
    partial.to_parquet(out, index=False)
    counting = CountingExecutor()
    resumed = escache.sweep(TINY, grid, seeds=range(2), executor=counting, progress=False, out=out)
    assert counting.submitted == 3
    _same(full, resumed)
    _same(full, pd.read_parquet(out))
    # More seeds later: only the new seed runs; a finished sweep runs nothing.
    counting = CountingExecutor()
    more = escache.sweep(TINY, grid, seeds=range(3), executor=counting, progress=False, out=out)
    assert counting.submitted == 2 and len(more) == 6
    counting = CountingExecutor()
    escache.sweep(TINY, grid, seeds=range(2), executor=counting, progress=False, out=out)
    assert counting.submitted == 0
    assert len(pd.read_parquet(out)) == 6  # the third seed's rows stay in the file
    with pytest.raises(escache.IllegalArgumentError, match=r"cannot resume from .*columns"):
        escache.sweep(TINY, grid, seeds=range(2), metrics=["requests"], executor="serial", progress=False, out=out)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            "workloads.agentz.rate",
            r"grid key \[workloads.agentz.rate\]: the scenario has no workload \[agentz\]; it has workloads \['agents'\]",
        ),
        ("workloads.agents.rat", r"grid key \[workloads.agents.rat\]: .*unknown field `rat`, expected one of .*`rate`"),
        ("cluster.nodez", r"grid key \[cluster.nodez\]: .*unknown field `nodez`, expected one of .*`nodes`"),
        (
            "clusters.nodes",
            r"grid key \[clusters.nodes\]: the scenario has no table \[clusters\]; grid keys start with one of \['cluster', 'settings'",
        ),
        (
            "actions.2.at",
            r"grid key \[actions.2.at\]: the scenario has no action \[2\]; it has actions at indexes 0 to 1 \(actions have no names\)",
        ),
        ("workloads.agents.popularity.zipf", r"\[popularity\] is not a table in the scenario"),
    ],
)
def test_a_grid_key_that_does_not_exist_is_refused_naming_it_before_anything_runs(key, message):
    counting = CountingExecutor()
    with pytest.raises(escache.IllegalArgumentError, match=message):
        escache.sweep(TINY, {key: [1]}, executor=counting, progress=False)
    assert counting.submitted == 0


def test_bad_values_and_metrics_are_refused_before_anything_runs():
    counting = CountingExecutor()
    with pytest.raises(
        escache.IllegalArgumentError, match=r"grid point 1 \{.*\"x\"\}: workloads\[0\].rate: invalid type"
    ):
        escache.sweep(TINY, {RATE: [5, "x"]}, executor=counting, progress=False)
    with pytest.raises(escache.IllegalArgumentError, match=r"unknown setting \[xpack.nope\]"):
        escache.sweep(TINY, {"settings.xpack.nope": [1]}, executor=counting, progress=False)
    with pytest.raises(
        escache.IllegalArgumentError,
        match=r"metric \[nodes.node-7.stale_acceptances\]: \[nodes\] has no \[node-7\]; it has \['node-0', 'node-1'\]",
    ):
        escache.sweep(TINY, {RATE: [5]}, metrics=["nodes.node-7.stale_acceptances"], executor=counting, progress=False)
    with pytest.raises(escache.IllegalArgumentError, match=r"metric \[latency_ms\] names a table"):
        escache.sweep(TINY, {RATE: [5]}, metrics=["latency_ms"], executor=counting, progress=False)
    assert counting.submitted == 0


def test_metrics_are_dotted_paths_into_the_typed_report_and_points_may_be_listed():
    df = escache.sweep(
        TINY,
        [{RATE: 5}, {RATE: 10, "simulation.duration": "20s"}],
        seeds=[4],
        metrics=["nodes.node-1.stale_acceptances", "authentications.429", "hit_ratio.api_key_doc", "virtual_seconds"],
        executor="serial",
        progress=False,
    )
    assert list(df.columns[:3]) == [RATE, "simulation.duration", "seed"]
    assert df["virtual_seconds"].tolist() == [30.0, 20.0]
    doc = _apply(_read_scenario(TINY), {RATE: 5})
    _, sim, duration = load_scenario(doc, seed=4)
    report = sim.run(duration)
    assert df["nodes.node-1.stale_acceptances"].iloc[0] == report.nodes["node-1"].stale_acceptances
    assert df["authentications.429"].iloc[0] == report.authentications.too_busy


def test_the_command_line_runs_a_sweep_writes_parquet_and_prints_a_summary(tmp_path, capsys):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY, encoding="utf-8")
    out = tmp_path / "runs.parquet"
    status = main(
        [
            "sweep",
            str(scenario),
            "--grid",
            f"{TTL}=5s,15s",
            "--seeds",
            "0..2",
            "--workers",
            "2",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert status == 0
    text = capsys.readouterr().out
    assert "escache sweep: tiny: 2 points x 2 seeds = 4 runs (2 processes" in text
    assert "mean ± standard deviation over seeds" in text
    header = next(line for line in text.splitlines() if line.startswith(TTL))
    assert header.split()[1:5] == ["runs", "failed", "requests", "success"] and "longest stale (s)" in header
    df = pd.read_parquet(out)
    assert df["seed"].tolist() == [0, 1, 0, 1]
    for ttl in ("5s", "15s"):
        stale = df[df[TTL] == ttl]["stale_acceptances"]
        row = next(line for line in text.splitlines() if line.startswith(ttl + " "))
        assert f"{stale.mean():.1f} ± {stale.std():.1f}" in row or f"{stale.mean():.3f} ± {stale.std():.3f}" in row
    assert main(["sweep", str(scenario), "--grid", "workloads.agents.nope=1"]) == 2
    assert "grid key [workloads.agents.nope]" in capsys.readouterr().err


def test_grid_values_are_toml_scalars_and_seeds_a_count_a_range_or_a_list():
    assert _grid(['a=5m,100,0.5,true,"x,y",[1, 2]']) == {"a": ["5m", 100, 0.5, True, "x,y", [1, 2]]}
    assert _seed_list("3") == [0, 1, 2]
    assert _seed_list("5..8") == [5, 6, 7]
    assert _seed_list("1,4,9") == [1, 4, 9]
    with pytest.raises(escache.IllegalArgumentError, match="--grid takes KEY=A,B"):
        _grid(["novalue"])
    with pytest.raises(escache.IllegalArgumentError, match="--seeds takes"):
        _seed_list("x")


def test_the_plot_draws_a_line_through_the_mean_and_a_min_max_band_per_hue(serial, tmp_path, capsys):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    try:
        ax = escache.sweep_plot(serial, x=TTL, y="stale_acceptances", hue=RATE)
        lines = ax.get_lines()
        assert [line.get_label() for line in lines] == [f"{RATE}=5", f"{RATE}=10"]
        assert len(ax.collections) == 2  # one band per hue
        for line, band, rate in zip(lines, ax.collections, GRID[RATE], strict=True):
            runs = serial[serial[RATE] == rate]
            by_ttl = [runs[runs[TTL] == ttl]["stale_acceptances"] for ttl in GRID[TTL]]
            assert list(line.get_xdata()) == [5.0, 15.0]  # time values drawn as seconds
            assert list(line.get_ydata()) == pytest.approx([s.mean() for s in by_ttl])
            ys = band.get_paths()[0].vertices[:, 1]
            assert ys.min() == min(s.min() for s in by_ttl) and ys.max() == max(s.max() for s in by_ttl)
        with pytest.raises(escache.IllegalArgumentError, match=r"no column \[nope\]"):
            escache.sweep_plot(serial, x="nope", y="stale_acceptances")
    finally:
        plt.close("all")
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY, encoding="utf-8")
    plots = tmp_path / "plots"
    cmd = [
        "sweep",
        str(scenario),
        "--grid",
        f"{TTL}=5s,15s",
        "--metric",
        "stale_acceptances",
        "--plot",
        str(plots),
        "--no-progress",
    ]
    assert main([*cmd, "--workers", "1"]) == 0
    assert (plots / "stale_acceptances.png").stat().st_size > 0
    assert "plots: " in capsys.readouterr().out


def test_the_progress_bar_counts_runs_on_stderr_and_progress_false_is_silent(capsys):
    escache.sweep(TINY, {RATE: [5]}, seeds=[0, 1], executor="serial", progress=True)
    err = capsys.readouterr().err
    assert "sweep" in err and "2/2" in err
    escache.sweep(TINY, {RATE: [5]}, seeds=[0], executor="serial", progress=False)
    assert capsys.readouterr().err == ""
