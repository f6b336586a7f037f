"""Replay workloads (issue 16, point 4; rules CA-RP1 to CA-RP4 in docs/rules.md): the synthetic audit
log generator, scenarios replaying a log file found beside them, outcome counts derived by hand from
the log, fail-closed errors, and determinism."""

from __future__ import annotations

import datetime
import itertools
import json
from pathlib import Path

import pytest
from simulation_helpers import EXAMPLES, jsonl_digest

import escache
from escache import audit
from escache.cli import main
from escache.simulation import load_scenario


def _scenario(tmp_path: Path, log: str, extra: str = "") -> Path:
    scenario = tmp_path / "replay.toml"
    scenario.write_text(
        f"""
[cluster]
nodes = 3
[simulation]
seed = 5
duration = "2m"
[[workloads]]
name = "prod"
kind = "replay"
path = "{log}"
{extra}
""",
        encoding="utf-8",
    )
    return scenario


def test_the_generator_is_deterministic_and_writes_the_audit_layout(tmp_path):
    a, b, c = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    kwargs = {"nodes": 2, "api_keys": 3, "service_tokens": 1, "rate": 4, "duration": "30s", "failure_share": 0.25}
    counts = audit.generate(a, seed=1, **kwargs)
    assert audit.generate(b, seed=1, **kwargs) == counts
    assert a.read_bytes() == b.read_bytes()
    audit.generate(c, seed=2, **kwargs)
    assert c.read_bytes() != a.read_bytes()
    events = [json.loads(line) for line in a.read_text(encoding="utf-8").splitlines()]
    assert len(events) == counts["lines"] == counts["authentications"] + counts["successes"]
    actions = [e["event.action"] for e in events]
    assert actions.count("authentication_success") == counts["successes"]
    assert actions.count("authentication_failed") == counts["failures"] > 0
    # Every success is followed by its request's access_granted event.
    assert actions.count("access_granted") == counts["successes"]
    first = events[0]
    assert list(first)[:2] == ["type", "timestamp"] and first["type"] == "audit"
    assert datetime.datetime.strptime(first["timestamp"], "%Y-%m-%dT%H:%M:%S,%f%z").year == 2026
    key = next(e for e in events if e.get("authentication.type") == "API_KEY")
    assert len(key["apikey.id"]) == 20 and key["apikey.name"].startswith("key-")
    token = next(e for e in events if e.get("authentication.type") == "TOKEN")
    assert token["authentication.token.type"] == "_service_account_index"
    with pytest.raises(escache.IllegalArgumentError, match=r"\[failure_share\] must be in \[0, 1\]"):
        audit.generate(a, failure_share=2)


def test_ca_rp2_a_generated_log_replays_to_its_own_counts(tmp_path):
    counts = audit.generate(
        tmp_path / "log.json", nodes=4, api_keys=6, service_tokens=2, rate=5, duration="90s", seed=3, failure_share=0.1
    )
    cluster, sim, duration = load_scenario(_scenario(tmp_path, "log.json"))
    report = sim.run(duration)
    wl = report["workloads"]["prod"]
    # Every authentication of the log is presented once and ends as it did: a success with the
    # credential's secret, a failure with a wrong one. access_granted lines are skipped.
    assert wl["requests"] == counts["authentications"]
    assert wl["authentications"]["success"] == counts["successes"]
    assert wl["authentications"]["401"] == counts["failures"]
    assert report.stale_acceptances == 0
    summary = audit.summary(tmp_path / "log.json")
    assert summary["skipped"] == counts["successes"]
    assert summary["events"] == counts["authentications"]
    assert len(summary["nodes"]) == 4
    # Same scenario, same seed: the same trace bytes.
    again_cluster, again, _ = load_scenario(_scenario(tmp_path, "log.json"))
    assert again.run(duration) == report
    assert jsonl_digest(again_cluster) == jsonl_digest(cluster)


def test_ca_rp1_a_malformed_log_fails_the_scenario_naming_file_and_line(tmp_path):
    audit.generate(tmp_path / "log.json", api_keys=2, rate=2, duration=5, seed=0)
    lines = (tmp_path / "log.json").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1][:-5]  # cut short
    (tmp_path / "log.json").write_text("\n".join(lines) + "\n", encoding="utf-8")
    log = tmp_path / "log.json"
    with pytest.raises(escache.IllegalArgumentError) as e:
        load_scenario(_scenario(tmp_path, "log.json"))
    assert str(e.value).startswith(f"workloads[0]: [workload [prod].path]: malformed audit event at {log}:2: ")
    with pytest.raises(escache.IllegalArgumentError, match="cannot read"):
        load_scenario(_scenario(tmp_path, "missing.json"))
    # The synthetic laws' fields are refused on a replay.
    audit.generate(tmp_path / "ok.json", api_keys=2, rate=2, duration=5, seed=0)
    with pytest.raises(escache.IllegalArgumentError, match=r"\[workload \[prod\]\.rate\] does not apply to a replay"):
        load_scenario(_scenario(tmp_path, "ok.json", "rate = 5"))


def test_ca_rp4_csv_records_from_a_python_iterable_are_shifted_and_scaled():
    cluster = escache.Cluster(2, trace=True)
    sim = escache.Simulation(cluster, seed=0)
    rows = (
        {
            "time": f"2026-01-01T00:00:{s:02d}Z",
            "node": n,
            "credential": "elastic/fleet-server/t1",
            "kind": "service_token",
        }
        for s, n in [(10, "a"), (14, "b"), (18, "a")]
    )
    sim.add_workload(name="r", kind="replay", format="csv", records=rows, speed=2.0, start="1s")
    report = sim.run("10s")
    assert report["workloads"]["r"]["authentications"]["success"] == 3
    # Real 10 s, 14 s and 18 s play at 1 s + 0, 2 and 4 s; real node `a` on node-0, `b` on node-1.
    rows_out = [(r[0], r[1]) for r in cluster.events.rows() if r[2] == "auth_success"]
    assert [n for _, n in rows_out] == ["node-0", "node-1", "node-0"]
    times = [t for t, _ in rows_out]
    assert [(b - a) / 1e9 for a, b in itertools.pairwise(times)] == [2.0, 2.0]


def test_the_example_revokes_a_key_of_the_log_and_its_later_requests_fail():
    example = EXAMPLES / "replay_revoke_from_audit_log.toml"
    log = [json.loads(line) for line in (EXAMPLES / "audit_sample.json").read_text(encoding="utf-8").splitlines()]
    auth = [e for e in log if e["event.action"] in ("authentication_success", "authentication_failed")]

    def at(e):
        return datetime.datetime.strptime(e["timestamp"], "%Y-%m-%dT%H:%M:%S,%f%z").timestamp()

    start = at(auth[0])
    key = audit.summary(EXAMPLES / "audit_sample.json")["credentials"][1]["real"]
    revoked_at = 150.0
    flipped = [
        e
        for e in auth
        if e["event.action"] == "authentication_success" and e.get("apikey.id") == key and at(e) - start >= revoked_at
    ]
    failures = sum(e["event.action"] == "authentication_failed" for e in auth)
    _cluster, sim, duration = load_scenario(example)
    report = sim.run(duration)
    outcomes = report["workloads"]["production"]["authentications"]
    assert len(flipped) > 0
    assert outcomes["401"] == failures + len(flipped)
    assert outcomes["success"] == len(auth) - failures - len(flipped)
    assert report.stale_acceptances == 0


def test_audit_gen_cli_writes_the_generators_bytes(tmp_path, capsys):
    out = tmp_path / "cli.json"
    assert main(["audit-gen", str(out), "--api-keys", "3", "--rate", "2", "--duration", "20", "--seed", "4"]) == 0
    assert "authentications" in capsys.readouterr().out
    audit.generate(tmp_path / "py.json", api_keys=3, rate=2, duration=20, seed=4)
    assert out.read_bytes() == (tmp_path / "py.json").read_bytes()
    # `escache run` finds the log beside the scenario whatever the working directory.
    scenario = _scenario(tmp_path, "cli.json")
    assert main(["run", str(scenario), "--no-progress"]) == 0
