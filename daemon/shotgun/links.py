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
from common.models import NamedEntity, ShotGridLink
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
    named = link.entity
    if named is None or named.id is None:
        return ResolvedLink(link, link.project_id, None, None, link.task_id)
    return ResolvedLink(link, link.project_id, named.type, named.id, link.task_id)


def resolve(
    client: ShotGridClient | None,
    settings: ShotGridSettings,
    link: ShotGridLink,
    job_project: str,
) -> ResolvedLink:
    """Checks a submission's link against ShotGrid and fills in the ids.

    Raises:
        ShotGridNotConfigured: the link names codes, and this daemon has no ShotGrid site.
        UnknownShotGridLink: a named project, shot, asset or task does not exist (or does not
            match).
        ShotGridUnavailable: codes need ShotGrid, and it did not answer. A link by ids alone is
            accepted unchecked instead.
    """
    has_codes = any(v is not None for v in (link.project, link.shot, link.asset, link.task))
    if client is None:
        if has_codes:
            raise ShotGridNotConfigured(
                "This daemon has no ShotGrid site configured, so it cannot look up the project, "
                "shot, asset or task codes of the job. Link the job by ids, or leave the link out."
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
            named = link.entity
            if named is not None:
                self._check_entity(named, entity, link.task_id)
            self._check(link.project_id, task_project, "Task", link.task_id, "project")
            if entity:
                self._keep(entity["type"], self._by_id(entity["type"], entity["id"]))
            if task_project:
                self._keep("Project", self._by_id("Project", task_project["id"]))
            return self._result(link, task_project, entity, task)
        return self._by_codes(link, job_project)

    def _by_codes(self, link: ShotGridLink, job_project: str) -> ResolvedLink:
        project: dict[str, Any] | None = None
        named = link.entity
        project_named = link.project is not None or link.project_id is not None
        if named is None or named.id is None or project_named:
            project = self._project(link, job_project)
        entity = self._entity(named, project) if named is not None else None
        if entity is not None and project is None:
            project = entity.get("project")
            if project:
                self._keep("Project", self._by_id("Project", project["id"]))
        task = self._task(link, entity) if link.task else None
        return self._result(link, project, entity, task)

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
                "asset_id": entity["id"] if entity and entity_type == "Asset" else None,
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

    def _check_entity(
        self, named: NamedEntity, actual: dict[str, Any] | None, task_id: int
    ) -> None:
        """The task's own shot or asset is the one the link names: of its type, and its id
        when the link gives one (a stored link never names a shot and an asset)."""
        same_id = named.id is None or (actual is not None and actual.get("id") == named.id)
        if actual is None or actual.get("type") != named.type or not same_id:
            found = f"{actual.get('type')} {actual.get('id')}" if actual else "no shot or asset"
            wanted = f"{named.type} {named.id if named.id is not None else repr(named.code)}"
            raise UnknownShotGridLink(
                f"ShotGrid Task {task_id} belongs to {found}, not {wanted}. Give the ids of "
                "one task, or only the task's id."
            )

    def _entity(self, named: NamedEntity, project: dict[str, Any] | None) -> dict[str, Any]:
        """The shot or asset the link names, by id (checked against its code and the project
        named), else by code within the project."""
        kind, word = named.type, named.type.lower()
        if named.id is not None:
            row = self._by_id(kind, named.id)
            owner = row.get("project")
            if project is not None and (owner is None or owner.get("id") != project["id"]):
                raise UnknownShotGridLink(
                    f"ShotGrid {kind} {named.id} is not in project "
                    f"{self._name(project, 'Project')!r}. Pick one of that project's {word}s, "
                    "or name the project it belongs to."
                )
            if named.code is not None and str(row.get("code", "")).casefold() != (
                named.code.casefold()
            ):
                raise UnknownShotGridLink(
                    f"ShotGrid {kind} {named.id} is {row.get('code')!r}, not {named.code!r}."
                )
            return self._keep(kind, row)
        assert project is not None and named.code is not None
        project_ref = {"type": "Project", "id": project["id"]}
        rows = self._get(kind, [["code", "is", named.code], ["project", "is", project_ref]])
        if not rows:
            raise UnknownShotGridLink(
                f"ShotGrid project {self._name(project, 'Project')!r} has no {word} {named.code!r}."
            )
        return self._keep(kind, rows[0])

    def _task(self, link: ShotGridLink, entity: dict[str, Any] | None) -> dict[str, Any]:
        assert entity is not None and link.task is not None
        entity_ref = {"type": entity["type"], "id": entity["id"]}
        rows = self.client.find(
            "Task", [["entity", "is", entity_ref]], fields_for("Task", self.settings)
        )
        matches = [r for r in rows if str(r.get("content", "")).casefold() == link.task.casefold()]
        if len(matches) == 1:
            return self._keep("Task", matches[0])
        names = ", ".join(sorted({str(r.get("content")) for r in rows})) or "none"
        owner = f"ShotGrid {entity['type'].lower()} {self._name(entity, entity['type'])!r}"
        if not matches:
            raise UnknownShotGridLink(f"{owner} has no task {link.task!r} (its tasks: {names}).")
        ids = ", ".join(str(r["id"]) for r in matches)
        raise UnknownShotGridLink(
            f"{owner} has {len(matches)} tasks named {link.task!r} (ids {ids}); link the job "
            "by the task's id."
        )

    def _name(self, row: dict[str, Any], entity_type: str) -> str:
        return str(row.get(name_field(entity_type, self.settings)) or row.get("id"))
