"""Wire models of bursting to the cloud: routes, render nodes, the pool by hand, money."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from common.models.base import WireModel


class JobRoute(WireModel):
    """Where a job's frames may render, as the last routing pass decided, and why."""

    job_id: int
    verdict: str
    """``burst``, ``await-staging``, ``on-time``, ``no-due-date``, ``local-only``,
    ``confidential``, ``no-budget``, ``nothing-left``, ``shape-misfit`` (the cloud shape lacks
    the GPUs, memory or pool the job requires)."""
    cloud_quota: int
    """Frames cloud nodes may hold at once (running and about to start)."""
    cloud_chunk: int
    """Frames per cloud task (short enough to lose little to a preemption)."""
    estimated_cost: float
    payers: dict[str, int] = Field(default_factory=dict)
    """Whose budget pays for the cloud frames: the job's show, and shows whose local-only
    jobs it makes room for."""
    reason: str
    decided_at: datetime


class Resource(WireModel):
    """One render node, local or in the cloud, or an artist's desktop in the cloud."""

    id: str
    kind: Literal["local", "cloud", "desktop"]
    name: str
    state: str
    pool: str
    cpus: float = 0
    gpus: int = 0
    memory_gb: float = 0
    disk_free_gb: float | None = None
    cpu_percent: float | None = None
    running_tasks: int = 0
    shape: str = ""
    preemptible: bool = False
    price_per_hour: float = 0.0
    cost: float = 0.0
    """Spent on the node so far (cloud nodes)."""
    launched_at: datetime | None = None
    detail: str = ""
    user: str = ""
    """Whose desktop (desktops)."""
    profile: str = ""
    """The desktop profile it runs (desktops)."""
    session_id: int | None = None
    """The desktop's session (desktops)."""


class ScaleRequest(WireModel):
    """Sets the cloud pool by hand: at least ``count`` nodes (``running``), or none
    (``released``: idle nodes go at once, busy ones after their task)."""

    count: Annotated[int, Field(ge=0, le=1000)] = 0
    state: Literal["running", "released"] = "running"
    preemptible: bool | None = None
    """Of the nodes launched now; the backend's default when None."""
    shape: Annotated[str, Field(max_length=100)] | None = None


class ScaleResult(WireModel):
    launched: list[str]
    released: list[str]
    message: str


class Spend(WireModel):
    """Money spent in the cloud (estimates for storage and egress)."""

    compute: float = 0.0
    storage: float = 0.0
    egress: float = 0.0
    total: float = 0.0


class ShowSpend(WireModel):
    project: str
    budget: float
    spent: Spend
    committed: float
    """Owed to cloud tasks running now, until they finish."""
    room: float
    """Left for new cloud work; none starts at 0 or below."""


class JobSpend(WireModel):
    job_id: int
    project: str
    spent: Spend


class SpendReport(WireModel):
    """Cloud spend per show and per job, and what the pool's nodes cost in all."""

    shows: list[ShowSpend]
    jobs: list[JobSpend]
    nodes_cost: float
    """Billed for every cloud node (boot and idle time included)."""
    render_s: float
    """Render seconds of cloud tasks (the productive part of the nodes' time)."""


class BudgetChange(WireModel):
    """A show's cloud budget for the period (0: no cloud work)."""

    budget: Annotated[float, Field(ge=0, le=1e9)]
