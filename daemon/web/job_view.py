"""What a job's page shows: the job, a page of its tasks (a row each, and a cell per frame),
thumbnails and the tail of the log of the task chosen (else of the latest started)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request

from common.frames import format_frames
from common.models import MAX_INTEGER, Task
from common.states import TaskState
from daemon.container import Services
from daemon.scheduling.time_words import duration

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


@dataclass(frozen=True)
class TaskRow:
    """One task in the job page's table: the task, and how long it ran (or has run)."""

    task: Task
    frames: str
    """``1-10x2``: the task's frames as a spec."""
    took: str
    """``2 min``; a dash before it started."""


def task_rows(tasks: list[Task], now: float) -> list[TaskRow]:
    """The table's rows, in task order; a running task's time runs to ``now``."""
    rows = []
    for task in tasks:
        took = "—"
        if task.started_at is not None:
            end = task.finished_at.timestamp() if task.finished_at else now
            took = duration(max(0.0, end - task.started_at.timestamp()), exact=True)
        rows.append(TaskRow(task, format_frames(task.frames), took))
    return rows


def frame_cells(tasks: list[Task], rendered: set[int]) -> list[FrameCell]:
    """A cell per frame in frame order; a frame is done when its task is."""
    cells = [
        FrameCell(frame, task.id, task.state.value, frame in rendered)
        for task in tasks
        for frame in task.frames
    ]
    return sorted(cells, key=lambda cell: cell.frame)


def log_tail(services: Services, job_id: int, task_id: int | None) -> tuple[Task | None, str]:
    """The end of the log of the job's task ``task_id``, else of the one that started last
    (running ones first).

    Raises:
        NotFound: the job has no task ``task_id``.
    """
    task = (
        services.jobs.latest_started_task(job_id)
        if task_id is None
        else services.jobs.task(job_id, task_id)
    )
    if task is None:
        return None, ""
    text = services.jobs.log(job_id, task.id, 0, None).text
    return task, text[-LOG_TAIL_CHARS:]


def job_context(
    services: Services, job_id: int, offset: int = 0, log_task_id: int | None = None
) -> dict[str, Any]:
    """The template values of the job page, with the page of tasks from ``offset`` and the log
    of task ``log_task_id`` (None: the latest started).

    Raises:
        NotFound: no such job, or no such task of it.
    """
    job = services.jobs.get(job_id)
    tasks = services.jobs.task_page(job_id, offset, TASKS_PER_PAGE)
    files = services.outputs.files(job_id)
    rendered = {f.frame for f in files if f.frame is not None}
    log_task, log_text = log_tail(services, job_id, log_task_id)
    return {
        "data": services.jobs.data(job_id),
        "route": services.burst.route(job_id),
        "job": job,
        "tasks": tasks,
        "done": job.task_counts.get(TaskState.DONE, 0),
        "cells": frame_cells(tasks.items, rendered),
        "task_rows": task_rows(tasks.items, services.context.now()),
        "has_outputs": bool(files),
        "log_task": log_task,
        "log_text": log_text,
    }


def tasks_offset() -> int:
    """The page of tasks the form was sent from (kept after the action)."""
    return min(max(0, request.values.get("tasks_offset", 0, type=int) or 0), MAX_INTEGER)


def log_task_id() -> int | None:
    """The task whose log the page shows (``?log=ID``); None: the latest started."""
    chosen = request.values.get("log", type=int)
    return chosen if chosen is not None and 0 < chosen <= MAX_INTEGER else None
