"""Tests of `escache demo` (escache.cli.main).

Expected numbers are not copied from a run: they come from an independent pure-Python simulation of
the API key auth cache (R2.1 in docs/rules.md: expire-after-access ttl, max weight max_keys, weight 1; the cache
rules R6.1-R6.9) and of its removal listener's thrashing monitor (R2.7).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import OrderedDict
from dataclasses import dataclass, field

import pytest

import escache
from escache.cli import main

NANOS_PER_SECOND = 1_000_000_000
MONITOR_INTERVAL = 300 * NANOS_PER_SECOND  # R2.7: at most one check every 300 s
WARN_THRESHOLD = 15 * 300  # R2.7: 15 evictions/s over 300 s


@dataclass
class Expected:
    requests: int = 0
    hits: int = 0
    misses: int = 0
    evictions: int = 0
    size_evictions: int = 0
    warnings: list[tuple[int, int]] = field(default_factory=list)
    final_count: int = 0
    elapsed_nanos: int = 0


def seconds_to_nanos(seconds: float) -> int:
    # Durations given as float seconds are rounded to the nearest nanosecond.
    return math.floor(seconds * NANOS_PER_SECOND + 0.5)


def simulate(trace, rate: float, max_keys: int, ttl_nanos: int) -> Expected:
    """The auth cache (R2.1, R6.1-R6.9) fed one request every 1/rate s, with the R2.7 monitor."""
    interval = seconds_to_nanos(1.0 / rate)
    lru: OrderedDict[int, int] = OrderedDict()  # key -> access time, least recent first
    e = Expected(requests=len(trace), elapsed_nanos=interval * max(0, len(trace) - 1))
    counter = 0
    # R2.7: Elasticsearch's last-check time starts at 0 while nanoTime is far above 300 s, so the
    # first size eviction already runs a check. None stands for "never checked".
    last_checked = None

    def prune(now: int) -> None:
        nonlocal counter, last_checked
        while lru:
            tail, accessed = next(iter(lru.items()))
            if not (len(lru) > max_keys or now - accessed > ttl_nanos):
                return
            del lru[tail]
            e.evictions += 1
            # R2.7: only EVICTED with count() >= max_keys (count after the entry left) is counted.
            if len(lru) >= max_keys:
                counter += 1
                e.size_evictions += 1
                if last_checked is None or now - last_checked >= MONITOR_INTERVAL:
                    last_checked = now
                    total, counter = counter, 0
                    if total >= WARN_THRESHOLD:
                        e.warnings.append((now, total))

    for i, key in enumerate(trace):
        now = i * interval
        accessed = lru.get(key)
        if accessed is not None and not now - accessed > ttl_nanos:
            e.hits += 1
        else:
            e.misses += 1
            if accessed is not None:
                del lru[key]  # put over the expired entry: REPLACED, not counted
        lru[key] = now
        lru.move_to_end(key)
        prune(now)
    e.final_count = len(lru)
    return e


def demo_args(keys, requests, rate, max_keys, ttl="24h", seed=0, alpha=1.0, json_out=True):
    args = [
        "demo",
        "--keys", str(keys),
        "--requests", str(requests),
        "--rate", str(rate),
        "--max-keys", str(max_keys),
        f"--ttl={ttl}",
        "--seed", str(seed),
        "--alpha", str(alpha),
    ]  # fmt: skip
    return args + (["--json"] if json_out else [])


def run_json(capsys, *args, **kwargs) -> dict:
    assert main(demo_args(*args, **kwargs)) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return json.loads(out)


def expected_for(keys, requests, rate, max_keys, ttl="24h", seed=0, alpha=1.0) -> Expected:
    trace = escache.zipf_trace(keys, requests, alpha, seed)
    return simulate(trace, rate, max_keys, escache.parse_time_value(ttl))


# ----------------------------------------------------------------------------------------------------


def test_table_output_names_settings_and_reports_hit_ratio(capsys):
    assert main(demo_args(500, 3000, 100, 100, ttl="1h", seed=5, json_out=False)) == 0
    out, err = capsys.readouterr()
    assert err == ""
    exp = expected_for(500, 3000, 100, 100, ttl="1h", seed=5)
    assert "xpack.security.authc.api_key.cache.max_keys" in out
    assert "xpack.security.authc.api_key.cache.ttl" in out
    assert "1h (expire after access)" in out
    lines = {line.strip().split("  ")[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert f"{exp.hits / exp.requests:.4f}" in lines["hit ratio"]
    assert f"{exp.hits:,}" in lines["hits"]
    assert f"{exp.misses:,}" in lines["misses (hash verifications)"]
    assert f"{exp.final_count:,}" in lines["entries cached at the end"]
    assert "3,000 authentications" in out
    assert "0 in 1 five-minute windows" in out  # 30 s of traffic: no WARN possible (R2.7)
    assert "Possible thrashing" not in out


def test_json_report_matches_the_rules(capsys):
    report = run_json(capsys, 2000, 20_000, 50, 300, ttl="2m", seed=9)
    exp = expected_for(2000, 20_000, 50, 300, ttl="2m", seed=9)
    assert report["hits"] + report["misses"] == report["workload"]["requests"] == 20_000
    assert report["hits"] == exp.hits
    assert report["misses"] == exp.misses
    assert report["hit_ratio"] == pytest.approx(exp.hits / exp.requests)
    assert report["evictions"] == exp.evictions
    assert report["size_limit_evictions"] == exp.size_evictions
    assert report["thrashing_warnings"] == len(exp.warnings)
    assert report["final_cache_count"] == exp.final_count
    assert report["cache_enabled"] is True
    assert report["workload"]["virtual_seconds"] == pytest.approx(exp.elapsed_nanos / 1e9)
    assert report["settings"] == {
        "xpack.security.authc.api_key.cache.max_keys": 300,
        "xpack.security.authc.api_key.cache.ttl": "2m",
    }
    assert report["workload"]["distinct_api_keys"] == 2000
    assert report["workload"]["seed"] == 9
    assert report["workload"]["rate_per_second"] == 50


def test_heavy_traffic_produces_thrashing_warnings(capsys):
    # 40,000 requests at 100/s: 400 s, so the 300 s check of R2.7 happens; about half the requests
    # miss a 1,000-entry cache over 200,000 keys, i.e. ~50 size evictions/s, well over 15/s.
    args = (200_000, 40_000, 100, 1000)
    exp = expected_for(*args)
    assert exp.elapsed_nanos >= MONITOR_INTERVAL
    assert len(exp.warnings) >= 1  # the simulated R2.7 monitor warns: the CLI must too

    report = run_json(capsys, *args)
    assert report["thrashing_warnings"] == len(exp.warnings)
    assert report["size_limit_evictions"] == exp.size_evictions
    assert report["evictions"] == exp.evictions
    assert report["thrashing_warnings_per_hour"] == pytest.approx(len(exp.warnings) / (exp.elapsed_nanos / 1e9 / 3600))

    assert main(demo_args(*args, json_out=False)) == 0
    out, _ = capsys.readouterr()
    at, n = exp.warnings[0]
    assert n >= WARN_THRESHOLD
    assert (
        f"Possible thrashing for API key authentication cache, [{n}] eviction due to cache size "
        f"within last [300] seconds"
    ) in out
    minutes, seconds = divmod(round(at / NANOS_PER_SECOND), 60)
    assert f"first WARN at {minutes}m{seconds:02d}s" in out


def test_same_eviction_rate_below_threshold_does_not_warn(capsys):
    # The same workload at 10/s: ~5 size evictions/s, under R2.7's 15/s, over 800 s.
    args = (200_000, 8_000, 10, 1000)
    exp = expected_for(*args)
    assert exp.elapsed_nanos >= 2 * MONITOR_INTERVAL
    assert exp.size_evictions > 0
    assert exp.warnings == []
    report = run_json(capsys, *args)
    assert report["size_limit_evictions"] == exp.size_evictions
    assert report["thrashing_warnings"] == 0


def test_heavy_but_short_traffic_cannot_warn_before_300_seconds(capsys):
    # 400,000 requests at 2,000/s span (400,000 - 1) / 2,000 < 300 s: R2.7's first check runs at the
    # first size eviction (and resets the counter), the next one only 300 s later, so no WARN, however
    # many evictions.
    requests, rate, max_keys = 400_000, 2000, 1000
    report = run_json(capsys, 200_000, requests, rate, max_keys)
    elapsed = (requests - 1) / rate
    assert elapsed < 300
    assert report["workload"]["virtual_seconds"] == pytest.approx(elapsed)
    assert report["thrashing_warnings"] == 0
    assert report["size_limit_evictions"] >= WARN_THRESHOLD  # the threshold alone would be met
    # With a 24 h TTL nothing expires in 200 s: once full, every miss evicts exactly one entry at the
    # size limit.
    assert report["evictions"] == report["size_limit_evictions"] == report["misses"] - max_keys
    assert report["final_cache_count"] == max_keys


def test_ttl_expiry_evictions_are_not_size_evictions(capsys):
    # 50 keys never fill a 1,000-entry cache; a 2 s TTL at 1 request/s expires entries: evictions,
    # but none at the size limit (R2.7 logs only EVICTED while count() >= max_keys).
    args = (50, 600, 1, 1000)
    exp = expected_for(*args, ttl="2s")
    assert exp.evictions > 0 and exp.size_evictions == 0
    report = run_json(capsys, *args, ttl="2s")
    assert report["evictions"] == exp.evictions
    assert report["size_limit_evictions"] == 0
    assert report["thrashing_warnings"] == 0
    assert report["hits"] == exp.hits


@pytest.mark.parametrize(
    ("ttl", "message"),
    [
        (
            "10",
            "failed to parse setting [xpack.security.authc.api_key.cache.ttl] with value [10] as a "
            "time value: unit is missing or unrecognized",
        ),
        ("1.5h", "failed to parse [1.5h], fractional time values are not supported"),
        (
            "-2s",
            "failed to parse setting [xpack.security.authc.api_key.cache.ttl] with value [-2s] as a "
            "time value: negative durations are not supported",
        ),
    ],
)
def test_bad_ttl_exits_2_with_elasticsearch_text(capsys, ttl, message):
    assert main(demo_args(100, 10, 100, 10, ttl=ttl)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"escache: {message}\n"


def test_bad_ttl_exit_status_of_the_process():
    proc = subprocess.run(
        [sys.executable, "-m", "escache.cli", "demo", "--requests", "10", "--ttl", "10"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "unit is missing or unrecognized" in proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize("ttl", ["0s", "0", "-1"])
def test_non_positive_ttl_disables_the_cache(capsys, ttl):
    assert main(demo_args(1000, 500, 100, 100, ttl=ttl, json_out=False)) == 0
    out, _ = capsys.readouterr()
    assert "the cache is disabled (ttl <= 0)" in out
    assert "hit ratio" not in out

    report = run_json(capsys, 1000, 500, 100, 100, ttl=ttl)
    assert report["cache_enabled"] is False
    # Every authentication verifies the hash: no hits, nothing cached, nothing evicted.
    assert (report["hits"], report["misses"]) == (0, 500)
    assert report["evictions"] == report["final_cache_count"] == report["thrashing_warnings"] == 0
    assert report["settings"]["xpack.security.authc.api_key.cache.ttl"] == ttl


def test_negative_max_keys_fails_like_the_builder(capsys):
    assert main(demo_args(100, 10, 100, -1)) == 2
    _, err = capsys.readouterr()
    assert err == "escache: maximumWeight < 0\n"


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--rate", "0", "escache: --rate must be positive, got [0.0]\n"),
        ("--rate", "-5", "escache: --rate must be positive, got [-5.0]\n"),
        ("--requests", "-1", "escache: --requests must not be negative, got [-1]\n"),
    ],
)
def test_bad_workload_arguments_exit_2(capsys, flag, value, message):
    args = demo_args(100, 10, 100, 10)
    args[args.index(flag) + 1] = value
    assert main(args) == 2
    assert capsys.readouterr().err == message


def test_bad_workload_parameters_exit_2(capsys):
    assert main(demo_args(0, 10, 100, 10)) == 2
    assert "[keys] must be at least [1]" in capsys.readouterr().err


def test_same_seed_same_report_other_seed_other_report(capsys):
    a = run_json(capsys, 5000, 5000, 100, 200, seed=1)
    b = run_json(capsys, 5000, 5000, 100, 200, seed=1)
    c = run_json(capsys, 5000, 5000, 100, 200, seed=2)
    assert a == b
    assert (a["hits"], a["evictions"]) != (c["hits"], c["evictions"])


def test_zero_requests(capsys):
    report = run_json(capsys, 10, 0, 100, 10)
    assert report["hits"] == report["misses"] == 0
    assert report["hit_ratio"] == 0.0
    assert report["workload"]["virtual_seconds"] == 0.0


def test_a_subcommand_is_required():
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2


def test_issue8_d15_first_warn_comes_300s_after_the_first_size_eviction():
    # Every request is a new key, 20/s, into a 100-entry cache: the first size eviction is at 5 s (the
    # 101st key). R2.7's first check runs right then and resets the counter, so the first WARN is at
    # 305 s and counts the 6,000 evictions after the first one (not 300 s and 5,901 evictions, as a
    # window starting at node start would give).
    rate, max_keys = 20, 100
    trace = list(range(max_keys + 700 * rate + 1))
    report = escache.replay_api_key_auth_cache(trace, interval=1 / rate, max_keys=max_keys, ttl="24h")
    warnings = [(round(at * NANOS_PER_SECOND), n) for at, n in report["warnings"]]  # (seconds, count)
    first_eviction = max_keys * NANOS_PER_SECOND // rate
    assert warnings[:2] == [
        (first_eviction + MONITOR_INTERVAL, 300 * rate),
        (first_eviction + 2 * MONITOR_INTERVAL, 300 * rate),
    ]
    exp = simulate(trace, rate, max_keys, escache.parse_time_value("24h"))
    assert warnings == exp.warnings
    assert report["size_evictions"] == exp.size_evictions == 700 * rate + 1
