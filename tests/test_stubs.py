"""The Rust extension's stubs (``python/escache/_core.pyi``) say what the runtime does: ``stubtest``
compares every class, function, signature, default and property with the built module, and the
constructors show their real signatures to ``help()`` and ``inspect``."""

from __future__ import annotations

import base64
import importlib.util
import inspect
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import escache

ROOT = Path(__file__).resolve().parent.parent
ALLOWLIST = ROOT / "tests" / "stubtest_allowlist.txt"


def test_core_stubs_match_the_runtime() -> None:
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (it is in the `test` extra): stubtest cannot run")
    cmd = [
        sys.executable,
        "-m",
        "mypy.stubtest",
        "escache._core",
        "--mypy-config-file",
        str(ROOT / "pyproject.toml"),
        "--allowlist",
        str(ALLOWLIST),
    ]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def _parameters(obj: Callable[..., object]) -> list[str]:
    return list(inspect.signature(obj).parameters)


def test_constructors_show_their_real_signatures() -> None:
    cluster_args = ["nodes", "cluster_name", "seed", "settings", "password", "trace", "es_version"]
    assert _parameters(escache.Cluster) == cluster_args
    assert _parameters(escache._core.Cluster) == cluster_args
    assert inspect.signature(escache.Cluster).parameters["cluster_name"].kind is inspect.Parameter.KEYWORD_ONLY
    assert _parameters(escache.Cache) == [
        "max_weight",
        "expire_after_access",
        "expire_after_write",
        "weigher",
        "removal_listener",
    ]
    assert _parameters(escache.Cache.replay) == ["self", "keys", "interval", "value"]
    assert _parameters(escache.parse_time_value) == ["value", "setting_name"]


def test_password_none_is_the_default_password() -> None:
    # `password=None` means the default, for the Rust constructor and for the header the wrapper builds.
    c = escache.Cluster(nodes=1, password=None)
    assert c.basic_auth_header() == "Basic " + base64.b64encode(b"elastic:changeme").decode()
    resp = c.perform_request("GET", "/_security/_authenticate", headers={"Authorization": c.basic_auth_header()})
    assert resp.status == 200
