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
from common.frames import parse_frames
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

    @field_validator("frames")
    @classmethod
    def _frames_parse(cls, value: str) -> str:
        try:
            parse_frames(value)
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


class Job(WireModel):
    """A job as the daemon reports it."""

    id: int
    spec: JobSpec
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
    errors: list[str] = Field(default_factory=list)
    """The last error of each failed task, newest first."""


class JobPage(WireModel):
    """One page of ``GET /api/v1/jobs``."""

    items: list[Job]
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


class PriorityChange(WireModel):
    """Body of ``PUT /api/v1/jobs/{id}/priority``."""

    priority: Priority


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


class Heartbeat(WireModel):
    """Sent every few seconds: the tasks the agent is working on."""

    task_ids: list[int] = Field(default_factory=list)


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

    attempt: int
    progress: Annotated[float, Field(ge=0.0, le=1.0)]
    frames_done: list[int] = Field(default_factory=list)


class TaskLogChunk(WireModel):
    """Text appended to a task's log. ``offset`` makes a resend harmless."""

    attempt: int
    offset: Annotated[int, Field(ge=0)]
    text: Annotated[str, Field(max_length=1_000_000)]


class TaskDone(WireModel):
    """The agent finished a task; ``outputs`` are the frame files it wrote."""

    attempt: int
    outputs: list[str]


class TaskFailure(WireModel):
    """The agent's renderer failed (or timed out); ``error`` says why."""

    attempt: int
    error: Annotated[str, Field(max_length=10_000)]
    preempted: bool = False
    """The node went away (e.g. cloud preemption): requeue without spending the retry budget."""
