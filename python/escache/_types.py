"""Small public types shared by the Rust core and the Python layer."""

from __future__ import annotations

import enum

__all__ = ["RemovalReason"]


class RemovalReason(enum.StrEnum):
    """Why an entry left a cache: Elasticsearch's ``RemovalNotification.RemovalReason``.

    A ``str`` enum: ``RemovalReason.EVICTED == "EVICTED"``.
    """

    REPLACED = "REPLACED"
    INVALIDATED = "INVALIDATED"
    EVICTED = "EVICTED"
