"""`escache serve`: the same REST surface over a real loopback HTTP port, driven by the official client."""

from __future__ import annotations

import threading

import elasticsearch
import pytest

import escache
from escache.server import make_server


@pytest.fixture()
def served():
    cluster = escache.Cluster(3, seed=4)
    server = make_server(cluster, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield cluster, f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()


def test_client_over_http_creates_invalidates_and_clears(served):
    cluster, url = served
    es = elasticsearch.Elasticsearch(url, basic_auth=("elastic", "changeme"))
    key = es.security.create_api_key(name="over-http")
    as_key = elasticsearch.Elasticsearch(url, api_key=key["encoded"])
    assert as_key.security.authenticate()["api_key"]["id"] == key["id"]
    resp = es.security.clear_api_key_cache(ids="*")
    assert resp["_nodes"] == {"total": 3, "successful": 3, "failed": 0}
    assert set(resp["nodes"]) == {n.id for n in cluster.nodes}
    # The in-process view sees what HTTP did: the caches were cleared on every node.
    assert all(len(n.caches["api_key_auth"]) == 0 for n in cluster.nodes)


def test_http_errors_are_elasticsearch_errors(served):
    _, url = served
    es = elasticsearch.Elasticsearch(url)
    with pytest.raises(elasticsearch.AuthenticationException) as e:
        es.security.clear_api_key_cache(ids="*")
    assert e.value.body["error"]["reason"] == "missing authentication credentials for REST request [/_security/api_key/*/_clear_cache]"


def test_node_header_and_virtual_time(served):
    cluster, url = served
    import json
    import urllib.request

    req = urllib.request.Request(url + "/_escache/advance?by=90s", method="POST")
    with urllib.request.urlopen(req) as r:
        assert json.loads(r.read()) == {"now": 90.0}
    assert cluster.now == 90.0
    es = elasticsearch.Elasticsearch(url, basic_auth=("elastic", "changeme"), headers={"X-Escache-Node": "node-2"})
    assert es.info()["name"] == "node-2"
