"""Unit tests of escache's Python API: escache.Cache, its errors, zipf_trace and parse_time_value.

Expected values come from the rules R6.1-R6.9 of docs/rules.md (Elasticsearch's
org.elasticsearch.common.cache.Cache) worked by hand for each small scenario.
"""

from __future__ import annotations

import threading
from array import array
from datetime import timedelta

import pytest

import escache
from escache import (
    Cache,
    EscacheError,
    ExecutionError,
    IllegalArgumentError,
    KeyTypeError,
    ReentrantCallError,
    RemovalReason,
)

US = 1_000
MS = 1_000_000
S = 1_000_000_000

EVICTED = RemovalReason.EVICTED
REPLACED = RemovalReason.REPLACED
INVALIDATED = RemovalReason.INVALIDATED


class Recorder:
    """A removal listener that records (key, value, reason)."""

    def __init__(self):
        self.events: list[tuple] = []

    def __call__(self, key, value, reason):
        self.events.append((key, value, reason))

    def take(self) -> list[tuple]:
        out, self.events = self.events, []
        return out


def recorded_cache(*args, **kwargs) -> tuple[Cache, Recorder]:
    rec = Recorder()
    return Cache(*args, removal_listener=rec, **kwargs), rec


# ----------------------------------------------------------------------------------------------------
# Error types
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "builtin", "es_type"),
    [
        (IllegalArgumentError, ValueError, "illegal_argument_exception"),
        (KeyTypeError, TypeError, "illegal_argument_exception"),
        (ExecutionError, RuntimeError, "execution_exception"),
        (ReentrantCallError, RuntimeError, "illegal_state_exception"),
        (escache.BrokenStateError, RuntimeError, "illegal_state_exception"),
    ],
)
def test_error_classes_derive_from_escache_error_and_the_builtin(cls, builtin, es_type):
    assert issubclass(cls, EscacheError)
    assert issubclass(cls, builtin)
    assert cls.es_type == es_type
    assert escache.errors.__dict__[cls.__name__] is cls


def test_package_exports():
    for name in escache.__all__:
        assert hasattr(escache, name), name
    assert isinstance(escache.__version__, str) and escache.__version__


# ----------------------------------------------------------------------------------------------------
# Builder (R6.2) and settings properties
# ----------------------------------------------------------------------------------------------------


def test_defaults_are_unbounded_and_never_expiring():
    c = Cache()
    assert c.max_weight is None
    assert c.expire_after_access is None
    assert c.expire_after_write is None
    for i in range(1000):
        c.put(i, i)
    c.advance("3650d")
    assert len(c) == 1000
    assert c.get(0) == 0
    assert c.stats() == {"hits": 1, "misses": 0, "evictions": 0}


def test_negative_max_weight_is_elasticsearchs_error():
    with pytest.raises(IllegalArgumentError, match=r"^maximumWeight < 0$"):
        Cache(-1)
    # Also catchable as ValueError.
    with pytest.raises(ValueError, match=r"^maximumWeight < 0$"):
        Cache(max_weight=-10)


@pytest.mark.parametrize("bad", ["0s", "-1", "0", 0, 0.0, timedelta(0), "0ms", "-1ms"])
def test_non_positive_expire_after_access(bad):
    with pytest.raises(IllegalArgumentError, match=r"^expireAfterAccess <= 0$"):
        Cache(expire_after_access=bad)


@pytest.mark.parametrize("bad", ["0s", "-1", 0, timedelta(0)])
def test_non_positive_expire_after_write(bad):
    with pytest.raises(IllegalArgumentError, match=r"^expireAfterWrite <= 0$"):
        Cache(expire_after_write=bad)


def test_bad_time_strings_carry_elasticsearch_text():
    with pytest.raises(IllegalArgumentError) as info:
        Cache(expire_after_access="10")
    assert str(info.value) == (
        "failed to parse setting [expire_after_access] with value [10] as a time value: "
        "unit is missing or unrecognized"
    )
    with pytest.raises(IllegalArgumentError) as info:
        Cache(expire_after_write="1.5h")
    assert str(info.value) == "failed to parse [1.5h], fractional time values are not supported"
    with pytest.raises(IllegalArgumentError) as info:
        Cache(expire_after_write="-2s")
    assert str(info.value) == (
        "failed to parse setting [expire_after_write] with value [-2s] as a time value: "
        "negative durations are not supported"
    )


def test_non_int_max_weight_and_non_callables_are_rejected():
    with pytest.raises(IllegalArgumentError, match="max_weight must be an int"):
        Cache(1.5)
    with pytest.raises(IllegalArgumentError, match="max_weight must be an int"):
        Cache("10")
    with pytest.raises(IllegalArgumentError, match="weigher must be callable"):
        Cache(weigher=3)
    with pytest.raises(IllegalArgumentError, match="removal_listener must be callable"):
        Cache(removal_listener="print")


@pytest.mark.parametrize(
    ("given", "seconds"),
    [
        ("24h", 86_400.0),
        ("100ms", 0.1),
        ("5nanos", 5e-9),
        (30, 30.0),
        (2.5, 2.5),
        (timedelta(minutes=5, microseconds=1), 300.000001),
    ],
)
def test_expiry_durations_in_every_form(given, seconds):
    c = Cache(expire_after_access=given, expire_after_write=given)
    assert c.expire_after_access == pytest.approx(seconds, rel=1e-12)
    assert c.expire_after_write == pytest.approx(seconds, rel=1e-12)


def test_max_weight_property():
    assert Cache(0).max_weight == 0
    assert Cache(25_000).max_weight == 25_000
    assert Cache(max_weight=2**63 - 1).max_weight == 2**63 - 1


# ----------------------------------------------------------------------------------------------------
# Keys
# ----------------------------------------------------------------------------------------------------


def test_int_and_str_keys_are_distinct():
    c = Cache()
    c.put(1, "int")
    c.put("1", "str")
    assert c.get(1) == "int"
    assert c.get("1") == "str"
    assert len(c) == 2
    assert set(c.keys()) == {1, "1"}
    assert {type(k) for k in c.keys()} == {int, str}  # noqa: SIM118 - Cache.keys() is what is checked


def test_int64_bounds():
    c = Cache()
    c.put(2**63 - 1, "max")
    c.put(-(2**63), "min")
    assert c.get(2**63 - 1) == "max"
    assert c.get(-(2**63)) == "min"
    for too_big in (2**63, -(2**63) - 1, 10**30):
        with pytest.raises(KeyTypeError, match="signed 64-bit"):
            c.put(too_big, "x")
        with pytest.raises(KeyTypeError):
            c.get(too_big)
    assert len(c) == 2


@pytest.mark.parametrize("bad", [1.5, b"bytes", None, ("t",), ["l"], object()])
def test_keys_of_other_types_raise_key_type_error(bad):
    c = Cache()
    for call in (
        lambda: c.get(bad),
        lambda: c.put(bad, 1),
        lambda: c.compute_if_absent(bad, lambda k: 1),
        lambda: c.invalidate(bad),
    ):
        with pytest.raises(KeyTypeError, match="cache keys are str or int"):
            call()
        # Also a TypeError, for code that catches the built-in.
        with pytest.raises(TypeError):
            call()
    assert len(c) == 0
    # Membership with an unusable key is simply False.
    assert bad not in c


def test_unencodable_str_key_is_a_key_type_error():
    c = Cache()
    with pytest.raises(KeyTypeError):
        c.put("\ud800", 1)
    assert len(c) == 0


# ----------------------------------------------------------------------------------------------------
# get / put (R6.4, R6.5)
# ----------------------------------------------------------------------------------------------------


def test_get_miss_returns_default_and_counts_a_miss():
    c = Cache()
    assert c.get("absent") is None
    sentinel = object()
    assert c.get("absent", sentinel) is sentinel
    assert c.get("absent", default=0) == 0
    assert c.stats() == {"hits": 0, "misses": 3, "evictions": 0}


def test_get_returns_the_stored_object_and_counts_a_hit():
    c = Cache()
    value = {"hash": "abc"}
    c.put("k", value)
    assert c.get("k") is value
    assert c.stats() == {"hits": 1, "misses": 0, "evictions": 0}


def test_a_cached_none_is_a_hit_not_the_default():
    c = Cache()
    c.put("k", None)
    assert c.get("k", "default") is None
    assert c.stats()["hits"] == 1


def test_lru_order_put_and_get_move_to_head():
    c = Cache()
    for k in "abc":
        c.put(k, k.upper())
    assert c.keys() == ["c", "b", "a"]  # most recent first
    assert c.get("a") == "A"
    assert c.keys() == ["a", "c", "b"]
    c.put("b", "B2")
    assert c.keys() == ["b", "a", "c"]
    assert list(c) == ["b", "a", "c"]
    assert c.items() == [("b", "B2"), ("a", "A"), ("c", "C")]


def test_contains_does_not_count_or_reorder():
    c = Cache()
    c.put("a", 1)
    c.put("b", 2)
    assert "a" in c and "b" in c and "z" not in c and 1 not in c
    assert c.keys() == ["b", "a"]
    assert c.stats() == {"hits": 0, "misses": 0, "evictions": 0}


def test_size_limit_evicts_the_lru_tail():
    c, rec = recorded_cache(2)
    c.put("a", 1)
    c.put("b", 2)
    c.get("a")  # a becomes most recent, b is now the tail
    c.put("c", 3)
    assert c.keys() == ["c", "a"]
    assert rec.take() == [("b", 2, EVICTED)]
    assert c.stats() == {"hits": 1, "misses": 0, "evictions": 1}
    assert len(c) == c.count == 2
    assert c.weight == 2


def test_put_over_live_key_reports_replaced_without_counting_an_eviction():
    c, rec = recorded_cache(10)
    c.put("a", 1)
    c.put("a", 2)
    assert rec.take() == [("a", 1, REPLACED)]
    assert c.get("a") == 2
    assert len(c) == 1
    assert c.stats()["evictions"] == 0


def test_put_over_existing_key_when_full_reports_eviction_before_replaced():
    # Weights: a=1, b=1, c=1 fill max_weight 3. Re-putting c with weight 2 links it at the head
    # (weight 4 > 3), prunes the tail a (EVICTED), and only then reports the old c REPLACED.
    c, rec = recorded_cache(3, weigher=lambda k, v: v[1])
    c.put("a", ("a1", 1))
    c.put("b", ("b1", 1))
    c.put("c", ("c1", 1))
    assert rec.take() == []
    c.put("c", ("c2", 2))
    assert rec.take() == [("a", ("a1", 1), EVICTED), ("c", ("c1", 1), REPLACED)]
    assert c.keys() == ["c", "b"]
    assert c.weight == 3
    assert c.stats()["evictions"] == 1


def test_put_over_expired_key_prunes_expired_tail_before_replaced():
    c, rec = recorded_cache(expire_after_access="10nanos")
    c.put("old", 1)
    c.advance("5nanos")
    c.put("k", 2)
    c.advance("6nanos")  # old: 11 > 10 expired; k: 6 not
    c.put("k", 3)
    assert rec.take() == [("old", 1, EVICTED), ("k", 2, REPLACED)]
    assert c.keys() == ["k"]


def test_entry_heavier_than_max_weight_evicts_everything_including_itself():
    c, rec = recorded_cache(5, weigher=lambda k, v: v)
    c.put("a", 2)
    c.put("b", 2)
    c.put("big", 6)
    # Linked at the head, then the tail is pruned while weight > 5: a, b, then big itself.
    assert rec.take() == [("a", 2, EVICTED), ("b", 2, EVICTED), ("big", 6, EVICTED)]
    assert len(c) == 0 and c.weight == 0
    assert c.stats()["evictions"] == 3


def test_max_weight_zero_keeps_nothing_with_unit_weights():
    c, rec = recorded_cache(0)
    c.put("a", 1)
    assert len(c) == 0
    assert rec.take() == [("a", 1, EVICTED)]
    assert c.get("a") is None
    assert c.stats() == {"hits": 0, "misses": 1, "evictions": 1}


def test_max_weight_zero_keeps_zero_weight_entries():
    c = Cache(0, weigher=lambda k, v: 0)
    c.put("a", 1)
    c.put("b", 2)
    assert c.keys() == ["b", "a"]
    assert c.weight == 0


# ----------------------------------------------------------------------------------------------------
# Weigher
# ----------------------------------------------------------------------------------------------------


def test_weigher_receives_key_and_value_and_weights_are_summed():
    seen = []

    def weigher(k, v):
        seen.append((k, v))
        return len(v)

    c = Cache(100, weigher=weigher)
    c.put("a", "xx")
    c.put(7, "yyy")
    assert c.weight == 5
    assert seen == [("a", "xx"), (7, "yyy")]
    c.put("a", "z")  # replacing subtracts the old weight exactly
    assert c.weight == 4
    c.invalidate(7)
    assert c.weight == 1
    c.invalidate_all()
    assert c.weight == 0


def test_weight_limit_evicts_by_weight_not_count():
    c, rec = recorded_cache(10, weigher=lambda k, v: v)
    c.put("a", 4)
    c.put("b", 4)
    c.put("c", 2)  # 10: not over
    assert rec.take() == []
    c.put("d", 1)  # 11 > 10: evict a (4) -> 7
    assert rec.take() == [("a", 4, EVICTED)]
    assert c.weight == 7
    assert c.keys() == ["d", "c", "b"]


@pytest.mark.parametrize("bad", [-1, 1.0, "1", None, 2**63, [1]])
def test_bad_weigher_results_are_illegal_argument_and_nothing_is_inserted(bad):
    c, rec = recorded_cache(10, weigher=lambda k, v: bad)
    with pytest.raises(IllegalArgumentError, match="weigher must return an int between 0 and"):
        c.put("a", 1)
    assert len(c) == 0 and c.weight == 0
    assert rec.take() == []


def test_weigher_raising_propagates_and_nothing_is_inserted():
    class Boom(Exception):
        pass

    def weigher(k, v):
        if v == "bad":
            raise Boom("cannot weigh")
        return 1

    c, rec = recorded_cache(10, weigher=weigher)
    c.put("a", "good")
    with pytest.raises(Boom, match="cannot weigh"):
        c.put("a", "bad")
    # The old entry is untouched: nothing replaced, nothing notified.
    assert c.items() == [("a", "good")]
    assert rec.take() == []
    with pytest.raises(Boom):
        c.put("b", "bad")
    assert "b" not in c
    assert c.stats() == {"hits": 0, "misses": 0, "evictions": 0}


def test_weigher_is_applied_to_loaded_values():
    c = Cache(100, weigher=lambda k, v: len(v))
    assert c.compute_if_absent("k", lambda k: "abcd") == "abcd"
    assert c.weight == 4


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
# compute_if_absent (R6.6)
# ----------------------------------------------------------------------------------------------------


def test_compute_if_absent_loads_once_and_caches():
    calls = []

    def loader(k):
        calls.append(k)
        return f"loaded-{k}"

    c = Cache()
    assert c.compute_if_absent("k", loader) == "loaded-k"
    assert c.compute_if_absent("k", loader) == "loaded-k"
    assert c.compute_if_absent(5, loader) == "loaded-5"
    assert calls == ["k", 5]
    assert c.keys() == [5, "k"]
    assert c.get("k") == "loaded-k"
    assert c.keys() == ["k", 5]
    assert c.stats() == {"hits": 2, "misses": 2, "evictions": 0}


def test_compute_if_absent_hit_promotes():
    c = Cache(2)
    c.put("a", 1)
    c.put("b", 2)
    assert c.compute_if_absent("a", lambda k: pytest.fail("loader must not run on a hit")) == 1
    c.put("c", 3)
    assert c.keys() == ["c", "a"]


def test_compute_if_absent_eagerly_evicts_an_expired_entry():
    c, rec = recorded_cache(expire_after_access="1s")
    c.put("k", "old")
    c.advance("2s")
    assert c.compute_if_absent("k", lambda k: "new") == "new"
    # The expired entry is EVICTED (counted), never REPLACED.
    assert rec.take() == [("k", "old", EVICTED)]
    assert c.stats() == {"hits": 0, "misses": 1, "evictions": 1}
    assert c.items() == [("k", "new")]


def test_compute_if_absent_loader_error_is_wrapped_and_nothing_cached():
    class Backend(Exception):
        pass

    original = Backend("index unavailable")

    def loader(k):
        raise original

    c = Cache()
    with pytest.raises(ExecutionError) as info:
        c.compute_if_absent("k", loader)
    assert info.value.__cause__ is original
    assert "index unavailable" in str(info.value)
    assert "k" not in c and len(c) == 0
    assert c.stats() == {"hits": 0, "misses": 1, "evictions": 0}
    # The failure is not cached: the next call loads again.
    assert c.compute_if_absent("k", lambda k: "ok") == "ok"


def test_compute_if_absent_loader_returning_none():
    c = Cache()
    with pytest.raises(ExecutionError) as info:
        c.compute_if_absent("k", lambda k: None)
    assert str(info.value) == "loader returned a null value"
    assert isinstance(info.value, RuntimeError)
    assert len(c) == 0


def test_compute_if_absent_expired_eviction_is_reported_even_if_loader_fails():
    c, rec = recorded_cache(expire_after_access="1s")
    c.put("k", "old")
    c.advance("2s")
    with pytest.raises(ExecutionError):
        c.compute_if_absent("k", lambda k: None)
    assert rec.take() == [("k", "old", EVICTED)]
    assert len(c) == 0


def test_compute_if_absent_insert_prunes_the_tail():
    c, rec = recorded_cache(1)
    c.put("a", 1)
    assert c.compute_if_absent("b", lambda k: 2) == 2
    assert rec.take() == [("a", 1, EVICTED)]
    assert c.keys() == ["b"]


# ----------------------------------------------------------------------------------------------------
# Re-entrancy and listener call-backs
# ----------------------------------------------------------------------------------------------------


def test_issue8_d18_loader_may_read_another_key():
    # Elasticsearch runs the loader with no segment lock held (Cache.computeIfAbsent): other keys of
    # the same cache are usable from a loader.
    c = Cache()
    c.put("other", 1)
    seen = []

    def loader(k):
        seen.append(c.get("other"))
        return "v"

    assert c.compute_if_absent("k", loader) == "v"
    assert seen == [1]
    assert c.stats() == {"hits": 1, "misses": 1, "evictions": 0}
    assert c.keys() == ["k", "other"]


def test_issue8_d18_dependent_loading_caches_both_keys():
    c = Cache()
    calls = []

    def load(k):
        calls.append(k)
        if k < 3:
            return ("v", k, c.compute_if_absent(k + 1, load))
        return ("v", k)

    v0 = c.compute_if_absent(0, load)
    assert calls == [0, 1, 2, 3]
    assert v0 == ("v", 0, ("v", 1, ("v", 2, ("v", 3))))
    # Each key linked when its own load finished: the innermost first, so 0 is the most recent.
    assert c.keys() == [0, 1, 2, 3]
    assert c.stats() == {"hits": 0, "misses": 4, "evictions": 0}
    assert c.compute_if_absent(2, load) is v0[2][2]
    assert calls == [0, 1, 2, 3]


def test_issue8_d18_dependent_load_that_fails_leaves_the_outer_key_loadable():
    c = Cache()

    def inner(k):
        raise LookupError("no value")

    def outer(k):
        c.compute_if_absent("inner", inner)
        return 1

    with pytest.raises(ExecutionError) as info:
        c.compute_if_absent("outer", outer)
    # The outer loader saw the inner ExecutionError; nothing is cached, nothing stays pending.
    assert isinstance(info.value.__cause__, ExecutionError)
    assert len(c) == 0
    assert c.compute_if_absent("outer", lambda k: 2) == 2
    assert c.compute_if_absent("inner", lambda k: 3) == 3


@pytest.mark.parametrize(
    "own_key_call",
    [
        lambda c: c.get("k"),
        lambda c: c.put("k", 2),
        lambda c: c.setdefault("k", 2),
        lambda c: c.compute_if_absent("k", lambda k: 2),
        lambda c: c.invalidate("k"),
        lambda c: c.replay(["j", "k"]),
    ],
)
def test_issue8_d18_loader_waiting_on_its_own_key_is_refused(own_key_call):
    # Elasticsearch would deadlock on the key's own future; escache raises ReentrantCallError.
    c = Cache()
    seen = []

    def loader(k):
        try:
            own_key_call(c)
        except ReentrantCallError as e:
            seen.append(str(e))
        return 1

    assert c.compute_if_absent("k", loader) == 1
    assert len(seen) == 1 and "its own key" in seen[0] and "deadlock" in seen[0]
    assert c.get("k") == 1  # the load finished normally and released the key


def test_issue8_d18_uncaught_own_key_call_fails_the_load_and_releases_the_key():
    c = Cache()
    with pytest.raises(ExecutionError) as info:
        c.compute_if_absent("k", lambda k: c.get("k"))
    assert isinstance(info.value.__cause__, ReentrantCallError)
    assert len(c) == 0
    c.put("k", 1)  # not stuck
    assert c.get("k") == 1


def test_issue8_d18_loader_invalidating_its_own_key_with_a_value_is_a_no_op():
    # Elasticsearch's invalidate(key, value) skips an incomplete future (future.isDone()).
    c = Cache()
    assert c.compute_if_absent("k", lambda k: c.invalidate("k", 1) or 1) == 1
    assert c.items() == [("k", 1)]


@pytest.mark.parametrize(
    "call_back",
    [
        lambda c: c.stats(),
        lambda c: c.keys(),
        lambda c: len(c),
        lambda c: "k" in c,
        lambda c: c.invalidate_all(),
        lambda c: c.advance(1),
        lambda c: c.compute_if_absent("j", lambda k: 1),
        lambda c: c.put("j", 1),
        lambda c: c.replay(["x", "y"]),
    ],
)
def test_issue8_d18_other_calls_from_a_loader_work(call_back):
    c = Cache()

    def loader(k):
        call_back(c)
        return 1

    assert c.compute_if_absent("k", loader) == 1
    assert c.keys()[0] == "k" and c.get("k") == 1


def test_weigher_may_call_back_during_compute_if_absent():
    c = None
    sizes = []

    def weigher(k, v):
        sizes.append(len(c))  # runs with the cache unlocked
        return 1

    c = Cache(10, weigher=weigher)
    c.put("a", 1)
    assert c.compute_if_absent("k", lambda k: 1) == 1
    assert sizes == [0, 1]
    assert c.keys() == ["k", "a"]


def test_listener_may_call_back_into_the_cache():
    c = None
    seen = []

    def listener(k, v, reason):
        # Runs right after each unlink, as Elasticsearch's delete(), with the cache unlocked.
        seen.append((k, reason, c.keys(), len(c)))
        if reason == EVICTED and not k.startswith("again-"):
            c.put(f"again-{k}", v)  # this put evicts the tail b (weight 1 each, max 2)

    c = Cache(2, removal_listener=listener)
    c.put("a", 1)
    c.put("b", 2)
    c.put("c", 3)
    # Each eviction is delivered right after its unlink. The listener's own put evicts the tail, whose
    # notification reaches the listener in turn (nested, no deadlock), and so on until an "again-" key
    # is evicted.
    assert seen == [
        ("a", EVICTED, ["c", "b"], 2),
        ("b", EVICTED, ["again-a", "c"], 2),
        ("c", EVICTED, ["again-b", "again-a"], 2),
        ("again-a", EVICTED, ["again-c", "again-b"], 2),
    ]
    assert c.items() == [("again-c", 3), ("again-b", 2)]


def test_listener_reading_the_evicted_key_sees_it_gone():
    c = None
    lookups = []

    def listener(k, v, reason):
        lookups.append((k in c, c.get(k, "gone")))

    c = Cache(1, removal_listener=listener)
    c.put("a", 1)
    c.put("b", 2)
    assert lookups == [(False, "gone")]


def test_listener_exceptions_do_not_stop_delivery_and_the_first_is_raised():
    got = []

    def listener(k, v, reason):
        got.append(k)
        raise LookupError(f"listener failed on {k}")

    c = Cache(removal_listener=listener)
    for k in ("a", "b", "c"):
        c.put(k, 1)
    unraisable = []
    import sys

    old_hook = sys.unraisablehook
    sys.unraisablehook = unraisable.append
    try:
        with pytest.raises(LookupError, match="listener failed on c"):
            c.invalidate_all()
    finally:
        sys.unraisablehook = old_hook
    assert got == ["c", "b", "a"]  # every notification delivered, most recent first
    assert len(c) == 0  # the operation itself completed
    assert [str(u.exc_value) for u in unraisable] == ["listener failed on b", "listener failed on a"]


def test_listener_exception_on_get_still_counts_the_hit_and_prunes():
    def listener(k, v, reason):
        raise RuntimeError("listener")

    c = Cache(expire_after_access="10nanos", removal_listener=listener)
    c.put("old", 1)
    c.advance("5nanos")
    c.put("new", 2)
    c.advance("6nanos")
    with pytest.raises(RuntimeError, match="listener"):
        c.get("new")
    assert c.keys() == ["new"]
    assert c.stats() == {"hits": 1, "misses": 0, "evictions": 1}


def test_removal_reasons_are_str_enum_members():
    c, rec = recorded_cache(1)
    c.put("a", 1)
    c.put("a", 2)
    c.put("b", 3)
    c.invalidate("b")
    reasons = [r for _, _, r in rec.take()]
    assert reasons == [REPLACED, EVICTED, INVALIDATED]
    assert all(type(r) is RemovalReason for r in reasons)
    assert reasons == ["REPLACED", "EVICTED", "INVALIDATED"]
    assert [str(r) for r in reasons] == ["REPLACED", "EVICTED", "INVALIDATED"]
    assert {m.value for m in RemovalReason} == {"REPLACED", "INVALIDATED", "EVICTED"}


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


# ----------------------------------------------------------------------------------------------------
# parse_time_value
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "nanos"),
    [
        ("10nanos", 10),
        ("10micros", 10 * US),
        ("100ms", 100 * MS),
        ("5s", 5 * S),
        ("5m", 300 * S),
        ("24h", 86_400 * S),
        ("2d", 2 * 86_400 * S),
        (" 5S ", 5 * S),  # trimmed, case-insensitive
        ("1H", 3600 * S),
        ("-1", -1),  # the minus-one sentinel
        ("0", 0),
        ("000", 0),
        ("0s", 0),
    ],
)
def test_parse_time_value(text, nanos):
    assert escache.parse_time_value(text) == nanos


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.5h", "failed to parse [1.5h], fractional time values are not supported"),
        (
            "1M",  # M is months elsewhere in Elasticsearch, not minutes
            "failed to parse setting [my.setting] with value [1M] as a time value: "
            "unit is missing or unrecognized",
        ),
        (
            "10",
            "failed to parse setting [my.setting] with value [10] as a time value: "
            "unit is missing or unrecognized",
        ),
        (
            "-2s",
            "failed to parse setting [my.setting] with value [-2s] as a time value: "
            "negative durations are not supported",
        ),
        ("abch", "failed to parse [abch]"),
    ],
)
def test_parse_time_value_errors(text, message):
    with pytest.raises(IllegalArgumentError) as info:
        escache.parse_time_value(text, "my.setting")
    assert str(info.value) == message


def test_parse_time_value_default_setting_name():
    with pytest.raises(IllegalArgumentError, match=r"setting \[time value\] with value \[7\]"):
        escache.parse_time_value("7")


# ----------------------------------------------------------------------------------------------------
# Issue 8: values released after the lock, invalidate(key, value), listeners between unlinks, faults
# ----------------------------------------------------------------------------------------------------


def _run_isolated(code: str) -> str:
    """Runs `code` in a fresh interpreter: a deadlock there fails the test by timeout, not the run."""
    import subprocess
    import sys
    import textwrap

    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("listener", [False, True])
@pytest.mark.parametrize(
    "operation",
    [
        'c.put("a", V()); c.put("b", 1)',  # evicted by size
        'c.put("a", V()); c.put("a", 1)',  # replaced
        'c.put("a", V()); c.invalidate_all()',
        'c.put("a", V()); c.invalidate("a")',
        'c.put("a", V()); c.replay([1, 2])',
        'c.put("a", V()); c.advance("1h"); c.refresh()',
        'c.compute_if_absent("a", lambda k: V()); c.setdefault("b", 1)',
    ],
)
def test_issue8_d06_value_whose_del_calls_the_cache_does_not_deadlock(operation, listener):
    out = _run_isolated(
        f"""
        import escache
        seen = []
        class V:
            def __del__(self):
                seen.append((c.stats()["hits"], len(c), c.keys()))
        c = escache.Cache(1, expire_after_write="1m", {"removal_listener=lambda k, v, r: None" if listener else ""})
        {operation}
        import gc; gc.collect()
        print(len(seen), seen[0][1] <= 1)
        """
    )
    assert out.split() == ["1", "True"]


def test_issue8_d19_invalidate_with_none_compares_values():
    c = Cache()
    c.put("a", 1)
    c.put("n", None)
    assert c.invalidate("a", None) is False  # None is a value: 1 != None
    assert c.items() == [("n", None), ("a", 1)]
    assert c.invalidate("n", 0) is False
    assert c.invalidate("n", None) is True
    assert c.invalidate("a") is True  # no value given: unconditional
    assert len(c) == 0
    assert c.stats()["evictions"] == 2
    with pytest.raises(TypeError, match="at most one value"):
        c.invalidate("a", 1, 2)


def test_issue8_d19_invalidate_compares_with_the_given_value_first():
    # Objects.equals(value, entry.value): value.equals(entry.value), identity first.
    calls = []

    class Probe:
        def __init__(self, equal):
            self.equal = equal

        def __eq__(self, other):
            calls.append(other)
            return self.equal

        __hash__ = object.__hash__

    c = Cache()
    c.put("a", 1)
    assert c.invalidate("a", Probe(False)) is False
    assert calls == [1]
    assert c.invalidate("a", Probe(True)) is True
    assert calls == [1, 1]
    same = Probe(False)
    c.put("b", same)
    assert c.invalidate("b", same) is True  # identical: == is not asked
    assert calls == [1, 1]


def test_issue8_d19_eq_that_calls_back_into_the_cache():
    c = Cache()

    class Nosy:
        def __eq__(self, other):
            return len(c) == 1 and c.get("a") is other

        __hash__ = object.__hash__

    c.put("a", [1])
    assert c.invalidate("a", Nosy()) is True
    assert len(c) == 0


def test_issue8_d20_listener_sees_count_and_weight_right_after_each_unlink():
    # Cache.evict -> evictEntry -> delete -> removalListener.onRemoval, one entry at a time; a put's
    # REPLACED after its promote has pruned; invalidateAll unlinks all, then reports.
    c = None
    seen = []

    def listener(k, v, reason):
        seen.append((k, reason, len(c), c.weight))

    c = Cache(3, weigher=lambda k, v: v, removal_listener=listener)
    for k in "abc":
        c.put(k, 1)
    c.put("c", 3)  # unlink c(1): 2; link c(3): 5; evict a: 4; evict b: 3; then REPLACED
    assert seen == [("a", EVICTED, 2, 4), ("b", EVICTED, 1, 3), ("c", REPLACED, 1, 3)]
    seen.clear()
    c.put("x", 1)  # x(1), c(3): weight 4, evict c: 1 entry, weight 1
    c.put("y", 2)  # y(2), x(1): weight 3, nothing to prune
    assert seen == [("c", EVICTED, 1, 1)]
    seen.clear()
    c.invalidate_all()
    assert seen == [("y", INVALIDATED, 0, 0), ("x", INVALIDATED, 0, 0)]


def test_issue8_d20_listener_between_evictions_on_get_and_refresh():
    c = None
    seen = []

    def listener(k, v, reason):
        seen.append((k, len(c)))

    c = Cache(expire_after_write="10nanos", removal_listener=listener)
    for k in "abc":
        c.put(k, 1)
    c.advance("11nanos")
    c.put("d", 1)  # the put prunes the three expired entries one by one
    assert seen == [("a", 3), ("b", 2), ("c", 1)]
    seen.clear()
    c.advance("11nanos")
    c.refresh()
    assert seen == [("d", 0)]


def test_issue8_d20_listener_exception_does_not_stop_the_pruning():
    def listener(k, v, reason):
        raise LookupError(k)

    c = Cache(2, weigher=lambda k, v: v, removal_listener=listener)
    c.put("a", 1)
    c.put("b", 1)
    import sys

    unraisable = []
    old = sys.unraisablehook
    sys.unraisablehook = unraisable.append
    try:
        with pytest.raises(LookupError, match="a"):
            c.put("c", 2)  # weight 4: evict a (listener raises), pruning goes on: evict b
    finally:
        sys.unraisablehook = old
    assert c.keys() == ["c"] and c.weight == 2
    assert [str(u.exc_value) for u in unraisable] == ["b"]


def test_issue8_d05_a_panic_leaves_the_cache_broken_not_half_trusted():
    c = Cache(2)
    c.put("a", 1)
    hook = getattr(c, "_panic_while_locked_for_tests", None)
    if hook is None:
        pytest.skip("fault injection exists in debug builds only")
    with pytest.raises(BaseException) as info:
        hook()
    assert type(info.value).__name__ == "PanicException"
    for call in (lambda: c.get("a"), lambda: c.put("b", 1), lambda: len(c), c.stats, c.keys):
        with pytest.raises(escache.BrokenStateError, match="can no longer be trusted"):
            call()


def test_issue8_d26_negative_ids_are_refused_from_a_buffer_as_from_a_list():
    for keys in ([-1], array("q", [-1]), array("q", [3, -7, 2])):
        with pytest.raises(IllegalArgumentError, match="non-negative integer API key ids"):
            escache.replay_api_key_auth_cache(keys, interval="1s")
    r = escache.replay_api_key_auth_cache(array("q", [1, 2, 1]), interval="1s")
    assert (r["requests"], r["hits"]) == (3, 1)
    for keys in (-5, 0):
        with pytest.raises(IllegalArgumentError, match=r"\[keys\] must be at least \[1\]"):
            escache.zipf_trace(keys, 10)
