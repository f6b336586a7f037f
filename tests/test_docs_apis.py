"""docs/apis.md is generated from the router's table (escache.docs_apis) and must be current.

After adding a route: ``python -m escache.docs_apis > docs/apis.md``."""

from __future__ import annotations

from pathlib import Path

import escache
from escache import _core
from escache.docs_apis import render

PAGE = Path(__file__).resolve().parent.parent / "docs" / "apis.md"


def test_apis_page_is_current() -> None:
    assert PAGE.read_text(encoding="utf-8") == render(), (
        "docs/apis.md is out of date: run `python -m escache.docs_apis > docs/apis.md`"
    )


def test_every_served_route_is_listed_with_its_api_and_answers_as_routed() -> None:
    page = PAGE.read_text(encoding="utf-8")
    c = escache.Cluster(nodes=1)
    for method, path, api, handler, since in _core._routes():
        assert f"| {method} | `{path}` |" in page
        if api is None:
            # An unmodelled Elasticsearch route: 400 no handler, never a success.
            concrete = path.replace("{", "").replace("}", "")
            resp = c.perform_request(method, concrete, {"Authorization": c.basic_auth_header()})
            assert resp.status == 400, (method, path)
            assert c.requests[-1].api is None
        else:
            assert f"`{api}` | `{handler}` |" in page
            assert since in _core.ES_VERSIONS


def test_the_page_names_the_version_escache_answers_as() -> None:
    c = escache.Cluster(nodes=1)
    version = c.perform_request("GET", "/", {"Authorization": c.basic_auth_header()}).body["version"]["number"]
    assert f"Elasticsearch **{version}**" in PAGE.read_text(encoding="utf-8")
