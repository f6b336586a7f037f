"""Several Python threads sharing one escache.Cache (issue 8 point 4).

Every test joins its threads with a bounded timeout, so that a deadlock fails the test instead of hanging
the run, and then checks that the cache's state is consistent: stats add up to the calls made, the keys
are unique and as many as `count`, the weight stays within the maximum.
"""

from __future__ import annotations

import gc
import random
import threading
import time
from array import array
from typing import ClassVar

import pytest

from escache import Cache, ExecutionError, ReentrantCallError, RemovalReason

JOIN_TIMEOUT = 60.0
EVICTED = RemovalReason.EVICTED


def run_threads(*targets) -> None:
    """Runs each target in its own thread; fails on a thread still alive after the timeout (deadlock)
    or on any exception a thread raised."""
    failures: list[BaseException] = []

    def guarded(target):
        def run():
            try:
                target()
            except BaseException as e:  # noqa: BLE001 - reported below
                failures.append(e)

        return run

    threads = [threading.Thread(target=guarded(t), daemon=True) for t in targets]
    for t in threads:
        t.start()
    deadline = time.monotonic() + JOIN_TIMEOUT
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "a thread did not finish: deadlock"
    assert failures == [], failures


def assert_snapshot_consistent(c: Cache, max_weight: int) -> None:
    """While other threads run: one snapshot (`items()` is taken under one lock) is consistent."""
    keys = [k for k, _ in c.items()]
    assert len(keys) == len(set(keys)) <= max_weight  # unit weights


def assert_consistent(c: Cache, max_weight: int | None = None) -> None:
    """Once the threads are done."""
    keys = c.keys()
    assert len(keys) == len(set(keys)) == c.count == len(c)
    assert [k for k, _ in c.items()] == keys
    assert all(k in c for k in keys)
    if max_weight is not None:
        assert c.weight <= max_weight


class Tally:
    """Counts, per thread-safe increments, the calls that count exactly one hit or miss."""

    def __init__(self):
        self.lock = threading.Lock()
        self.lookups = 0
        self.invalidated = 0

    def add(self, lookups=0, invalidated=0):
        with self.lock:
            self.lookups += lookups
            self.invalidated += invalidated


class Noisy:
    """A value whose `__del__` calls back into the cache (issue 8 point 6, from several threads)."""

    lock = threading.RLock()  # __del__ may run inside another __del__'s critical section
    deleted: ClassVar[dict[str, int]] = {}

    def __init__(self, cache: Cache, tag: str):
        self.cache, self.tag = cache, tag

    def __del__(self):
        self.cache.stats()
        len(self.cache)
        with Noisy.lock:
            Noisy.deleted[self.tag] = Noisy.deleted.get(self.tag, 0) + 1


def test_issue8_d04_threads_hammering_one_cache_stay_consistent():
    max_weight = 40
    events: list[tuple] = []
    c = None

    def listener(k, v, reason):
        # Reads the cache between two unlinks, from whichever thread is pruning.
        events.append((k, reason, len(c)))

    c = Cache(max_weight, expire_after_access="50nanos", removal_listener=listener)
    tally = Tally()

    def worker(seed):
        def run():
            rng = random.Random(seed)
            for _ in range(1500):
                k = rng.randrange(60)
                op = rng.randrange(8)
                if op == 0:
                    c.get(k)
                    tally.add(lookups=1)
                elif op == 1:
                    c.put(k, Noisy(c, "hammer"))
                elif op == 2:
                    c.compute_if_absent(k, lambda key: (key, Noisy(c, "hammer")))
                    tally.add(lookups=1)
                elif op == 3:
                    c.setdefault(k, k)
                    tally.add(lookups=1)
                elif op == 4:
                    if c.invalidate(k):
                        tally.add(invalidated=1)
                elif op == 5:
                    keys = [rng.randrange(60) for _ in range(50)]
                    r = c.replay(array("q", keys), interval="1nanos")
                    assert r.requests == r.hits + r.misses == 50
                    tally.add(lookups=50)
                elif op == 6:
                    c.advance("3nanos")
                else:
                    assert_snapshot_consistent(c, max_weight)

        return run

    run_threads(*(worker(s) for s in range(4)))
    assert_consistent(c, max_weight)
    stats = c.stats()
    assert stats["hits"] + stats["misses"] == tally.lookups
    evicted = sum(1 for _, r, _ in events if r == EVICTED)
    # invalidate(key) counts an eviction too (Elasticsearch's quirk, R6.8).
    assert stats["evictions"] == evicted + tally.invalidated


def test_issue8_d04_listeners_that_raise_or_call_back_from_several_threads():
    c = None
    raised = []

    def listener(k, v, reason):
        if k % 7 == 0:
            raise LookupError(k)
        # Calls back: a read and a write of another key.
        c.get(k + 1000)
        if k % 5 == 0 and k < 1000:
            c.put(k + 1000, v)

    c = Cache(16, removal_listener=listener)

    def worker(seed):
        def run():
            rng = random.Random(seed)
            for _ in range(1000):
                k = rng.randrange(100)
                try:
                    if rng.random() < 0.5:
                        c.put(k, k)
                    else:
                        c.compute_if_absent(k, lambda key: key)
                except LookupError as e:
                    raised.append(e)

        return run

    run_threads(*(worker(s) for s in range(4)))
    assert raised, "some listener exceptions reached their callers"
    assert_consistent(c, 16)


def test_issue8_d04_one_load_per_key_and_every_thread_gets_its_value():
    c = Cache()
    loads = []
    results: dict[int, list] = {}
    lock = threading.Lock()

    def loader(k):
        loads.append(k)
        time.sleep(0.01)  # releases the GIL: the other threads ask for the key meanwhile
        return object()

    def worker():
        for k in range(10):
            v = c.compute_if_absent(k, loader)
            with lock:
                results.setdefault(k, []).append(v)
            c.get(k)

    run_threads(*(worker for _ in range(6)))
    assert sorted(loads) == list(range(10))  # Elasticsearch: the loader runs at most once per key
    assert all(len({id(v) for v in vs}) == 1 and len(vs) == 6 for vs in results.values())
    assert c.stats() == {"hits": 6 * 10 * 2 - 10, "misses": 10, "evictions": 0}
    assert_consistent(c)


def test_issue8_d04_dependent_loading_from_several_threads():
    c = Cache(50)

    def load(k):
        if k > 0:
            return ("v", c.compute_if_absent(k - 1, load))
        time.sleep(0.001)
        return ("v", None)

    def worker(seed):
        def run():
            rng = random.Random(seed)
            for _ in range(100):
                k = rng.randrange(30)
                v = c.compute_if_absent(k, load)
                depth = 0
                while v[1] is not None:
                    v, depth = v[1], depth + 1
                assert depth == k

        return run

    run_threads(*(worker(s) for s in range(4)))
    assert_consistent(c, 50)


def test_issue8_d04_other_threads_wait_for_a_load_while_its_own_thread_is_refused():
    c = Cache()
    started = threading.Event()
    release = threading.Event()
    seen = {}

    def loader(k):
        started.set()
        try:
            c.get(k)
        except ReentrantCallError:
            seen["own"] = True
        release.wait(JOIN_TIMEOUT)
        return "loaded"

    def loading():
        assert c.compute_if_absent("k", loader) == "loaded"

    def waiting():
        started.wait(JOIN_TIMEOUT)
        threading.Timer(0.05, release.set).start()
        seen["other"] = c.get("k")  # waits for the load (Elasticsearch's future.get())

    run_threads(loading, waiting)
    assert seen == {"own": True, "other": "loaded"}
    assert c.stats() == {"hits": 1, "misses": 1, "evictions": 0}


def test_issue8_d04_replay_without_the_gil_while_other_threads_read_and_write():
    c = Cache(1000)
    trace = array("q", (i % 3000 for i in range(400_000)))
    result = {}
    reads = []

    def replaying():
        result["r"] = c.replay(trace)

    def reading():
        for _ in range(200):
            reads.append(len(c))
            c.stats()
            c.keys()
            c.put("s", 1)
            c.get("s")

    run_threads(replaying, reading, reading)
    r = result["r"]
    assert r.requests == len(trace)
    stats = c.stats()
    assert stats["hits"] + stats["misses"] == len(trace) + 2 * 200
    assert all(0 <= n <= 1000 for n in reads)
    assert_consistent(c, 1000)


def test_issue8_d06_values_released_on_other_threads_call_back_safely():
    c = Cache(5)

    def worker(seed):
        def run():
            rng = random.Random(seed)
            for _ in range(500):
                c.put(rng.randrange(20), Noisy(c, "released"))
                if rng.random() < 0.05:
                    c.invalidate_all()
                    gc.collect()

        return run

    run_threads(*(worker(s) for s in range(3)))
    assert_consistent(c, 5)
    c.invalidate_all()
    assert Noisy.deleted["released"] == 3 * 500
    assert len(c) == 0


def test_issue8_d04_loader_failures_from_several_threads_cache_nothing():
    c = Cache()

    def failing(k):
        time.sleep(0.001)
        raise LookupError(k)

    def worker():
        for k in range(20):
            with pytest.raises(ExecutionError):
                c.compute_if_absent(k, failing)

    run_threads(*(worker for _ in range(3)))
    assert len(c) == 0
    assert c.compute_if_absent(3, lambda k: 3) == 3
