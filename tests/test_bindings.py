"""The Python binding of ``Cluster`` and ``Simulation`` (``src/python/``) under bad input, faults and
Ctrl-C (issue 8, points 5, 7, 9, 23 and 25). Threads are in ``test_threads_cluster.py``."""

from __future__ import annotations

import datetime
import os
import signal
import threading
import time

import pytest

import escache
from escache.errors import BrokenStateError, EscacheError, IllegalArgumentError, IllegalArgumentTypeError

# ---- point 5: a panic inside the core breaks the object for good -------------------------------------


def test_issue8_d02_a_panic_message_never_reaches_stderr():
    """Rust's default hook prints a panic's message, which may quote request data (a slice panic
    prints the whole string, credentials included): escache's own panics print only their place."""
    import subprocess
    import sys

    code = (
        "import escache\n"
        "c = escache.Cluster(nodes=1, seed=0)\n"
        "try:\n"
        "    c._testing_panic()\n"
        "except escache.BrokenStateError:\n"
        "    print('broken')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "broken"
    assert "escache: internal error at src/python/cluster.rs:" in out.stderr
    assert "a panic with the cluster locked" not in out.stderr


def test_issue8_d05_a_panic_under_the_cluster_lock_breaks_the_cluster_and_its_views_for_good():
    c = escache.Cluster(nodes=2, seed=1)
    node, index = c.node("node-1"), c.security_index
    view = node.caches["api_key_auth"]
    with pytest.raises(BrokenStateError) as info:
        c._testing_panic()  # the hook advances the clock by 1 ns, then panics: state half-updated
    assert isinstance(info.value, EscacheError) and isinstance(info.value, RuntimeError)
    assert "build a new cluster" in str(info.value)
    # Every later call on the cluster and on everything sharing its state refuses, every time.
    for call in (
        lambda: c.now,
        lambda: c.advance("1s"),
        lambda: c.perform_request("GET", "/", headers={"Authorization": c.basic_auth_header()}),
        lambda: c.client().info(),
        lambda: c.nodes,
        lambda: node.running,
        lambda: node.stop(),
        lambda: len(view),
        lambda: view.stats(),
        lambda: index.health,
        lambda: index.create(),
        lambda: repr(c),
        lambda: len(c.events),
        lambda: escache.Simulation(c),
    ):
        for _ in range(2):
            with pytest.raises(BrokenStateError):
                call()
    # Other clusters are not affected.
    assert escache.Cluster(nodes=1).advance("1s") == 1.0


def test_issue8_d05_a_panic_in_a_simulation_breaks_it_and_its_cluster():
    c = escache.Cluster(nodes=2, seed=1)
    sim = escache.Simulation(c, seed=1)
    sim.add_workload(name="w", population=5, rate=10)
    sim.run("2s")
    with pytest.raises(BrokenStateError, match="simulation is broken"):
        sim._sim._testing_panic()
    for call in (
        lambda: sim.in_flight,
        lambda: sim.run("1s"),
        lambda: sim.report(),
        lambda: sim.schedule("1s", "partition", node="node-0"),
        lambda: sim.add_workload(name="x", rate=1),
        lambda: c.now,
        lambda: c.perform_request("GET", "/"),
    ):
        with pytest.raises(BrokenStateError):
            call()


# ---- point 7: Ctrl-C between slices -----------------------------------------------------------------


def heavy(seed: int = 5) -> tuple[escache.Cluster, escache.Simulation]:
    c = escache.Cluster(nodes=3, seed=seed)
    sim = escache.Simulation(c, seed=seed)
    sim.add_workload(name="agents", population=200, rate=3_000, popularity="zipf", node_choice="random")
    sim.schedule("30s", "invalidate_api_keys", workload="agents", top=5, node="node-0", every="30s")
    return c, sim


def test_issue8_d07_ctrl_c_stops_a_long_run_quickly_and_the_run_resumes_where_it_stopped():
    c, sim = heavy()
    sent: list[float] = []

    def interrupt() -> None:
        time.sleep(0.5)
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)  # a real SIGINT, as Ctrl-C sends

    threading.Thread(target=interrupt, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        sim.run("10h")  # hours of work
    latency = time.monotonic() - sent[0]
    # Signals are checked every 50 ms of wall time; allow a slow, busy machine.
    assert latency < 1.5, f"KeyboardInterrupt came {latency:.2f}s after SIGINT"
    stopped_at = c.now
    assert 0 < stopped_at < 36_000
    report = sim.report()
    assert report["requests"] == report["finished"] + report["in_flight"]
    # Resuming goes on from there: the same as a run that was never interrupted.
    until = stopped_at + 5
    sim.run_until(until)
    ref_c, ref = heavy()
    ref.run_until(until)
    assert sim.report() == ref.report()
    assert c.events.rows() == ref_c.events.rows()


# ---- point 9: bad arguments get typed errors naming them ---------------------------------------------

BAD_ARGUMENTS = [
    # (call, error class, built-in it also is, text the message names)
    (lambda c, s: s.schedule(1e300, "partition", node="node-0"), IllegalArgumentError, ValueError, "[at]"),
    (lambda c, s: s.schedule(10**30, "partition", node="node-0"), IllegalArgumentError, ValueError, "[at]"),
    (
        lambda c, s: s.schedule("1s", "partition", node="node-0", every=1e300),
        IllegalArgumentError,
        ValueError,
        "[every]",
    ),
    (lambda c, s: s.schedule(1e300, lambda cluster: None), IllegalArgumentError, ValueError, "[at]"),
    (lambda c, s: s.run(float("inf")), IllegalArgumentError, ValueError, "[duration]"),
    (lambda c, s: s.run_until(1e300), IllegalArgumentError, ValueError, "[until]"),
    (lambda c, s: c.advance(1e300), IllegalArgumentError, ValueError, "[duration]"),
    (lambda c, s: c.advance(9_223_372_037), IllegalArgumentError, ValueError, "at most 9223372036 seconds"),
    (lambda c, s: c.advance(datetime.timedelta(days=999_999_999)), IllegalArgumentError, ValueError, "[duration]"),
    (lambda c, s: c.advance(True), IllegalArgumentTypeError, TypeError, "[duration]"),
    (lambda c, s: c.advance(None), IllegalArgumentTypeError, TypeError, "[duration]"),
    (
        lambda c, s: c.perform_request("GET", "/", headers={"Authorization": "Basic \ud800"}),
        IllegalArgumentError,
        ValueError,
        "[headers[Authorization]]",
    ),
    (
        lambda c, s: c.perform_request("GET", "/", headers={"X-Count": 1}),
        IllegalArgumentTypeError,
        TypeError,
        "[headers[X-Count]]",
    ),
    (
        lambda c, s: c.perform_request("GET", "/", headers={1: "x"}),
        IllegalArgumentTypeError,
        TypeError,
        "[header name]",
    ),
    (lambda c, s: c.perform_request("GET", "/\ud800"), IllegalArgumentError, ValueError, "[path]"),
    (lambda c, s: c.perform_request(1, "/"), IllegalArgumentTypeError, TypeError, "[method]"),
    (lambda c, s: c.perform_request("POST", "/", body="\ud800"), IllegalArgumentError, ValueError, "[body]"),
    (lambda c, s: c.perform_request("POST", "/", body={1, 2}), IllegalArgumentTypeError, TypeError, "[body]"),
    (lambda c, s: c.perform_request("GET", "/", node=3), IllegalArgumentTypeError, TypeError, "[node]"),
    (lambda c, s: c.node("\ud800"), IllegalArgumentError, ValueError, "[name]"),
    (
        lambda c, s: c.node("node-0").service_tokens.create("elastic/fleet-server", "\ud800"),
        IllegalArgumentError,
        ValueError,
        "[name]",
    ),
    (lambda c, s: setattr(c.security_index, "health", 3), IllegalArgumentTypeError, TypeError, "[health]"),
    (
        lambda c, s: setattr(c.node("node-0"), "crypto_pool_mode", b"held"),
        IllegalArgumentTypeError,
        TypeError,
        "[crypto_pool_mode]",
    ),
    (lambda c, s: escache.Cluster(password="\ud800"), IllegalArgumentError, ValueError, "[password]"),
    (lambda c, s: escache.Cluster(nodes=["a", 1]), IllegalArgumentTypeError, TypeError, "[nodes]"),
    (
        lambda c, s: escache.Cluster(settings={"xpack.security.authc.api_key.cache.ttl": "\ud800"}),
        IllegalArgumentError,
        ValueError,
        "[settings[xpack.security.authc.api_key.cache.ttl]]",
    ),
    (
        lambda c, s: escache.Cluster(settings={"xpack.security.authc.api_key.cache.ttl": None}),
        IllegalArgumentTypeError,
        TypeError,
        "xpack.security.authc.api_key.cache.ttl",
    ),
]


@pytest.mark.parametrize(("call", "error", "builtin", "names"), BAD_ARGUMENTS)
def test_issue8_d09_a_bad_argument_gets_a_typed_error_naming_it_and_changes_nothing(call, error, builtin, names):
    c = escache.Cluster(nodes=2, seed=2)
    sim = escache.Simulation(c, seed=2)
    before = (c.now_nanos, len(c.events), sim.report())
    with pytest.raises(error) as info:
        call(c, sim)
    assert isinstance(info.value, builtin) and isinstance(info.value, EscacheError)
    assert names in str(info.value)
    assert "\ud800" not in str(info.value).encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    assert (c.now_nanos, len(c.events), sim.report()) == before


def test_issue8_d09_the_duration_bound_is_292_years_of_nanoseconds():
    c = escache.Cluster(nodes=1)
    # Java's Long.MAX_VALUE nanoseconds, the most an Elasticsearch TimeValue holds.
    assert c.advance(9_223_372_036) == 9_223_372_036.0
    with pytest.raises(IllegalArgumentError, match="about 292 years"):
        c.advance(9_223_372_037)


# ---- point 23: a callable action that raises is recorded and the run goes on ------------------------


def small(seed: int = 7) -> tuple[escache.Cluster, escache.Simulation]:
    c = escache.Cluster(nodes=2, seed=seed)
    sim = escache.Simulation(c, seed=seed)
    sim.add_workload(name="w", population=20, rate=50)
    return c, sim


def test_issue8_d23_a_callable_that_raises_is_recorded_and_the_run_goes_on():
    _, sim = small()
    ran: list[float] = []

    def broken_probe(cluster: escache.Cluster) -> None:
        ran.append(cluster.now)
        raise ValueError("no such thing")

    sim.schedule("5s", broken_probe, every="10s")
    report = sim.run("30s")
    assert ran == [5.0, 15.0, 25.0]
    assert [(e["time"], e["error"]) for e in report["action_errors"]] == [
        (t, "ValueError: no such thing") for t in (5.0, 15.0, 25.0)
    ]
    assert all("broken_probe" in e["action"] for e in report["action_errors"])
    # The traffic went on to the end, exactly as without the failing action.
    _, ref = small()
    expected = ref.run("30s")
    assert report["requests"] == expected["requests"] > 0
    assert report["authentications"] == expected["authentications"]


def test_issue8_d23_callables_run_in_schedule_order_with_the_other_actions_due_at_the_same_time():
    _, sim = small()
    seen: list[tuple[str, bool]] = []
    sim.schedule("5s", lambda cl: seen.append(("before", cl.node("node-1").partitioned)))
    sim.schedule("5s", "partition", node="node-1")
    sim.schedule("5s", lambda cl: seen.append(("after", cl.node("node-1").partitioned)))
    sim.run("10s")
    assert seen == [("before", False), ("after", True)]


def test_issue8_d23_keyboard_interrupt_in_a_callable_stops_the_run_resumably():
    c, sim = small()
    calls: list[float] = []

    def stop(cluster: escache.Cluster) -> None:
        calls.append(cluster.now)
        raise KeyboardInterrupt

    sim.schedule("5s", stop)
    with pytest.raises(KeyboardInterrupt):
        sim.run("10s")
    assert c.now == 5.0
    report = sim.run_until("10s")  # goes on; the action ran once and is not repeated
    assert calls == [5.0] and report["action_errors"] == []
    _, ref = small()
    assert report["requests"] == ref.run("10s")["requests"]


# ---- point 25: reprs in Python style, never a secret -------------------------------------------------


def test_issue8_d25_reprs_are_python_style_and_hold_no_secret():
    c = escache.Cluster(
        nodes=["node-0", "o'brien"], password="s3cr3t-pass", settings={"xpack.security.authc.api_key.cache.ttl": "0s"}
    )
    assert repr(c) == "<escache.Cluster name='escache' nodes=2 now=0s security_index='absent'>"
    assert repr(c.security_index) == "<escache.SecurityIndex state='absent' uuid=None>"
    c.security_index.create()
    uuid = c.security_index.uuid
    assert repr(c.security_index) == f"<escache.SecurityIndex state='green' uuid={uuid!r}>"
    n = c.node("o'brien")
    assert repr(n) == f'<escache.Node name="o\'brien" id={n.id!r} running=True partitioned=False>'
    n.stop()
    n.partitioned = True
    assert repr(n).endswith("running=False partitioned=True>")
    view = c.node("node-0").caches["api_key_auth"]
    assert repr(view) == "<escache.CacheView name='api_key_auth' node='node-0' entries=0 enabled=False>"
    assert repr(c.node("node-0").caches["index_service_account_token"]).endswith("enabled=True>")
    c.advance(1.5)
    assert "now=1.5s" in repr(c)
    texts = [repr(c), repr(c.security_index), repr(n), repr(view), repr(c.node("node-0"))]
    for text in texts:
        for rust in ("Some(", "None)", "=true", "=false"):
            assert rust not in text
        assert "s3cr3t-pass" not in text


@pytest.mark.parametrize("seed", [2**64, 2**70, -1])
def test_issue8_d09_a_seed_out_of_range_is_a_typed_error_naming_it(seed):
    # Found by fuzz/atheris_scenario.py: `[simulation] seed = <huge>` raised a bare OverflowError.
    with pytest.raises(IllegalArgumentError, match=r"\[seed\] must be an int from 0"):
        escache.Cluster(nodes=1, seed=seed)
    c = escache.Cluster(nodes=1)
    with pytest.raises(IllegalArgumentError, match=r"\[seed\] must be an int from 0"):
        escache.Simulation(c, seed=seed)
    with pytest.raises(IllegalArgumentError, match=r"seed"):
        escache.load_scenario(f"[simulation]\nseed = {seed}\n")


@pytest.mark.parametrize("seed", [1.5, "7", True])
def test_issue8_d09_a_seed_that_is_not_an_int_is_a_type_error_naming_it(seed):
    with pytest.raises(IllegalArgumentTypeError, match=r"\[seed\] must be an int"):
        escache.Cluster(nodes=1, seed=seed)
    assert escache.Cluster(nodes=1, seed=2**64 - 1).seed == 2**64 - 1
