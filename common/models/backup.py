"""Wire models of the daemon's backups, as ``GET /api/v1/backups`` and ``cloudburst backup
--list`` show them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from common.models.base import WireModel


class BackupKind(StrEnum):
    """What one backup holds."""

    FULL = "full"
    """Everything a restore needs: it depends on no other backup."""
    INCREMENTAL = "incremental"
    """The database, keys and config, plus only the files its full backup lacks; restoring it
    reads those from its full (``base``), which retention always keeps with it."""


class BackupInfo(WireModel):
    """One finished, verified backup at a destination."""

    id: str
    """``20250601T020000Z-full-3fa2``: when it was taken (UTC), its kind, and a random tail."""
    kind: BackupKind
    base: str | None
    """The full backup an incremental needs; None for a full one."""
    created_at: datetime
    verified_at: datetime
    """When its stored bytes were read back and matched the manifest's hashes."""
    files: int
    """Files a restore writes (the database and keys included)."""
    size: int
    """Bytes a restore writes."""
    stored: int
    """Bytes this backup added to the destination (an incremental's are few)."""
    schema_version: int
    """The database's newest migration when it was taken."""
