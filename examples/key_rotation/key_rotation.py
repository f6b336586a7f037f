"""Rotate an Elasticsearch API key: create the new key, switch the application to it, invalidate the
old key, and clear the old key from every node's API key caches so that no node keeps accepting it.

A sample of the tooling escache is for; ``test_key_rotation.py`` next to it tests it against a
simulated cluster with escache's pytest fixtures only. It uses nothing but the official client:

    python key_rotation.py --url https://es01:9200 --user admin --password ... \\
        --name ingest --old-id VuaCfGcBCdbkQm-e5aOx --out /etc/app/es_api_key
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch


class RotationIncomplete(RuntimeError):
    """The old key is invalidated, but some nodes did not clear it from their caches: they may
    accept it until their cached copy expires. Retry the cache clear."""

    def __init__(self, old_id: str, failures: list[Any]) -> None:
        super().__init__(f"api key [{old_id}] invalidated, but {len(failures)} node(s) did not clear their caches")
        self.old_id = old_id
        self.failures = failures


@dataclass(frozen=True)
class Rotation:
    new_id: str
    new_encoded: str
    old_id: str | None


def rotate(
    es: Elasticsearch,
    name: str,
    switch: Callable[[str], None],
    old_id: str | None = None,
    role_descriptors: dict[str, Any] | None = None,
) -> Rotation:
    """Creates a new key named ``name``, hands its encoded credential to ``switch`` (deploy it), then
    invalidates ``old_id`` and clears it from every node's caches. Raises :class:`RotationIncomplete`
    when a node did not answer the cache clear."""
    created = es.security.create_api_key(name=name, role_descriptors=role_descriptors or {})
    switch(created["encoded"])
    if old_id is not None:
        es.security.invalidate_api_key(ids=[old_id])
        # Invalidation broadcasts a clear too, but a node it missed keeps its cached document (5
        # minutes by default): clear explicitly and check every node answered.
        cleared = es.security.clear_api_key_cache(ids=old_id)
        failures = cleared["_nodes"].get("failures", [])
        if cleared["_nodes"]["failed"]:
            raise RotationIncomplete(old_id, failures)
    return Rotation(created["id"], created["encoded"], old_id)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", action="append", required=True, help="a node's URL (repeat for failover)")
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--ca-certs", default=None)
    p.add_argument("--name", required=True, help="the new key's name")
    p.add_argument("--old-id", default=None, help="the key to retire")
    p.add_argument("--out", required=True, type=Path, help="file the application reads its key from")
    args = p.parse_args(argv)
    es = Elasticsearch(args.url, basic_auth=(args.user, args.password), ca_certs=args.ca_certs)
    try:
        r = rotate(es, args.name, lambda encoded: args.out.write_text(encoded + "\n"), args.old_id)
    except RotationIncomplete as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"rotated: new key {r.new_id}" + (f", retired {r.old_id}" if r.old_id else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
