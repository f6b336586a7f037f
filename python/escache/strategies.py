"""hypothesis strategies for property-testing tooling against the simulated cluster: valid and
invalid API key names, service account token names and ids (Elasticsearch's validation rules, the
token name rule checked by the core's own validator), well-formed API key and service token
credentials, and action sequences for a cluster (:func:`actions`, run with :func:`run_actions`).

Needs ``hypothesis`` (``pip install hypothesis``); importing this module without it raises
:class:`escache.MissingDependencyError`. The rest of escache does not need it.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from escache import _core
from escache.errors import MissingDependencyError

try:
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - exercised by a subprocess test
    raise MissingDependencyError(
        "escache.strategies needs hypothesis, which is not installed: pip install hypothesis"
    ) from None

if TYPE_CHECKING:
    from escache._cluster import Cluster

__all__ = [
    "SERVICE_ACCOUNTS",
    "Action",
    "actions",
    "api_key_credentials",
    "api_key_ids",
    "api_key_names",
    "invalid_api_key_names",
    "invalid_token_names",
    "run_actions",
    "service_token_credentials",
    "token_names",
]

#: The service accounts Elasticsearch defines (``ServiceAccountService``'s accounts).
SERVICE_ACCOUNTS = (
    "elastic/auto-ops",
    "elastic/fleet-server",
    "elastic/fleet-server-remote",
    "elastic/kibana",
)

_BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: API key names: printable text of the Basic Multilingual Plane (an astral character counts two
#: toward Elasticsearch's 256, as Java counts UTF-16 units) and no control characters.
_NAME_CHARS = st.characters(
    min_codepoint=0x21, max_codepoint=0xFFFF, exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp", "Co", "Cn")
)


def token_names() -> st.SearchStrategy[str]:
    """Service account token names Elasticsearch accepts (V1: 1 to 256 of ``A-Za-z0-9-_``, not
    starting with ``_``), checked with the core's validator."""
    return st.from_regex(r"\A[a-zA-Z0-9-][a-zA-Z0-9_-]{0,255}\Z").filter(_core._is_valid_token_name)


def invalid_token_names() -> st.SearchStrategy[str]:
    """Token names Elasticsearch refuses: empty, a leading ``_``, over 256 characters, or a character
    outside ``A-Za-z0-9-_``."""
    return st.one_of(
        st.just(""),
        st.from_regex(r"\A_[a-zA-Z0-9_-]{0,40}\Z"),
        st.from_regex(r"\A[a-zA-Z0-9-][a-zA-Z0-9_-]{256,300}\Z"),
        st.tuples(token_names(), st.sampled_from(" .:*,+@!é%")).map(lambda t: t[0][:200] + t[1]),
    ).filter(lambda n: not _core._is_valid_token_name(n))


def api_key_names() -> st.SearchStrategy[str]:
    """API key names the create API accepts (1 to 256 characters, no leading or trailing whitespace,
    not starting with ``_``)."""
    text = st.text(_NAME_CHARS | st.just(" "), min_size=1, max_size=256)
    return text.filter(lambda n: n[0] not in "_ " and n[-1] != " ")


def invalid_api_key_names() -> st.SearchStrategy[str]:
    """API key names the create API refuses (400 ``action_request_validation_exception``)."""
    return st.one_of(
        st.just(""),
        api_key_names().map(lambda n: "_" + n[:255]),
        api_key_names().map(lambda n: " " + n[:255]),
        api_key_names().map(lambda n: n[:255] + " "),
        st.text(_NAME_CHARS, min_size=257, max_size=300),
    )


def api_key_ids() -> st.SearchStrategy[str]:
    """Ids shaped as Elasticsearch makes them (``UUIDs.base64UUID``: 20 URL-safe Base64 characters)."""
    return st.text(st.sampled_from(_BASE64URL), min_size=20, max_size=20)


def api_key_credentials() -> st.SearchStrategy[tuple[str, str]]:
    """Well-formed ``(id, api_key)`` pairs that no cluster issued (a 22-character secret, as
    Elasticsearch generates); ``escache.assertions.authorization_header`` makes the header."""
    return st.tuples(api_key_ids(), st.text(st.sampled_from(_BASE64URL), min_size=22, max_size=22))


def service_token_credentials(accounts: Sequence[str] = SERVICE_ACCOUNTS) -> st.SearchStrategy[str]:
    """Well-formed service account token bearer values (``AAEAA...``: the ``00 01 00 01`` prefix,
    ``namespace/service/name:secret``, Base64 without padding) that no cluster issued."""

    def bearer(parts: tuple[str, str, str]) -> str:
        account, name, secret = parts
        raw = b"\x00\x01\x00\x01" + f"{account}/{name}:{secret}".encode()
        return base64.b64encode(raw).decode().rstrip("=")

    secrets = st.text(st.sampled_from(_BASE64URL), min_size=22, max_size=22)
    return st.tuples(st.sampled_from(list(accounts)), token_names(), secrets).map(bearer)


@dataclass(frozen=True)
class Action:
    """One step of :func:`actions`: ``kind`` and its arguments (``key`` indexes the keys created so
    far, modulo their number; ``node`` is a node name)."""

    kind: str
    node: str | None = None
    key: int | None = None
    seconds: float | None = None
    name: str | None = None


def actions(
    nodes: Sequence[str] = ("node-0", "node-1", "node-2"), max_size: int = 20
) -> st.SearchStrategy[list[Action]]:
    """Sequences of cluster actions: create, invalidate and authenticate API keys, clear the API key
    cache (one key or all), advance virtual time, stop and start nodes, partition and heal them."""
    node = st.sampled_from(list(nodes))
    key = st.integers(min_value=0, max_value=1_000)
    one = st.one_of(
        st.builds(Action, kind=st.just("create_api_key"), name=api_key_names(), node=node),
        st.builds(Action, kind=st.just("invalidate_api_key"), key=key, node=node),
        st.builds(Action, kind=st.just("authenticate"), key=key, node=node),
        st.builds(Action, kind=st.just("clear_api_key_cache"), key=st.none() | key, node=node),
        st.builds(Action, kind=st.just("advance"), seconds=st.floats(min_value=0, max_value=7200)),
        st.builds(Action, kind=st.sampled_from(["stop", "start", "partition", "heal"]), node=node),
    )
    return st.lists(one, max_size=max_size)


def run_actions(cluster: Cluster, steps: Sequence[Action]) -> list[dict[str, Any]]:
    """Runs ``steps`` on ``cluster`` through its REST API (as ``elastic``); a step on a stopped node,
    or on a key before any exists, is skipped. Returns the create-API-key responses, in order."""
    keys: list[dict[str, Any]] = []
    admin = {"Authorization": cluster.basic_auth_header()}
    for step in steps:
        node = cluster.node(step.node) if step.node is not None else None
        if step.kind == "advance":
            cluster.advance(step.seconds or 0)
        elif step.kind in ("stop", "start"):
            getattr(node, step.kind)()
        elif step.kind in ("partition", "heal") and node is not None:
            node.partitioned = step.kind == "partition"
        elif node is None or not node.running:
            continue
        elif step.kind == "create_api_key":
            resp = cluster.perform_request("POST", "/_security/api_key", admin, {"name": step.name}, node=node.name)
            if resp.status == 200:
                keys.append(resp.body)
        elif not keys and step.key is not None:
            continue
        elif step.kind == "invalidate_api_key" and step.key is not None:
            body = {"ids": [keys[step.key % len(keys)]["id"]]}
            cluster.perform_request("DELETE", "/_security/api_key", admin, body, node=node.name)
        elif step.kind == "authenticate" and step.key is not None:
            k = keys[step.key % len(keys)]
            cluster.perform_request(
                "GET", "/_security/_authenticate", {"Authorization": f"ApiKey {k['encoded']}"}, node=node.name
            )
        elif step.kind == "clear_api_key_cache":
            target = "*" if step.key is None else keys[step.key % len(keys)]["id"]
            cluster.perform_request("POST", f"/_security/api_key/{target}/_clear_cache", admin, node=node.name)
    return keys
