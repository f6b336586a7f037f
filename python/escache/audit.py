"""Elasticsearch audit logs for replay workloads (``kind = "replay"``, ``docs/guides/replay.md``).

- :func:`generate` writes a synthetic audit log (``<cluster>_audit.json``: one JSON object per line,
  the fields and layout of Elasticsearch's ``LoggingAuditTrail``), deterministic for a seed: for tests,
  docs and trying a replay before exporting real logs. ``escache audit-gen`` is its command line.
- :func:`summary` says what a log holds as a replay reads it: how many authentications, successes and
  failures, events skipped, node names and credentials in order of first appearance (a credential's
  position is the ``indices`` entry that selects it in actions such as ``invalidate_api_keys``).

No secret is written or read: an audit event names credentials (API key ids, token names), never
their secrets.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import string
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from escache import _core
from escache.errors import IllegalArgumentError

__all__ = ["generate", "summary"]

_ID_ALPHABET = string.ascii_letters + string.digits + "-_"
#: The service accounts a generated log's tokens belong to (they exist in every version profile).
_ACCOUNTS = ("elastic/fleet-server", "elastic/kibana")


def _seconds(value: Any, what: str) -> float:
    """A duration in seconds: a number of seconds or an Elasticsearch time value (``"10m"``)."""
    if isinstance(value, bool):
        raise IllegalArgumentError(f"[{what}] must be a duration, got [{value!r}]")
    if isinstance(value, (int, float)):
        if value < 0:
            raise IllegalArgumentError(f"[{what}] must not be negative")
        return float(value)
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    nanos: int = _core._duration_nanos(value, what)
    return nanos / 1e9


def _timestamp(t: datetime.datetime) -> str:
    """The audit layout's ``yyyy-MM-dd'T'HH:mm:ss,SSSZ`` (``2026-01-01T00:00:00,125+0000``)."""
    return t.strftime("%Y-%m-%dT%H:%M:%S,") + f"{t.microsecond // 1000:03d}+0000"


def generate(
    path: str | os.PathLike[str],
    *,
    nodes: int | Iterable[str] = 3,
    api_keys: int = 10,
    service_tokens: int = 0,
    rate: float = 10.0,
    duration: Any = "60s",
    seed: int = 0,
    failure_share: float = 0.0,
    start: str = "2026-01-01T00:00:00Z",
    cluster_name: str = "escache",
) -> dict[str, int]:
    """Writes a synthetic Elasticsearch audit log to ``path`` and returns its counts.

    ``rate`` authentications per second (Poisson arrivals) over ``duration`` (seconds or a time value)
    from ``start`` (ISO-8601), each on a node drawn uniformly from ``nodes`` (a count, named
    ``es-0``..., or names) presenting a credential drawn uniformly from ``api_keys`` API keys and
    ``service_tokens`` service account tokens; a share ``failure_share`` of them fail (a wrong
    secret: ``authentication_failed`` naming the credential). Each success is followed by the
    ``access_granted`` event of its request, as Elasticsearch logs it (a replay skips it). The same
    arguments give the same bytes.

    Returns ``{"lines", "authentications", "successes", "failures"}``.
    """
    node_names = [f"es-{i}" for i in range(nodes)] if isinstance(nodes, int) else [str(n) for n in nodes]
    if not node_names:
        raise IllegalArgumentError("[nodes] must name at least one node")
    for what, n in (("api_keys", api_keys), ("service_tokens", service_tokens)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise IllegalArgumentError(f"[{what}] must be a non-negative integer, got [{n!r}]")
    if api_keys + service_tokens == 0:
        raise IllegalArgumentError("a log needs at least one credential: [api_keys] or [service_tokens]")
    if not (isinstance(rate, (int, float)) and 0 < rate <= 1_000_000):
        raise IllegalArgumentError(f"[rate] must be a positive number of at most 1000000, got [{rate!r}]")
    if not (isinstance(failure_share, (int, float)) and 0 <= failure_share <= 1):
        raise IllegalArgumentError(f"[failure_share] must be in [0, 1], got [{failure_share!r}]")
    secs = _seconds(duration, "duration")
    try:
        t0 = datetime.datetime.fromisoformat(start.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise IllegalArgumentError(f"[start] must be an ISO-8601 date-time, got [{start!r}]") from None
    if t0.tzinfo is None:
        t0 = t0.replace(tzinfo=datetime.UTC)
    t0 = t0.astimezone(datetime.UTC)
    rng = random.Random(seed)
    keys = ["".join(rng.choice(_ID_ALPHABET) for _ in range(20)) for _ in range(api_keys)]
    tokens = [(_ACCOUNTS[i % len(_ACCOUNTS)], f"token-{i}") for i in range(service_tokens)]
    node_ids = ["".join(rng.choice(_ID_ALPHABET) for _ in range(22)) for _ in node_names]
    counts = {"lines": 0, "authentications": 0, "successes": 0, "failures": 0}
    t = 0.0
    lines: list[str] = []
    while True:
        t += rng.expovariate(rate)
        if t >= secs:
            break
        n = rng.randrange(len(node_names))
        c = rng.randrange(api_keys + service_tokens)
        failed = failure_share > 0 and rng.random() < failure_share
        at = _timestamp(t0 + datetime.timedelta(seconds=t))
        request_id = "".join(rng.choice(_ID_ALPHABET) for _ in range(22))
        common: dict[str, Any] = {
            "type": "audit",
            "timestamp": at,
            "cluster.name": cluster_name,
            "node.name": node_names[n],
            "node.id": node_ids[n],
            "event.type": "rest",
        }
        origin = {"origin.type": "rest", "origin.address": "10.0.0.7:52114"}
        request = {"url.path": "/_search", "request.method": "GET", "request.id": request_id}
        if c < api_keys:
            if failed:
                who: dict[str, Any] = {"user.name": keys[c]}
            else:
                who = {
                    "authentication.type": "API_KEY",
                    "user.name": "elastic",
                    "user.realm": "reserved",
                    "apikey.id": keys[c],
                    "apikey.name": f"key-{c}",
                }
        else:
            account, name = tokens[c - api_keys]
            if failed:
                who = {"user.name": account, "authentication.token.name": name}
            else:
                who = {
                    "authentication.type": "TOKEN",
                    "user.name": account,
                    "user.realm": "_service_account",
                    "authentication.token.name": name,
                    "authentication.token.type": "_service_account_index",
                }
        action = "authentication_failed" if failed else "authentication_success"
        event = {**common, "event.action": action, **who, **origin}
        if not failed:
            event["realm"] = "_es_api_key" if c < api_keys else "_service_account"
        lines.append(json.dumps({**event, **request}, separators=(",", ":")))
        counts["authentications"] += 1
        counts["failures" if failed else "successes"] += 1
        if not failed:
            granted = {**common, "event.type": "transport", "event.action": "access_granted", **who, **origin}
            granted.update({"action": "indices:data/read/search", "request.id": request_id})
            lines.append(json.dumps(granted, separators=(",", ":")))
    counts["lines"] = len(lines)
    Path(path).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return counts


def summary(
    source: str | os.PathLike[str] | Iterable[Mapping[str, Any]],
    *,
    format: str = "es_audit",  # noqa: A002 - the replay workload's own field name
) -> dict[str, Any]:
    """What a replay log holds, read exactly as a replay workload reads it (``source``: a path, or
    an iterable of audit event dicts or CSV rows as dicts): ``events`` (the authentications a replay
    presents), ``successes``, ``failures``, ``skipped`` (other event types), ``not_modelled`` (realm
    users, OAuth2 tokens, anonymous), ``first``/``last`` (nanoseconds since the epoch), ``nodes``
    and ``credentials`` (``real``, ``kind``, ``name``) in order of first appearance. A malformed log
    raises :class:`escache.IllegalArgumentError` naming the file and line."""
    desc: dict[str, Any] = {"format": format}
    if isinstance(source, (str, os.PathLike)):
        desc["path"] = os.fspath(source)
    else:
        desc["records"] = [dict(r) for r in source]
    result: dict[str, Any] = json.loads(_core._replay_summary(json.dumps(desc)))
    return result
