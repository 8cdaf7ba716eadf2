"""``JobFilter``: which jobs a listing asks for, and in what order. The API and the dashboard
build it, the job service passes it on and storage turns it into SQL; it sits below all three."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from common.states import JobState

NAME_CONTAINS_MAX = 100
"""The longest name search a listing takes (characters)."""


class JobSort(StrEnum):
    """What a listing of jobs is sorted by."""

    RANK = "rank"
    """Queue order: rank 1 first, then the jobs not in the queue, newest first."""
    NAME = "name"
    OWNER = "owner"
    SHOW = "show"
    """The job's project."""
    STATE = "state"
    """In the order of ``JobState``: queued, waiting, running, paused, then the ended."""
    PRIORITY = "priority"
    """The artist's priority."""
    SUBMITTED = "submitted"
    PROGRESS = "progress"
    """The fraction of frames on disk."""

    @property
    def descending_first(self) -> bool:
        """Whether the first click on this column sorts it highest first (newest, most done)."""
        return self in (JobSort.PRIORITY, JobSort.SUBMITTED, JobSort.PROGRESS)


@dataclass(frozen=True)
class JobFilter:
    """Filters of ``GET /jobs``; None means any."""

    states: tuple[JobState, ...] = ()
    project: str | None = None
    owner: str | None = None
    priority_min: int | None = None
    priority_max: int | None = None
    name_contains: str | None = None
    """A part of the job's name, in any case."""
    shot: int | None = None
    """The ShotGrid Shot (its id) the jobs render for (``job_links``)."""
    asset: int | None = None
    """The ShotGrid Asset (its id) the jobs render for."""
    archived: bool = False
    """List the archived jobs (only them) instead of the others."""
    sort: JobSort = JobSort.SUBMITTED
    descending: bool | None = None
    """None: the sort's own first order (``JobSort.descending_first``). For ``RANK``, True is
    the queue from its end; jobs outside the queue still come after it, newest first."""

    @property
    def reversed(self) -> bool:
        """Whether the listing runs highest (or last in the queue) first."""
        return self.sort.descending_first if self.descending is None else self.descending

    offset: int = 0
    limit: int = 50
