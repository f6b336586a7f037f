"""Helpers shared by the ``tests/test_simulation*.py`` suites of the simulator: the example scenarios,
running them, reading their files, and the trace rows grouped by node and key."""

from __future__ import annotations

import hashlib
import io
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import escache
from escache.report import SimulationReport
from escache.simulation import load_scenario

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PACKAGED = ROOT / "python" / "escache" / "scenarios"
S = 1_000_000_000  # nanoseconds per second
MS = 1_000_000

REQUIRED_EXAMPLES = (
    "stale_window_missed_broadcast",
    "clear_all_caches_hash_storm",
    "service_tokens_partial_update",
    "security_index_red_recovery",
    "clear_all_caches_429_storm_clients",
)

# The cost model's defaults (src/sim/cost.rs): 6.5 ms per 1,000 PBKDF2 iterations, 2 µs per salted
# SHA-256; Elasticsearch's pbkdf2 and pbkdf2_stretch use 10,000 iterations.
COST_NANOS = {"pbkdf2": 65 * MS, "pbkdf2_stretch": 65 * MS, "ssha256": 2_000}


# ---- running the examples once per seed ------------------------------------------------------------


@dataclass
class Run:
    cluster: Any
    sim: Any
    report: SimulationReport
    rows: list[tuple]
    digest: str


def jsonl_digest(cluster) -> str:
    buf = io.StringIO()
    cluster.events.to_jsonl(buf)
    return hashlib.sha256(buf.getvalue().encode("utf-8")).hexdigest()


def run_example(name: str, seed: int | None = None, doc: dict | None = None) -> Run:
    source = doc if doc is not None else EXAMPLES / f"{name}.toml"
    cluster, sim, duration = load_scenario(source, seed=seed)
    report = sim.run(duration)
    return Run(cluster, sim, report, cluster.events.rows(), jsonl_digest(cluster))


def scenario_doc(name: str) -> dict[str, Any]:
    return tomllib.loads((EXAMPLES / f"{name}.toml").read_text(encoding="utf-8"))


def at(value: str | float) -> int:
    """An action's `at` in nanoseconds (time values or seconds, as the scenario files write them)."""
    return escache.parse_time_value(value, "at") if isinstance(value, str) else round(value * S)


def action_time(name: str, action: str) -> int:
    (a,) = [a for a in scenario_doc(name)["actions"] if a["action"] == action]
    return at(a["at"])


def by_node_key(rows, kinds: set[str], cache: str | None = None) -> dict[tuple[str, str], list[tuple]]:
    out: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for r in rows:
        if r[2] in kinds and (cache is None or r[3] == cache):
            out[(r[1], r[4])].append(r)
    return out


AUTH_KINDS = {"auth_success", "auth_failure", "auth_rejected"}


def small_sim():
    c = escache.Cluster(nodes=3, seed=1)
    sim = escache.Simulation(c, seed=1)
    sim.add_workload(name="agents", population=50, rate=40, popularity="zipf")
    return c, sim
