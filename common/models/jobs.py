"""Wire models of jobs: what a submitter sends, and what the daemon says of a job."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from common.errors import FrameSpecError
from common.frames import count_frames
from common.models.base import Name, Priority, WireModel
from common.models.queue import RankPart
from common.models.requirements import (
    MAX_LIMITS,
    DependsOn,
    JobDependency,
    Label,
    Requirements,
    as_dependencies,
)
from common.models.shotgrid import ShotGridLink
from common.states import JobState, TaskState


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

IDEMPOTENCY_HEADER = "Idempotency-Key"
"""The header naming one submission, so that a resend of it stores no second job."""

IdempotencyKey = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[!-~]+$")]
"""A key of the caller's own (a UUID does): 1 to 255 visible ASCII characters."""


class JobSpec(WireModel):
    """What a submitter sends to ``POST /api/v1/jobs``."""

    name: Name
    owner: Name | None = None
    """Who the job belongs to. Left out, the daemon makes it the signed-in caller; only TDs and
    admins may name someone else. The daemon's answer always carries it."""
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
    description: Annotated[str, Field(max_length=2000)] = ""
    """A note for whoever looks at the job (what changed, what to check)."""
    paused: bool = False
    """Store the job paused: none of its tasks is handed out until someone resumes it."""
    requirements: Requirements = Field(default_factory=Requirements)
    """What a node must have to take the job's tasks (pool, OS, memory, GPUs, version, tags)."""
    depends_on: DependsOn = Field(default_factory=list)
    """Jobs this one waits for: an id waits until that job succeeded; ``{"job": ID, "frames":
    "same"}`` lets frame N start once frame N of that job is done."""
    limits: Annotated[list[Label], Field(max_length=MAX_LIMITS)] = Field(default_factory=list)
    """The limits each running task holds a unit of (``maya``, ``arnold``); a limit no TD set
    is unlimited."""
    max_failed_tasks: (
        Annotated[int, Field(ge=1, le=1_000_000)]
        | Annotated[str, Field(pattern=r"^(100|[1-9]?[0-9])%$")]
        | None
    ) = None
    """Stop the job early once this many tasks failed for good (``5``, or ``"10%"`` of its
    tasks); None: every task runs to its end."""
    stall_timeout_s: Annotated[int, Field(ge=1, le=7 * 24 * 3600)] | None = None
    """A task with no progress and no log line for this long is killed and retried; None: the
    daemon's ``[failures] stall_timeout_s``."""

    @property
    def dependencies(self) -> list[JobDependency]:
        """``depends_on`` with every bare id as a dependency on the whole job."""
        return as_dependencies(self.depends_on)

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


class JobStatus(WireModel):
    """Where a job stands: what a list of jobs and the job itself both show."""

    id: int
    state: JobState
    submitted_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    archived_at: datetime | None = None
    """When the finished job was archived (hidden from the default listing); None if not."""
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
    submitted_by: str | None = None
    """The signed-in account that sent the job (a TD may submit for an artist); None for jobs
    sent before this was recorded, or by the daemon's own callers."""
    errors: list[str] = Field(default_factory=list)
    """The last error of each failed task, newest first."""
    failed_frames: list[int] = Field(default_factory=list)
    """The frames of the tasks that failed for good (``retry`` renders them again)."""
    error_classes: dict[str, int] = Field(default_factory=dict)
    """How many of the job's tasks last failed with each class (``licence``, ``crash``...)."""
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


class PriorityChange(WireModel):
    """Body of ``PUT /api/v1/jobs/{id}/priority``."""

    priority: Priority


class Resubmission(WireModel):
    """Body of ``POST /api/v1/jobs/{id}/resubmit``: what the new job changes of the old one.

    The new job has the old one's spec, belongs to the caller (as a submission does) and is
    checked as any submission is; what is left out here stays as it was.
    """

    frames: Annotated[str, Field(min_length=1, max_length=10_000)] | None = None
    """Other frames to render (``1-100``, ``12,40-45``); left out, the same frames."""
    name: Name | None = None
    """The new job's name; left out, the old one's."""
    paused: bool | None = None
    """Store the new job paused (left out: as the old spec said)."""
