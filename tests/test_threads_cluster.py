"""Several Python threads sharing one ``Cluster`` and one ``Simulation`` (issue 8, point 4).

Every thread is joined with a timeout and must have finished: a deadlock fails the test instead of
hanging the suite. Afterwards the shared state is checked against what the threads did: each
request they saw answered left exactly one ``rest_request`` event, the clock moved by exactly the
sum of the advances, and the simulation's requests each ended in exactly one outcome.

The locking rules these tests hold the binding to are in ``src/python/mod.rs``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import escache

JOIN_TIMEOUT = 120  # seconds of wall time; a debug build on a busy machine is slow, a deadlock is forever


def run_threads(targets: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Runs each target in its own thread, all started together; returns their results. Any thread
    still alive after ``JOIN_TIMEOUT`` (a deadlock) or that raised fails the test."""
    results: dict[str, Any] = {}
    errors: dict[str, BaseException] = {}
    barrier = threading.Barrier(len(targets))

    def wrap(name: str, fn: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            barrier.wait()
            try:
                results[name] = fn()
            except BaseException as e:  # noqa: BLE001 - reported below
                errors[name] = e

        return run

    threads = [threading.Thread(target=wrap(n, f), name=n, daemon=True) for n, f in targets.items()]
    for t in threads:
        t.start()
    deadline = time.monotonic() + JOIN_TIMEOUT
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    alive = [t.name for t in threads if t.is_alive()]
    assert not alive, f"threads still running after {JOIN_TIMEOUT}s (deadlock?): {alive}"
    assert not errors, f"threads raised: {errors!r}"
    return results


def rest_requests(cluster: escache.Cluster, what: str) -> int:
    return sum(1 for e in cluster.events if e["kind"] == "rest_request" and e["key"] == what)


AUTHENTICATE = "GET /_security/_authenticate"


def test_issue8_d04_threads_share_a_cluster_without_deadlock():
    c = escache.Cluster(nodes=3, seed=4)
    key = c.perform_request(
        "POST", "/_security/api_key", headers={"Authorization": c.basic_auth_header()}, body={"name": "k"}
    ).body
    api_key = {"Authorization": f"ApiKey {key['encoded']}"}
    rounds = 400

    def requests() -> int:
        answered = 0
        for _ in range(rounds):
            r = c.perform_request("GET", "/_security/_authenticate", headers=api_key, node="node-0")
            assert r.status == 200, r.body
            assert r.body["api_key"]["id"] == key["id"]
            answered += 1
        return answered

    def clients() -> int:
        es = c.client(api_key=key["encoded"], node="node-1")
        admin = c.client(node="node-1")
        for i in range(rounds // 3):
            assert es.security.authenticate()["api_key"]["id"] == key["id"]
            if i % 10 == 0:
                assert admin.security.clear_api_key_cache(ids="*")["_nodes"]["total"] >= 2
        return rounds // 3

    def advances() -> int:
        for _ in range(rounds):
            c.advance("1s")
        return rounds

    def restarts() -> int:
        node = c.node("node-2")
        answered = 0
        for _ in range(rounds // 5):
            node.stop()
            with pytest.raises(escache.NodeUnavailableError):
                c.perform_request("GET", "/_security/_authenticate", headers=api_key, node="node-2")
            node.start()
            assert c.perform_request("GET", "/_security/_authenticate", headers=api_key, node="node-2").status == 200
            answered += 1
        return answered

    def readers() -> int:
        for _ in range(rounds):
            for n in c.nodes:
                repr(n)
                for name in n.caches:
                    view = n.caches[name]
                    assert all(isinstance(k, str) for k in view.keys())  # noqa: SIM118 - CacheView.keys() is checked
                    assert len(view) >= 0
                    stats = view.stats()
                    assert min(stats.values()) >= 0
                    repr(view)
            assert c.security_index.health == "green"
            repr(c.security_index)
            assert c.now >= 0
            len(c.events)
        return rounds

    done = run_threads(
        {"requests": requests, "clients": clients, "advances": advances, "restarts": restarts, "readers": readers}
    )
    # Consistent afterwards: the clock moved by exactly the advances, every answered request left
    # exactly one event, the nodes are all back, and the cluster still answers.
    assert c.now_nanos == done["advances"] * 1_000_000_000
    assert rest_requests(c, AUTHENTICATE) == done["requests"] + done["clients"] + done["restarts"]
    assert all(n.running for n in c.nodes)
    assert c.perform_request("GET", "/_security/_authenticate", headers=api_key).status == 200


def busy_simulation(seed: int = 3) -> tuple[escache.Cluster, escache.Simulation]:
    c = escache.Cluster(nodes=3, seed=seed)
    sim = escache.Simulation(c, seed=seed)
    sim.add_workload(name="agents", population=40, rate=200, popularity="zipf", node_choice="random")
    sim.schedule("20s", "invalidate_api_keys", workload="agents", top=3, node="node-0")
    return c, sim


def test_issue8_d04_threads_share_a_simulation_without_deadlock():
    c, sim = busy_simulation()
    api_key: dict[str, str] = {}
    calls: list[tuple[str, float]] = []

    def uses_the_cluster(cluster: escache.Cluster) -> None:
        # A callable action runs with no lock held: it may call back into the cluster and the simulation.
        r = cluster.perform_request(
            "GET", "/_security/_authenticate", headers={"Authorization": cluster.basic_auth_header()}
        )
        assert r.status == 200
        assert sim.in_flight >= 0
        calls.append(("uses_the_cluster", cluster.now))

    def raises(cluster: escache.Cluster) -> None:
        calls.append(("raises", cluster.now))
        raise ValueError("boom")

    sim.schedule("1s", uses_the_cluster, every="5s")
    sim.schedule("2s", raises, every="10s")
    steps = 60

    def runner() -> float:
        for i in range(1, steps + 1):
            sim.run_until(i)
        return c.now

    def readers() -> int:
        seen = 0
        while c.now < steps:
            assert sim.in_flight >= 0
            report = sim.report()
            assert report["requests"] == report["finished"] + report["in_flight"]
            sim.timeline()
            # The population is created whole in the first slice: before it, none; after, all 40.
            assert len(sim.credential_ids("agents")) in (0, 40)
            seen += 1
        assert len(sim.credential_ids("agents")) == 40
        return seen

    def builders() -> int:
        added = 0
        for i in range(10):
            sim.add_workload(name=f"late-{i}", population=2, rate=1)
            sim.schedule(f"{30 + i}s", "partition", node="node-2")
            sim.schedule(f"{30 + i}s", "heal", node="node-2")
            sim.schedule(f"{40 + i}s", lambda cluster: calls.append(("late", cluster.now)))
            added += 1
        return added

    def cluster_users() -> int:
        n = 0
        while c.now < steps:
            if not api_key:
                r = c.perform_request(
                    "POST",
                    "/_security/api_key",
                    headers={"Authorization": c.basic_auth_header()},
                    body={"name": "side"},
                )
                api_key["Authorization"] = f"ApiKey {r.body['encoded']}"
            assert c.perform_request("GET", "/_security/_authenticate", headers=api_key, node="node-1").status == 200
            c.node("node-0").caches["api_key_auth"].stats()
            n += 1
        return n

    done = run_threads({"runner": runner, "readers": readers, "builders": builders, "cluster_users": cluster_users})
    assert done["runner"] == steps
    report = sim.report()
    assert report["requests"] == report["finished"] + report["in_flight"]
    assert report["virtual_seconds"] == steps
    # Each callable ran at each of its times; the one that raised is recorded each time.
    assert [t for name, t in calls if name == "uses_the_cluster"] == [1 + 5 * i for i in range(12)]
    assert [t for name, t in calls if name == "raises"] == [2, 12, 22, 32, 42, 52]
    failures = [e for e in report["action_errors"] if e["action"].startswith("callable ")]
    assert [(e["time"], e["error"]) for e in failures] == [(t, "ValueError: boom") for t in (2, 12, 22, 32, 42, 52)]
    # Scheduled while the run went on: each ran once, at its time or (if already past) right away.
    late = sorted(t for name, t in calls if name == "late")
    assert len(late) == 10 and all(t >= 40 for t in late)
    assert len(report["workloads"]) == 11
    assert not c.node("node-2").partitioned


def test_issue8_d04_two_threads_running_one_simulation_stay_consistent():
    c, sim = busy_simulation(seed=8)
    reference_cluster, reference = busy_simulation(seed=8)
    reference.run("40s")

    def runner(step: float) -> Callable[[], None]:
        def run() -> None:
            t = 0.0
            while t < 40:
                t = min(40.0, t + step)
                sim.run_until(t)

        return run

    run_threads({"a": runner(0.7), "b": runner(1.3)})
    # The runs interleave in slices between events, each slice whole: the result is the one run.
    assert sim.report() == reference.report()
    assert c.events.rows() == reference_cluster.events.rows()
