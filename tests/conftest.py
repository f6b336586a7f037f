"""Fixtures and helpers that several test files share, each written once."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import settings
from simulation_helpers import REQUIRED_EXAMPLES, Run, run_example, small_sim

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


@pytest.fixture(scope="session")
def runs() -> dict[str, Run]:
    """Each example scenario of ``tests/test_simulation*.py``, run once with its file's seed (the runs are
    only read)."""
    return {name: run_example(name) for name in REQUIRED_EXAMPLES}


@pytest.fixture(scope="module")
def untouched_report() -> tuple[Any, list[tuple]]:
    """The report and trace of a small simulation that no refused description touched."""
    c, sim = small_sim()
    return sim.run("30s"), c.events.rows()
