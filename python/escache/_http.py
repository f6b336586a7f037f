"""``escache.serve``: a cluster behind real HTTP ports, one per node, as a real cluster has (9200,
9201, ...), so that tooling in any language and Python tooling that must go through the network reach
it. The server is the Rust core's (hyper on a tokio runtime, on a thread of its own, with the GIL
released); it shares the cluster's state with this process: what HTTP clients do, ``cluster`` sees,
and the other way round.

A stopped node's port refuses connections (its open connections are closed) and listens again when it
starts; a partitioned node's port still answers. Virtual time moves with ``cluster.advance`` or
``POST /_escache/advance?by=5m`` (the ``elastic`` superuser's credentials required), and with the wall
clock under ``clock="realtime[:SPEED]"``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
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
        clock: str = "virtual",
    ) -> None:
        self.cluster = cluster
        self._server = _core.HttpServer(
            cluster, host, port, max_content_length=max_content_length, tls=tls, clock=clock
        )
        self.addresses: list[tuple[str, int]] = list(self._server.addresses)
        self.scheme = "https" if tls else "http"
        #: The CA certificate's SHA-256 fingerprint (hex), for ``ssl_assert_fingerprint``; None without TLS.
        self.ca_fingerprint: str | None = self._server.ca_fingerprint
        #: The CA certificate's file (``http_ca.crt``), for ``ca_certs``; None without TLS. Removed on stop.
        self.ca_certs: str | None = None
        self._ca_dir: tempfile.TemporaryDirectory[str] | None = None
        pem = self._server.ca_pem
        if pem is not None:
            self._ca_dir = tempfile.TemporaryDirectory(prefix="escache-serve-")
            path = Path(self._ca_dir.name, "http_ca.crt")
            path.write_text(pem, encoding="ascii")
            self.ca_certs = str(path)

    @property
    def urls(self) -> list[str]:
        """One URL per node, in node order."""
        return [f"{self.scheme}://{_url_host(h)}:{p}" for h, p in self.addresses]

    def client(self, **kwargs: Any) -> Any:
        """The official ``elasticsearch`` client over the network with every node's URL (it fails over
        between them) and, unless other credentials are given, the ``elastic`` superuser's; over TLS it
        trusts the server's CA."""
        import elasticsearch  # noqa: PLC0415 - an optional dependency, imported when used

        if not any(k in kwargs for k in ("api_key", "bearer_auth", "basic_auth")):
            kwargs["basic_auth"] = ("elastic", self.cluster._password)
        if self.ca_certs is not None and "ca_certs" not in kwargs and "ssl_assert_fingerprint" not in kwargs:
            kwargs["ca_certs"] = self.ca_certs
        return elasticsearch.Elasticsearch(self.urls, **kwargs)

    def stop(self) -> None:
        """Closes every port and connection and removes the CA file (idempotent)."""
        self._server.stop()
        if self._ca_dir is not None:
            self._ca_dir.cleanup()
            self._ca_dir = None

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
    clock: str = "virtual",
) -> Server:
    """Serves ``cluster`` over HTTP (HTTPS with ``tls=True``: a CA and a certificate made now, the CA
    in ``srv.ca_certs``): node ``i`` on ``port + i`` (port 0: a free port each). ``clock``: ``"virtual"``
    (time moves only when advanced), ``"realtime"`` or ``"realtime:SPEED"`` (it follows the wall clock,
    SPEED times as fast). Use it as
    ``with escache.serve(cluster) as srv: srv.client().info()``."""
    return Server(cluster, host=host, port=port, tls=tls, max_content_length=max_content_length, clock=clock)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
