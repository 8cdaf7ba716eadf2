"""Live progress of one job in the terminal: a bar per task and one for the whole job."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from common.cli.display import STATE_STYLES
from common.client import DaemonClient
from common.frames import format_frames
from common.models import Job, Task
from common.states import JobState, TaskState

#: With more tasks than this, only the active ones get a bar.
MAX_TASK_BARS = 16


def frames_done(task: Task) -> int:
    """How many of the task's frames are rendered (from its state and progress)."""
    if task.state is TaskState.DONE:
        return len(task.frames)
    return min(len(task.frames), int(task.progress * len(task.frames)))


def _state_markup(state: JobState | TaskState) -> str:
    style = STATE_STYLES.get(state, "")
    return f"[{style}]{state.value}[/]" if style else state.value


class JobProgress:
    """Shows a job's progress as rich progress bars, updated from the daemon's answers."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("frames"),
            TextColumn("{task.fields[state]}"),
            TimeElapsedColumn(),
            console=console,
        )
        self._total: TaskID | None = None
        self._bars: dict[int, TaskID] = {}

    def __enter__(self) -> JobProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.progress.stop()

    def update(self, job: Job, tasks: Sequence[Task]) -> None:
        """Moves every bar to what ``job`` and ``tasks`` say."""
        done = sum(frames_done(t) for t in tasks)
        if self._total is None:
            self._total = self.progress.add_task(
                f"job {job.id} {job.spec.name}", total=job.frame_count, state=""
            )
        self.progress.update(self._total, completed=done, state=_state_markup(job.state))
        only_active = len(tasks) > MAX_TASK_BARS
        for task in tasks:
            bar = self._bars.get(task.id)
            if bar is None:
                bar = self.progress.add_task(
                    f"  task {task.id} ({format_frames(task.frames)})",
                    total=len(task.frames),
                    state="",
                    start=False,
                )
                self._bars[task.id] = bar
            if task.state is not TaskState.QUEUED:
                self.progress.start_task(bar)
            if task.state.finished:
                self.progress.stop_task(bar)
            visible = not only_active or task.state in (TaskState.LEASED, TaskState.RUNNING)
            self.progress.update(
                bar, completed=frames_done(task), state=_state_markup(task.state), visible=visible
            )


def watch_job(
    client: DaemonClient,
    job_id: int,
    console: Console,
    *,
    poll_interval_s: float = 0.5,
    check: Callable[[], None] = lambda: None,
) -> tuple[Job, list[Task]]:
    """Polls the daemon and shows the job's progress until the job has finished.

    Args:
        client: the daemon client.
        job_id: the job to watch.
        console: where the bars are drawn.
        poll_interval_s: time between two polls.
        check: called before each poll; raises to stop watching (e.g. a child process died).

    Returns:
        The finished job and its tasks.
    """
    with JobProgress(console) as view:
        while True:
            check()
            job = client.job(job_id)
            tasks = client.tasks(job_id)
            view.update(job, tasks)
            if job.state.finished:
                return job, tasks
            time.sleep(poll_interval_s)
