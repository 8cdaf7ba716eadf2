"""Confidential projects: their jobs never leave the building, whoever asks."""

from __future__ import annotations

import logging

import sqlite_utils

from common.accounts import ConfidentialChange, Project
from common.errors import Forbidden
from common.models import JobSpec, Placement
from daemon.context import Context, to_optional_datetime
from daemon.storage import jobs as job_store
from daemon.storage import projects as project_store

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

    def _model(self, db: sqlite_utils.Database, row: dict[str, object]) -> Project:
        name = str(row["name"])
        updated = row["updated_at"]
        return Project(
            name=name,
            confidential=self.is_confidential(db, name),
            updated_by=str(row["updated_by"]),
            updated_at=to_optional_datetime(float(updated) if updated is not None else None),  # type: ignore[arg-type]
        )
