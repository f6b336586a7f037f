"""``escache.Cache``: expiry (R6.3, R6.4, R6.7) and invalidation (R6.8), by hand from docs/rules.md."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cache_helpers import EVICTED, INVALIDATED, recorded_cache

from escache import Cache, IllegalArgumentError

# ----------------------------------------------------------------------------------------------------
# Time and expiry (R6.3, R6.4, R6.7)
# ----------------------------------------------------------------------------------------------------


def test_clock_starts_at_zero_and_advance_returns_new_time():
    c = Cache()
    assert c.now == 0.0 and c.now_nanos == 0
    assert c.advance("1500ms") == 1.5
    assert c.advance(2) == 3.5
    assert c.advance(0.25) == 3.75
    assert c.advance(timedelta(minutes=1)) == 63.75
    assert c.advance("7nanos") == pytest.approx(63.75 + 7e-9)
    assert c.now_nanos == 63_750_000_007
    assert c.advance(0) == c.now


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (-1, r"^\[duration\] must be a non-negative duration"),
        ("-1", "negative durations are not supported"),
        ("-5s", "negative durations are not supported"),
        (-0.5, "finite, non-negative number of seconds"),
        (float("nan"), "finite, non-negative number of seconds"),
        (float("inf"), "finite, non-negative number of seconds"),
        (timedelta(seconds=-1), "non-negative duration"),
        ("5", "unit is missing or unrecognized"),
        (None, "must be a time value"),
        ([1], "must be a time value"),
    ],
)
def test_bad_advance_durations(bad, message):
    c = Cache()
    with pytest.raises(IllegalArgumentError, match=message):
        c.advance(bad)
    assert c.now_nanos == 0


def test_expiry_is_strictly_greater_than_ttl():
    c = Cache(expire_after_access="10s")
    c.put("k", "v")
    c.advance("10s")
    assert c.get("k") == "v"  # exactly the TTL: still live
    c.advance("10s")  # 10 s since that access
    assert c.get("k") == "v"
    c.advance("10000000001nanos")  # 10 s + 1 ns
    assert c.get("k") is None
    assert c.stats() == {"hits": 2, "misses": 1, "evictions": 0}


def test_expire_after_access_is_extended_by_reads():
    c = Cache(expire_after_access="10nanos")
    c.put("k", 1)
    for _ in range(5):
        c.advance("8nanos")
        assert c.get("k") == 1
    assert c.now_nanos == 40  # far past the write, but accessed every 8 ns


def test_expire_after_write_is_not_extended_by_reads():
    c = Cache(expire_after_write="10nanos")
    c.put("k", 1)
    c.advance("8nanos")
    assert c.get("k") == 1
    c.advance("3nanos")  # 11 ns after the write
    assert c.get("k") is None
    c.put("k", 2)  # a new write restarts the clock
    c.advance("10nanos")
    assert c.get("k") == 2


def test_expired_entry_is_a_miss_but_is_not_removed_by_get():
    c, rec = recorded_cache(expire_after_access="1s")
    c.put("k", "v")
    c.advance("2s")
    assert c.get("k", "dflt") == "dflt"
    assert c.get("k") is None
    assert "k" in c
    assert len(c) == 1
    assert c.keys() == ["k"]
    assert rec.take() == []
    assert c.stats() == {"hits": 0, "misses": 2, "evictions": 0}


def test_advance_does_not_prune_but_refresh_does():
    c, rec = recorded_cache(expire_after_access="1s")
    c.put("a", 1)
    c.put("b", 2)
    c.advance("1h")
    assert len(c) == 2  # expiry is noticed lazily
    assert rec.take() == []
    c.refresh()
    assert len(c) == 0
    assert rec.take() == [("a", 1, EVICTED), ("b", 2, EVICTED)]  # tail first
    assert c.stats()["evictions"] == 2


def test_refresh_examines_only_the_tail():
    # expire-after-write: a was written first but read last, so a is at the head yet expires first.
    c, rec = recorded_cache(expire_after_write="10nanos")
    c.put("a", 1)
    c.advance("5nanos")
    c.put("b", 2)
    c.get("a")
    assert c.keys() == ["a", "b"]
    c.advance("6nanos")  # a: 11 ns since write (expired); b: 6 ns (live, and the tail)
    c.refresh()
    assert rec.take() == []
    assert c.keys() == ["a", "b"]
    assert c.get("a") is None  # still a miss
    c.advance("5nanos")  # now b (the tail) is expired too: pruning walks on to a
    c.refresh()
    assert rec.take() == [("b", 2, EVICTED), ("a", 1, EVICTED)]


def test_hit_prunes_expired_tail():
    c, rec = recorded_cache(expire_after_access="10nanos")
    c.put("old", 1)
    c.advance("5nanos")
    c.put("new", 2)
    c.advance("6nanos")  # old 11 > 10, new 6
    assert c.get("new") == 2
    assert rec.take() == [("old", 1, EVICTED)]
    assert c.keys() == ["new"]
    assert c.stats() == {"hits": 1, "misses": 0, "evictions": 1}


def test_miss_does_not_prune():
    c, rec = recorded_cache(expire_after_access="10nanos")
    c.put("old", 1)
    c.advance("11nanos")
    assert c.get("absent") is None
    assert c.get("old") is None
    assert rec.take() == []
    assert len(c) == 1


def test_timedelta_and_numeric_expiry_settings_behave_the_same():
    for setting in ("90s", 90, 90.0, timedelta(seconds=90)):
        c = Cache(expire_after_access=setting)
        c.put("k", 1)
        c.advance(timedelta(seconds=90))
        assert c.get("k") == 1, setting
        c.advance(90.000000001)
        assert c.get("k") is None, setting


# ----------------------------------------------------------------------------------------------------
# Invalidation (R6.8)
# ----------------------------------------------------------------------------------------------------


def test_invalidate_removes_counts_an_eviction_and_reports_invalidated():
    c, rec = recorded_cache()
    c.put("a", 1)
    c.put("b", 2)
    assert c.invalidate("a") is True
    assert rec.take() == [("a", 1, INVALIDATED)]
    assert c.stats() == {"hits": 0, "misses": 0, "evictions": 1}  # Elasticsearch's quirk
    assert c.keys() == ["b"]
    assert c.invalidate("a") is False
    assert c.invalidate("never") is False
    assert rec.take() == []
    assert c.stats()["evictions"] == 1


def test_invalidate_removes_an_expired_entry_without_pruning_others():
    c, rec = recorded_cache(expire_after_access="1nanos")
    c.put("a", 1)
    c.put("b", 2)
    c.advance("1s")
    assert c.invalidate("b") is True
    assert rec.take() == [("b", 2, INVALIDATED)]
    assert c.keys() == ["a"]  # a is expired but invalidate does not prune


def test_invalidate_with_value_only_when_equal():
    c, rec = recorded_cache()
    c.put("k", ["hash", 1])
    assert c.invalidate("k", ["hash", 2]) is False
    assert c.invalidate("other", ["hash", 1]) is False
    assert "k" in c
    assert c.stats()["evictions"] == 0
    assert rec.take() == []
    # Equal, not identical, is enough (Objects.equals).
    assert c.invalidate("k", ["hash", 1]) is True
    assert rec.take() == [("k", ["hash", 1], INVALIDATED)]
    assert c.stats()["evictions"] == 1
    assert len(c) == 0


def test_invalidate_with_value_comparison_error_propagates_and_keeps_entry():
    class Weird:
        def __eq__(self, other):
            raise ArithmeticError("cannot compare")

    c = Cache()
    c.put("k", "v")
    with pytest.raises(ArithmeticError, match="cannot compare"):
        c.invalidate("k", Weird())
    assert c.get("k") == "v"
    assert c.stats()["evictions"] == 0


def test_invalidate_all_reports_most_recent_first_and_does_not_count():
    c, rec = recorded_cache(weigher=lambda k, v: 3)
    for k in ("a", "b", "c"):
        c.put(k, k * 2)
    c.get("a")
    c.invalidate_all()
    assert rec.take() == [("a", "aa", INVALIDATED), ("c", "cc", INVALIDATED), ("b", "bb", INVALIDATED)]
    assert len(c) == 0 and c.count == 0 and c.weight == 0 and c.keys() == []
    assert c.stats() == {"hits": 1, "misses": 0, "evictions": 0}
    # Usable afterwards.
    c.put("z", 1)
    assert c.keys() == ["z"] and c.weight == 3


# ----------------------------------------------------------------------------------------------------
# repr
# ----------------------------------------------------------------------------------------------------


def test_repr_shows_counts_but_never_keys_or_values():
    c = Cache(10, expire_after_access="24h")
    c.put("api-key-id-QWERTY", "secret-hash-ZXCVB")
    c.put(987654321, "another-secret-VALUE")
    c.get("api-key-id-QWERTY")
    text = repr(c)
    for leaked in ("QWERTY", "ZXCVB", "987654321", "VALUE", "api-key", "secret"):
        assert leaked not in text
    assert "count=2" in text
    assert "max_weight=10" in text
    assert "hits=1" in text
    assert "expire_after_access=86400s" in text
    assert str(c) == text
