"""A job's state and finish estimate, derived from its tasks."""

from __future__ import annotations

from collections.abc import Mapping

from common.states import JobState, TaskState


def derive_job_state(
    current: JobState, counts: Mapping[str, int], frames_away: int = 0
) -> JobState:
    """The state a job should be in, given how many of its tasks are in each state.

    A cancelled job stays cancelled, a paused job stays paused until every task is finished,
    a job with a task whose retry budget is spent is failed, and one whose tasks are all done
    succeeded once every frame rendered away from studio storage is home (``frames_away``).
    """
    if current is JobState.CANCELLED:
        return current
    total = sum(counts.values())
    done = counts.get(TaskState.DONE.value, 0)
    if total and done == total:
        return JobState.SUCCEEDED if frames_away == 0 else JobState.RUNNING
    if counts.get(TaskState.FAILED.value, 0):
        return JobState.FAILED
    if current is JobState.PAUSED:
        return current
    started = sum(counts.get(s.value, 0) for s in (TaskState.LEASED, TaskState.RUNNING))
    return JobState.RUNNING if started or done else JobState.QUEUED


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
