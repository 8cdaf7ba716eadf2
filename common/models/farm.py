"""Wire models of the farm's history: samples of its use over time (``GET /farm/history``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from common.models.base import WireModel

#: The longest span one history answer covers (the daemon keeps what its settings say).
MAX_HISTORY_HOURS = 24 * 31


class HistoryQuery(WireModel):
    """The span of ``GET /farm/history``: the last ``hours`` hours."""

    hours: Annotated[int, Field(ge=1, le=MAX_HISTORY_HOURS)] = 24
    points: Annotated[int, Field(ge=2, le=2000)] = 240
    """At most this many points per series: samples are averaged in buckets beyond it."""


class FarmPoint(WireModel):
    """The farm at one moment (or averaged over one bucket of samples)."""

    at: datetime
    agents_online: float
    agents_busy: float
    utilisation: float
    """Busy agents over online ones, from 0 to 1 (0 with none online)."""
    queue_depth: float
    """Queued tasks of jobs that may run."""
    frames_per_hour: float


class SpendSeries(WireModel):
    """One show's cloud spend so far (compute, storage and egress) over time."""

    project: str
    points: list[tuple[datetime, float]]


class FarmHistory(WireModel):
    """Samples of the farm over a span, oldest first."""

    since: datetime
    until: datetime
    sample_interval_s: float
    points: list[FarmPoint]
    spend: list[SpendSeries] = Field(default_factory=list)
    """Per show; empty for callers who may not read reports (spend is production's)."""
