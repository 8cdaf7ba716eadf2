"""``/api/v1/queue``, ``/shows`` and ``/overrides``: the queue order and production's overrides."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from common.errors import InvalidInput
from common.models import (
    Offset,
    OverrideRecord,
    QueuePage,
    ShowHoldChange,
    ShowPolicy,
    ShowShareChange,
)
from daemon.api.guard import current_principal
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission
from daemon.container import services
from daemon.services import RankingService

bp = ApiBlueprint("queue", __name__, tag="queue")


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offset: Offset = 0
    limit: Annotated[int, Field(ge=1, le=500)] = 50


def ranking() -> RankingService:
    return services().ranking


@bp.operation(
    "GET", "/queue", "Jobs waiting for agents, in the order they get tasks, each with its reason",
    query=PageQuery, returns=QueuePage, permission=Permission.JOBS_READ,
)  # fmt: skip
def queue(query: PageQuery) -> QueuePage:
    return ranking().queue(query.offset, query.limit)


@bp.operation(
    "GET", "/shows", "Shows: share, hold, target and usage of the farm", returns=ShowPolicy,
    returns_list=True, permission=Permission.SHOWS_READ,
)  # fmt: skip
def shows() -> list[ShowPolicy]:
    return ranking().shows()


@bp.operation(
    "PUT", "/shows/<project>/hold", "Hold a show (no task of it is handed out) or release it",
    body=ShowHoldChange, returns=ShowPolicy,
    permission=Permission.SHOWS_MANAGE, errors=(InvalidInput,),
)  # fmt: skip
def hold_show(project: str, body: ShowHoldChange) -> ShowPolicy:
    return ranking().hold(project, body, current_principal().name)


@bp.operation(
    "PUT", "/shows/<project>/share", "Set a show's share of the farm (relative weight)",
    body=ShowShareChange, returns=ShowPolicy,
    permission=Permission.SHOWS_MANAGE, errors=(InvalidInput,),
)  # fmt: skip
def set_share(project: str, body: ShowShareChange) -> ShowPolicy:
    return ranking().set_share(project, body, current_principal().name)


@bp.operation(
    "GET", "/overrides", "Production's overrides, newest first: who did what, when",
    query=PageQuery, returns=OverrideRecord, returns_list=True,
    permission=Permission.REPORTS_READ,
)  # fmt: skip
def overrides(query: PageQuery) -> list[OverrideRecord]:
    return ranking().overrides(query.offset, query.limit)
