"""Fixtures and helpers that several test files share, each written once."""

from __future__ import annotations

import pytest

import escache


def admin(c: escache.Cluster) -> dict[str, str]:
    """The headers of a request as the cluster's bootstrap superuser ``elastic``."""
    return {"Authorization": c.basic_auth_header()}


@pytest.fixture
def es(cluster: escache.Cluster):
    """The in-process ``elasticsearch`` client of the test file's own ``cluster`` fixture."""
    return cluster.client()
