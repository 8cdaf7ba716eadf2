"""Wire models of just-in-time data: a job's files in the object store, and the audit log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from common.models.base import Offset, RowId, WireModel


class DataState(StrEnum):
    """Where a job's files stand with the object store."""

    PENDING = "pending"
    """Waiting for the daemon to build its manifest and send what the store lacks."""
    STAGING = "staging"
    STAGED = "staged"
    """Every file the job needs is in the object store: nodes away from studio storage may
    take its tasks."""
    FAILED = "failed"
    """Staging was given up (``error`` says why); the job renders on studio nodes only."""


class JobData(WireModel):
    """A job's files in the object store and its frames coming home."""

    job_id: int
    state: DataState | None
    """None: the job is not staged (placement local or never-cloud, confidential, or no object
    store configured)."""
    files: int = 0
    bytes_total: int = 0
    """Bytes of the job's distinct files."""
    blobs_sent: int = 0
    bytes_sent: int = 0
    """What staging sent; files the store held already cost nothing."""
    destination: str = ""
    error: str = ""
    staged_at: datetime | None = None
    frames_away: int = 0
    """Frames rendered away from studio storage and not home yet."""
    frames_home: int = 0
    frames_failed: int = 0


class AuditRecord(WireModel):
    """One file that left the building: appended when staging makes it available outside."""

    id: int
    at: datetime
    job_id: int | None
    user: str
    """Whose job took the file out."""
    path: str
    hash: str
    size: int
    destination: str
    transferred: int
    """Bytes sent for it now (0: the store held these bytes already)."""


class AuditQuery(WireModel):
    """Filters of ``GET /audit``; every filter is optional, pages are newest first."""

    job_id: RowId | None = None
    user: Annotated[str, Field(max_length=200)] | None = None
    since: datetime | None = None
    until: datetime | None = None
    offset: Offset = 0
    limit: Annotated[int, Field(ge=1, le=1000)] = 100


class AuditPage(WireModel):
    """A page of the audit log, newest first."""

    items: list[AuditRecord]
    total: int
    offset: int
    limit: int
