"""Helpers shared by the ``tests/test_cache*.py`` suites of ``escache.Cache`` (Elasticsearch's
``org.elasticsearch.common.cache.Cache``, rules R6.1-R6.9 of docs/rules.md): time units, removal reasons and a
listener that records what it is told."""

from __future__ import annotations

from escache import Cache, RemovalReason

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
