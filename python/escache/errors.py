"""escache's exceptions.

Errors raised by escache's own Python API (bad settings, bad durations, a key of the wrong type, an
unknown node) are :class:`EscacheError` subclasses named after the Elasticsearch exception they mirror,
and they also derive from the built-in exception Python code would expect (``ValueError``,
``TypeError``, ``KeyError``, ``RuntimeError``), so ``except ValueError`` keeps working.

REST-level errors are never raised by ``Cluster.perform_request``: the response carries Elasticsearch's
error body instead.
"""

from __future__ import annotations

__all__ = [
    "EscacheError",
    "IllegalArgumentError",
    "IllegalArgumentTypeError",
    "KeyTypeError",
    "ExecutionError",
    "ReentrantCallError",
    "BrokenStateError",
    "UnknownNodeError",
    "NodeUnavailableError",
    "ServiceTokensToolError",
    "MissingDependencyError",
]


class EscacheError(Exception):
    """Base class of every error escache raises.

    ``es_type`` is the Elasticsearch error type this error corresponds to (the ``type`` field of an
    Elasticsearch error body), where there is one.
    """

    es_type: str = "exception"


class IllegalArgumentError(EscacheError, ValueError):
    """Elasticsearch's ``IllegalArgumentException``: a bad setting, duration, weight or parameter."""

    es_type = "illegal_argument_exception"


class IllegalArgumentTypeError(IllegalArgumentError, TypeError):
    """An argument of the wrong type (an ``int`` where a ``str`` is expected, for example): Elasticsearch's
    ``IllegalArgumentException``, and a ``TypeError`` as Python expects. The message names the argument."""


class KeyTypeError(EscacheError, TypeError):
    """A cache key that is neither ``str`` nor ``int`` (or an ``int`` outside the signed 64-bit range)."""

    es_type = "illegal_argument_exception"


class ExecutionError(EscacheError, RuntimeError):
    """Java's ``ExecutionException`` from ``Cache.computeIfAbsent``: the loader raised (the loader's
    exception is ``__cause__``) or returned ``None`` (``loader returned a null value``). Nothing was
    cached."""

    es_type = "execution_exception"


class ReentrantCallError(EscacheError, RuntimeError):
    """A call that would wait on itself: a ``compute_if_absent`` loader that reads, writes or loads the
    very key it is loading (Elasticsearch would deadlock on the key's own future; escache refuses), or a
    call back into an object from inside one of its own updates.

    A loader may use *other* keys of the same cache; removal listeners, weighers and values' ``__del__``
    run with the cache unlocked and may use it freely.
    """

    es_type = "illegal_state_exception"


class UnknownNodeError(EscacheError, KeyError):
    """A node name that is not in the cluster."""

    es_type = "resource_not_found_exception"

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class NodeUnavailableError(EscacheError, RuntimeError):
    """A request sent to a stopped node (nothing listens there)."""

    es_type = "node_not_connected_exception"


class ServiceTokensToolError(EscacheError, ValueError):
    """An error of the ``elasticsearch-service-tokens`` CLI: its message and its exit code (1 for a
    duplicate, missing or badly named token, 67 for an unknown service account principal)."""

    es_type = "user_exception"

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class MissingDependencyError(EscacheError, ImportError):
    """An optional dependency a feature needs is not installed (``pyarrow`` for
    ``EventTrace.to_arrow()``); the message names the package to install."""

    es_type = "exception"


class BrokenStateError(EscacheError, RuntimeError):
    """The object can no longer be trusted: an internal error (a Rust panic) interrupted an operation
    half-way, so its state may be inconsistent. Every later call on the object (and on the objects
    sharing its state: a cluster's nodes, caches and simulations) raises this error; build a new one.

    An internal error is a bug in escache: please report it with the call that caused it."""

    es_type = "illegal_state_exception"
