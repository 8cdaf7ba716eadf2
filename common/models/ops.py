"""Wire models of the operations APIs: stored files, farm monitoring and the daemon's logs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from common.models.base import Offset, RowId, WireModel
from common.models.shotgrid import ShotGridStatus


class ChecksumAlgorithm(StrEnum):
    """How a finished upload is checked."""

    SHA256 = "sha256"
    """SHA-256, 64 hex digits."""
    XXH3_128 = "xxh3_128"
    """xxHash XXH3 128-bit, 32 hex digits: much faster on big files."""


Hex = Annotated[str, Field(min_length=32, max_length=64, pattern=r"^[0-9a-f]+$")]


class UploadCreate(WireModel):
    """Starts an upload of one file to ``path`` under the storage root."""

    path: Annotated[str, Field(min_length=1, max_length=1024)]
    """Relative to the storage root, ``/``-separated, e.g. ``show/sh010/plate.exr``."""
    size: Annotated[int, Field(ge=0)]
    algorithm: ChecksumAlgorithm = ChecksumAlgorithm.SHA256


class UploadComplete(WireModel):
    """Finishes an upload: the checksum of the whole file, checked by the daemon."""

    checksum: Hex


class UploadInfo(WireModel):
    """An unfinished upload; ``received`` is where the next part starts after a cut."""

    id: str
    path: str
    size: int
    received: int
    algorithm: ChecksumAlgorithm
    owner: str
    created_at: datetime
    updated_at: datetime


class StoredFile(WireModel):
    """A finished file; a deleted one can be restored until ``purge_at``."""

    id: str
    path: str
    size: int
    algorithm: ChecksumAlgorithm
    checksum: str
    owner: str
    created_at: datetime
    deleted_at: datetime | None = None
    purge_at: datetime | None = None


class QuotaScope(StrEnum):
    """Whose stored files a quota bounds."""

    USER = "user"
    """One user's files, wherever they are."""
    SHOW = "show"
    """The files under one show's folder (the first folder of their paths), whoever sent them."""


class QuotaUse(WireModel):
    """How much of one storage quota is used: stored files (deleted ones too, until they are
    purged) and the declared sizes of unfinished uploads."""

    scope: QuotaScope
    name: str
    used_bytes: int
    quota_bytes: int | None = None
    """None: no quota."""


class StorageUsage(WireModel):
    """A user's storage use, and a show's when one was asked for."""

    user: QuotaUse
    show: QuotaUse | None = None


class AgentLoad(WireModel):
    """One agent's last reported load; None where the agent did not report it."""

    agent_id: str
    name: str
    pool: str
    state: str
    running_tasks: int
    cpu_percent: float | None = None
    memory_percent: float | None = None
    gpu_percent: float | None = None
    disk_free_mb: int | None = None
    reported_at: datetime | None = None


class DiskSpace(WireModel):
    """The daemon's data disk: its free space and whether that is below the warning level."""

    free_bytes: int
    total_bytes: int
    free_fraction: float
    """Free bytes over the disk's size, 0 to 1."""
    low: bool
    """Below ``monitoring.disk_warn_fraction`` or ``monitoring.disk_warn_bytes``."""


class HealthStatus(StrEnum):
    """How the daemon is."""

    OK = "ok"
    """Serving, nothing to warn about."""
    WARNING = "warning"
    """Serving, with warnings that need a person (``warnings`` says which)."""


class Health(WireModel):
    """``GET /health``: whether the daemon serves, and what needs attention before it fails."""

    status: HealthStatus
    version: str
    disk: DiskSpace
    warnings: list[str]
    """Sentences for a person: what is wrong and what to do."""


class FarmMetrics(WireModel):
    """The farm at a glance: load averaged over online agents, queue, throughput, leases."""

    time: datetime
    agents_online: int
    agents_offline: int
    cpu_percent: float | None
    memory_percent: float | None
    gpu_percent: float | None
    disk_free_mb: int | None
    """Summed over online agents that report it."""
    queue_depth: int
    """Tasks waiting for an agent."""
    leased_tasks: int
    running_tasks: int
    jobs_by_state: dict[str, int]
    frames_per_minute: float
    throughput_window_s: float
    agents: list[AgentLoad]
    shotgrid: ShotGridStatus
    daemon_disk: DiskSpace | None = None
    """The daemon's own data disk (None where it was not measured)."""


class LogSource(StrEnum):
    """Where log entries come from."""

    DAEMON = "daemon"
    """The daemon's own log records."""
    TASK = "task"
    """Render logs sent by agents, searched by job."""


class LogQuery(WireModel):
    """Filters of ``GET /logging/logs``; every filter is optional, pages are newest first."""

    source: LogSource = LogSource.DAEMON
    job_id: RowId | None = None
    task_id: RowId | None = None
    agent_id: Annotated[str, Field(max_length=100)] | None = None
    service: Annotated[str, Field(max_length=200)] | None = None
    """A logger name or its prefix, e.g. ``daemon.services``."""
    level: Annotated[str, Field(pattern=r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$")] | None = None
    """The lowest level shown."""
    since: datetime | None = None
    until: datetime | None = None
    contains: Annotated[str, Field(max_length=200)] | None = None
    offset: Offset = 0
    limit: Annotated[int, Field(ge=1, le=1000)] = 100


class LogEntry(WireModel):
    """One daemon log record, or one chunk of a task's render log."""

    id: int
    source: LogSource
    time: datetime | None
    """None for task log chunks, which carry no time of their own."""
    level: str
    service: str
    message: str
    job_id: int | None = None
    task_id: int | None = None
    agent_id: str | None = None
    attempt: int | None = None


class LogPage(WireModel):
    """A page of log entries; ``next_offset`` is None on the last page."""

    items: list[LogEntry]
    total: int
    next_offset: int | None
