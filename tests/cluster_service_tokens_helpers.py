"""Helpers and fixtures shared by the ``tests/test_cluster_service_tokens*.py`` suites: token values in
Elasticsearch's formats, a three-node cluster and warmed token caches (docs/rules.md, the ``ST-`` rules)."""

from __future__ import annotations

import base64
import hashlib
import os
import pathlib

import pytest

import escache

FILE = "file_service_account_token"


INDEX = "index_service_account_token"


FLEET = "elastic/fleet-server"


CLEAR_ACTION = "cluster:admin/xpack/security/cache/clear"


HASHING = {"xpack.security.authc.service_token_hashing.algorithm": "bcrypt4"}


DATA = pathlib.Path(__file__).parent / "data"


REAL_SECRETS = {  # tests/data/README.md
    "bcrypt": "XE90eAaoT1iW1W-vJf34qw",
    "bcrypt10": "52ejXlazRBafLuzGM5hFcg",
    "pbkdf2": "5DjRC_XRSAql5Hlampyv7Q",
    "pbkdf2_50000": "wn0Xfx5IRHy2lOKScvfwrg",
    "pbkdf2_stretch": "aI_0QLRfRyGBP1U60Sby2w",
}


def v1_message(name: str) -> str:
    return (
        f"invalid service token name [{name}]. service account token name must have at least 1 character "
        "and at most 256 characters that are alphanumeric (A-Z, a-z, 0-9) or hyphen (-) or underscore (_). "
        "It must not begin with an underscore (_)."
    )


def auth_failed(principal: str, name: str) -> str:
    return f"failed to authenticate service account [{principal}] with token name [{name}]"


# ---- helpers ---------------------------------------------------------------------------------------


def bearer(principal: str, name: str, secret: str) -> str:
    """T2: ``00 01 00 01`` + ``ns/svc/name:secret``, standard Base64 without padding."""
    raw = b"\x00\x01\x00\x01" + f"{principal}/{name}:{secret}".encode()
    return base64.b64encode(raw).decode().rstrip("=")


def secret_of(value: str) -> str:
    raw = base64.b64decode(value + "=" * (-len(value) % 4))
    assert raw[:4] == b"\x00\x01\x00\x01"
    return raw[4:].decode().split(":", 1)[1]


def ssha256(secret: str, salt: bytes) -> str:
    """A ``{SSHA256}`` hash as Elasticsearch's file accepts it: Base64 of the 8-byte salt, then of
    SHA-256(secret + salt)."""
    digest = hashlib.sha256(secret.encode() + salt).digest()
    return "{SSHA256}" + base64.b64encode(salt).decode() + base64.b64encode(digest).decode()


def line(principal: str, name: str, secret: str) -> str:
    return f"{principal}/{name}:{ssha256(secret, os.urandom(8))}"


def authenticate(c: escache.Cluster, value: str, node: str = "node-0") -> escache.Response:
    return c.perform_request("GET", "/_security/_authenticate", headers={"Authorization": f"Bearer {value}"}, node=node)


def keys(c: escache.Cluster, node: str, cache: str) -> set[str]:
    return set(c.node(node).caches[cache].keys())


def snapshot(c: escache.Cluster) -> dict[str, tuple[list[str], list[str]]]:
    return {n.name: (n.caches[FILE].keys(), n.caches[INDEX].keys()) for n in c.nodes if n.running}


def events_of(c: escache.Cluster, kind: str, since: int = 0) -> list[dict]:
    return [e for e in list(c.events)[since:] if e["kind"] == kind]


def write_file(c: escache.Cluster, node: str, text: str | bytes) -> None:
    c.node(node).service_tokens_file = text
    c.advance("5s")


@pytest.fixture
def cluster() -> escache.Cluster:
    c = escache.Cluster(nodes=3, seed=0, settings=HASHING)
    c.security_index.create()
    return c


@pytest.fixture
def warmed(cluster, es):
    """Every node's two caches hold ``t1`` and ``t1-b`` of fleet-server (a file token and an index
    token of each name) and index token ``c`` of kibana."""
    text = "\n".join(line(FLEET, n, f"file-secret-{n}") for n in ("t1", "t1-b")) + "\n"
    for n in cluster.nodes:
        n.service_tokens_file = text
    cluster.advance("5s")
    values = {
        name: es.security.create_service_token(namespace="elastic", service="fleet-server", name=name)["token"]["value"]
        for name in ("t1", "t1-b")
    }
    kibana = es.security.create_service_token(namespace="elastic", service="kibana", name="c")["token"]["value"]
    for n in cluster.nodes:
        for name, value in values.items():
            assert authenticate(cluster, bearer(FLEET, name, f"file-secret-{name}"), n.name).status == 200
            assert authenticate(cluster, value, n.name).status == 200
        assert authenticate(cluster, kibana, n.name).status == 200
        assert keys(cluster, n.name, FILE) == {"elastic/fleet-server/t1", "elastic/fleet-server/t1-b"}
        assert keys(cluster, n.name, INDEX) == {
            "elastic/fleet-server/t1",
            "elastic/fleet-server/t1-b",
            "elastic/kibana/c",
        }
    return values
