"""escache's exceptions.

Every error escache raises is an :class:`EscacheError` subclass named after the Elasticsearch exception it
mirrors, and also derives from the built-in exception Python code would expect (``ValueError``,
``TypeError``, ``LookupError``/``KeyError``, ``PermissionError``, ``RuntimeError``), so ``except
ValueError`` keeps working. Every error carries:

* ``es_type``: the Elasticsearch error type (the ``type`` field of an Elasticsearch error body), e.g.
  ``security_exception``;
* ``status``: the HTTP status Elasticsearch answers with for it, e.g. ``403``;
* ``body``: the Elasticsearch error body as a dict (``{"error": {"root_cause": [...], "type": ...,
  "reason": ...}, "status": ...}``) when the error is an Elasticsearch exception raised by the core,
  else ``None``.

An Elasticsearch exception raises the class of its type: ``illegal_argument_exception`` is
:class:`IllegalArgumentError`, ``action_request_validation_exception`` and ``validation_exception``
:class:`ActionRequestValidationError`, ``parse_exception`` and the x-content parse exceptions
:class:`ParseError`, ``security_exception`` :class:`SecurityError`, ``resource_not_found_exception`` and
``index_not_found_exception`` :class:`ResourceNotFoundError`, ``illegal_state_exception``
:class:`IllegalStateError`, ``node_not_connected_exception`` :class:`NodeUnavailableError`; any other
type raises by its status (400: :class:`IllegalArgumentError`, 404: :class:`ResourceNotFoundError`,
otherwise :class:`ElasticsearchError`), its ``es_type`` naming it precisely. Every 400 is an
:class:`IllegalArgumentError`.

REST-level errors are never raised by ``Cluster.perform_request``: the response carries Elasticsearch's
error body instead.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "EscacheError",
    "IllegalArgumentError",
    "IllegalArgumentTypeError",
    "ActionRequestValidationError",
    "ParseError",
    "SecurityError",
    "ResourceNotFoundError",
    "IllegalStateError",
    "ElasticsearchError",
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
    Elasticsearch error body), ``status`` its HTTP status, and ``body`` the Elasticsearch error body (a
    dict) when the error is an Elasticsearch exception raised by the core, else ``None``. The class
    gives the defaults; an error raised from an Elasticsearch exception sets its own.
    """

    es_type: str = "exception"
    status: int = 500
    body: dict[str, Any] | None = None


class IllegalArgumentError(EscacheError, ValueError):
    """Elasticsearch's ``IllegalArgumentException``: a bad setting, duration, weight or parameter. Also
    raised for any other Elasticsearch type answered with a 400 that has no class of its own (``es_type``
    names it)."""

    es_type = "illegal_argument_exception"
    status = 400


class ActionRequestValidationError(IllegalArgumentError):
    """Elasticsearch's ``ActionRequestValidationException`` (``Validation Failed: 1: ...;``) and
    ``ValidationException``: a request that is malformed as a request."""

    es_type = "action_request_validation_exception"


class ParseError(IllegalArgumentError):
    """Elasticsearch's ``ElasticsearchParseException`` (``parse_exception``), and the x-content and JSON
    parse exceptions (``x_content_parse_exception``, ...): a document that does not parse."""

    es_type = "parse_exception"


class SecurityError(EscacheError, PermissionError):
    """Elasticsearch's ``ElasticsearchSecurityException``: missing or wrong credentials (``status``
    401) or an action the user may not run (403)."""

    es_type = "security_exception"
    status = 403


class ResourceNotFoundError(EscacheError, LookupError):
    """Elasticsearch's ``ResourceNotFoundException`` (and ``index_not_found_exception``): a thing looked
    up by name or id that is not there."""

    es_type = "resource_not_found_exception"
    status = 404


class IllegalStateError(EscacheError, RuntimeError):
    """Elasticsearch's ``IllegalStateException``: an operation the current state does not allow (a
    node refusing to start with a malformed ``service_tokens`` file, for example)."""

    es_type = "illegal_state_exception"


class ElasticsearchError(EscacheError, RuntimeError):
    """A plain ``ElasticsearchException``, and any other Elasticsearch type without a class of its own
    that is not a 400 or a 404 (``es_type`` and ``status`` name it: ``unavailable_shards_exception``,
    503, for example)."""


class IllegalArgumentTypeError(IllegalArgumentError, TypeError):
    """An argument of the wrong type (an ``int`` where a ``str`` is expected, for example): Elasticsearch's
    ``IllegalArgumentException``, and a ``TypeError`` as Python expects. The message names the argument."""


class KeyTypeError(EscacheError, TypeError):
    """A cache key that is neither ``str`` nor ``int`` (or an ``int`` outside the signed 64-bit range)."""

    es_type = "illegal_argument_exception"
    status = 400


class ExecutionError(EscacheError, RuntimeError):
    """Java's ``ExecutionException`` from ``Cache.computeIfAbsent``: the loader raised (the loader's
    exception is ``__cause__``) or returned ``None`` (``loader returned a null value``). Nothing was
    cached."""

    es_type = "execution_exception"


class ReentrantCallError(IllegalStateError):
    """A call that would wait on itself: a ``compute_if_absent`` loader that reads, writes or loads the
    very key it is loading (Elasticsearch would deadlock on the key's own future; escache refuses), or a
    call back into an object from inside one of its own updates.

    A loader may use *other* keys of the same cache; removal listeners, weighers and values' ``__del__``
    run with the cache unlocked and may use it freely.
    """


class UnknownNodeError(ResourceNotFoundError, KeyError):
    """A node name that is not in the cluster."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class NodeUnavailableError(EscacheError, RuntimeError):
    """A request sent to a stopped node (nothing listens there)."""

    es_type = "node_not_connected_exception"


class ServiceTokensToolError(EscacheError, ValueError):
    """An error of the ``elasticsearch-service-tokens`` CLI: its message and its exit code (1 for a
    duplicate, missing or badly named token, 67 for an unknown service account principal)."""

    es_type = "user_exception"
    status = 400

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class MissingDependencyError(EscacheError, ImportError):
    """An optional dependency a feature needs is not installed (``pyarrow`` for
    ``EventTrace.to_arrow()``); the message names the package to install."""

    es_type = "exception"


class BrokenStateError(IllegalStateError):
    """The object can no longer be trusted: an internal error (a Rust panic) interrupted an operation
    half-way, so its state may be inconsistent. Every later call on the object (and on the objects
    sharing its state: a cluster's nodes, caches and simulations) raises this error; build a new one.

    An internal error is a bug in escache: please report it with the call that caused it."""
