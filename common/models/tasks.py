"""Wire models of tasks: one chunk of a job's frames, pages of them, and their logs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from common.models.base import WireModel
from common.states import TaskState


class FailureClass(StrEnum):
    """Why a render failed, read from its runner's log and exit; the daemon acts on it."""

    LICENCE = "licence"
    """No licence was free: the task waits and goes back to the queue, no retry spent."""
    MISSING_FILE = "missing_file"
    """The scene or a file it reads is missing: failed at once, no retries burnt."""
    BAD_SCENE = "bad_scene"
    """The scene cannot be read or set up: failed at once, no retries burnt."""
    OUT_OF_MEMORY = "out_of_memory"
    """Retried on a node with more memory when the farm has one."""
    CRASH = "crash"
    """The renderer died (a signal, a segfault)."""
    TIMEOUT = "timeout"
    """It ran past the job's time limit."""
    STALLED = "stalled"
    """No progress and no log line for the stall time: killed and retried."""
    RENDER_ERROR = "render_error"
    """The renderer reported an error or exited non-zero, otherwise unclassified."""


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
    error_class: FailureClass | None = None
    """The class of the task's last failure."""


TASK_PAGE_MAX = 500
"""The most tasks one page of ``GET /api/v1/jobs/{id}/tasks`` carries."""


class TaskPage(WireModel):
    """One page of a job's tasks (``GET /api/v1/jobs/{id}/tasks``), in task order."""

    items: list[Task]
    total: int
    """How many tasks the job has."""
    offset: int
    limit: int


class TaskLog(WireModel):
    """A piece of a task's log, from ``offset`` on."""

    task_id: int
    offset: int
    text: str
    next_offset: int
