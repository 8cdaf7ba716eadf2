"""Turns the ShotGrid link of a submission (ids or codes) into checked ids, at submit time.

An unknown project, shot or task is refused then, with a sentence naming what exists, rather
than found out later. The entities read on the way are returned, so the new job is ranked with
ShotGrid's values before the next sync.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from common.config import ShotGridSettings
from common.models import ShotGridLink
from daemon.shotgun.client import ShotGridClient
from daemon.shotgun.errors import ShotGridNotConfigured, ShotGridUnavailable, UnknownShotGridLink
from daemon.shotgun.mapping import fields_for, name_field, to_record
from daemon.storage.shotgrid import EntityRecord

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResolvedLink:
    """A job's link with every id known, and the entities read to find them."""

    link: ShotGridLink
    project_id: int | None
    entity_type: str | None
    entity_id: int | None
    task_id: int | None
    records: list[EntityRecord] = field(default_factory=list)


def trusted(link: ShotGridLink) -> ResolvedLink:
    """A link by ids taken as given (ShotGrid could not be asked); the sync reads them later."""
    entity_type = "Shot" if link.shot_id is not None else None
    return ResolvedLink(link, link.project_id, entity_type, link.shot_id, link.task_id)


def resolve(
    client: ShotGridClient | None,
    settings: ShotGridSettings,
    link: ShotGridLink,
    job_project: str,
) -> ResolvedLink:
    """Checks a submission's link against ShotGrid and fills in the ids.

    Raises:
        ShotGridNotConfigured: the link names codes, and this daemon has no ShotGrid site.
        UnknownShotGridLink: a named project, shot or task does not exist (or does not match).
        ShotGridUnavailable: codes need ShotGrid, and it did not answer. A link by ids alone is
            accepted unchecked instead.
    """
    has_codes = any(v is not None for v in (link.project, link.shot, link.task))
    if client is None:
        if has_codes:
            raise ShotGridNotConfigured(
                "This daemon has no ShotGrid site configured, so it cannot look up the project, "
                "shot or task codes of the job. Link the job by ids, or leave the link out."
            )
        return trusted(link)
    try:
        return _Resolver(client, settings).resolve(link, job_project)
    except ShotGridUnavailable:
        if has_codes:
            raise
        logger.warning("ShotGrid unreachable at submission; link by ids accepted unchecked")
        return trusted(link)


class _Resolver:
    def __init__(self, client: ShotGridClient, settings: ShotGridSettings) -> None:
        self.client = client
        self.settings = settings
        self.records: list[EntityRecord] = []

    def _get(self, entity_type: str, filters: list[Any]) -> list[dict[str, Any]]:
        rows = self.client.find(entity_type, filters, fields_for(entity_type, self.settings))
        return rows

    def _keep(self, entity_type: str, row: dict[str, Any]) -> dict[str, Any]:
        self.records.append(to_record(entity_type, row, self.settings))
        return row

    def resolve(self, link: ShotGridLink, job_project: str) -> ResolvedLink:
        if link.task_id is not None:
            task = self._keep("Task", self._by_id("Task", link.task_id))
            entity = task.get("entity")
            task_project = task.get("project")
            self._check(link.shot_id, entity, "Task", link.task_id, "shot")
            self._check(link.project_id, task_project, "Task", link.task_id, "project")
            if entity:
                self._keep(entity["type"], self._by_id(entity["type"], entity["id"]))
            if task_project:
                self._keep("Project", self._by_id("Project", task_project["id"]))
            return self._result(link, task_project, entity, task)
        return self._by_codes(link, job_project)

    def _by_codes(self, link: ShotGridLink, job_project: str) -> ResolvedLink:
        project: dict[str, Any] | None = None
        if link.shot_id is None:
            project = self._project(link, job_project)
        shot = self._shot(link, project) if (link.shot or link.shot_id) else None
        if shot is not None and project is None:
            project = shot.get("project")
            if project:
                self._keep("Project", self._by_id("Project", project["id"]))
        task = self._task(link, shot) if link.task else None
        return self._result(link, project, shot, task)

    def _result(
        self,
        link: ShotGridLink,
        project: dict[str, Any] | None,
        entity: dict[str, Any] | None,
        task: dict[str, Any] | None,
    ) -> ResolvedLink:
        entity_type = entity["type"] if entity else None
        filled = link.model_copy(
            update={
                "project_id": project["id"] if project else None,
                "shot_id": entity["id"] if entity and entity_type == "Shot" else None,
                "task_id": task["id"] if task else None,
            }
        )
        return ResolvedLink(
            link=filled,
            project_id=project["id"] if project else None,
            entity_type=entity_type,
            entity_id=entity["id"] if entity else None,
            task_id=task["id"] if task else None,
            records=self.records,
        )

    def _by_id(self, entity_type: str, entity_id: int) -> dict[str, Any]:
        rows = self._get(entity_type, [["id", "is", entity_id]])
        if not rows:
            raise UnknownShotGridLink(f"ShotGrid has no {entity_type} with id {entity_id}.")
        return rows[0]

    def _check(
        self, given: int | None, actual: dict[str, Any] | None, kind: str, kid: int, what: str
    ) -> None:
        if given is not None and (actual is None or actual.get("id") != given):
            raise UnknownShotGridLink(
                f"ShotGrid {kind} {kid} belongs to {what} {actual.get('id') if actual else None},"
                f" not {what} {given}. Give the ids of one task, or only the task's id."
            )

    def _project(self, link: ShotGridLink, job_project: str) -> dict[str, Any]:
        if link.project_id is not None:
            return self._keep("Project", self._by_id("Project", link.project_id))
        code = link.project or job_project
        field_name = name_field("Project", self.settings)
        rows = self._get("Project", [[field_name, "is", code]])
        if not rows:
            raise UnknownShotGridLink(
                f"ShotGrid has no project whose {field_name} is {code!r}. Check the project "
                "code, or link the job by the project's id."
            )
        return self._keep("Project", rows[0])

    def _shot(self, link: ShotGridLink, project: dict[str, Any] | None) -> dict[str, Any]:
        if link.shot_id is not None:
            shot = self._by_id("Shot", link.shot_id)
            self._check(link.project_id, shot.get("project"), "Shot", link.shot_id, "project")
            if (
                link.shot is not None
                and str(shot.get("code", "")).casefold() != link.shot.casefold()
            ):
                raise UnknownShotGridLink(
                    f"ShotGrid Shot {link.shot_id} is {shot.get('code')!r}, not {link.shot!r}."
                )
            return self._keep("Shot", shot)
        assert project is not None and link.shot is not None
        project_ref = {"type": "Project", "id": project["id"]}
        rows = self._get("Shot", [["code", "is", link.shot], ["project", "is", project_ref]])
        if not rows:
            raise UnknownShotGridLink(
                f"ShotGrid project {self._name(project, 'Project')!r} has no shot {link.shot!r}."
            )
        return self._keep("Shot", rows[0])

    def _task(self, link: ShotGridLink, shot: dict[str, Any] | None) -> dict[str, Any]:
        assert shot is not None and link.task is not None
        entity_ref = {"type": shot["type"], "id": shot["id"]}
        rows = self.client.find(
            "Task", [["entity", "is", entity_ref]], fields_for("Task", self.settings)
        )
        matches = [r for r in rows if str(r.get("content", "")).casefold() == link.task.casefold()]
        if len(matches) == 1:
            return self._keep("Task", matches[0])
        names = ", ".join(sorted({str(r.get("content")) for r in rows})) or "none"
        if not matches:
            raise UnknownShotGridLink(
                f"ShotGrid shot {self._name(shot, 'Shot')!r} has no task {link.task!r} "
                f"(its tasks: {names})."
            )
        ids = ", ".join(str(r["id"]) for r in matches)
        raise UnknownShotGridLink(
            f"ShotGrid shot {self._name(shot, 'Shot')!r} has {len(matches)} tasks named "
            f"{link.task!r} (ids {ids}); link the job by the task's id."
        )

    def _name(self, row: dict[str, Any], entity_type: str) -> str:
        return str(row.get(name_field(entity_type, self.settings)) or row.get("id"))
