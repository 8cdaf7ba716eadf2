"""Wire models of tasks: one chunk of a job's frames, pages of them, and their logs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from pydantic import Field

from common.frames import format_frames
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
    """The agent holding the task now (leased or running, or the one that rendered it)."""
    last_agent_id: str | None = None
    """The agent that held it last: a failed or requeued task keeps the node it ran on."""
    agent_name: str | None = None
    """The name of ``agent_id``, else of ``last_agent_id`` (what people read)."""
    lease_expires_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    progress: float = 0.0
    outputs: list[str] = Field(default_factory=list)
    error: str = ""
    error_class: FailureClass | None = None
    """The class of the task's last failure."""

    @property
    def number(self) -> int:
        """How people name the task: ``task 1`` is the job's first (``index`` counts from 0)."""
        return self.index + 1

    @property
    def label(self) -> str:
        """``task 3 (frames 3)``: the one way the page, the errors and the CLI name a task."""
        return Task.label_of(self.index, self.frames)

    @staticmethod
    def label_of(index: int, frames: Sequence[int]) -> str:
        """The name of a job's task ``index`` (from 0) with ``frames``:
        ``task 3 (frames 3-4)``."""
        return f"task {index + 1} (frames {format_frames(frames)})"


TASK_PAGE_MAX = 500
"""The most tasks one page of ``GET /api/v1/jobs/{id}/tasks`` carries."""


class TaskPage(WireModel):
    """One page of a job's tasks (``GET /api/v1/jobs/{id}/tasks``), in task order."""

    items: list[Task]
    total: int
    """How many tasks the job has."""
    offset: int
    limit: int


class TaskAction(StrEnum):
    """What a person may do to one task (``POST /api/v1/jobs/{id}/tasks/{task}/{action}``)."""

    RETRY = "retry"
    """A failed task renders again with a fresh retry budget."""
    REQUEUE = "requeue"
    """A leased or running task goes back to the queue, no retry spent; its agent stops it at
    its next heartbeat."""
    SUSPEND = "suspend"
    """A queued task is held back: no agent gets it until it is resumed."""
    RESUME = "resume"
    """A suspended task goes back to the queue."""


class TaskLog(WireModel):
    """A piece of a task's log, from ``offset`` on."""

    task_id: int
    offset: int
    text: str
    next_offset: int
