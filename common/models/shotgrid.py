"""Wire models of ShotGrid: what a job renders for, and the health of the sync."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from common.models.base import EntityId, Name, WireModel

#: The most projects, shots or tasks one pick-list answer holds.
PICK_MAX = 500


#: The ShotGrid entity types a job's task belongs to: a shot, or an asset (a character, a prop).
LinkedEntity = Literal["Shot", "Asset"]


@dataclass(frozen=True)
class NamedEntity:
    """The shot or asset a link names: its type, and its id or code or both."""

    type: LinkedEntity
    id: int | None
    code: str | None


class ShotGridLink(WireModel):
    """The ShotGrid Project, Shot or Asset, and Task a job renders for, by id, by code, or both.

    Codes are resolved to ids when the job is submitted, and an unknown code is refused then;
    the stored job carries both. Without a project (id or code) the job's ``project`` names it.
    A link names a shot or an asset, never both; jobs stored before assets could be named read
    as before (their link has no asset).
    """

    project_id: EntityId | None = None
    shot_id: EntityId | None = None
    task_id: EntityId | None = None
    project: Name | None = None
    """The project's name (the field the daemon's ``shotgrid.project_field`` names)."""
    shot: Name | None = None
    """The shot's code, e.g. ``sh010``."""
    task: Name | None = None
    """The task's name within its shot or asset, e.g. ``lighting``."""
    asset_id: EntityId | None = None
    asset: Name | None = None
    """The asset's code, e.g. ``chair``; instead of a shot."""

    @property
    def entity(self) -> NamedEntity | None:
        """The shot or asset this link names, if it names one."""
        if self.shot is not None or self.shot_id is not None:
            return NamedEntity("Shot", self.shot_id, self.shot)
        if self.asset is not None or self.asset_id is not None:
            return NamedEntity("Asset", self.asset_id, self.asset)
        return None

    @model_validator(mode="after")
    def _names_something(self) -> ShotGridLink:
        named = (self.project_id, self.shot_id, self.task_id, self.project, self.shot, self.task)
        if all(v is None for v in named) and self.entity is None:
            raise ValueError("a ShotGrid link names at least a task, a shot, an asset or a project")
        has_shot = self.shot is not None or self.shot_id is not None
        if has_shot and (self.asset is not None or self.asset_id is not None):
            raise ValueError(
                "a ShotGrid link names a shot or an asset, not both: keep the one the task "
                "belongs to"
            )
        if self.task is not None and self.task_id is None and self.entity is None:
            raise ValueError(
                f"the ShotGrid task {self.task!r} is named within its shot or asset: give the "
                "shot or asset (code or id) too, or the task's id"
            )
        return self


class ShotGridStatus(WireModel):
    """The health of the ShotGrid sync and write-back."""

    configured: bool
    site: str
    healthy: bool
    """The last sync succeeded (or none was needed)."""
    stale: bool
    """Ranks use last known values: syncs are failing or none succeeded lately."""
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    next_attempt_at: datetime | None = None
    consecutive_failures: int = 0
    last_error: str = ""
    linked_jobs: int = 0
    entities_cached: int = 0
    writeback_pending: int = 0
    writeback_failed: int = 0
    """Write-backs that gave up after their last attempt."""
    writeback_last_error: str = ""


class ShotGridQuery(WireModel):
    """What ``GET /shotgrid/shots``, ``/shotgrid/assets`` and ``/shotgrid/tasks`` list: entities
    of one project, and for tasks, of one shot or asset (by id, as its list gives it)."""

    project: Name
    """The project's name (the field the daemon's ``shotgrid.project_field`` names)."""
    entity_type: LinkedEntity = "Shot"
    """What the tasks listed belong to: a shot or an asset (``/shotgrid/tasks`` only)."""
    entity_id: EntityId | None = None
    """The shot or asset whose tasks to list (an id from ``/shotgrid/shots`` or
    ``/shotgrid/assets``); required by ``/shotgrid/tasks``."""
    limit: Annotated[int, Field(ge=1, le=PICK_MAX)] = PICK_MAX


class ShotGridProjectsQuery(WireModel):
    """What ``GET /shotgrid/projects`` lists."""

    limit: Annotated[int, Field(ge=1, le=PICK_MAX)] = PICK_MAX


class ShotGridEntry(WireModel):
    """One project, shot, asset or task a job may link to: its id and the name the panel shows."""

    id: int
    name: str


class ShotGridChoices(WireModel):
    """The entities to pick from, by name; ``truncated`` when there were more than ``limit``."""

    items: list[ShotGridEntry]
    truncated: bool
    fetched_at: datetime
    """When the daemon read these from ShotGrid (it keeps them a sync interval)."""
