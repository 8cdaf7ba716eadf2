"""The simulated production day of ``burst.py``: its knobs, its jobs, and the figures of a run.

The world: shows with cloud budgets (one confidential), jobs submitted through the day (most in
working hours) with due dates later that day or at the next morning's dailies, per-frame render
times the farm only learns from the frames it finishes, and the data each job must stage before
cloud nodes may take it. One seed makes the same day for every policy.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from common.models import Placement
from daemon.scheduling import budget

HOUR = 3600.0


class Policy(StrEnum):
    NEVER = "never burst"
    ALWAYS = "always burst"
    CLOUDBURST = "cloudburst"


@dataclass(frozen=True)
class ShowSpec:
    name: str
    budget: float
    confidential: bool = False


@dataclass(frozen=True)
class Scenario:
    """Every knob of the simulated day."""

    seed: int = 7
    jobs: int = 300
    shows: tuple[ShowSpec, ...] = (
        ShowSpec("aurora", 500.0),
        ShowSpec("borealis", 350.0),
        ShowSpec("cirrus", 200.0),
        ShowSpec("vault", 1000.0, confidential=True),
    )
    local_slots: int = 180
    day_s: float = 24 * HOUR
    max_nodes: int = 60
    scale_up_per_step: int = 8
    boot_s: float = 150.0
    idle_release_s: float = 300.0
    pass_s: float = 60.0
    preempt_per_hour: float = 0.15
    """Preemptions per preemptible node-hour outside the spike."""
    spike_start_s: float = 14 * HOUR
    spike_s: float = 2 * HOUR
    spike_factor: float = 12.0
    task_start_s: float = 30.0
    naive_chunk: int = 5
    """Frames per cloud task under ``always`` (a farm's usual fixed chunk)."""
    stage_gbps: float = 1.0
    on_demand_hour: float = 2.40
    preemptible_hour: float = 1.20
    out_gb_per_frame: float = 0.05
    default_frame_s: float = 300.0
    """The studio's guess of a frame's time before one is measured."""


@dataclass(frozen=True)
class JobSpec:
    job_id: int
    project: str
    placement: Placement
    confidential: bool
    submit_at: float
    due_at: float | None
    data_gb: float
    preemptible_ok: bool
    frame_times: tuple[float, ...]
    """Render seconds of each frame (on a local slot; the same on a cloud node)."""


def make_jobs(scenario: Scenario) -> list[JobSpec]:
    """The day's jobs: most in working hours, due later that day or at the next morning's
    dailies, a few with no due date; the same list for every policy."""
    rng = random.Random(scenario.seed)
    jobs = []
    for job_id in range(1, scenario.jobs + 1):
        show = rng.choice(scenario.shows)
        hour = rng.triangular(7.0, 21.0, 15.0) if rng.random() < 0.9 else rng.uniform(0, 24)
        submit = hour * HOUR
        roll = rng.random()
        if roll < 0.05:
            due: float | None = None
        elif roll < 0.45:
            due = max(submit + 4 * HOUR, 33 * HOUR)  # next morning's dailies, 09:00
        else:
            due = submit + rng.uniform(2.0, 10.0) * HOUR
        placement = Placement.AUTO
        roll = rng.random()
        if show.confidential:
            placement = Placement.NEVER_CLOUD
        elif roll < 0.05:
            placement = Placement.LOCAL
        elif roll < 0.10:
            placement = Placement.CLOUD
        frame_count = rng.randint(48, 360)
        mean = min(1800.0, max(30.0, rng.lognormvariate(math.log(240.0), 0.6)))
        times = tuple(mean * rng.lognormvariate(0.0, 0.12) for _ in range(frame_count))
        jobs.append(
            JobSpec(
                job_id=job_id, project=show.name, placement=placement,
                confidential=show.confidential, submit_at=submit, due_at=due,
                data_gb=rng.uniform(2.0, 60.0), preemptible_ok=rng.random() < 0.85,
                frame_times=times,
            )
        )  # fmt: skip
    return jobs


# --- the state of a run ---------------------------------------------------------------------------


@dataclass(eq=False)
class Job:
    spec: JobSpec
    pending: list[int]
    done: int = 0
    in_flight: int = 0
    cloud_in_flight: int = 0
    measured_s: float = 0.0
    measured: int = 0
    finished_at: float | None = None
    staging: bool = False
    staged_at: float | None = None
    allowance: int = 0
    sponsors: list[list[Any]] = field(default_factory=list)
    """[show, frames] of the allowance sent to make room for another show's job (it pays)."""
    wants_cloud: bool = False
    cloud_frames: int = 0

    @property
    def key(self) -> tuple[float, float, int]:
        due = self.spec.due_at if self.spec.due_at is not None else math.inf
        return (due, self.spec.submit_at, self.spec.job_id)

    @property
    def frame_s(self) -> float | None:
        return self.measured_s / self.measured if self.measured else None

    def may_leave(self) -> bool:
        return not self.spec.confidential and self.spec.placement in (
            Placement.AUTO,
            Placement.CLOUD,
        )


@dataclass(eq=False)
class Task:
    job: Job
    payer: str
    frames: list[int]
    started: float
    end: float


@dataclass(eq=False)
class Node:
    node_id: str
    preemptible: bool
    launched_at: float
    preempt_at: float
    ready: bool = False
    gone_at: float | None = None
    idle_since: float | None = None
    task: Task | None = None
    billed_from: float = 0.0
    last_project: str | None = None


@dataclass
class Result:
    policy: Policy
    met: int
    with_due: int
    spend: budget.Spend
    billed_s: float
    productive_s: float
    first_frame_s: list[float]
    cloud_frames: int
    nodes: int
    preemptions: int
    budget_stops: set[str]
    jobs_burst: int
    end_s: float
    boot_s: float = 0.0
    start_s: float = 0.0
    lost_s: float = 0.0
    shows: dict[str, float] = field(default_factory=dict)

    @property
    def idle_s(self) -> float:
        """Billed seconds of ready nodes without a task."""
        return self.billed_s - self.productive_s - self.boot_s - self.start_s - self.lost_s

    @property
    def ratio(self) -> float:
        return self.billed_s / self.productive_s if self.productive_s else math.nan
