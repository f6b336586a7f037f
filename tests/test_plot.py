"""report.plot.*: each plot draws the report's own figures (per node, per sample interval) and returns
what it drew on; escache run --plot writes them as PNG; without matplotlib, a clear error."""

from __future__ import annotations

import io
import itertools
import math
import sys

import pytest
from simulation_helpers import EXAMPLES, action_time

import escache
from escache.cli import main
from escache.simulation import ProgressBar

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _lines(ax):
    return {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}


def _deltas(rows, get):
    return [get(b) - get(a) for a, b in itertools.pairwise(rows)]


def test_the_timeline_carries_stale_acceptances_and_interval_latency(runs):
    run = runs["stale_window_missed_broadcast"]
    rows = run.sim.timeline()
    for node, n in run.report.nodes.items():
        mine = [r for r in rows if r["node"] == node]
        assert mine[-1]["stale_acceptances"] == n.stale_acceptances
        assert all(a["stale_acceptances"] <= b["stale_acceptances"] for a, b in itertools.pairwise(mine))
        # The sample at 0 s closes an interval in which no request finished.
        assert mine[0]["latency_ms"] is None
        assert all(r["latency_ms"]["p50"] <= r["latency_ms"]["p99"] <= r["latency_ms"]["max"] for r in mine[1:])


def test_stale_plots_each_nodes_stale_acceptances_and_marks_revocation_drop_and_expiry(runs):
    run = runs["stale_window_missed_broadcast"]
    ax = run.report.plot.stale()
    lines = _lines(ax)
    for node, n in run.report.nodes.items():
        assert sum(lines[node].get_ydata()) == n.stale_acceptances
    revoked = action_time("stale_window_missed_broadcast", "invalidate_api_keys") / 1e9
    marks: dict[str, list[float]] = {}
    for line in ax.get_lines():
        if line.get_gid():
            marks.setdefault(line.get_gid(), []).append(line.get_xdata()[0])
    assert marks["revocation"] == [revoked] and marks["broadcast dropped"] == [revoked]
    # The TTL expiries: one line at each time a stale entry expired, after the revocation.
    expiries = sorted({e.ended.time for e in run.report.explain_stale() if e.ended and e.ended.how == "expired"})
    assert expiries and min(expiries) > revoked
    assert sorted(marks["TTL expiry"]) == expiries
    expiries = {e.ended.time for e in run.report.explain_stale()}
    assert sorted(marks["TTL expiry"]) == sorted(expiries) and all(600 < t < 610 for t in expiries)
    assert {t.get_text() for t in ax.get_legend().get_texts()} >= {"node-2", "revocation", "TTL expiry"}


def test_hit_ratio_is_per_interval_per_node(runs):
    run = runs["stale_window_missed_broadcast"]
    ax = run.report.plot.hit_ratio(cache="api_key_doc")
    assert ax.get_title() == "api_key_doc hit ratio per node"
    rows = [r for r in run.sim.timeline() if r["node"] == "node-1"]
    hits = _deltas(rows, lambda r: r["caches"]["api_key_doc"]["hits"])
    misses = _deltas(rows, lambda r: r["caches"]["api_key_doc"]["misses"])
    expected = [h / (h + m) if h + m else math.nan for h, m in zip(hits, misses, strict=True)]
    got = list(_lines(ax)["node-1"].get_ydata())
    assert got == pytest.approx(expected, nan_ok=True)
    with pytest.raises(escache.IllegalArgumentError, match=r"\[cache\] must be one of"):
        run.report.plot.hit_ratio(cache="api_key")


def test_crypto_draws_queue_cpu_and_429_panels(runs):
    run = runs["clear_all_caches_hash_storm"]
    fig = run.report.plot.crypto()
    queue, cpu, rejected = fig.axes
    for node, n in run.report.nodes.items():
        rows = [r for r in run.sim.timeline() if r["node"] == node]
        assert list(_lines(queue)[node].get_ydata()) == [r["max_queue_depth"] for r in rows[1:]]
        # The largest queue of any interval is the report's largest.
        assert max(r["max_queue_depth"] for r in rows) == n.max_crypto_queue_depth
        # Cores busy x interval length adds up to the node's hashing CPU.
        xs = [r["time"] for r in rows]
        busy = sum(y * (b - a) for y, a, b in zip(_lines(cpu)[node].get_ydata(), xs, xs[1:], strict=False))
        assert busy == pytest.approx(n.hashing_cpu_seconds - rows[0]["hashing_cpu_seconds"])
        assert sum(_lines(rejected)[node].get_ydata()) == n.authentications.too_busy == 0
    assert max(max(line.get_ydata()) for line in queue.get_lines()) > 0


def test_latency_plots_the_chosen_quantile(runs):
    run = runs["clear_all_caches_hash_storm"]
    ax = run.report.plot.latency(quantile="max")
    rows = [r for r in run.sim.timeline() if r["node"] == "node-0"]
    expected = [math.nan if r["latency_ms"] is None else r["latency_ms"]["max"] for r in rows]
    assert list(_lines(ax)["node-0"].get_ydata()) == pytest.approx(expected, nan_ok=True)
    with pytest.raises(escache.IllegalArgumentError, match=r"\[quantile\]"):
        run.report.plot.latency(quantile="p42")


def test_plots_draw_on_given_axes_and_save_pngs(runs, tmp_path):
    run = runs["service_tokens_partial_update"]
    _fig, ax = plt.subplots()
    assert run.report.plot.stale(ax=ax) is ax
    written = run.report.plot.save(tmp_path / "plots")
    assert [p.name for p in written] == [
        "stale.png",
        "hit_ratio_file_service_account_token.png",
        "hit_ratio_index_service_account_token.png",
        "crypto.png",
        "latency.png",
    ]
    for p in written:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_report_read_from_json_cannot_plot(runs):
    report = escache.report.SimulationReport.from_json(runs["service_tokens_partial_update"].report.to_json())
    with pytest.raises(escache.IllegalStateError):
        report.plot.stale()


def test_without_matplotlib_plots_and_cli_fail_clearly(runs, monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(escache.MissingDependencyError, match=r"escache\[plot\]") as info:
        runs["service_tokens_partial_update"].report.plot.stale()
    assert isinstance(info.value, ImportError)
    out = tmp_path / "r.json"
    args = ["run", str(EXAMPLES / "service_tokens_partial_update.toml"), "--no-progress", "--json", str(out)]
    assert main([*args, "--plot", str(tmp_path / "p")]) == 2
    assert "--plot needs matplotlib" in capsys.readouterr().err
    assert not out.exists()  # refused before the run


def test_cli_plot_writes_the_pngs(tmp_path, capsys):
    assert (
        main(["run", str(EXAMPLES / "service_tokens_partial_update.toml"), "--no-progress", "--plot", str(tmp_path)])
        == 0
    )
    assert "plots: " in capsys.readouterr().out
    assert (tmp_path / "stale.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "crypto.png").exists() and (tmp_path / "latency.png").exists()


def test_progress_bar_is_tqdm_and_falls_back_to_text_without_widgets(monkeypatch):
    def no_widgets(**_):
        raise ImportError("IProgress not found")

    monkeypatch.setattr(escache.simulation, "tqdm_auto", no_widgets)
    stream = io.StringIO()
    bar = ProgressBar(stream, 60.0, "demo", requests=lambda: 1234)
    bar(0.5)
    bar(1.0)
    text = stream.getvalue()
    assert "demo: 100%" in text and "60.0/60.0 s virtual" in text and "requests/s" in text


def test_run_with_progress_drives_a_tqdm_auto_bar_over_virtual_time(monkeypatch):
    """``sim.run(progress=True)`` uses ``tqdm.auto`` (the notebook widget in Jupyter): the bar's total is
    the run's virtual seconds, its updates add up to it, and it shows the simulated requests per second."""
    bars = []

    class Recorder:
        def __init__(self, **kwargs):
            self.kwargs, self.n, self.postfix, self.closed = kwargs, 0.0, "", False
            bars.append(self)

        def update(self, n):
            self.n += n

        def set_postfix_str(self, s, refresh=True):
            self.postfix = s

        def close(self):
            self.closed = True

    monkeypatch.setattr(escache.simulation, "tqdm_auto", Recorder)
    sim = escache.Simulation(escache.Cluster(nodes=2, seed=0), seed=0)
    sim.add_workload(name="keys", population=4, rate=40)
    report = sim.run("12s", progress=True, steps=6)
    (bar,) = bars
    assert bar.kwargs["total"] == 12.0 and "s virtual" in bar.kwargs["bar_format"]
    assert bar.n == pytest.approx(12.0) and bar.closed
    assert report.requests > 0 and bar.postfix.endswith(" requests/s")
