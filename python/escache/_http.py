"""``escache.serve``: a cluster behind real HTTP ports, one per node, as a real cluster has (9200,
9201, ...), so that tooling in any language and Python tooling that must go through the network reach
it. The server is the Rust core's (hyper on a tokio runtime, on a thread of its own, with the GIL
released); it shares the cluster's state with this process: what HTTP clients do, ``cluster`` sees,
and the other way round.

A stopped node's port refuses connections (its open connections are closed) and listens again when it
starts; a partitioned node's port still answers. Virtual time moves only with ``cluster.advance`` or
``POST /_escache/advance?by=5m`` (the ``elastic`` superuser's credentials required).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from escache import _core
from escache._cluster import Cluster

__all__ = ["MAX_CONTENT_LENGTH", "Server", "serve"]

#: Elasticsearch's ``http.max_content_length`` default, 100mb (``HttpTransportSettings``): a larger
#: body gets a 413.
MAX_CONTENT_LENGTH = 100 * 1024 * 1024


class Server:
    """A running server for one cluster; a context manager that stops it on exit."""

    def __init__(
        self,
        cluster: Cluster,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = False,
        max_content_length: int = MAX_CONTENT_LENGTH,
    ) -> None:
        if tls:
            raise NotImplementedError("TLS is not available yet in this build of escache serve")
        self.cluster = cluster
        self._server = _core.HttpServer(cluster, host, port, max_content_length=max_content_length)
        self.addresses: list[tuple[str, int]] = list(self._server.addresses)
        self.ca_certs: str | None = None

    @property
    def urls(self) -> list[str]:
        """One URL per node, in node order."""
        return [f"http://{_url_host(h)}:{p}" for h, p in self.addresses]

    def client(self, **kwargs: Any) -> Any:
        """The official ``elasticsearch`` client over the network with every node's URL (it fails over
        between them) and, unless other credentials are given, the ``elastic`` superuser's."""
        import elasticsearch  # noqa: PLC0415 - an optional dependency, imported when used

        if not any(k in kwargs for k in ("api_key", "bearer_auth", "basic_auth")):
            kwargs["basic_auth"] = ("elastic", self.cluster._password)
        return elasticsearch.Elasticsearch(self.urls, **kwargs)

    def stop(self) -> None:
        """Closes every port and connection (idempotent)."""
        self._server.stop()

    def __enter__(self) -> Server:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<escache.Server urls={self.urls!r}>"


def serve(
    cluster: Cluster,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: bool = False,
    max_content_length: int = MAX_CONTENT_LENGTH,
) -> Server:
    """Serves ``cluster`` over HTTP: node ``i`` on ``port + i`` (port 0: a free port each). Use it as
    ``with escache.serve(cluster) as srv: srv.client().info()``."""
    return Server(cluster, host=host, port=port, tls=tls, max_content_length=max_content_length)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
