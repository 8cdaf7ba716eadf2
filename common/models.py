"""Wire models shared by the daemon, the agent, the CLI and the panels.

Every model is strict: unknown fields are refused (``extra="forbid"``) and values are not
coerced between types, so a typo in a request is an error rather than a silent default.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from common.errors import FrameSpecError
from common.frames import MAX_FRAME_NUMBER, count_frames
from common.states import JobState, TaskState


class WireModel(BaseModel):
    """Base of every wire model: strict, closed, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Placement(StrEnum):
    """Which pools may run a job's frames."""

    AUTO = "auto"
    """Local farm first; the cloud only when the due date needs it."""
    LOCAL = "local"
    """Only the on-prem farm."""
    CLOUD = "cloud"
    """Cloud nodes may always take it."""
    NEVER_CLOUD = "never-cloud"
    """Never leaves the building, whoever asks (confidential work)."""


#: DCCs whose batch renderer cannot take negative frame numbers.
NO_NEGATIVE_FRAMES = frozenset({"blender"})

Name = Annotated[str, Field(min_length=1, max_length=200)]
Priority = Annotated[int, Field(ge=0, le=100)]
#: The largest integer SQLite stores. An id or offset a request names is at most this: a larger
#: one is refused where it enters (a path id is no route, 404; a query or body value is a 400).
MAX_INTEGER = 2**63 - 1
EntityId = Annotated[int, Field(ge=1, le=MAX_INTEGER)]
RowId = Annotated[int, Field(ge=1, le=MAX_INTEGER)]
"""A job's, task's or user's id as a filter names it."""
Offset = Annotated[int, Field(ge=0, le=MAX_INTEGER)]
Attempt = Annotated[int, Field(ge=0, le=MAX_INTEGER)]
"""Which try at a task an agent reports on (the lease's ``attempt``)."""
FrameNumber = Annotated[int, Field(ge=-MAX_FRAME_NUMBER, le=MAX_FRAME_NUMBER)]
MAX_REPORTED = 10_000
"""The most task ids, frames or files one agent report may list."""
"""How many items a page skips."""


class ShotGridLink(WireModel):
    """The ShotGrid Project, Shot and Task a job renders for, by id, by code, or both.

    Codes are resolved to ids when the job is submitted, and an unknown code is refused then;
    the stored job carries both. Without a project (id or code) the job's ``project`` names it.
    """

    project_id: EntityId | None = None
    shot_id: EntityId | None = None
    task_id: EntityId | None = None
    project: Name | None = None
    """The project's name (the field the daemon's ``shotgrid.project_field`` names)."""
    shot: Name | None = None
    """The shot's code, e.g. ``sh010``."""
    task: Name | None = None
    """The task's name within its shot, e.g. ``lighting``."""

    @model_validator(mode="after")
    def _names_something(self) -> ShotGridLink:
        named = (self.project_id, self.shot_id, self.task_id, self.project, self.shot, self.task)
        if all(v is None for v in named):
            raise ValueError("a ShotGrid link names at least a task, a shot or a project")
        no_shot = self.shot is None and self.shot_id is None
        if self.task is not None and self.task_id is None and no_shot:
            raise ValueError(
                f"the ShotGrid task {self.task!r} is named within its shot: give the shot "
                "(code or id) too, or the task's id"
            )
        return self


IDEMPOTENCY_HEADER = "Idempotency-Key"
"""The header naming one submission, so that a resend of it stores no second job."""

IdempotencyKey = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[!-~]+$")]
"""A key of the caller's own (a UUID does): 1 to 255 visible ASCII characters."""


class JobSpec(WireModel):
    """What a submitter sends to ``POST /api/v1/jobs``."""

    name: Name
    owner: Name
    project: Name = "default"
    dcc: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)] = "blender"
    renderer: Annotated[str, Field(max_length=80)] = ""
    scene: Annotated[str, Field(min_length=1, max_length=4096)]
    frames: Annotated[str, Field(min_length=1, max_length=10_000)]
    chunk_size: Annotated[int, Field(ge=1, le=100_000)] = 1
    output: Annotated[str, Field(min_length=1, max_length=4096)]
    """Output path pattern; ``#`` runs stand for the zero-padded frame number."""
    output_format: Annotated[str, Field(max_length=40)] = ""
    env: dict[str, str] = Field(default_factory=dict)
    priority: Priority = 50
    max_retries: Annotated[int, Field(ge=0, le=100)] = 3
    timeout_s: Annotated[int, Field(ge=1, le=7 * 24 * 3600)] | None = None
    """Per-task time limit; a task running longer is killed and counts as failed."""
    due: datetime | None = None
    placement: Placement = Placement.AUTO
    shotgrid: ShotGridLink | None = None
    """What the job renders for in ShotGrid: its priority and due date rank the job, and its
    Task's status and a Version are written back."""

    @field_validator("frames")
    @classmethod
    def _frames_parse(cls, value: str) -> str:
        try:
            count_frames(value)  # checks every term without expanding a frame
        except FrameSpecError as exc:
            raise PydanticCustomError(FrameSpecError.code, exc.message) from None
        return value

    @model_validator(mode="after")
    def _frames_fit_the_dcc(self) -> JobSpec:
        negative = any(term.strip().startswith("-") for term in self.frames.split(","))
        if self.dcc in NO_NEGATIVE_FRAMES and negative:
            raise PydanticCustomError(
                FrameSpecError.code,
                f"{self.dcc.capitalize()}'s command line cannot render negative frames "
                "(it reads -N as relative to the scene's range). Offset the animation so the "
                "frames are 0 or more.",
            )
        return self


class RankPartName(StrEnum):
    """The parts a job's rank is made of."""

    SHOTGRID = "shotgrid"
    """Production's priority from ShotGrid (0-100 scaled to 0..1)."""
    DUE = "due"
    """Due-date urgency: time left against the work left, 0..1."""
    ARTIST = "artist"
    """The priority the artist gave the job (0-100 scaled to 0..1)."""
    AGE = "age"
    """Time waiting, 0..1."""
    FAIR_SHARE = "fair_share"
    """The show's share of the farm against its target: -1 (far over) .. 1 (using none)."""


class RankPart(WireModel):
    """One part of a rank: its value, its weight (configuration) and the points it gives."""

    name: RankPartName
    value: float
    weight: float
    points: float
    detail: str
    """The part in words, e.g. ``ShotGrid priority A (100)``."""


class JobStatus(WireModel):
    """Where a job stands: what a list of jobs and the job itself both show."""

    id: int
    state: JobState
    submitted_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    frame_count: int
    task_counts: dict[TaskState, int]
    progress: float
    """Fraction of frames done, 0..1."""
    estimated_finish: datetime | None = None
    message: str = ""
    """Why the job is in its state (the failure reason, who cancelled it)."""
    rank: int | None = None
    """Place in the queue (1 gets the next task); None when none of its tasks is waiting."""


class Job(JobStatus):
    """A job as the daemon reports it (``GET /api/v1/jobs/{id}``)."""

    spec: JobSpec
    errors: list[str] = Field(default_factory=list)
    """The last error of each failed task, newest first."""
    rank_reason: str = ""
    """The rank in one plain sentence, or why the job is not in the queue."""
    rank_score: float | None = None
    rank_parts: list[RankPart] = Field(default_factory=list)


class JobSummary(JobStatus):
    """A job as a list shows it (``GET /api/v1/jobs``): who, what, state, progress and place.

    Without the spec's paths and settings, the errors, and the rank's parts and sentence, which
    only the job itself (``Job``, ``GET /api/v1/jobs/{id}``) carries.
    """

    name: str
    owner: str
    project: str
    dcc: str
    priority: int


class JobPage(WireModel):
    """One page of ``GET /api/v1/jobs``: summaries; ``GET /api/v1/jobs/{id}`` has the rest."""

    items: list[JobSummary]
    total: int
    offset: int
    limit: int


class Task(WireModel):
    """One chunk of a job's frames."""

    id: int
    job_id: int
    index: int
    frames: list[int]
    state: TaskState
    attempts: int
    """How many times the task was started (and counted against the retry budget)."""
    agent_id: str | None = None
    lease_expires_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    progress: float = 0.0
    outputs: list[str] = Field(default_factory=list)
    error: str = ""


TASK_PAGE_MAX = 500
"""The most tasks one page of ``GET /api/v1/jobs/{id}/tasks`` carries."""


class TaskPage(WireModel):
    """One page of a job's tasks (``GET /api/v1/jobs/{id}/tasks``), in task order."""

    items: list[Task]
    total: int
    """How many tasks the job has."""
    offset: int
    limit: int


class PriorityChange(WireModel):
    """Body of ``PUT /api/v1/jobs/{id}/priority``."""

    priority: Priority


class QueueEntry(WireModel):
    """A job waiting for agents, in the order tasks are handed out."""

    position: int
    job_id: int
    name: str
    owner: str
    project: str
    dcc: str
    state: JobState
    score: float
    pinned_by: str | None = None
    reason: str
    parts: list[RankPart]


class QueuePage(WireModel):
    """One page of ``GET /api/v1/queue``."""

    items: list[QueueEntry]
    total: int
    offset: int
    limit: int
    ranked_at: datetime | None = None
    """When the last full ranking pass ran."""
    shotgrid_stale: bool = False
    """ShotGrid values are the last known ones: the sync is failing or behind."""


class PinChange(WireModel):
    """Body of ``PUT /api/v1/jobs/{id}/pin``: put a job above every unpinned one, or not."""

    pinned: bool = True
    by: Name | None = None
    """Ignored: the daemon records the signed-in caller. Accepted so older clients still work."""
    note: Annotated[str, Field(max_length=1000)] = ""


class ShowHoldChange(WireModel):
    """Body of ``PUT /api/v1/shows/{project}/hold``: hand out no task of the show, or again."""

    held: bool = True
    by: Name | None = None
    """Ignored: the daemon records the signed-in caller. Accepted so older clients still work."""
    note: Annotated[str, Field(max_length=1000)] = ""


class ShowShareChange(WireModel):
    """Body of ``PUT /api/v1/shows/{project}/share``: the show's weight in the farm's split."""

    share: Annotated[float, Field(gt=0, le=1000)]
    """Relative: shows with shares 2 and 1 aim at two thirds and one third of the farm."""
    by: Name | None = None
    """Ignored: the daemon records the signed-in caller. Accepted so older clients still work."""
    note: Annotated[str, Field(max_length=1000)] = ""


class ShowPolicy(WireModel):
    """A show's production overrides and how much of the farm it uses now."""

    project: str
    share: float
    held: bool
    target: float
    """The share of the farm it aims at now (0..1), among shows with work."""
    usage: float
    """The share of the farm's running tasks it has now (0..1)."""
    active_tasks: int
    waiting_jobs: int
    held_by: str | None = None
    held_at: datetime | None = None
    share_by: str | None = None
    share_at: datetime | None = None


class OverrideRecord(WireModel):
    """One production override, as recorded: who, when, what."""

    id: int
    at: datetime
    by: str
    kind: str
    """``pin``, ``unpin``, ``hold``, ``release`` or ``share``."""
    target: str
    """``job 12`` or ``show alpha``."""
    value: str
    note: str


class ShotGridStatus(WireModel):
    """The health of the ShotGrid sync and write-back."""

    configured: bool
    site: str
    healthy: bool
    """The last sync succeeded (or none was needed)."""
    stale: bool
    """Ranks use last known values: syncs are failing or none succeeded lately."""
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    next_attempt_at: datetime | None = None
    consecutive_failures: int = 0
    last_error: str = ""
    linked_jobs: int = 0
    entities_cached: int = 0
    writeback_pending: int = 0
    writeback_failed: int = 0
    """Write-backs that gave up after their last attempt."""
    writeback_last_error: str = ""


class TaskLog(WireModel):
    """A piece of a task's log, from ``offset`` on."""

    task_id: int
    offset: int
    text: str
    next_offset: int


# --- the agent protocol ----------------------------------------------------------------------


class AgentRegistration(WireModel):
    """What an agent says about itself when it starts."""

    name: Name
    hostname: Name
    dccs: list[Annotated[str, Field(max_length=40)]] = Field(default_factory=lambda: ["blender"])
    cores: Annotated[int, Field(ge=1)] = 1
    memory_mb: Annotated[int, Field(ge=0)] = 0
    pool: Annotated[str, Field(max_length=80)] = "local"
    enrollment_token: Annotated[str, Field(max_length=200)] | None = None
    """The one-time token a TD minted for this agent; not needed to register again with the
    agent's own token, nor when a TD or admin registers it."""
    studio_access: bool = True
    """False: the node cannot reach studio storage (a cloud node); it takes only tasks of
    staged jobs, gets their files from the object store and sends its frames back there."""


class AgentInfo(WireModel):
    """The daemon's answer to a registration, and how agents are listed."""

    id: str
    name: str
    hostname: str
    dccs: list[str]
    pool: str
    state: str
    last_seen: datetime
    heartbeat_interval_s: float
    lease_ttl_s: float
    studio_access: bool = True
    token: str | None = None
    """The agent's own token: only in the answer to a first registration; keep it secret."""


class Heartbeat(WireModel):
    """Sent every few seconds: the tasks the agent is working on."""

    task_ids: Annotated[list[RowId], Field(max_length=MAX_REPORTED)] = Field(default_factory=list)
    cpu_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    """The node's load; optional, so older agents still beat."""
    memory_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    gpu_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    disk_free_mb: Annotated[int, Field(ge=0)] | None = None


class HeartbeatReply(WireModel):
    """Tasks the agent must stop now (cancelled or reassigned), and the leases' new expiry."""

    cancel: list[int] = Field(default_factory=list)
    lease_expires_at: datetime | None = None


class TaskAssignment(WireModel):
    """A leased task with everything the agent needs to run it."""

    task_id: int
    job_id: int
    attempt: int
    frames: list[int]
    dcc: str
    renderer: str
    scene: str
    output: str
    output_format: str
    env: dict[str, str]
    timeout_s: int | None
    lease_expires_at: datetime


class TaskProgress(WireModel):
    """Progress of a running task; the first one moves the task from leased to running."""

    attempt: Attempt
    progress: Annotated[float, Field(ge=0.0, le=1.0)]
    frames_done: Annotated[list[FrameNumber], Field(max_length=MAX_REPORTED)] = Field(
        default_factory=list
    )


class TaskLogChunk(WireModel):
    """Text appended to a task's log. ``offset`` makes a resend harmless."""

    attempt: Attempt
    offset: Offset
    text: Annotated[str, Field(max_length=1_000_000)]


class OutputBlob(WireModel):
    """A frame a node away from studio storage wrote, stored in the object store by its hash."""

    path: Annotated[str, Field(min_length=1, max_length=4096)]
    """Where the frame belongs on studio storage (as the job's output path names it)."""
    hash: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    """xxh3-128 of the frame's bytes."""
    size: Annotated[int, Field(ge=0, le=MAX_INTEGER)]


class TaskDone(WireModel):
    """The agent finished a task; ``outputs`` are the frame files it wrote."""

    attempt: Attempt
    outputs: Annotated[list[str], Field(max_length=MAX_REPORTED)]
    blobs: Annotated[list[OutputBlob], Field(max_length=MAX_REPORTED)] = Field(default_factory=list)
    """Frames written away from studio storage, uploaded to the object store; the daemon
    brings them home, and the job succeeds only once every one is home and verified."""


class TaskFailure(WireModel):
    """The agent's renderer failed (or timed out); ``error`` says why."""

    attempt: Attempt
    error: Annotated[str, Field(max_length=10_000)]
    preempted: bool = False
    """The node went away (e.g. cloud preemption): requeue without spending the retry budget."""


# --- just-in-time data -------------------------------------------------------------------------


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
