"""Wire models of tasks: one chunk of a job's frames, pages of them, and their logs."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from common.models.base import WireModel
from common.states import TaskState


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


class TaskLog(WireModel):
    """A piece of a task's log, from ``offset`` on."""

    task_id: int
    offset: int
    text: str
    next_offset: int
