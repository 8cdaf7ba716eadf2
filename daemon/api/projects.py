"""``/api/v1/projects``: confidential projects, whose frames never leave the building."""

from __future__ import annotations

from common.accounts import ConfidentialChange, MembersChange, Project, ProjectMembers
from common.errors import InvalidInput
from daemon.api.guard import current_principal
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission
from daemon.container import services
from daemon.services.projects import ProjectService

bp = ApiBlueprint("projects", __name__, tag="projects")


def projects() -> ProjectService:
    return services().projects


@bp.operation(
    "GET", "/projects", "Projects with a policy (confidential or not)", returns=Project,
    returns_list=True, permission=Permission.PROJECTS_READ,
)  # fmt: skip
def list_projects() -> list[Project]:
    return projects().list_projects()


@bp.operation(
    "PUT", "/projects/<project>/confidential",
    "Mark a project confidential (never cloud, whoever asks) or not",
    body=ConfidentialChange, returns=Project, errors=(InvalidInput,),
    permission=Permission.PROJECTS_MANAGE,
)  # fmt: skip
def set_confidential(project: str, body: ConfidentialChange) -> Project:
    return projects().set_confidential(project, body, current_principal().name)


@bp.operation(
    "GET", "/projects/<project>/members",
    "Who belongs to the project (a confidential one's desktops are offered to them only)",
    returns=ProjectMembers, errors=(InvalidInput,), permission=Permission.PROJECTS_READ,
)  # fmt: skip
def get_members(project: str) -> ProjectMembers:
    return projects().members(project)


@bp.operation(
    "PUT", "/projects/<project>/members",
    "Set the project's whole list of members (each an active user)",
    body=MembersChange, returns=ProjectMembers, errors=(InvalidInput,),
    permission=Permission.PROJECTS_MANAGE,
)  # fmt: skip
def set_members(project: str, body: MembersChange) -> ProjectMembers:
    return projects().set_members(project, body, current_principal().name)
