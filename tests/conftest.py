"""Fixtures and helpers that several test files share, each written once."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import settings

import escache

# Hypothesis switches to its "ci" profile (derandomized, no deadline, no example database) when it sees
# CI=true or the like: keep the default one, so that CI runs the suite as a developer's machine does.
settings.load_profile("default")


def admin(c: escache.Cluster) -> dict[str, str]:
    """The headers of a request as the cluster's bootstrap superuser ``elastic``."""
    return {"Authorization": c.basic_auth_header()}


@pytest.fixture
def es(cluster: escache.Cluster) -> Any:
    """The in-process ``elasticsearch`` client of the test file's own ``cluster`` fixture."""
    return cluster.client()
