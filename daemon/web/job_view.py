"""What a job's page shows: the job, a cell per frame, thumbnails and the log tail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from common.models import Task
from common.states import TaskState
from daemon.services.outputs import OutputService

if TYPE_CHECKING:
    from daemon.app import Services

LOG_TAIL_CHARS = 6000
"""How much of the newest task log the page shows."""


@dataclass(frozen=True)
class FrameCell:
    """One frame in the grid: its task's state, and whether a thumbnail exists."""

    frame: int
    task_id: int
    state: str
    thumbnail: bool


def frame_cells(tasks: list[Task], rendered: set[int]) -> list[FrameCell]:
    """A cell per frame in frame order; a frame is done when its task is."""
    cells = [
        FrameCell(frame, task.id, task.state.value, frame in rendered)
        for task in tasks
        for frame in task.frames
    ]
    return sorted(cells, key=lambda cell: cell.frame)


def log_tail(services: Services, job_id: int, tasks: list[Task]) -> tuple[Task | None, str]:
    """The end of the log of the task that started last (running ones first)."""
    started = [t for t in tasks if t.started_at is not None]
    if not started:
        return None, ""
    latest = max(started, key=lambda t: (t.state is TaskState.RUNNING, t.started_at))
    text = services.jobs.log(job_id, latest.id, 0, None).text
    return latest, text[-LOG_TAIL_CHARS:]


def job_context(services: Services, job_id: int) -> dict[str, Any]:
    """The template values of the job page.

    Raises:
        NotFound: no such job.
    """
    job = services.jobs.get(job_id)
    tasks = services.jobs.tasks(job_id)
    outputs = OutputService(services.context, services.jobs)
    files = outputs.files(job_id)
    rendered = {f.frame for f in files if f.frame is not None}
    log_task, log_text = log_tail(services, job_id, tasks)
    with services.context.database.transaction() as db:
        data = services.staging.job_data(db, job_id)
    return {
        "data": data,
        "route": services.burst.route(job_id),
        "job": job,
        "tasks": tasks,
        "cells": frame_cells(tasks, rendered),
        "has_outputs": bool(files),
        "log_task": log_task,
        "log_text": log_text,
    }
