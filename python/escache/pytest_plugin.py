"""escache's pytest plugin, loaded by pytest through the ``pytest11`` entry point once escache is
installed: no conftest needed. The fixtures follow pytest-elasticsearch and pytest-postgresql (a
cluster fixture, client fixtures, a factory, configuration by option and ini key) and the assertions
(``escache.assert_called`` and friends) follow pytest-httpserver.

Fixtures:

- ``escache_cluster``: a fresh :class:`escache.Cluster` per test.
- ``escache_client`` / ``escache_async_client``: the official ``Elasticsearch`` /
  ``AsyncElasticsearch`` on that cluster, in-process, as the ``elastic`` superuser, spanning every node.
- ``escache_server``: the cluster over HTTP (``escache.serve``): ``urls``, ``ca_certs``, ``client()``.
- ``escache_factory``: ``escache_factory(**Cluster kwargs)`` for more clusters in one test;
  ``escache_factory.serve(cluster)`` for more servers (all stopped after the test).
- ``escache_session_cluster``: one cluster for the whole session, never reset.
- ``escache_shared_cluster``: that session cluster, reset (``Cluster.reset``) before each test that uses
  it; ``escache_shared_server`` serves it over HTTP for the whole session (its ports stay the same).

Configuration, strongest first: the ``@pytest.mark.escache(...)`` marker (any ``Cluster`` keyword
argument, plus ``service_tokens={node: file contents}`` and ``tls=True`` for the server), then the
``--escache-*`` command-line options, then the ``escache_*`` ini keys, then ``Cluster``'s defaults.
``settings`` merge name by name in the same order. Markers on a module, class and test merge too,
the closest winning. The session-scoped fixtures take options and ini keys only.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from escache._cluster import Cluster
    from escache._http import Server

__all__ = ["EscacheFactory"]

#: The marker's keyword arguments besides ``Cluster``'s own.
_EXTRA_KWARGS = ("service_tokens", "tls")
_HELP = (
    "escache(**kwargs): configure the escache_cluster fixture: any escache.Cluster keyword argument "
    "(nodes, seed, settings, password, cluster_name, trace), service_tokens={node: file contents} and "
    "tls=True (escache_server)"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("escache", "escache simulated Elasticsearch cluster")
    group.addoption("--escache-nodes", default=None, help="node count or comma-separated node names (default 3)")
    group.addoption("--escache-seed", default=None, help="the cluster's seed (default 0)")
    group.addoption("--escache-password", default=None, help="the elastic user's password (default changeme)")
    group.addoption("--escache-cluster-name", default=None, help="cluster name (default escache)")
    group.addoption(
        "--escache-setting",
        action="append",
        default=None,
        metavar="NAME=VALUE",
        help="an Elasticsearch setting, repeatable (xpack.security.authc.api_key.cache.ttl=1m)",
    )
    group.addoption(
        "--escache-tls", action="store_const", const="true", default=None, help="escache_server serves HTTPS"
    )
    parser.addini("escache_nodes", "escache: node count or comma-separated node names", default=None)
    parser.addini("escache_seed", "escache: the cluster's seed", default=None)
    parser.addini("escache_password", "escache: the elastic user's password", default=None)
    parser.addini("escache_cluster_name", "escache: the cluster name", default=None)
    parser.addini("escache_settings", "escache: Elasticsearch settings, NAME=VALUE per line", type="linelist")
    parser.addini("escache_tls", "escache: escache_server serves HTTPS", type="bool", default=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _HELP)
    _configured(config)  # a bad option or ini value stops the run at once, not in every test


_EXPECTED = {"nodes": "a count or node names", "seed": "an integer", "password": "text", "cluster_name": "text"}


def _nodes(text: str) -> int | list[str]:
    text = text.strip()
    return int(text) if text.isdigit() else [n.strip() for n in text.split(",") if n.strip()]


def _settings(lines: list[str], where: str) -> dict[str, str]:
    out = {}
    for line in lines:
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise pytest.UsageError(f"escache: {where} takes NAME=VALUE, got [{line}]")
        out[name.strip()] = value.strip()
    return out


def _configured(config: pytest.Config) -> dict[str, Any]:
    """Cluster keyword arguments from the ini keys, overridden by the command-line options."""
    kwargs: dict[str, Any] = {}
    settings = _settings(list(config.getini("escache_settings")), "ini escache_settings")
    if config.getini("escache_tls"):
        kwargs["tls"] = True
    for key, convert in (("nodes", _nodes), ("seed", int), ("password", str), ("cluster_name", str)):
        ini, opt = config.getini(f"escache_{key}"), config.getoption(f"escache_{key}")
        for where, value in ((f"ini escache_{key}", ini), (f"--escache-{key.replace('_', '-')}", opt)):
            if value in (None, ""):
                continue
            try:
                kwargs[key] = convert(str(value))
            except ValueError:
                raise pytest.UsageError(f"escache: {where} must be {_EXPECTED[key]}, got [{value}]") from None
    settings.update(_settings(config.getoption("escache_setting") or [], "--escache-setting"))
    if config.getoption("escache_tls") is not None:
        kwargs["tls"] = True
    if settings:
        kwargs["settings"] = settings
    return kwargs


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if key in ("settings", "service_tokens") and isinstance(value, dict):
            out[key] = {**out.get(key, {}), **value}
        else:
            out[key] = value
    return out


def _cluster_params() -> set[str]:
    from escache import Cluster  # noqa: PLC0415 - escache is imported when a fixture is used

    return set(inspect.signature(Cluster.__init__).parameters) - {"self"}


def _marked(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The escache markers' keyword arguments, the closest marker winning."""
    kwargs: dict[str, Any] = {}
    allowed = _cluster_params() | set(_EXTRA_KWARGS)
    for marker in reversed(list(request.node.iter_markers("escache"))):
        if marker.args:
            pytest.fail("@pytest.mark.escache takes keyword arguments only", pytrace=False)
        unknown = sorted(set(marker.kwargs) - allowed)
        if unknown:
            pytest.fail(
                f"@pytest.mark.escache: unknown argument(s) {unknown}; it takes {sorted(allowed)}", pytrace=False
            )
        kwargs = _merge(kwargs, marker.kwargs)
    return kwargs


def _build(kwargs: dict[str, Any]) -> Cluster:
    from escache import Cluster  # noqa: PLC0415

    kwargs = dict(kwargs)
    kwargs.pop("tls", None)
    tokens = kwargs.pop("service_tokens", None) or {}
    cluster = Cluster(**kwargs)
    for node, contents in tokens.items():
        # In force from the start, as a file on disk when the node started.
        cluster._load_service_tokens_file(node, contents)
    return cluster


class EscacheFactory:
    """``escache_factory``: makes clusters (``factory(**Cluster kwargs)``, starting from the options
    and ini keys) and servers (``factory.serve(cluster, **serve kwargs)``); the servers are stopped
    when the test ends."""

    def __init__(self, defaults: dict[str, Any]) -> None:
        self._defaults = defaults
        self._servers: list[Server] = []

    def __call__(self, **kwargs: Any) -> Cluster:
        allowed = _cluster_params() | {"service_tokens"}
        unknown = sorted(set(kwargs) - allowed)
        if unknown:
            raise TypeError(f"escache_factory: unknown argument(s) {unknown}; it takes {sorted(allowed)}")
        return _build(_merge(self._defaults, kwargs))

    def serve(self, cluster: Cluster, **kwargs: Any) -> Server:
        from escache import serve  # noqa: PLC0415

        kwargs.setdefault("tls", bool(self._defaults.get("tls", False)))
        server = serve(cluster, **kwargs)
        self._servers.append(server)
        return server

    def close(self) -> None:
        while self._servers:
            self._servers.pop().stop()


@pytest.fixture
def escache_cluster(request: pytest.FixtureRequest) -> Cluster:
    """A fresh ``escache.Cluster`` for the test, configured by marker > option > ini > default."""
    return _build(_merge(_configured(request.config), _marked(request)))


@pytest.fixture
def escache_client(escache_cluster: Cluster) -> Iterator[Any]:
    """``elasticsearch.Elasticsearch`` on ``escache_cluster``, in-process, as ``elastic``, every node."""
    client = escache_cluster.client()
    yield client
    client.close()


@pytest.fixture
def escache_async_client(escache_cluster: Cluster) -> Any:
    """``elasticsearch.AsyncElasticsearch`` on ``escache_cluster``, in-process, as ``elastic``, every
    node. Its in-process nodes hold no connection, so it needs no closing (``await close()`` is fine)."""
    return escache_cluster.async_client()


@pytest.fixture
def escache_server(request: pytest.FixtureRequest, escache_cluster: Cluster) -> Iterator[Server]:
    """``escache_cluster`` over HTTP, one port per node (``escache.serve``); HTTPS with ``tls=True``
    in the marker, ``--escache-tls`` or ``escache_tls = true``."""
    from escache import serve  # noqa: PLC0415

    tls = bool(_merge(_configured(request.config), _marked(request)).get("tls", False))
    with serve(escache_cluster, tls=tls) as server:
        yield server


@pytest.fixture
def escache_factory(request: pytest.FixtureRequest) -> Iterator[EscacheFactory]:
    """Makes more clusters (and servers) in one test; see :class:`EscacheFactory`."""
    factory = EscacheFactory(_configured(request.config))
    yield factory
    factory.close()


@pytest.fixture(scope="session")
def escache_session_cluster(pytestconfig: pytest.Config) -> Cluster:
    """One cluster for the whole session (options and ini keys; markers do not apply). Nothing resets
    it: tests see what earlier tests did. Use ``escache_shared_cluster`` for a clean one per test."""
    return _build(_configured(pytestconfig))


@pytest.fixture(scope="session")
def escache_shared_server(pytestconfig: pytest.Config, escache_session_cluster: Cluster) -> Iterator[Server]:
    """The session cluster over HTTP for the whole session: the same URLs in every test, serving the
    cluster as ``escache_shared_cluster`` resets it."""
    from escache import serve  # noqa: PLC0415

    tls = bool(_configured(pytestconfig).get("tls", False))
    with serve(escache_session_cluster, tls=tls) as server:
        yield server


@pytest.fixture
def escache_shared_cluster(request: pytest.FixtureRequest, escache_session_cluster: Cluster) -> Cluster:
    """The session cluster, reset before the test (``Cluster.reset``: virtual time 0, no security
    index, empty caches, logs and ``service_tokens`` files; the same node ids). Resetting in place
    keeps every client and server made from it working, so a suite pays for setup once."""
    if _marked(request):
        pytest.fail(
            "@pytest.mark.escache configures escache_cluster; escache_shared_cluster is configured once per "
            "session by --escache-* options and escache_* ini keys",
            pytrace=False,
        )
    escache_session_cluster.reset()
    return escache_session_cluster
