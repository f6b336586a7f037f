"""Writes ``docs/apis.md``, the page listing every Elasticsearch API escache serves, from the core's
route table (``escache._core._routes``), so that it cannot drift from what the router does:

    python -m escache.docs_apis > docs/apis.md

``tests/test_docs_apis.py`` regenerates it and fails when the committed page differs.
"""

from __future__ import annotations

import sys

from escache import _core

__all__ = ["render"]

_HEADER = """\
# APIs escache serves

<!-- Generated from the router's table by `python -m escache.docs_apis > docs/apis.md`; do not edit
by hand. tests/test_docs_apis.py fails when this page and the table differ. -->

escache answers as Elasticsearch **{version}** (`GET /` reports it): each API below follows that
version's REST handler (its path matching, parameters, body parsing, errors and status codes), and
the caches and invalidations behind it follow the rules in [the rules page](rules.md). The same
table serves `Cluster.perform_request`, the in-process clients (`cluster.client()`,
`cluster.async_client()`) and `escache serve`. Every request is recorded in `cluster.requests` under
the name in the API column, the official Python client's method.

A cluster built with an older version profile (`Cluster(es_version="7.17")`) answers as that
release: the last column lists the profiles that serve each API (a route newer than the profile is
**400** `no handler found`, as that release answers it), and [the version profiles page](versions.md)
lists every behaviour that differs between them.
"""

_UNSERVED = """\
## Elasticsearch APIs escache does not model

These are Elasticsearch's own routes next to the ones above. They are in the router so that their
literal path segments win over the placeholders of served routes, as in Elasticsearch's `PathTrie`
(`POST /_security/user/_has_privileges` never reaches put-user). A request to one gets
Elasticsearch's answer for a path with no handler: **400** `no handler found for uri [...] and
method [...]`, never a silent success.
"""

_ELSE = """\
## Anything else

- A path no route matches: **400**, `no handler found for uri [<uri>] and method [<method>]`
  (`RestController.handleNoHandlerFound`).
- A path that exists with a method it does not have: **405**, `Incorrect HTTP method for uri [<uri>]
  and method [<method>], allowed: [<methods>]`, with an `Allow` header; `OPTIONS` gets **200** and
  `Allow` (`RestController.handleUnsupportedHttpMethod`, `handleOptionsRequest`).
- A method Elasticsearch does not know: **405** `Unexpected http method: <method>`.

Requests answered this way are recorded in `cluster.requests` with `api=None`.
"""

_HTTP_ONLY = """\
## Over HTTP only (`escache serve`)

| Method | Path | What |
|---|---|---|
| POST | `/_escache/advance?by=5m` | escache's own: moves virtual time (the `elastic` superuser only) |
"""


def _version() -> str:
    from escache import Cluster  # noqa: PLC0415 - avoids a cycle when imported by the package

    c = Cluster(nodes=1)
    resp = c.perform_request("GET", "/", headers={"Authorization": c.basic_auth_header()})
    return str(resp.body["version"]["number"])


def _profiles(since: str | None) -> str:
    """The version profiles serving a route: every profile from ``since`` on (docs/versions.md)."""
    names = list(_core.ES_VERSIONS)
    return ", ".join(names[names.index(since) :] if since in names else names)


def render() -> str:
    """The page's Markdown."""
    routes = _core._routes()
    served = [r for r in routes if r[2] is not None]
    unserved = [r for r in routes if r[2] is None]
    lines = [
        _HEADER.format(version=_version()),
        "| Method | Path | API | Elasticsearch handler | Version profiles |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {m} | `{path}` | `{api}` | `{handler}` | {_profiles(since)} |" for m, path, api, handler, since in served
    ]
    lines += ["", _UNSERVED, "| Method | Path |", "|---|---|"]
    lines += [f"| {m} | `{path}` |" for m, path, *_ in unserved]
    lines += ["", _ELSE, _HTTP_ONLY.rstrip()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
