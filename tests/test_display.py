"""Rich display (``_repr_html_``) and short reprs of escache's public objects: the right figures, every
value escaped, never a secret."""

from __future__ import annotations

import base64
import html
import re

import pytest

import escache
from escache import _display
from escache.simulation import load_scenario, scenario_path


@pytest.fixture(scope="module")
def keyed_cluster():
    """A cluster with one API key authenticated on node-1, and the secrets that must never show."""
    c = escache.Cluster(nodes=3, seed=0, password="s3cret-Passw0rd")
    created = c.perform_request(
        "POST",
        "/_security/api_key",
        headers={"Authorization": c.basic_auth_header()},
        body={"name": "<b>deployer</b>"},
    )
    key = created.body
    r = c.perform_request(
        "GET", "/_security/_authenticate", node="node-1", headers={"Authorization": "ApiKey " + key["encoded"]}
    )
    assert r.status == 200
    secrets = [key["api_key"], key["encoded"], "s3cret-Passw0rd", base64.b64encode(b"elastic:s3cret-Passw0rd").decode()]
    return c, key, created, secrets


def _cells(fragment: str) -> list[str]:
    return [html.unescape(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", fragment)]


def _no_secret(text: str, secrets: list[str]) -> None:
    for s in secrets:
        assert s not in text
        assert html.escape(s) not in text


def test_cluster_html_lists_every_node_with_its_caches_and_no_secret(keyed_cluster):
    c, _key, _, secrets = keyed_cluster
    out = c._repr_html_()
    cells = _cells(out)
    assert [x for x in cells if x.startswith("node-")] == ["node-0", "node-1", "node-2"]
    # node-1 holds the key in its auth cache: one entry, one miss so far (ratio 0.000).
    row = cells[cells.index("node-1") :][: 3 + len(c.nodes[0].caches)]
    assert "1 / 0.000" in row
    assert "security index: green" in html.unescape(out)
    _no_secret(out, secrets)
    assert repr(c).startswith("<escache.Cluster")


def test_node_and_cache_view_html_show_stats_removals_and_recent_keys(keyed_cluster):
    c, key, _, secrets = keyed_cluster
    node = c.node("node-1")
    out = node._repr_html_()
    assert "escache.Node node-1" in out and "running" in out
    view = node.caches["api_key_doc"]
    vout = view._repr_html_()
    cells = _cells(vout)
    assert cells[cells.index("entries") + 1] == "1"
    assert cells[cells.index("misses") + 1] == "1"
    assert [cells[cells.index(f"removed: {r}") + 1] for r in ("REPLACED", "INVALIDATED", "EVICTED")] == ["0", "0", "0"]
    assert key["id"] in html.unescape(vout)  # the most recent keys are ids
    _no_secret(out + vout, secrets)
    disabled = escache.Cluster(nodes=1, settings={"xpack.security.authc.api_key.doc_cache.ttl": "0s"})
    assert "disabled" in disabled.nodes[0].caches["api_key_doc"]._repr_html_()


def test_security_index_html(keyed_cluster):
    c, *_ = keyed_cluster
    cells = _cells(c.security_index._repr_html_())
    assert cells[cells.index("health") + 1] == "green"
    assert cells[cells.index("uuid") + 1] == c.security_index.uuid


def test_event_trace_html_counts_by_kind_and_shows_first_rows(keyed_cluster):
    c, _key, _, secrets = keyed_cluster
    out = c.events._repr_html_()
    text = html.unescape(out)
    assert f"{len(c.events):,} events" in text
    cells = _cells(out)
    kinds = {row[2] for row in c.events.rows()}
    for kind in kinds:
        assert kind in cells
    assert "cache_miss" in cells
    _no_secret(out, secrets)
    assert "no events" in escache.Cluster(nodes=1, trace=False).events._repr_html_()


def test_response_html_and_repr_redact_the_create_answer(keyed_cluster):
    c, key, created, secrets = keyed_cluster
    out = created._repr_html_()
    assert "&lt;redacted&gt;" in out and key["id"] in out
    # The key's name is escaped, not markup.
    assert "<b>deployer</b>" not in out and "&lt;b&gt;deployer&lt;/b&gt;" in out
    _no_secret(out + repr(created), secrets)
    assert repr(created) == f"<escache.Response status=200 body=dict bytes={len(created.raw)}>"
    token = c.perform_request(
        "POST",
        "/_security/service/elastic/fleet-server/credential/token/t1",
        headers={"Authorization": c.basic_auth_header()},
    )
    _no_secret(token._repr_html_(), [token.body["token"]["value"]])


def test_redact_replaces_secret_fields_at_any_depth():
    body = {"id": "x", "api_key": "s", "nested": [{"token": {"name": "n", "value": "v"}}], "password": "p"}
    assert _display.redact(body) == {
        "id": "x",
        "api_key": "<redacted>",
        "nested": [{"token": {"name": "n", "value": "<redacted>"}}],
        "password": "<redacted>",
    }


@pytest.fixture(scope="module")
def stale_run():
    cluster, sim, duration = load_scenario(scenario_path("stale_window_missed_broadcast"))
    return cluster, sim, sim.run(duration)


def test_report_and_simulation_html_show_the_totals_and_each_node(stale_run):
    _, sim, report = stale_run
    out = report._repr_html_()
    cells = _cells(out)
    assert cells[cells.index("stale acceptances") + 1] == f"{report.stale_acceptances:,}"
    for name, n in report.nodes.items():
        row = cells[cells.index(name) :]
        assert row[5] == f"{n.stale_acceptances:,}"
    assert "api_key_doc hit ratio" in cells
    assert repr(report) == (
        f"<escache.SimulationReport virtual_seconds=720 requests={report.requests} "
        f"stale_acceptances={report.stale_acceptances} nodes=3>"
    )
    s = sim._repr_html_()
    assert "seed 7; workloads: agents" in html.unescape(s) and "<table" in s
    assert repr(sim) == "<escache.Simulation seed=7 workloads=1 virtual_seconds=720>"


def test_timeline_html_shows_each_nodes_last_sample(stale_run):
    _, _, report = stale_run
    timeline = report.timeline
    out = timeline._repr_html_()
    nodes = list(report.nodes)
    assert f"{len(timeline):,} rows: {len(nodes)} nodes sampled {len(timeline) // len(nodes):,} times" in html.unescape(
        out
    )
    header, *rows = [
        [html.unescape(c) for c in re.findall(r"<t[dh] [^>]*>(.*?)</t[dh]>", tr)]
        for tr in re.findall(r"<tr>(.*?)</tr>", out)
    ]
    assert header[:2] == ["time", "node"] and "stale_acceptances" in header
    last = {r["node"]: r for r in timeline}
    assert [row[1] for row in rows] == nodes
    for row in rows:
        figures = last[row[1]]
        for column in ("success", "too_busy", "stale_acceptances", "max_queue_depth"):
            assert row[header.index(column)] == f"{figures[column]:,}"
    assert repr(timeline) == f"<escache.Timeline rows={len(timeline)}>"
    empty = escache.Simulation(escache.Cluster(nodes=1, seed=0)).report().timeline
    assert len(empty) == 0 and "no samples yet" in empty._repr_html_()


def test_explanation_html_lists_its_lines(stale_run):
    _, _, report = stale_run
    e = report.explain_stale()[0]
    out = e._repr_html_()
    assert out.count("<li>") == len(e.lines()) and "broadcast_dropped" in out


def test_html_escapes_node_names():
    c = escache.Cluster(nodes=["<img src=x onerror=alert(1)>", "n&1"], seed=0)
    for out in (c._repr_html_(), c.nodes[0]._repr_html_()):
        assert "<img" not in out
        assert "&lt;img src=x onerror=alert(1)&gt;" in out


def test_cache_and_replay_result_html_show_figures_never_keys_or_values():
    cache = escache.Cache(max_weight=10, expire_after_write="5m")
    cache.put("user-key-1", "value-secret-1")
    cache.get("user-key-1")
    cache.get("missing")
    cells = _cells(cache._repr_html_())
    assert cells[cells.index("entries") + 1] == "1"
    assert cells[cells.index("expire after write") + 1] == "5m00.0s"
    assert cells[cells.index("hit ratio") + 1] == "0.500"
    out = cache._repr_html_()
    assert "user-key-1" not in out and "value-secret-1" not in out
    result = escache.Cache(max_weight=1).replay([1, 2, 1, 1])
    cells = _cells(result._repr_html_())
    assert [cells[cells.index(k) + 1] for k in ("requests", "hits", "misses")] == ["4", "1", "3"]


def test_every_public_object_has_html_and_a_short_one_line_repr(stale_run, keyed_cluster):
    cluster, sim, report = stale_run
    node = cluster.node("node-2")
    objects = {
        "Cluster": cluster,
        "Node": node,
        "node.caches": node.caches,
        "CacheView": node.caches["api_key_doc"],
        "SecurityIndex": cluster.security_index,
        "EventTrace": cluster.events,
        "Response": keyed_cluster[2],
        "Simulation": sim,
        "SimulationReport": report,
        "NodeReport": report.nodes["node-2"],
        "Timeline": report.timeline,
        "Explanation": report.explain_stale()[0],
        "Cache": escache.Cache(max_weight=10),
    }
    for name, obj in objects.items():
        text = repr(obj)
        assert "\n" not in text and len(text) <= 160, (name, text)
        assert "object at 0x" not in text, (name, text)
        out = obj._repr_html_()
        assert out.startswith("<div") and ("<table" in out or "<ul" in out), name
    assert repr(report.plot).startswith("<escache.plot.ReportPlots stale()")


def test_node_report_and_caches_html_show_the_figures(stale_run):
    cluster, _, report = stale_run
    n = report.nodes["node-2"]
    cells = _cells(n._repr_html_())
    assert cells[cells.index("stale acceptances") + 1] == f"{n.stale_acceptances:,}"
    assert cells[cells.index("largest security-crypto queue") + 1] == f"{n.max_crypto_queue_depth:,}"
    doc = n.caches["api_key_doc"]
    row = cells[cells.index("api_key_doc") :]
    assert row[1:4] == [f"{doc.count:,}", f"{doc.hits:,}", f"{doc.misses:,}"]
    node = cluster.node("node-2")
    view = node.caches["api_key_doc"]
    cells = _cells(node.caches._repr_html_())
    row = cells[cells.index("api_key_doc") :]
    assert row[1:4] == [f"{len(view):,}", f"{view.stats()['hits']:,}", f"{view.stats()['misses']:,}"]


def test_cache_view_shows_the_expiry_settings_it_was_built_with():
    """Each cache's expiry as Elasticsearch builds it (ApiKeyService, ApiKeyDocCache,
    CachingServiceAccountTokenStore): the auth cache expires after access (api_key.cache.ttl), the
    doc cache after write (doc_cache.ttl, 5m), the role descriptors cache after 1h of access, the
    token caches after write (service_token.cache.ttl, 20m), the realm caches after write
    (cache.ttl, 20m, CA-RC1), the roles caches never (CA-RL1), the privilege caches after write
    (privileges.cache.ttl, 24h, CA-AP1)."""
    c = escache.Cluster(nodes=1, seed=0, settings={"xpack.security.authc.api_key.cache.ttl": "1h"})
    caches = c.nodes[0].caches
    expiry = {name: (v.expire_after_write, v.expire_after_access) for name, v in caches.items()}
    assert expiry == {
        "api_key_auth": (None, 3600.0),
        "api_key_doc": (300.0, None),
        "api_key_role_descriptors": (None, 3600.0),
        "file_service_account_token": (1200.0, None),
        "index_service_account_token": (1200.0, None),
        "reserved_realm_users": (1200.0, None),
        "native_realm_users": (1200.0, None),
        "file_realm_users": (1200.0, None),
        "roles": (None, None),
        "roles_negative_lookup": (None, None),
        "application_privileges": (86400.0, None),
        "application_names": (86400.0, None),
    }
    cells = _cells(caches["api_key_doc"]._repr_html_())
    assert cells[cells.index("expire after write") + 1] == "5m00.0s"
    assert cells[cells.index("expire after access") + 1] == "never"
    off = escache.Cluster(nodes=1, seed=0, settings={"xpack.security.authc.api_key.cache.ttl": "0s"})
    assert not off.nodes[0].caches["api_key_auth"].enabled
    assert off.nodes[0].caches["api_key_auth"].expire_after_access is None
