"""Confidential projects: their jobs never leave the building, whoever asks."""

from __future__ import annotations

import logging

import sqlite_utils

from common.accounts import ConfidentialChange, MembersChange, Project, ProjectMembers
from common.errors import Forbidden, InvalidInput
from common.models import JobSpec, Placement
from daemon.context import Context, to_optional_datetime
from daemon.storage import jobs as job_store
from daemon.storage import projects as project_store
from daemon.storage import users as user_store

logger = logging.getLogger(__name__)

#: Placements that may send frames to cloud nodes.
LEAVES_BUILDING = (Placement.CLOUD, Placement.AUTO)


class ProjectService:
    """Marks projects confidential and applies the rule to submissions."""

    def __init__(self, context: Context) -> None:
        self.ctx = context

    def is_confidential(self, db: sqlite_utils.Database, project: str) -> bool:
        if project in self.ctx.settings.auth.confidential_projects:
            return True
        row = project_store.get_project(db, project)
        return bool(row and row["confidential"])

    def enforce(self, db: sqlite_utils.Database, spec: JobSpec) -> JobSpec:
        """A confidential project's job as ``never-cloud``; asking for ``cloud`` is refused.

        Raises:
            Forbidden: the spec asks for cloud nodes for a confidential project.
        """
        if not self.is_confidential(db, spec.project):
            return spec
        if spec.placement is Placement.CLOUD:
            logger.warning("Refused cloud placement for confidential project %s", spec.project)
            raise Forbidden(
                f"Project {spec.project!r} is confidential: its frames never leave the building. "
                "Submit with placement local or never-cloud."
            )
        return spec.model_copy(update={"placement": Placement.NEVER_CLOUD})

    def list_projects(self) -> list[Project]:
        db = self.ctx.database.db
        rows = {row["name"]: row for row in project_store.list_projects(db)}
        for name in self.ctx.settings.auth.confidential_projects:
            rows.setdefault(name, {"name": name, "confidential": 1, "updated_by": "config",
                                   "updated_at": None})  # fmt: skip
        return [self._model(db, rows[name]) for name in sorted(rows)]

    def set_confidential(self, project: str, change: ConfidentialChange, by: str) -> Project:
        """Marks (or unmarks) ``project``; its unfinished jobs become ``never-cloud`` at once."""
        now = self.ctx.now()
        with self.ctx.database.transaction() as db:
            project_store.set_confidential(db, project, change.confidential, by, now)
            if change.confidential:
                for job in project_store.unfinished_jobs_of(db, project):
                    spec = job_store.job_spec(job)
                    if spec.placement is not Placement.NEVER_CLOUD:
                        spec = spec.model_copy(update={"placement": Placement.NEVER_CLOUD})
                        job_store.set_job_spec(db, job["id"], spec.model_dump_json())
            row = project_store.get_project(db, project)
        logger.info("project %s confidential=%s by %s", project, change.confidential, by)
        assert row is not None
        return self._model(db, row)

    def confidential_projects(self) -> set[str]:
        """Every confidential project: the configured ones and those marked so."""
        db = self.ctx.database.db
        marked = {row["name"] for row in project_store.list_projects(db) if row["confidential"]}
        return marked | set(self.ctx.settings.auth.confidential_projects)

    def projects_of(self, user_name: str) -> set[str]:
        """The projects ``user_name`` is a member of."""
        return project_store.projects_of(self.ctx.database.db, user_name)

    def members(self, project: str) -> ProjectMembers:
        _check_name(project)
        return ProjectMembers(
            project=project, members=project_store.members(self.ctx.database.db, project)
        )

    def set_members(self, project: str, change: MembersChange, by: str) -> ProjectMembers:
        """Makes ``change.members`` the project's whole list of members.

        Raises:
            InvalidInput: a name is no active user's (nothing changes).
        """
        _check_name(project)
        with self.ctx.database.transaction() as db:
            unknown = sorted(
                {name for name in change.members if not _active(user_store.user_by_name(db, name))}
            )
            if unknown:
                raise InvalidInput(
                    f"No active user named {', '.join(unknown)}: name existing people "
                    "(GET /api/v1/users lists them)."
                )
            project_store.replace_members(db, project, change.members, by, self.ctx.now())
        logger.info("members of project %s set by %s: %s", project, by, change.members)
        return self.members(project)

    def _model(self, db: sqlite_utils.Database, row: dict[str, object]) -> Project:
        name = str(row["name"])
        updated = row["updated_at"]
        return Project(
            name=name,
            confidential=self.is_confidential(db, name),
            updated_by=str(row["updated_by"]),
            updated_at=to_optional_datetime(float(updated) if updated is not None else None),  # type: ignore[arg-type]
        )


#: The longest project name a path may give (a job's project is a ``Name``).
MAX_PROJECT = 200


def _check_name(project: str) -> None:
    if not project.strip() or len(project) > MAX_PROJECT:
        raise InvalidInput(f"Name a project of 1 to {MAX_PROJECT} characters.")


def _active(row: dict[str, object] | None) -> bool:
    return row is not None and row["deleted_at"] is None and bool(row["active"])
