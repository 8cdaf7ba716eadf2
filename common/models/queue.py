"""Wire models of the queue: a job's rank and its parts, and production's overrides."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from common.models.base import Name, WireModel
from common.states import JobState


class RankPartName(StrEnum):
    """The parts a job's rank is made of."""

    SHOTGRID = "shotgrid"
    """Production's priority from ShotGrid (0-100 scaled to 0..1)."""
    DUE = "due"
    """Due-date urgency: time left against the work left, 0..1."""
    ARTIST = "artist"
    """The priority the artist gave the job (0-100 scaled to 0..1)."""
    AGE = "age"
    """Time waiting, 0..1."""
    FAIR_SHARE = "fair_share"
    """The show's share of the farm against its target: -1 (far over) .. 1 (using none)."""


class RankPart(WireModel):
    """One part of a rank: its value, its weight (configuration) and the points it gives."""

    name: RankPartName
    value: float
    weight: float
    points: float
    detail: str
    """The part in words, e.g. ``ShotGrid priority A (100)``."""


class QueueEntry(WireModel):
    """A job waiting for agents, in the order tasks are handed out."""

    position: int
    job_id: int
    name: str
    owner: str
    project: str
    dcc: str
    state: JobState
    score: float
    pinned_by: str | None = None
    reason: str
    parts: list[RankPart]


class QueuePage(WireModel):
    """One page of ``GET /api/v1/queue``."""

    items: list[QueueEntry]
    total: int
    offset: int
    limit: int
    ranked_at: datetime | None = None
    """When the last full ranking pass ran."""
    shotgrid_stale: bool = False
    """ShotGrid values are the last known ones: the sync is failing or behind."""


class PinChange(WireModel):
    """Body of ``PUT /api/v1/jobs/{id}/pin``: put a job above every unpinned one, or not."""

    pinned: bool = True
    by: Name | None = None
    """Ignored: the daemon records the signed-in caller. Accepted so older clients still work."""
    note: Annotated[str, Field(max_length=1000)] = ""


class ShowHoldChange(WireModel):
    """Body of ``PUT /api/v1/shows/{project}/hold``: hand out no task of the show, or again."""

    held: bool = True
    by: Name | None = None
    """Ignored: the daemon records the signed-in caller. Accepted so older clients still work."""
    note: Annotated[str, Field(max_length=1000)] = ""


class ShowShareChange(WireModel):
    """Body of ``PUT /api/v1/shows/{project}/share``: the show's weight in the farm's split."""

    share: Annotated[float, Field(gt=0, le=1000)]
    """Relative: shows with shares 2 and 1 aim at two thirds and one third of the farm."""
    by: Name | None = None
    """Ignored: the daemon records the signed-in caller. Accepted so older clients still work."""
    note: Annotated[str, Field(max_length=1000)] = ""


class ShowPolicy(WireModel):
    """A show's production overrides and how much of the farm it uses now."""

    project: str
    share: float
    held: bool
    target: float
    """The share of the farm it aims at now (0..1), among shows with work."""
    usage: float
    """The share of the farm's running tasks it has now (0..1)."""
    active_tasks: int
    waiting_jobs: int
    held_by: str | None = None
    held_at: datetime | None = None
    share_by: str | None = None
    share_at: datetime | None = None


class OverrideRecord(WireModel):
    """One production override, as recorded: who, when, what."""

    id: int
    at: datetime
    by: str
    kind: str
    """``pin``, ``unpin``, ``hold``, ``release`` or ``share``."""
    target: str
    """``job 12`` or ``show alpha``."""
    value: str
    note: str
