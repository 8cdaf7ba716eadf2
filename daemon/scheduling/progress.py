"""A job's state and finish estimate, derived from its tasks."""

from __future__ import annotations

from collections.abc import Mapping

from common.states import JobState, TaskState


def derive_job_state(
    current: JobState,
    counts: Mapping[str, int],
    frames_away: int = 0,
    *,
    failed_limit: int | None = None,
    waiting: bool = False,
) -> JobState:
    """The state a job should be in, given how many of its tasks are in each state.

    A failed task does not stop the others: a cancelled job stays cancelled; a job whose tasks
    are all done succeeded once every frame rendered away from studio storage is home
    (``frames_away``); one whose tasks all ended with some failed for good is failed, as is one
    with ``failed_limit`` failed tasks or more (its ``max_failed_tasks``: the scene is clearly
    broken). Otherwise a paused job stays paused, one with a task out on a node runs, and one
    ``waiting`` for the jobs it depends on waits.
    """
    if current is JobState.CANCELLED:
        return current
    total = sum(counts.values())
    done = counts.get(TaskState.DONE.value, 0)
    failed = counts.get(TaskState.FAILED.value, 0)
    if total and done == total:
        return JobState.SUCCEEDED if frames_away == 0 else JobState.RUNNING
    if failed and failed_limit is not None and failed >= failed_limit:
        return JobState.FAILED
    ended = done + failed + counts.get(TaskState.CANCELLED.value, 0)
    if failed and ended == total:
        return JobState.FAILED if frames_away == 0 else JobState.RUNNING
    if current is JobState.PAUSED:
        return current
    started = sum(counts.get(s.value, 0) for s in (TaskState.LEASED, TaskState.RUNNING))
    if started:
        return JobState.RUNNING
    if waiting:
        return JobState.WAITING
    return JobState.RUNNING if done or failed else JobState.QUEUED


def failed_limit(max_failed_tasks: int | str | None, tasks: int) -> int | None:
    """A job's ``max_failed_tasks`` as a count of its ``tasks`` (``"10%"`` of 50 is 5, at
    least 1); None: no limit."""
    if max_failed_tasks is None:
        return None
    if isinstance(max_failed_tasks, int):
        return max_failed_tasks
    percent = int(max_failed_tasks.rstrip("%"))
    return max(1, -(-tasks * percent // 100))


def progress_fraction(frame_count: int, frames_done: float) -> float:
    """Fraction of a job's frames on disk, 0..1."""
    if frame_count <= 0:
        return 0.0
    return max(0.0, min(1.0, frames_done / frame_count))


def estimate_finish(
    now: float,
    frame_count: int,
    frames_done: int,
    seconds_spent: float,
    partial_frames: float,
    active_tasks: int,
) -> float | None:
    """When the job should end at the measured seconds per frame; None before any measure.

    Args:
        now: current time (epoch seconds).
        frame_count: frames in the job.
        frames_done: frames of finished tasks.
        seconds_spent: render seconds of the finished tasks.
        partial_frames: frames' worth of progress in running tasks.
        active_tasks: tasks running now (the job's current parallelism, at least 1).
    """
    if frames_done <= 0 or seconds_spent <= 0:
        return None
    per_frame = seconds_spent / frames_done
    remaining = max(0.0, frame_count - frames_done - partial_frames)
    return now + remaining * per_frame / max(1, active_tasks)
