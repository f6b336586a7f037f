"""``escache.Cache``: ``compute_if_absent`` (R6.6), loaders, weighers and listeners that call back into
the cache, and the removal notifications, by hand from docs/rules.md."""

from __future__ import annotations

import pytest
from cache_helpers import EVICTED, INVALIDATED, REPLACED, recorded_cache

from escache import Cache, ExecutionError, ReentrantCallError, RemovalReason

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
