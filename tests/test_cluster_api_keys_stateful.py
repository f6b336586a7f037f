"""Sequences of API key operations: the same seed gives the same responses and trace, and a
Hypothesis state machine checks the caches against the rules of docs/rules.md after every step."""

from __future__ import annotations

import json
import string

import cluster_api_keys_helpers
import pytest
from cluster_api_keys_helpers import AUTH, DOC, DOC_CACHE_TTL, RD, _leaks, authenticate, encoded, names, warm
from conftest import admin
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

import escache

# The shared fixtures (pytest finds a fixture by its name in the test's module).
cluster = cluster_api_keys_helpers.cluster


# ---- 10. determinism -------------------------------------------------------------------------------------


def _scripted_session(seed: int) -> tuple[list, list]:
    c = escache.Cluster(nodes=3, seed=seed)
    out = []
    es = c.client()
    for node in names(c):
        k = c.perform_request("POST", "/_security/api_key", headers=admin(c), body={"name": f"key-{node}"}, node=node)
        out.append((k.status, k.body))
    keys = [b for _, b in out]
    for key in keys:
        for node in names(c):
            r = authenticate(c, key, node)
            out.append((r.status, r.body))
        r = authenticate(c, key, "node-1", secret="not-the-secret-at-all!")
        out.append((r.status, r.body))
    c.advance("90s")
    c.node("node-2").partitioned = True
    out.append(dict(es.security.invalidate_api_key(ids=[keys[0]["id"]])))
    out.append(dict(es.security.clear_api_key_cache(ids=keys[1]["id"])))
    c.security_index.health = "red"
    c.security_index.health = "green"
    c.node("node-2").partitioned = False
    c.advance("6m")
    for node in names(c):
        out.append(authenticate(c, keys[0], node).body)
    out.append(dict(es.security.get_api_key()))
    return out, list(c.events)


def test_same_seed_same_responses_and_trace():
    a, ev_a = _scripted_session(42)
    b, ev_b = _scripted_session(42)
    assert a == b
    assert ev_a == ev_b
    assert len(ev_a) > 100
    other, ev_other = _scripted_session(43)
    ids_a = {r[1]["id"] for r in a[:3]}
    ids_o = {r[1]["id"] for r in other[:3]}
    assert ids_a.isdisjoint(ids_o)
    assert {r[1]["api_key"] for r in a[:3]}.isdisjoint({r[1]["api_key"] for r in other[:3]})
    assert ev_a != ev_other


def test_same_seed_same_node_ids_and_jsonl(tmp_path):
    c1, c2 = escache.Cluster(nodes=3, seed=9), escache.Cluster(nodes=3, seed=9)
    assert [n.id for n in c1.nodes] == [n.id for n in c2.nodes]
    assert [n.id for n in escache.Cluster(nodes=3, seed=10).nodes] != [n.id for n in c1.nodes]
    for c in (c1, c2):
        k = c.client().security.create_api_key(name="k")
        warm(c, [k])
    c1.events.to_jsonl(tmp_path / "a.jsonl")
    c2.events.to_jsonl(tmp_path / "b.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


# ---- 11. a stateful property test ------------------------------------------------------------------------

SECRET_ALPHABET = string.ascii_letters + string.digits + "-_"


NODE_NAMES = ["node-0", "node-1", "node-2"]


# A wrong secret: none (the right one), the right one with one character changed, or an unrelated one
# (prefixed so that it cannot occur by chance in a trace, e.g. as digits of a timestamp).
WRONG_SECRETS = (
    st.none()
    | st.tuples(st.integers(0, 21), st.sampled_from(SECRET_ALPHABET))
    | st.text(SECRET_ALPHABET, min_size=20, max_size=20).map(lambda s: "Wx" + s)
)


def wrong_secret(real: str, spec) -> str | None:
    if spec is None or isinstance(spec, str):
        return spec
    i, ch = spec
    i %= len(real)
    if real[i] == ch:
        ch = "A" if ch != "A" else "B"
    return real[:i] + ch + real[i + 1 :]


class ApiKeyCluster(RuleBasedStateMachine):
    """Random creates, authentications, invalidations (optionally with a node partitioned), partitions,
    heals, restarts, time advances and clears against a 3-node cluster.

    The model tracks, per (node, key), whether the node *may* still accept an invalidated key: only a node
    that did not receive the invalidation broadcast, until it processes a clear covering that key, is
    restarted, or strictly more than the doc-cache TTL has passed since the invalidation (any doc it cached
    was written before it)."""

    keys = Bundle("keys")

    @initialize(target=keys, seed=st.integers(0, 2**32), node=st.sampled_from(NODE_NAMES))
    def setup(self, seed, node):
        self.c = escache.Cluster(nodes=3, seed=seed)
        self.secrets: list[str] = ["changeme"]
        self.info: dict[str, dict] = {}  # id -> {"key", "invalidated"}
        self.stale: dict[tuple[str, str], float] = {}  # (node, id) -> last instant it may accept
        self.checked_events = 0
        return self.create(node)

    # -- helpers
    def running(self) -> list[str]:
        return [n.name for n in self.c.nodes if n.running]

    def reachable_from(self, coordinator: str) -> list[str]:
        coord = self.c.node(coordinator)
        return [
            n.name
            for n in self.c.nodes
            if n.running and (n.name == coordinator or (not n.partitioned and not coord.partitioned))
        ]

    def assert_no_leak(self, text: str) -> None:
        assert _leaks(text, self.secrets) == []

    # -- rules
    @rule(target=keys, node=st.sampled_from(NODE_NAMES))
    def create(self, node):
        if not self.c.node(node).running:
            node = self.running()[0]
        k = dict(self.c.client(node=node).security.create_api_key(name="k"))
        self.secrets += [k["api_key"], k["encoded"]]
        self.info[k["id"]] = {"key": k, "invalidated": None}
        assert k["id"] in self.c.node(node).caches[AUTH]
        return k["id"]

    @rule(key_id=keys)
    def authenticate_everywhere(self, key_id):
        for node in self.running():
            self.authenticate(key_id, node, None)

    @rule(key_id=keys, node=st.sampled_from(NODE_NAMES), wrong_spec=WRONG_SECRETS)
    def authenticate(self, key_id, node, wrong_spec):
        if not self.c.node(node).running:
            with pytest.raises(escache.NodeUnavailableError):
                authenticate(self.c, self.info[key_id]["key"], node)
            return
        key = self.info[key_id]["key"]
        wrong = wrong_secret(key["api_key"], wrong_spec)
        assert wrong != key["api_key"]
        if wrong is not None:
            self.secrets += [wrong, encoded(key_id, wrong)]
        r = authenticate(self.c, key, node, secret=wrong)
        self.assert_no_leak(r.raw.decode())
        if wrong is not None:
            event("wrong secret")
            # (b) a wrong secret is never accepted, whatever is cached.
            assert r.status == 401, (node, r.body)
            return
        if self.info[key_id]["invalidated"] is None:
            assert r.status == 200, (node, r.body)
            return
        deadline = self.stale.get((node, key_id))
        may_accept = deadline is not None and self.c.now <= deadline + 1e-9
        # (a) only a node that missed the broadcast, within the doc-cache TTL, may accept.
        if not may_accept:
            assert r.status == 401, (node, key_id, r.body)
            assert r.body["error"]["additional_unsuccessful_credentials"] == (
                f"API key: api key [{key_id}] has been invalidated"
            )
        else:
            assert r.status in (200, 401), r.body
            event(f"stale node answered {r.status}")
            if r.status == 401:
                # Once it has read the invalidated document, it never accepts the key again.
                del self.stale[(node, key_id)]

    @rule(
        data=st.data(),
        coordinator=st.sampled_from(NODE_NAMES),
        partition=st.none() | st.sampled_from(NODE_NAMES),
        warm_first=st.booleans(),
    )
    def invalidate(self, data, coordinator, partition, warm_first):
        # Mostly a key that is still valid (re-invalidating one is a no-op, checked too).
        valid = sorted(k for k, v in self.info.items() if v["invalidated"] is None)
        if valid and data.draw(st.integers(0, 4), label="fresh") > 0:
            key_id = data.draw(st.sampled_from(valid), label="key")
        else:
            key_id = data.draw(st.sampled_from(sorted(self.info)), label="key")
        if warm_first:
            self.authenticate_everywhere(key_id)
        if partition is not None:
            self.c.node(partition).partitioned = True
        if not self.c.node(coordinator).running:
            coordinator = self.running()[0]
        resp = self.c.client(node=coordinator).security.invalidate_api_key(ids=[key_id])
        if self.info[key_id]["invalidated"] is not None:
            assert resp["invalidated_api_keys"] == []
            assert resp["previously_invalidated_api_keys"] == []
            return
        assert resp["invalidated_api_keys"] == [key_id]
        self.info[key_id]["invalidated"] = self.c.now
        reached = set(self.reachable_from(coordinator))
        for node in self.running():
            if node in reached:
                assert key_id not in self.c.node(node).caches[DOC]
                assert key_id not in self.c.node(node).caches[AUTH]
            else:
                self.stale[(node, key_id)] = self.c.now + DOC_CACHE_TTL
                if warm_first:
                    # It cached the valid document a moment ago and missed the broadcast (R3.7).
                    event("stale node checked right after invalidation")
                    assert authenticate(self.c, self.info[key_id]["key"], node).status == 200

    @rule(node=st.sampled_from(NODE_NAMES), value=st.booleans())
    def partition(self, node, value):
        self.c.node(node).partitioned = value

    @rule(node=st.sampled_from(NODE_NAMES))
    def restart(self, node):
        n = self.c.node(node)
        if n.running and len(self.running()) > 1:
            n.stop()
        elif not n.running:
            n.start()
            for k in [k for k in self.stale if k[0] == node]:
                del self.stale[k]
            assert len(n.caches[AUTH]) == 0 and len(n.caches[DOC]) == 0

    @rule(seconds=st.sampled_from([0.001, 1, 30, 60, 299, 300, 301, 600]))
    def advance(self, seconds):
        self.c.advance(seconds)

    @rule(coordinator=st.sampled_from(NODE_NAMES), data=st.data())
    def clear(self, coordinator, data):
        if not self.c.node(coordinator).running:
            coordinator = self.running()[0]
        known = sorted(self.info)
        if known and data.draw(st.booleans(), label="by_ids"):
            ids = data.draw(st.lists(st.sampled_from(known), min_size=1, max_size=3, unique=True), label="ids")
        else:
            ids = data.draw(st.sampled_from(["*", "_all"]), label="all")
        resp = self.c.client(node=coordinator).security.clear_api_key_cache(ids=ids)
        reached = self.reachable_from(coordinator)
        body = resp.body
        assert body["_nodes"]["total"] == len(self.running())
        assert body["_nodes"]["successful"] == len(reached)
        assert body["_nodes"]["failed"] == len(self.running()) - len(reached)
        assert sorted(v["name"] for v in body["nodes"].values()) == sorted(reached)
        cleared = set(self.info) if isinstance(ids, str) else set(ids)
        for node in reached:
            for key_id in cleared:
                self.stale.pop((node, key_id), None)
                assert key_id not in self.c.node(node).caches[AUTH]
                assert key_id not in self.c.node(node).caches[DOC]

    # -- (c) secrets never leak
    @invariant()
    def no_secret_in_events_or_reprs(self):
        if not hasattr(self, "c"):
            return
        rows = self.c.events.rows(self.checked_events)
        self.checked_events += len(rows)
        self.assert_no_leak(json.dumps(rows))
        reprs = [repr(self.c)] + [repr(n) for n in self.c.nodes]
        reprs += [repr(n.caches[name]) for n in self.c.nodes for name in (AUTH, DOC, RD)]
        self.assert_no_leak("\n".join(reprs))


ApiKeyCluster.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


test_api_key_cluster_state_machine = ApiKeyCluster.TestCase
