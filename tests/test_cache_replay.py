"""``escache.Cache.replay`` (get-or-put runs over keys from buffers and iterables) and ``zipf_trace``."""

from __future__ import annotations

import threading
from array import array
from datetime import timedelta

import pytest
from cache_helpers import EVICTED, REPLACED, S, recorded_cache

import escache
from escache import Cache, IllegalArgumentError, KeyTypeError


def test_replay_result_repr_and_dict():
    c = Cache()
    r = c.replay(["secret-a", "secret-a", "secret-b"])
    assert r.as_dict() == {
        "requests": 3,
        "hits": 1,
        "misses": 2,
        "evictions": 0,
        "hit_ratio": pytest.approx(1 / 3),
    }
    assert "secret" not in repr(r)
    assert repr(r) == "ReplayResult(requests=3, hits=1, misses=2, evictions=0, hit_ratio=0.3333)"
    assert isinstance(r, escache.ReplayResult)


# ----------------------------------------------------------------------------------------------------
# replay
# ----------------------------------------------------------------------------------------------------


def test_replay_array_q_is_get_or_put():
    c = Cache(2)
    r = c.replay(array("q", [1, 2, 1, 3, 2, 1]))
    # 1 m, 2 m, 1 h, 3 m (evict 2), 2 m (evict 1), 1 m (evict 3)
    assert (r.requests, r.hits, r.misses, r.evictions) == (6, 1, 5, 3)
    assert r.hit_ratio == pytest.approx(1 / 6)
    assert c.keys() == [1, 2]
    assert c.stats() == {"hits": 1, "misses": 5, "evictions": 3}
    # Without value=, None is stored.
    assert c.items() == [(1, None), (2, None)]


def test_replay_keys_match_put_and_get_keys():
    c = Cache()
    c.put(5, "from put")
    c.put("5", "str")
    r = c.replay(array("q", [5]))
    assert r.hits == 1
    assert c.get(5) == "from put"


def test_replay_list_of_str_and_mixed_iterables():
    c = Cache()
    r = c.replay(["a", "b", "a", 1, "1", 1])
    assert (r.requests, r.hits, r.misses) == (6, 2, 4)
    assert c.keys() == [1, "1", "a", "b"]
    r = c.replay(k for k in ("b", "zz"))
    assert (r.hits, r.misses) == (1, 1)
    r = c.replay(())
    assert (r.requests, r.hits, r.misses, r.evictions, r.hit_ratio) == (0, 0, 0, 0, 0.0)


@pytest.mark.parametrize("typecode", ["q", "l", "Q", "L", "i", "I", "h", "b", "B"])
def test_replay_accepts_integer_buffers_of_every_width(typecode):
    c = Cache()
    c.put(3, "x")
    r = c.replay(array(typecode, [1, 2, 1, 3]))
    assert (r.hits, r.misses) == (2, 2)
    assert c.keys() == [3, 1, 2]
    assert all(type(k) is int for k in c.keys())  # noqa: SIM118 - Cache.keys() is what is checked


def test_replay_accepts_memoryviews_including_strided():
    c = Cache()
    r = c.replay(memoryview(array("q", [7, 8, 7, 9]))[::2])  # [7, 7]
    assert (r.hits, r.misses) == (1, 1)
    assert c.keys() == [7]


def test_replay_rejects_bad_keys():
    c = Cache()
    with pytest.raises(KeyTypeError, match="not a single str or bytes"):
        c.replay("abc")
    with pytest.raises(KeyTypeError, match="not a single str or bytes"):
        c.replay(b"abc")
    with pytest.raises(KeyTypeError, match="signed 64-bit"):
        c.replay(array("Q", [2**63]))
    with pytest.raises(KeyTypeError, match="not \\[float\\]"):
        c.replay(array("d", [1.0]))
    with pytest.raises(KeyTypeError):
        c.replay([1, "a", None])
    with pytest.raises(TypeError):
        c.replay(42)
    # A rejected replay does nothing at all.
    assert len(c) == 0
    assert c.stats() == {"hits": 0, "misses": 0, "evictions": 0}


def test_replay_interval_moves_the_clock_and_expires_entries():
    ttl = 10 * S
    c, rec = recorded_cache(expire_after_access="10s")
    c.advance("1s")
    # Requests at 1 s, 11 s (10 s later: exactly the TTL, a hit), 21 s (a hit again, access renewed).
    r = c.replay(["k", "k", "k"], interval="10s")
    assert (r.hits, r.misses) == (2, 1)
    assert c.now_nanos == 1 * S + 3 * ttl  # start + len * interval
    assert rec.take() == []
    # Now at 31 s, last access at 21 s. Interval TTL + 1 ns: the first request is exactly the TTL
    # after the last access (a hit), the second 1 ns too late: a miss, and the put over the expired
    # (still linked) entry reports REPLACED, without counting an eviction.
    r = c.replay(["k", "k"], interval=f"{ttl + 1}nanos")
    assert (r.hits, r.misses, r.evictions) == (1, 1, 0)
    assert rec.take() == [("k", None, REPLACED)]
    assert c.now_nanos == 31 * S + 2 * (ttl + 1)
    r = c.replay(["k"] * 3, interval=f"{ttl + 1}nanos")
    assert (r.hits, r.misses, r.evictions) == (0, 3, 0)
    assert [reason for _, _, reason in rec.take()] == [REPLACED] * 3


def test_replay_interval_forms():
    for interval in ("250ms", 0.25, timedelta(milliseconds=250)):
        c = Cache()
        c.replay(array("q", [1, 2, 3, 4]), interval=interval)
        assert c.now_nanos == 1 * S, interval
    c = Cache()
    c.replay([1, 2], interval=None)
    assert c.now_nanos == 0
    with pytest.raises(IllegalArgumentError):
        c.replay([1], interval="-1s")


def test_replay_expiry_prunes_the_tail_during_the_run():
    c, rec = recorded_cache(expire_after_access="5s")
    r = c.replay(array("q", [1, 2, 3, 1, 4]), interval="3s")
    # t=0 put 1; t=3 put 2; t=6 put 3 (1 is at the tail, 6 > 5: evicted); t=9 1 is absent: miss,
    # put 1 (tail 2: 9-3=6 > 5 evicted); t=12 put 4 (tail 3: 12-6=6 > 5 evicted).
    assert (r.hits, r.misses, r.evictions) == (0, 5, 3)
    assert rec.take() == [(1, None, EVICTED), (2, None, EVICTED), (3, None, EVICTED)]
    assert c.keys() == [4, 1]


def test_replay_with_value_stores_it():
    marker = {"cached": True}
    c = Cache()
    c.replay(["a", "b", "a"], value=marker)
    assert c.get("a") is marker and c.get("b") is marker


def test_replay_with_weigher_weighs_each_insert_with_the_value():
    c = Cache(10, weigher=lambda k, v: v)
    r = c.replay(["a", "b", "c", "a"], value=4)
    # a(4) b(4) -> 8; c -> 12 > 10 evicts a; a miss -> evicts b.
    assert (r.hits, r.misses, r.evictions) == (0, 4, 2)
    assert c.keys() == ["a", "c"]
    assert c.weight == 8


def test_replay_notifications_are_delivered_in_order():
    c, rec = recorded_cache(3)
    keys = list(range(10))
    r = c.replay(keys, value="v")
    assert r.evictions == 7
    assert rec.take() == [(k, "v", EVICTED) for k in range(7)]


def test_replay_longer_than_a_chunk_keeps_notification_order_and_clock():
    n = 200_000  # several internal chunks
    c, rec = recorded_cache(1000)
    r = c.replay(array("q", range(n)), interval="1nanos")
    assert (r.requests, r.hits, r.misses, r.evictions) == (n, 0, n, n - 1000)
    events = rec.take()
    assert [k for k, _, _ in events] == list(range(n - 1000))
    assert {reason for _, _, reason in events} == {EVICTED}
    assert c.now_nanos == n
    assert c.keys()[0] == n - 1 and c.keys()[-1] == n - 1000


def test_replay_listener_may_call_back_into_the_cache():
    c = None
    sizes = []

    def listener(k, v, reason):
        sizes.append(len(c))

    c = Cache(2, removal_listener=listener)
    c.replay([1, 2, 3, 4])
    assert sizes == [2, 2]


def test_replay_matches_individual_get_and_put():
    trace = escache.zipf_trace(50, 2000, alpha=0.8, seed=3)
    a = Cache(10, expire_after_access="30ms")
    r = a.replay(trace, interval="1ms")
    b = Cache(10, expire_after_access="30ms")
    for k in trace:
        if b.get(k) is None:
            b.put(k, True)
        b.advance("1ms")
    assert (r.hits, r.misses, r.evictions) == (b.stats()["hits"], b.stats()["misses"], b.stats()["evictions"])
    assert a.keys() == b.keys()
    assert a.now_nanos == b.now_nanos


# ----------------------------------------------------------------------------------------------------
# Threads
# ----------------------------------------------------------------------------------------------------


def test_concurrent_replay_and_get_do_not_crash_and_counts_add_up():
    c = Cache(500)
    trace = escache.zipf_trace(5000, 300_000, alpha=1.0, seed=11)
    results = {}
    errors = []
    start = threading.Barrier(3)

    def replayer(name):
        try:
            start.wait()
            results[name] = c.replay(trace)
        except BaseException as e:  # pragma: no cover  # noqa: BLE001 - reported below
            errors.append(e)

    def getter():
        try:
            start.wait()
            n = 0
            # setdefault is one atomic lookup-or-insert, like a replayed request: a get followed by a
            # put would race with the replays (the key inserted or evicted in between) and break the
            # count below by one either way.
            for i in range(50_000):
                c.setdefault(i % 5000, i)
                n += 1
            results["getter"] = n
        except BaseException as e:  # pragma: no cover  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [
        threading.Thread(target=replayer, args=("r1",)),
        threading.Thread(target=replayer, args=("r2",)),
        threading.Thread(target=getter),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    s = c.stats()
    assert s["hits"] + s["misses"] == 2 * len(trace) + 50_000
    assert results["r1"].requests == results["r2"].requests == len(trace)
    replay_hits = results["r1"].hits + results["r2"].hits
    assert replay_hits <= s["hits"]
    assert len(c) == 500  # capacity respected, evictions = inserts - 500
    assert s["evictions"] == s["misses"] - 500


# ----------------------------------------------------------------------------------------------------
# zipf_trace
# ----------------------------------------------------------------------------------------------------


def test_zipf_trace_is_deterministic_and_seeded():
    a = escache.zipf_trace(1000, 10_000, 1.0, seed=7)
    b = escache.zipf_trace(1000, 10_000, 1.0, seed=7)
    other = escache.zipf_trace(1000, 10_000, 1.0, seed=8)
    assert isinstance(a, array) and a.typecode == "q"
    assert len(a) == 10_000
    assert a == b
    assert a != other
    assert min(a) >= 0 and max(a) < 1000


def test_zipf_trace_rank_zero_is_most_popular():
    t = escache.zipf_trace(100, 50_000, alpha=1.2, seed=1)
    counts = [0] * 100
    for k in t:
        counts[k] += 1
    assert counts[0] == max(counts)
    assert counts[0] > 10 * counts[99]


def test_zipf_trace_edge_cases():
    assert len(escache.zipf_trace(10, 0)) == 0
    assert set(escache.zipf_trace(1, 100)) == {0}
    uniform = escache.zipf_trace(4, 4000, alpha=0.0, seed=2)
    assert set(uniform) == {0, 1, 2, 3}
    with pytest.raises(IllegalArgumentError, match=r"\[keys\] must be at least"):
        escache.zipf_trace(0, 10)
    with pytest.raises(IllegalArgumentError, match=r"\[alpha\]"):
        escache.zipf_trace(10, 10, alpha=-0.5)
    with pytest.raises(IllegalArgumentError, match=r"\[alpha\] must be a finite number"):
        escache.zipf_trace(10, 10, alpha=float("nan"))
