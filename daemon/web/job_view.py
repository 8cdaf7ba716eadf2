"""What a job's page shows: the job, a page of its tasks (a row each), the frame grid of the
whole job (a cell per frame, runs of one state for the live updates), thumbnails, and the log of
the task chosen (else of the latest started), read on from where the page stopped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from flask import request
from pydantic import BaseModel, ConfigDict, Field

from common.frames import format_frames
from common.models import MAX_INTEGER, RowId, Task
from common.states import TaskState
from daemon.container import Services
from daemon.scheduling.time_words import duration

LOG_TAIL_CHARS = 6000
"""How much of a task's log the page shows at first, and the most one update appends."""
TASKS_PER_PAGE = 200
"""Tasks on one page of the task table; a job has up to 10,000 by default."""
TILE_FRAMES = 200
"""Up to this many frames the grid shows tiles with their thumbnails; a bigger job gets small
cells, and a frame's thumbnail is loaded when its cell is clicked."""
LIVE_REGIONS = ("state", "actions", "priority", "summary", "rank", "log_label", "tasks")
"""The parts of the job page (``templates/job/<name>.html``) the page's script refreshes."""


@dataclass(frozen=True)
class FrameCell:
    """One frame in the grid: its task's state, and whether a thumbnail exists."""

    frame: int
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


@dataclass(frozen=True)
class LogCursor:
    """Where the page's log stopped: the task and attempt it shows, and the next offset."""

    task_id: int
    attempt: int
    offset: int


@dataclass(frozen=True)
class LogView:
    """The log text the page shows (``reset``) or appends, and where to read on from."""

    task: Task | None
    attempt: int
    text: str
    offset: int
    reset: bool
    """The text replaces the page's: another task or attempt, or more than one update appends."""


class LiveQuery(BaseModel):
    """What the job page's script asks ``GET /jobs/{id}/live`` for: the page of tasks it shows,
    the task whose log was chosen, and where its log stopped (all three or none)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tasks_offset: Annotated[int, Field(ge=0, le=MAX_INTEGER)] = 0
    log: RowId | None = None
    log_task: RowId | None = None
    log_attempt: Annotated[int, Field(ge=0, le=MAX_INTEGER)] | None = None
    log_offset: Annotated[int, Field(ge=0, le=MAX_INTEGER)] | None = None

    def cursor(self) -> LogCursor | None:
        if self.log_task is None or self.log_attempt is None or self.log_offset is None:
            return None
        return LogCursor(self.log_task, self.log_attempt, self.log_offset)


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


def frame_cells(tasks: list[tuple[list[int], TaskState]], rendered: set[int]) -> list[FrameCell]:
    """A cell per frame in frame order from each task's ``(frames, state)``; a frame is done
    when its task is."""
    cells = [
        FrameCell(frame, state.value, frame in rendered)
        for frames, state in tasks
        for frame in frames
    ]
    return sorted(cells, key=lambda cell: cell.frame)


def frame_runs(cells: list[FrameCell]) -> list[tuple[int, str, int]]:
    """The grid as runs of neighbouring cells alike: ``(count, state, thumbnail 0 or 1)``."""
    runs: list[tuple[int, str, int]] = []
    for cell in cells:
        kind = (cell.state, int(cell.thumbnail))
        if runs and runs[-1][1:] == kind:
            runs[-1] = (runs[-1][0] + 1, *kind)
        else:
            runs.append((1, *kind))
    return runs


def read_log(
    services: Services, job_id: int, chosen: int | None, shown: LogCursor | None = None
) -> LogView:
    """The log of the job's task ``chosen``, else of the one that started last (running ones
    first): what follows ``shown`` when the page shows that task's attempt, else its tail.

    Raises:
        NotFound: the job has no task ``chosen``.
    """
    jobs = services.jobs
    task = jobs.latest_started_task(job_id) if chosen is None else jobs.task(job_id, chosen)
    if task is None:
        return LogView(None, 0, "", 0, reset=shown is not None)
    attempt = task.attempts
    if shown is not None and (shown.task_id, shown.attempt) == (task.id, attempt):
        part = jobs.log(job_id, task.id, shown.offset, attempt)
        if len(part.text) <= LOG_TAIL_CHARS:
            return LogView(task, attempt, part.text, part.next_offset, reset=False)
        return LogView(task, attempt, part.text[-LOG_TAIL_CHARS:], part.next_offset, reset=True)
    whole = jobs.log(job_id, task.id, 0, attempt)
    return LogView(task, attempt, whole.text[-LOG_TAIL_CHARS:], whole.next_offset, reset=True)


def job_context(
    services: Services,
    job_id: int,
    offset: int = 0,
    log_task_id: int | None = None,
    shown: LogCursor | None = None,
) -> dict[str, Any]:
    """The template values of the job page, with the page of tasks from ``offset`` and the log
    of task ``log_task_id`` (None: the latest started) read on from ``shown``.

    Raises:
        NotFound: no such job, or no such task of it.
    """
    job = services.jobs.get(job_id)
    tasks = services.jobs.task_page(job_id, offset, TASKS_PER_PAGE)
    files = services.outputs.files(job_id)
    rendered = {f.frame for f in files if f.frame is not None}
    cells = frame_cells(services.jobs.frame_states(job_id), rendered)
    log = read_log(services, job_id, log_task_id, shown)
    return {
        "data": services.jobs.data(job_id),
        "route": services.burst.route(job_id),
        "job": job,
        "tasks": tasks,
        "cells": cells,
        "compact": len(cells) > TILE_FRAMES,
        "task_rows": task_rows(tasks.items, services.context.now()),
        "has_outputs": bool(files),
        "log": log,
        "log_task": log.task,
        "log_chosen": log_task_id,
    }


def tasks_offset() -> int:
    """The page of tasks the form was sent from (kept after the action)."""
    return min(max(0, request.values.get("tasks_offset", 0, type=int) or 0), MAX_INTEGER)


def log_task_id() -> int | None:
    """The task whose log the page shows (``?log=ID``); None: the latest started."""
    chosen = request.values.get("log", type=int)
    return chosen if chosen is not None and 0 < chosen <= MAX_INTEGER else None
