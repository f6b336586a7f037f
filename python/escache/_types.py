"""Small public types shared by the Rust core and the Python layer."""

from __future__ import annotations

import enum

__all__ = ["RemovalReason"]


class RemovalReason(str, enum.Enum):
    """Why an entry left a cache: Elasticsearch's ``RemovalNotification.RemovalReason``.

    A ``str`` enum: ``RemovalReason.EVICTED == "EVICTED"``.
    """

    REPLACED = "REPLACED"
    INVALIDATED = "INVALIDATED"
    EVICTED = "EVICTED"

    def __str__(self) -> str:
        return self.value
