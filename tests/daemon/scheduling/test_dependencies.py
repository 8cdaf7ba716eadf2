"""What keeps a job waiting for the jobs it depends on, and how it is said (pure)."""

from __future__ import annotations

from common.states import JobState
from daemon.scheduling.dependencies import Upstream, hold_of, hold_sentence


def up(job_id: int, state: JobState, frames: str = "all") -> Upstream:
    return Upstream(job_id, f"job{job_id}", state, frames)


def test_an_unfinished_whole_job_dependency_holds_until_it_succeeded() -> None:
    hold = hold_of([up(1, JobState.RUNNING), up(2, JobState.SUCCEEDED), up(3, JobState.QUEUED)])
    assert hold is not None and not hold.broken
    assert [u.job_id for u in hold.upstreams] == [1, 3]
    assert hold_sentence(hold) == "Waiting for job 1 (job1) and 1 other job to succeed."
    assert hold_of([up(2, JobState.SUCCEEDED)]) is None


def test_a_live_frame_by_frame_dependency_never_holds_the_whole_job() -> None:
    for state in (JobState.QUEUED, JobState.WAITING, JobState.RUNNING, JobState.PAUSED):
        assert hold_of([up(1, state, "same")]) is None


def test_a_failed_or_cancelled_dependency_holds_whatever_its_frames() -> None:
    failed = hold_of([up(1, JobState.RUNNING), up(2, JobState.FAILED, "same")])
    assert failed is not None and failed.broken
    assert hold_sentence(failed) == (
        "Held: job 2 (job2) failed; retry or cancel it, or change this job's dependencies."
    )
    cancelled = hold_of([up(3, JobState.CANCELLED)])
    assert cancelled is not None and cancelled.broken
    assert hold_sentence(cancelled) == (
        "Held: job 3 (job3) was cancelled; change this job's dependencies or cancel this job."
    )
