"""``/api/v1/shotgrid``: the health of the ShotGrid sync and write-back, and the projects, shots,
assets and tasks a job may link to (the panel's pick-lists)."""

from __future__ import annotations

from common.errors import InvalidInput, NotFound
from common.models import (
    ShotGridChoices,
    ShotGridProjectsQuery,
    ShotGridQuery,
    ShotGridStatus,
)
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission
from daemon.container import services
from daemon.shotgun.errors import ShotGridNotConfigured, ShotGridUnavailable

bp = ApiBlueprint("shotgrid", __name__, tag="shotgrid")

#: What a pick-list may answer besides its list.
CHOICE_ERRORS = (InvalidInput, NotFound, ShotGridNotConfigured, ShotGridUnavailable)


@bp.operation(
    "GET", "/shotgrid/status", "ShotGrid sync health: last success, errors, staleness, outbox",
    returns=ShotGridStatus, permission=Permission.JOBS_READ,
)  # fmt: skip
def status() -> ShotGridStatus:
    return services().shotgrid.status()


@bp.operation(
    "GET", "/shotgrid/projects", "The ShotGrid projects a job may link to, by name",
    query=ShotGridProjectsQuery, returns=ShotGridChoices, permission=Permission.JOBS_READ,
    errors=CHOICE_ERRORS,
)  # fmt: skip
def projects(query: ShotGridProjectsQuery) -> ShotGridChoices:
    return services().shotgrid_choices.projects(query.limit)


@bp.operation(
    "GET", "/shotgrid/shots", "The shots of one ShotGrid project, by code",
    query=ShotGridQuery, returns=ShotGridChoices, permission=Permission.JOBS_READ,
    errors=CHOICE_ERRORS,
)  # fmt: skip
def shots(query: ShotGridQuery) -> ShotGridChoices:
    return services().shotgrid_choices.shots(query)


@bp.operation(
    "GET", "/shotgrid/assets", "The assets (characters, props) of one ShotGrid project, by code",
    query=ShotGridQuery, returns=ShotGridChoices, permission=Permission.JOBS_READ,
    errors=CHOICE_ERRORS,
)  # fmt: skip
def assets(query: ShotGridQuery) -> ShotGridChoices:
    return services().shotgrid_choices.assets(query)


@bp.operation(
    "GET", "/shotgrid/tasks", "The tasks of one shot or asset of a ShotGrid project, by name",
    query=ShotGridQuery, returns=ShotGridChoices, permission=Permission.JOBS_READ,
    errors=CHOICE_ERRORS,
)  # fmt: skip
def tasks(query: ShotGridQuery) -> ShotGridChoices:
    return services().shotgrid_choices.tasks(query)
