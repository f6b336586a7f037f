"""Assertions about what tooling did to a cluster, in the spirit of pytest-httpserver's expectations:
each checks :attr:`escache.Cluster.requests` (or the cluster's answer), and a failure raises
:class:`EscacheAssertionError` (an ``AssertionError``) whose message lists the requests made.

    escache.assert_called(cluster, "security.clear_api_key_cache", ids=[old_id])
    escache.assert_cleared(cluster, cache="api_key_auth", keys=[old_id])
    escache.assert_rejected(cluster, old_key)
    escache.assert_accepted(cluster, new_key, at="+1h")
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from escache import _core
from escache.errors import IllegalArgumentError

if TYPE_CHECKING:
    from escache._cluster import Cluster
    from escache._requests import RequestRecord

__all__ = [
    "EscacheAssertionError",
    "assert_accepted",
    "assert_called",
    "assert_cleared",
    "assert_not_called",
    "assert_rejected",
    "authorization_header",
]

#: How many requests a failure message lists (the most recent).
MAX_LISTED = 50


class EscacheAssertionError(AssertionError):
    """An escache assertion failed; the message says what was expected and what the cluster saw."""


def _listing(records: Sequence[RequestRecord], what: str = "requests made") -> str:
    if not records:
        return f"\nno {what}"
    shown = records[-MAX_LISTED:]
    skipped = len(records) - len(shown)
    lines = [f"\n{len(records)} {what}{f' (the last {len(shown)} shown)' if skipped else ''}:"]
    lines += [f"  {i}. {r}" for i, r in enumerate(shown, start=skipped + 1)]
    return "\n".join(lines)


def _describe(api: str | None, params: Mapping[str, Any]) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in params.items())
    return f"{api}({args})" if api else f"a request({args})"


def _param_matches(record: RequestRecord, name: str, expected: Any) -> bool:
    if isinstance(expected, (list, tuple)):
        return record.param_list(name) == [str(x) for x in expected]
    actual = record.params.get(name)
    if isinstance(expected, bool):
        return actual == str(expected).lower()
    return actual == (None if expected is None else str(expected))


def _matching(cluster: Cluster, api: str | None, criteria: Mapping[str, Any]) -> list[RequestRecord]:
    fields = {"method", "node", "status", "principal", "realm", "path"}
    out = []
    for r in cluster.requests:
        if api is not None and r.api != api:
            continue
        ok = True
        for name, expected in criteria.items():
            if name in fields:
                actual = getattr(r, name)
                ok = actual == (expected.upper() if name == "method" else expected)
            else:
                ok = _param_matches(r, name, expected)
            if not ok:
                break
        if ok:
            out.append(r)
    return out


def assert_called(cluster: Cluster, api: str, *, times: int | None = None, **criteria: Any) -> list[RequestRecord]:
    """Asserts that ``api`` (``security.clear_api_key_cache``) was called with every criterion given:
    a record field (``method``, ``node``, ``status``, ``principal``, ``realm``, ``path``) or a
    parameter (``ids=[...]``: a list matches a comma-separated value or a body array, element by
    element and in order; other values compare as their text). ``times``: exactly that many matching
    calls (default: at least one). Returns the matching records."""
    found = _matching(cluster, api, criteria)
    if (times is None and not found) or (times is not None and len(found) != times):
        want = "a call" if times is None else f"{times} call{'s' if times != 1 else ''}"
        raise EscacheAssertionError(
            f"expected {want} to {_describe(api, criteria)}, found {len(found)}" + _listing(list(cluster.requests))
        )
    return found


def assert_not_called(cluster: Cluster, api: str, **criteria: Any) -> None:
    """Asserts that no request to ``api`` matched the criteria (as :func:`assert_called`)."""
    found = _matching(cluster, api, criteria)
    if found:
        raise EscacheAssertionError(
            f"expected no call to {_describe(api, criteria)}, found {len(found)}"
            + _listing(found, "matching requests")
            + _listing(list(cluster.requests))
        )


def assert_cleared(
    cluster: Cluster, cache: str, keys: Iterable[str] | None = None, nodes: Iterable[str] | None = None
) -> None:
    """Asserts that requests cleared ``cache`` (``api_key_auth``, ``api_key_doc``,
    ``api_key_role_descriptors``, ``file_service_account_token``, ``index_service_account_token``) on
    every node of ``nodes`` (default: every node running now): each of ``keys``, or, without
    ``keys``, anything. A whole-cache clear clears every key. Only clears made by REST requests count
    (``cluster.requests[i].cleared``): not a node restart or a security-index change."""
    wanted_nodes = [n.name for n in cluster.nodes if n.running] if nodes is None else list(nodes)
    wanted_keys = None if keys is None else list(keys)
    if isinstance(keys, str):
        raise IllegalArgumentError("keys must be a list of keys, not a str")
    clears = [c for r in cluster.requests for c in r.cleared if c.cache == cache]
    missing = []
    for node in wanted_nodes:
        on_node = [c for c in clears if c.node == node]
        if wanted_keys is None:
            if not on_node:
                missing.append(f"{node}: nothing")
            continue
        absent = [k for k in wanted_keys if not any(c.covers(k) for c in on_node)]
        if absent:
            missing.append(f"{node}: {absent!r}")
    if missing:
        what = "any key" if wanted_keys is None else repr(wanted_keys)
        raise EscacheAssertionError(
            f"expected {what} of cache [{cache}] cleared on {wanted_nodes!r}; not cleared on "
            + "; ".join(missing)
            + _listing([r for r in cluster.requests if r.cleared], "requests that cleared caches")
            + _listing(list(cluster.requests))
        )


def authorization_header(credential: Any) -> str:
    """The ``Authorization`` header for a credential: a header value (``"ApiKey ..."``, ``"Bearer
    ..."``, ``"Basic ..."``), a create-API-key response (its ``encoded``, or ``id`` and ``api_key``),
    a create-service-token response (its ``token.value``), or an ``(id, api_key)`` pair."""
    if isinstance(credential, str):
        if credential.split(" ", 1)[0].lower() in ("apikey", "bearer", "basic") and " " in credential:
            return credential
        raise IllegalArgumentError(
            "a credential string must be an Authorization header value (ApiKey ..., Bearer ..., Basic ...)"
        )
    if isinstance(credential, tuple) and len(credential) == 2:
        return "ApiKey " + base64.b64encode(f"{credential[0]}:{credential[1]}".encode()).decode()
    body = getattr(credential, "body", credential)  # an ObjectApiResponse
    if isinstance(body, Mapping):
        if "encoded" in body:
            return f"ApiKey {body['encoded']}"
        if "id" in body and "api_key" in body:
            return authorization_header((body["id"], body["api_key"]))
        token = body.get("token")
        if isinstance(token, Mapping) and "value" in token:
            return f"Bearer {token['value']}"
    raise IllegalArgumentError(
        f"cannot make an Authorization header from a [{type(credential).__name__}]: give a header value, "
        "a create-API-key or create-service-token response, or an (id, api_key) pair"
    )


def _at(cluster: Cluster, at: Any) -> None:
    """Moves virtual time to ``at``: seconds since the cluster started, or ``"+1h"``-style (a time
    value after ``+``: that long from now). Time never goes back."""
    if at is None:
        return
    if isinstance(at, str) and at.startswith("+"):
        target = cluster.now_nanos + _core._duration_nanos(at[1:], "at")
    else:
        target = _core._duration_nanos(at, "at")
    if target < cluster.now_nanos:
        raise IllegalArgumentError(
            f"at [{target / 1e9}s] is before the cluster's now [{cluster.now}s]: virtual time never goes back"
        )
    cluster.advance(f"{target - cluster.now_nanos}nanos")


def _outcomes(cluster: Cluster, credential: Any, node: str | None, at: Any) -> dict[str, tuple[int, str]]:
    header = authorization_header(credential)
    _at(cluster, at)
    names = [n.name for n in cluster.nodes if n.running] if node is None else [node]
    log = cluster.requests
    was = log.enabled
    log.enabled = False  # the check is not something the tooling did
    try:
        out = {}
        for name in names:
            resp = cluster.perform_request(
                "GET", "/_security/_authenticate", headers={"Authorization": header}, node=name
            )
            reason = ""
            if resp.status != 200 and isinstance(resp.body, dict):
                err = resp.body.get("error", {})
                reason = err.get("additional_unsuccessful_credentials") or err.get("reason", "")
            out[name] = (resp.status, reason)
        return out
    finally:
        log.enabled = was


def assert_accepted(cluster: Cluster, credential: Any, node: str | None = None, *, at: Any = None) -> None:
    """Asserts that ``credential`` (see :func:`authorization_header`) authenticates on ``node``
    (default: every running node), at virtual time ``at`` (default now; seconds since the cluster
    started, or ``"+30m"`` for that long from now; the cluster's clock is advanced to it, which
    moves every cache's expiry and the file watchers; it never goes back).

    The check is a real ``GET /_security/_authenticate``: it reads and fills the node's caches as any
    request does (a stale cached entry is honoured, as Elasticsearch honours it), but it is not
    recorded in ``cluster.requests``."""
    outcomes = _outcomes(cluster, credential, node, at)
    refused = {n: o for n, o in outcomes.items() if o[0] != 200}
    if refused:
        detail = "; ".join(f"{n}: {status} {reason}" for n, (status, reason) in refused.items())
        raise EscacheAssertionError(
            f"expected the credential to be accepted at {cluster.now}s on {list(outcomes)!r}; refused on {detail}"
            + _listing(list(cluster.requests))
        )


def assert_rejected(cluster: Cluster, credential: Any, node: str | None = None, *, at: Any = None) -> None:
    """Asserts that ``credential`` is refused (401) on ``node`` (default: every running node), at
    virtual time ``at``; the twin of :func:`assert_accepted`."""
    outcomes = _outcomes(cluster, credential, node, at)
    not_rejected = {n: o for n, o in outcomes.items() if o[0] != 401}
    if not_rejected:
        detail = "; ".join(f"{n}: {'accepted' if s == 200 else f'{s} {r}'}" for n, (s, r) in not_rejected.items())
        raise EscacheAssertionError(
            f"expected the credential to be rejected (401) at {cluster.now}s on {list(outcomes)!r}; {detail}"
            + _listing(list(cluster.requests))
        )
