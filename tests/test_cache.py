"""``escache.Cache``: construction and settings, keys, get/put and the LRU order, weights, and
``parse_time_value``.

Expected values come from the rules R6.1-R6.9 of docs/rules.md (Elasticsearch's
``org.elasticsearch.common.cache.Cache``) worked by hand for each small scenario."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cache_helpers import EVICTED, MS, REPLACED, US, S, recorded_cache

import escache
from escache import Cache, EscacheError, ExecutionError, IllegalArgumentError, KeyTypeError, ReentrantCallError

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
        "failed to parse setting [expire_after_access] with value [10] as a time value: unit is missing or unrecognized"
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
            "failed to parse setting [my.setting] with value [1M] as a time value: unit is missing or unrecognized",
        ),
        (
            "10",
            "failed to parse setting [my.setting] with value [10] as a time value: unit is missing or unrecognized",
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
