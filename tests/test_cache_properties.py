"""Property tests of escache.Cache.

(a) A hypothesis state machine drives escache.Cache and a small pure-Python reference model that
    implements the rules R6.1-R6.9 (docs/rules.md) directly, and compares them after every step.
(b) A differential test: with no expiry and unit weights, escache's get-or-put hit/miss sequence
    equals cachetools.LRUCache's.
"""

from __future__ import annotations

import contextlib
from array import array
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import cachetools
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

import escache
from escache import RemovalReason

MISSING = object()


# ----------------------------------------------------------------------------------------------------
# Reference model
# ----------------------------------------------------------------------------------------------------


@dataclass
class _Entry:
    value: Any
    weight: int
    write: int
    access: int


class ModelLoaderError(Exception):
    pass


class ModelCache:
    """Elasticsearch's Cache written out rule by rule. `entries` is ordered head (most recent) first."""

    def __init__(self, max_weight: int | None, eaa: int | None, eaw: int | None, weigher):
        self.max_weight = max_weight
        self.eaa = eaa
        self.eaw = eaw
        self.weigher = weigher
        self.entries: OrderedDict[Any, _Entry] = OrderedDict()
        self.weight = 0
        self.now = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self.notifications: list[tuple[Any, Any, str]] = []

    # R6.3: strictly greater than the TTL.
    def _expired(self, e: _Entry) -> bool:
        return (self.eaa is not None and self.now - e.access > self.eaa) or (
            self.eaw is not None and self.now - e.write > self.eaw
        )

    def _link_at_head(self, key, e: _Entry) -> None:
        self.entries[key] = e
        self.entries.move_to_end(key, last=False)
        self.weight += e.weight

    def _unlink(self, key) -> _Entry:
        e = self.entries.pop(key)
        self.weight -= e.weight
        return e

    def _evict_entry(self, key) -> None:
        e = self._unlink(key)
        self.evictions += 1
        self.notifications.append((key, e.value, "EVICTED"))

    # R6.7: only the tail is examined.
    def _prune(self) -> None:
        while self.entries:
            tail = next(reversed(self.entries))
            over = self.max_weight is not None and self.weight > self.max_weight
            if not (over or self._expired(self.entries[tail])):
                break
            self._evict_entry(tail)

    def _promote(self, key) -> None:
        self.entries.move_to_end(key, last=False)
        self._prune()

    # R6.4
    def get(self, key, default=None):
        e = self.entries.get(key)
        if e is None or self._expired(e):
            self.misses += 1
            return default
        self.hits += 1
        e.access = self.now
        self._promote(key)
        return e.value

    # R6.5: link at head, unlink the old entry, prune, then REPLACED.
    def put(self, key, value) -> None:
        w = self.weigher(key, value)
        new = _Entry(value, w, self.now, self.now)
        old = self.entries.get(key)
        if old is not None:
            self._unlink(key)
        self._link_at_head(key, new)
        self._prune()
        if old is not None:
            self.notifications.append((key, old.value, "REPLACED"))

    # R6.6
    def compute_if_absent(self, key, loader):
        e = self.entries.get(key)
        if e is not None and not self._expired(e):
            self.hits += 1
            e.access = self.now
            self._promote(key)
            return e.value
        self.misses += 1
        if e is not None:  # eager eviction of the expired entry
            self._evict_entry(key)
        value = loader(key)  # may raise ModelLoaderError
        if value is None:
            raise ModelLoaderError("loader returned a null value")
        self._link_at_head(key, _Entry(value, self.weigher(key, value), self.now, self.now))
        self._prune()
        return value

    # R6.8
    def invalidate(self, key, *value) -> bool:
        # Objects.equals(value, entry.value): a given None is compared like any value.
        e = self.entries.get(key)
        if e is None or (value and not (value[0] is e.value or value[0] == e.value)):
            return False
        self._unlink(key)
        self.evictions += 1
        self.notifications.append((key, e.value, "INVALIDATED"))
        return True

    def invalidate_all(self) -> None:
        old = list(self.entries.items())
        self.entries.clear()
        self.weight = 0
        for k, e in old:
            self.notifications.append((k, e.value, "INVALIDATED"))

    def refresh(self) -> None:
        self._prune()

    def advance(self, nanos: int) -> None:
        self.now += nanos

    def replay(self, keys, interval: int, value) -> tuple[int, int, int, int]:
        before = (self.hits, self.misses, self.evictions)
        for k in keys:
            if self.get(k, MISSING) is MISSING:
                self.put(k, value)
            self.now += interval
        return (
            len(keys),
            self.hits - before[0],
            self.misses - before[1],
            self.evictions - before[2],
        )

    def stats(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses, "evictions": self.evictions}


# ----------------------------------------------------------------------------------------------------
# (a) State machine
# ----------------------------------------------------------------------------------------------------

# 1 and "1" are distinct keys; -5 checks negative ints.
KEYS = st.sampled_from([0, 1, "1", "a", -5])
WEIGHTS = st.integers(min_value=0, max_value=3)


def weigher(key, value) -> int:
    # Values are (tag, weight) tuples; a replay without value= inserts None (weight 1).
    return 1 if value is None else value[1]


def as_nanos_duration(nanos: int, style: int):
    """The same duration in the forms users pass: an ES time value string, seconds, or a timedelta."""
    if style == 1 and nanos % 1_000_000_000 == 0:
        return nanos // 1_000_000_000  # int seconds
    if style == 2 and nanos % 1_000 == 0:
        return timedelta(microseconds=nanos // 1_000)
    if style == 3 and nanos % 1_000_000 == 0:
        return f"{nanos // 1_000_000}ms"
    return f"{nanos}nanos"


class CacheMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.serial = 0

    @initialize(
        max_weight=st.sampled_from([None, 0, 1, 2, 3, 5]),
        eaa=st.sampled_from([None, 1, 5, 10, 1_000_000_000]),
        eaw=st.sampled_from([None, None, 3, 10, 2_000_000_000]),
        duration_style=st.integers(0, 3),
    )
    def setup(self, max_weight, eaa, eaw, duration_style):
        self.received: list[tuple[Any, Any, Any]] = []
        self.cache = escache.Cache(
            max_weight,
            expire_after_access=None if eaa is None else as_nanos_duration(eaa, duration_style),
            expire_after_write=None if eaw is None else as_nanos_duration(eaw, duration_style),
            weigher=weigher,
            removal_listener=lambda k, v, r: self.received.append((k, v, r)),
        )
        self.model = ModelCache(max_weight, eaa, eaw, weigher)
        self.ttls = [t for t in (eaa, eaw) if t is not None] or [5]
        assert self.cache.max_weight == max_weight
        assert self.cache.expire_after_access == (None if eaa is None else eaa / 1e9)
        assert self.cache.expire_after_write == (None if eaw is None else eaw / 1e9)

    def _value(self, weight: int) -> tuple[str, int]:
        self.serial += 1
        return (f"v{self.serial}", weight)

    @rule(key=KEYS)
    def get(self, key):
        got = self.cache.get(key, MISSING)
        expected = self.model.get(key, MISSING)
        # The very object stored is returned (values are never copied); MISSING means a miss.
        assert got is expected

    @rule(key=KEYS, weight=WEIGHTS)
    def put(self, key, weight):
        v = self._value(weight)
        self.cache.put(key, v)
        self.model.put(key, v)

    @rule(key=KEYS, weight=WEIGHTS, outcome=st.sampled_from(["value", "value", "none", "raise"]))
    def compute_if_absent(self, key, weight, outcome):
        v = self._value(weight)

        def make_loader(calls):
            def loader(k):
                calls.append(k)
                if outcome == "raise":
                    raise ModelLoaderError(f"no value for {k!r}")
                return None if outcome == "none" else v

            return loader

        calls: list[Any] = []
        model_calls: list[Any] = []
        try:
            expected = self.model.compute_if_absent(key, make_loader(model_calls))
        except ModelLoaderError:
            with pytest.raises(escache.ExecutionError) as info:
                self.cache.compute_if_absent(key, make_loader(calls))
            if outcome == "raise":
                assert isinstance(info.value.__cause__, ModelLoaderError)
            else:
                assert str(info.value) == "loader returned a null value"
        else:
            assert self.cache.compute_if_absent(key, make_loader(calls)) is expected
        # The loader ran exactly when the model needed it (at most once), with the key.
        assert calls == model_calls
        assert len(calls) <= 1

    def _expired_keys(self) -> list:
        return [k for k, e in self.model.entries.items() if self.model._expired(e)]

    @precondition(lambda self: hasattr(self, "model") and self._expired_keys())
    @rule(
        index=st.integers(0, 10),
        weight=WEIGHTS,
        outcome=st.sampled_from(["value", "value", "none", "raise"]),
    )
    def compute_if_absent_on_expired_key(self, index, weight, outcome):
        # The R6.6 eager eviction matters most when the expired entry is not the LRU tail, or when
        # the loader then fails: aim at it directly.
        keys = self._expired_keys()
        self.compute_if_absent(keys[index % len(keys)], weight, outcome)

    @rule(key=KEYS)
    def invalidate(self, key):
        assert self.cache.invalidate(key) == self.model.invalidate(key)

    @rule(key=KEYS, same=st.booleans(), none=st.booleans())
    def invalidate_with_value(self, key, same, none):
        current = self.model.entries.get(key)
        if none:
            # None is a value (issue 8 point 19): removes only a cached None.
            value = None
        elif same and current is not None and current.value is not None:
            # An equal value, not the same object: Elasticsearch compares with equals().
            value = (current.value[0], current.value[1])
        else:
            value = ("never-stored", 0)
        assert self.cache.invalidate(key, value) == self.model.invalidate(key, value)

    @rule(
        key=KEYS,
        other=KEYS,
        weight=WEIGHTS,
        outcome=st.sampled_from(["value", "value", "none", "raise"]),
    )
    def compute_if_absent_dependent(self, key, other, weight, outcome):
        # Dependent loading (issue 8 point 18): the loader of `key` loads `other` from the same cache;
        # its own key is refused (ReentrantCallError in escache, a deadlock in Elasticsearch).
        v, inner = self._value(weight), self._value(1)

        def make_loader(cache, refused):
            def loader(k):
                if other == k:
                    if cache is self.cache:
                        with pytest.raises(escache.ReentrantCallError):
                            cache.compute_if_absent(k, lambda _: inner)
                        refused.append(k)
                    return v
                with contextlib.suppress(ModelLoaderError, escache.ExecutionError):
                    cache.compute_if_absent(other, lambda _: None if outcome == "none" else inner)
                if outcome == "raise":
                    raise ModelLoaderError("outer")
                return v

            return loader

        refused: list[Any] = []
        try:
            expected = self.model.compute_if_absent(key, make_loader(self.model, []))
        except ModelLoaderError:
            with pytest.raises(escache.ExecutionError):
                self.cache.compute_if_absent(key, make_loader(self.cache, refused))
        else:
            assert self.cache.compute_if_absent(key, make_loader(self.cache, refused)) is expected
        assert refused in ([], [key])

    @rule()
    def invalidate_all(self):
        self.cache.invalidate_all()
        self.model.invalidate_all()

    @rule()
    def refresh(self):
        self.cache.refresh()
        self.model.refresh()

    @rule(
        which=st.sampled_from(["zero", "one", "ttl", "ttl+1", "large"]),
        ttl_index=st.integers(0, 1),
        style=st.integers(0, 3),
    )
    def advance(self, which, ttl_index, style):
        ttl = self.ttls[ttl_index % len(self.ttls)]
        nanos = {
            "zero": 0,
            "one": 1,
            "ttl": ttl,
            "ttl+1": ttl + 1,
            "large": 3_600_000_000_000,
        }[which]
        returned = self.cache.advance(as_nanos_duration(nanos, style))
        self.model.advance(nanos)
        assert returned == pytest.approx(self.model.now / 1e9, abs=1e-9)

    @rule(
        keys=st.lists(KEYS, max_size=6),
        interval=st.sampled_from([None, 0, 1, "ttl", "ttl+1"]),
        weight=st.none() | WEIGHTS,
        as_array=st.booleans(),
    )
    def replay(self, keys, interval, weight, as_array):
        ttl = self.ttls[0]
        nanos = {None: 0, 0: 0, 1: 1, "ttl": ttl, "ttl+1": ttl + 1}[interval]
        value = None if weight is None else self._value(weight)
        arg = array("q", keys) if as_array and all(isinstance(k, int) for k in keys) else list(keys)
        kwargs = {} if interval is None else {"interval": f"{nanos}nanos"}
        result = self.cache.replay(arg, value=value, **kwargs)
        expected = self.model.replay(keys, nanos, value)
        assert (result.requests, result.hits, result.misses, result.evictions) == expected

    @invariant()
    def agrees_with_model(self):
        if not hasattr(self, "cache"):
            return
        c, m = self.cache, self.model
        assert c.stats() == m.stats()
        assert c.keys() == list(m.entries)
        assert list(c) == list(m.entries)
        assert c.items() == [(k, e.value) for k, e in m.entries.items()]
        assert len(c) == c.count == len(m.entries)
        assert c.weight == m.weight
        assert c.now_nanos == m.now
        for k in (0, 1, "1", "a"):
            assert (k in c) == (k in m.entries)
        got = [(k, v, r) for k, v, r in self.received]
        assert all(isinstance(r, RemovalReason) for _, _, r in got)
        assert got == m.notifications
        self.received.clear()
        m.notifications.clear()


CacheMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestCacheAgainstModel = CacheMachine.TestCase


# ----------------------------------------------------------------------------------------------------
# (b) Differential test against cachetools.LRUCache
# ----------------------------------------------------------------------------------------------------


def cachetools_hits(trace, capacity: int) -> list[bool]:
    lru = cachetools.LRUCache(maxsize=capacity)
    out = []
    for k in trace:
        try:
            lru[k]  # __getitem__ refreshes recency
            out.append(True)
        except KeyError:
            lru[k] = True
            out.append(False)
    return out


def escache_hits(trace, capacity: int) -> list[bool]:
    c = escache.Cache(capacity)
    out = []
    for k in trace:
        if c.get(k) is None:
            c.put(k, True)
            out.append(False)
        else:
            out.append(True)
    return out


@settings(max_examples=200, deadline=None)
@given(
    trace=st.lists(st.integers(min_value=0, max_value=12), max_size=120),
    capacity=st.integers(min_value=1, max_value=8),
)
def test_get_or_put_hit_sequence_matches_cachetools_lru(trace, capacity):
    expected = cachetools_hits(trace, capacity)
    assert escache_hits(trace, capacity) == expected
    # replay does the same get-or-put in Rust: same totals, and the same final LRU contents.
    c = escache.Cache(capacity)
    r = c.replay(array("q", trace))
    assert (r.requests, r.hits, r.misses) == (len(trace), sum(expected), len(trace) - sum(expected))
    assert r.evictions == max(0, r.misses - capacity)
    lru = cachetools.LRUCache(maxsize=capacity)
    for k in trace:
        if k in lru:
            lru[k]
        else:
            lru[k] = True
    assert set(c.keys()) == set(lru.keys())


def test_large_zipf_trace_replay_matches_cachetools_lru():
    trace = escache.zipf_trace(20_000, 200_000, alpha=0.9, seed=42)
    capacity = 1_000
    expected = cachetools_hits(trace, capacity)
    hits = sum(expected)
    assert 0 < hits < len(trace)  # a trace that exercises both paths
    c = escache.Cache(capacity)
    r = c.replay(trace)
    assert r.requests == len(trace)
    assert r.hits == hits
    assert r.misses == len(trace) - hits
    assert r.evictions == r.misses - capacity
    assert len(c) == capacity
    assert c.stats() == {"hits": hits, "misses": len(trace) - hits, "evictions": r.evictions}
