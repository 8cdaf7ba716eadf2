"""What a job's page shows: the job, a page of its tasks with a cell per frame, thumbnails and
the log tail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from common.models import Task
from common.states import TaskState
from daemon.container import Services

LOG_TAIL_CHARS = 6000
"""How much of the newest task log the page shows."""
TASKS_PER_PAGE = 200
"""Tasks (and their frames' cells) on one job page; a job has up to 10,000 by default."""


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


def log_tail(services: Services, job_id: int) -> tuple[Task | None, str]:
    """The end of the log of the job's task that started last (running ones first)."""
    latest = services.jobs.latest_started_task(job_id)
    if latest is None:
        return None, ""
    text = services.jobs.log(job_id, latest.id, 0, None).text
    return latest, text[-LOG_TAIL_CHARS:]


def job_context(services: Services, job_id: int, offset: int = 0) -> dict[str, Any]:
    """The template values of the job page, with the page of tasks from ``offset``.

    Raises:
        NotFound: no such job.
    """
    job = services.jobs.get(job_id)
    tasks = services.jobs.task_page(job_id, offset, TASKS_PER_PAGE)
    files = services.outputs.files(job_id)
    rendered = {f.frame for f in files if f.frame is not None}
    log_task, log_text = log_tail(services, job_id)
    return {
        "data": services.jobs.data(job_id),
        "route": services.burst.route(job_id),
        "job": job,
        "tasks": tasks,
        "done": job.task_counts.get(TaskState.DONE, 0),
        "cells": frame_cells(tasks.items, rendered),
        "has_outputs": bool(files),
        "log_task": log_task,
        "log_text": log_text,
    }
