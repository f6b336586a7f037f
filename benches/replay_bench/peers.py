"""The implementations compared: the optional peers, the per-operation call loops and styles of each
implementation, and the environment (versions, CPU) the run reports."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import escache

# --------------------------------------------------------------------------------------------------------
# Optional peers
# --------------------------------------------------------------------------------------------------------


def _try_import(name: str) -> Any:
    try:
        return __import__(name)
    except ImportError:
        return None


cachetools = _try_import("cachetools")
cachebox = _try_import("cachebox")
moka_py = _try_import("moka_py")
libcachesim = _try_import("libcachesim")
numpy = _try_import("numpy")

PEER_PIP_NAMES = {
    "cachetools": "cachetools",
    "cachebox": "cachebox",
    "moka_py": "moka-py",
    "libcachesim": "libcachesim",
}


def _version(mod: Any) -> str | None:
    if mod is None:
        return None
    v = getattr(mod, "__version__", None)
    if v is None:
        try:
            from importlib.metadata import version

            v = version(PEER_PIP_NAMES.get(mod.__name__, mod.__name__))
        except Exception:  # noqa: BLE001 - any failure only means the version is unknown
            v = "?"
    return str(v)


def skipped_peers() -> list[str]:
    """The pip names of the peers that are not installed."""
    skipped: list[str] = []
    for mod, pip_name in (
        (cachetools, "cachetools"),
        (cachebox, "cachebox"),
        (moka_py, "moka-py"),
        (libcachesim, "libcachesim"),
    ):
        if mod is None:
            skipped.append(pip_name)
    return skipped


def environment() -> dict[str, Any]:
    """Python, the CPU, the versions of escache and its peers, and where escache was loaded from."""
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "escache": escache.__version__,
        "cachetools": _version(cachetools),
        "cachebox": _version(cachebox),
        "moka_py": _version(moka_py),
        "libcachesim": _version(libcachesim),
    }
    env["escache_module"] = os.path.dirname(escache.__file__)
    core = escache._core.__file__
    env["escache_core_built"] = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(core)))
    return env


# --------------------------------------------------------------------------------------------------------
# Per-operation loops. Each is a plain get-or-put over a list of int keys, with the methods bound to locals
# first; the timed loops count nothing (hits come from an untimed counting pass, see count_get_put).
# --------------------------------------------------------------------------------------------------------


def loop_get_put(cache: Any, keys: list[int], get_name: str, put_name: str) -> None:
    get = getattr(cache, get_name)
    put = getattr(cache, put_name)
    for k in keys:
        if get(k) is None:
            put(k, True)


def loop_get_setitem(cache: Any, keys: list[int], get_name: str, _unused: str) -> None:
    get = getattr(cache, get_name)
    for k in keys:
        if get(k) is None:
            cache[k] = True


def loop_one_call(cache: Any, keys: list[int], method: str, arg: Any) -> None:
    f = getattr(cache, method)
    for k in keys:
        f(k, arg)


def count_get_put(get: Callable[[int], Any], put: Callable[[int, Any], Any], keys: list[int]) -> int:
    hits = 0
    for k in keys:
        if get(k) is None:
            put(k, True)
        else:
            hits += 1
    return hits


def _true_for_key(_k: Any) -> bool:
    return True


def _true() -> bool:
    return True


@dataclass
class Style:
    label: str  # shown in the table
    loop: Callable[[Any, list[int], Any, Any], None]
    a: Any
    b: Any


@dataclass
class PerOpImpl:
    name: str
    make: Callable[[int], Any]
    styles: list[Style]
    counting: Callable[
        [Any], tuple[Callable[..., Any], Callable[..., Any]]
    ]  # cache -> (get, put) for the counting pass
    final_keys: Callable[[Any], set[Any]] | None  # contents after a run, to check one-call styles are equivalent
    exact_lru_expected: bool
    mem_child: str
    run_hits: Callable[[Any], int] | None = None  # hits counted by the cache itself, if it counts


def per_op_impls() -> list[PerOpImpl]:
    """escache's per-operation calls and those of each installed peer, with their call styles."""
    impls: list[PerOpImpl] = [
        PerOpImpl(
            "escache per-op",
            lambda c: escache.Cache(max_weight=c),
            [
                Style("get + put", loop_get_put, "get", "put"),
                Style("compute_if_absent", loop_one_call, "compute_if_absent", _true_for_key),
                Style("setdefault", loop_one_call, "setdefault", True),
            ],
            lambda c: (c.get, c.put),
            lambda c: set(c.keys()),
            True,
            "escache-perop",
            run_hits=lambda c: c.stats()["hits"],
        ),
    ]
    if cachetools is not None:
        impls.append(
            PerOpImpl(
                "cachetools LRUCache",
                lambda c: cachetools.LRUCache(maxsize=c),
                [Style("get + []=", loop_get_setitem, "get", None)],
                lambda c: (c.get, c.__setitem__),
                lambda c: set(c.keys()),
                True,
                "cachetools",
            )
        )
    if cachebox is not None:
        impls.append(
            PerOpImpl(
                "cachebox LRUCache",
                lambda c: cachebox.LRUCache(c),
                [
                    Style("get + insert", loop_get_put, "get", "insert"),
                    Style("get + []=", loop_get_setitem, "get", None),
                    Style("setdefault", loop_one_call, "setdefault", True),
                ],
                lambda c: (c.get, c.insert),
                lambda c: set(c.keys()),
                True,
                "cachebox",
            )
        )
    if moka_py is not None:
        impls.append(
            PerOpImpl(
                "moka-py Moka(lru)",
                lambda c: moka_py.Moka(c, policy="lru"),
                [
                    Style("get + set", loop_get_put, "get", "set"),
                    Style("get_with", loop_one_call, "get_with", _true),
                ],
                lambda c: (c.get, c.set),
                None,
                False,  # checked below, not assumed
                "moka",
            )
        )
    return impls
