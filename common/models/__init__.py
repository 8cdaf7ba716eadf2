"""The wire models shared by the daemon, the agent, the CLI and the panels.

Import them from here (``from common.models import JobSpec``): this package's ``__all__`` is the
public surface, and the submodules are where each noun lives:

- ``base``: ``WireModel`` (strict, closed, immutable) and the bounded ids, names and numbers;
- ``jobs``: the job spec a submitter sends, and a job's status, summary and pages;
- ``tasks``: a job's tasks and their logs;
- ``queue``: a job's rank and its parts, and production's overrides (pins, holds, shares);
- ``shotgrid``: a job's ShotGrid link and the health of the sync;
- ``agents``: the agent protocol (registration, heartbeats, leases, task reports);
- ``data``: just-in-time data (a job's files in the object store, the audit log);
- ``cloud``: bursting (routes, render nodes, the pool by hand, spend);
- ``ops``: stored files, monitoring and logs;
- ``backup``: the daemon's backups.
"""

from __future__ import annotations

from common.models.agents import (
    AgentInfo,
    AgentRegistration,
    Heartbeat,
    HeartbeatReply,
    OutputBlob,
    TaskAssignment,
    TaskDone,
    TaskFailure,
    TaskLogChunk,
    TaskProgress,
)
from common.models.backup import BackupInfo, BackupKind
from common.models.base import (
    MAX_INTEGER,
    MAX_REPORTED,
    Attempt,
    EntityId,
    FrameNumber,
    Name,
    Offset,
    Priority,
    RowId,
    WireModel,
)
from common.models.cloud import (
    BudgetChange,
    JobRoute,
    JobSpend,
    Resource,
    ScaleRequest,
    ScaleResult,
    ShowSpend,
    Spend,
    SpendReport,
)
from common.models.data import AuditPage, AuditQuery, AuditRecord, DataState, JobData
from common.models.jobs import (
    IDEMPOTENCY_HEADER,
    NO_NEGATIVE_FRAMES,
    IdempotencyKey,
    Job,
    JobPage,
    JobSpec,
    JobStatus,
    JobSummary,
    Placement,
    PriorityChange,
)
from common.models.ops import (
    AgentLoad,
    ChecksumAlgorithm,
    DiskSpace,
    FarmMetrics,
    Health,
    HealthStatus,
    Hex,
    LogEntry,
    LogPage,
    LogQuery,
    LogSource,
    QuotaScope,
    QuotaUse,
    StorageUsage,
    StoredFile,
    UploadComplete,
    UploadCreate,
    UploadInfo,
)
from common.models.queue import (
    OverrideRecord,
    PinChange,
    QueueEntry,
    QueuePage,
    RankPart,
    RankPartName,
    ShowHoldChange,
    ShowPolicy,
    ShowShareChange,
)
from common.models.shotgrid import ShotGridLink, ShotGridStatus
from common.models.tasks import TASK_PAGE_MAX, Task, TaskLog, TaskPage

__all__ = [
    "IDEMPOTENCY_HEADER",
    "MAX_INTEGER",
    "MAX_REPORTED",
    "NO_NEGATIVE_FRAMES",
    "TASK_PAGE_MAX",
    "AgentInfo",
    "AgentLoad",
    "AgentRegistration",
    "Attempt",
    "AuditPage",
    "AuditQuery",
    "AuditRecord",
    "BackupInfo",
    "BackupKind",
    "BudgetChange",
    "ChecksumAlgorithm",
    "DataState",
    "DiskSpace",
    "EntityId",
    "FarmMetrics",
    "FrameNumber",
    "Health",
    "HealthStatus",
    "Heartbeat",
    "HeartbeatReply",
    "Hex",
    "IdempotencyKey",
    "Job",
    "JobData",
    "JobPage",
    "JobRoute",
    "JobSpec",
    "JobSpend",
    "JobStatus",
    "JobSummary",
    "LogEntry",
    "LogPage",
    "LogQuery",
    "LogSource",
    "Name",
    "Offset",
    "OutputBlob",
    "OverrideRecord",
    "PinChange",
    "Placement",
    "Priority",
    "PriorityChange",
    "QueueEntry",
    "QueuePage",
    "QuotaScope",
    "QuotaUse",
    "RankPart",
    "RankPartName",
    "Resource",
    "RowId",
    "ScaleRequest",
    "ScaleResult",
    "ShotGridLink",
    "ShotGridStatus",
    "ShowHoldChange",
    "ShowPolicy",
    "ShowShareChange",
    "ShowSpend",
    "Spend",
    "SpendReport",
    "StorageUsage",
    "StoredFile",
    "Task",
    "TaskAssignment",
    "TaskDone",
    "TaskFailure",
    "TaskLog",
    "TaskLogChunk",
    "TaskPage",
    "TaskProgress",
    "UploadComplete",
    "UploadCreate",
    "UploadInfo",
    "WireModel",
]
