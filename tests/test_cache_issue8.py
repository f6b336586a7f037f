"""Issue 8 regressions of ``escache.Cache``: re-entrant ``__del__`` and ``__eq__``, listeners between
unlinks, a panic, negative ids from a buffer."""

from __future__ import annotations

from array import array

import pytest
from cache_helpers import EVICTED, INVALIDATED, REPLACED

import escache
from escache import Cache, IllegalArgumentError

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
