"""The ShotGrid projects, shots, assets and tasks a submission may link to, for the panel's
pick-lists.

The sync's table keeps only the entities that unfinished jobs link to, so the lists are read
from ShotGrid here and kept in memory for one sync interval: a panel opening, or an artist
moving between shots or assets, asks ShotGrid at most once per list per interval, never per
keystroke. When ShotGrid does not answer, the last list read is served (its ``fetched_at``
says how old); without one the caller gets ``ShotGridUnavailable``. Each answer holds at most
``limit`` entries, asked of ShotGrid as a limit too.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from common.errors import InvalidInput, NotFound
from common.models import PICK_MAX, LinkedEntity, ShotGridChoices, ShotGridEntry, ShotGridQuery
from daemon.context import Context, to_datetime
from daemon.shotgun.client import ShotGridClient
from daemon.shotgun.errors import ShotGridNotConfigured, ShotGridUnavailable
from daemon.shotgun.mapping import name_field

#: How many lists are kept (one per project's shots or assets, one per shot's or asset's tasks).
KEPT_LISTS = 256

#: Where the shots and assets a task list is asked for are listed.
LISTS: dict[LinkedEntity, str] = {"Shot": "/shotgrid/shots", "Asset": "/shotgrid/assets"}

_Rows = tuple[float, list[ShotGridEntry], bool]


class ShotGridChoicesService:
    """Lists ShotGrid entities by name; safe to share between the server's threads."""

    def __init__(self, context: Context, client: ShotGridClient | None) -> None:
        self.ctx = context
        self.client = client
        self._lists: OrderedDict[tuple[Any, ...], _Rows] = OrderedDict()
        self._lock = threading.Lock()

    def projects(self, limit: int = PICK_MAX) -> ShotGridChoices:
        client = self._client()
        field = name_field("Project", self.ctx.settings.shotgrid)
        return self._kept(("Project",), limit, lambda: client.find(
            "Project", [], [field], order_by=field, limit=PICK_MAX + 1
        ), field)  # fmt: skip

    def shots(self, query: ShotGridQuery) -> ShotGridChoices:
        return self._entities("Shot", query.project, query.limit)

    def assets(self, query: ShotGridQuery) -> ShotGridChoices:
        """The project's assets (characters, props, sets), by code."""
        return self._entities("Asset", query.project, query.limit)

    def tasks(self, query: ShotGridQuery) -> ShotGridChoices:
        kind = query.entity_type
        listing = LISTS[kind]
        if query.entity_id is None:
            raise InvalidInput(
                f"Name the {kind.lower()} whose tasks to list: add entity_id=<the "
                f"{kind.lower()}'s id from {listing}>."
            )
        client = self._client()
        project = self._project(query.project)
        entity = {"type": kind, "id": query.entity_id}
        known = self._entities(kind, query.project, PICK_MAX)
        if not any(s.id == query.entity_id for s in known.items) and not known.truncated:
            raise NotFound(
                f"ShotGrid has no {kind} {query.entity_id} in project {query.project!r}; pick "
                f"one of the project's {kind.lower()}s from {listing}."
            )
        filters = [["project", "is", project], ["entity", "is", entity]]
        key = ("Task", project["id"], query.entity_type, query.entity_id)
        return self._kept(key, query.limit, lambda: client.find(
            "Task", filters, ["content"], order_by="content", limit=PICK_MAX + 1
        ), "content")  # fmt: skip

    # --- plumbing -----------------------------------------------------------------------------

    def _entities(self, kind: LinkedEntity, project_name: str, limit: int) -> ShotGridChoices:
        """The shots or assets of the project named ``project_name``, by code."""
        client = self._client()
        project = self._project(project_name)
        return self._kept((kind, project["id"]), limit, lambda: client.find(
            kind, [["project", "is", project]], ["code"], order_by="code", limit=PICK_MAX + 1
        ), "code")  # fmt: skip

    def _client(self) -> ShotGridClient:
        if self.client is None:
            raise ShotGridNotConfigured(
                "This daemon has no ShotGrid site configured, so it has no projects, shots, "
                "assets or tasks to offer. Type the job's project instead, or ask a TD to set the "
                "[shotgrid] site of the daemon's configuration."
            )
        return self.client

    def _project(self, name: str) -> dict[str, Any]:
        """The project named ``name`` as a ShotGrid link, or NotFound naming what exists."""
        projects = self.projects()
        found = [entry for entry in projects.items if entry.name == name]
        if not found and projects.truncated:  # past the first page: ask for this one
            client = self._client()
            field = name_field("Project", self.ctx.settings.shotgrid)
            found = self._kept(("Project", name), 1, lambda: client.find(
                "Project", [[field, "is", name]], [field], limit=1
            ), field).items  # fmt: skip
        if found:
            return {"type": "Project", "id": found[0].id}
        known = ", ".join(e.name for e in projects.items[:10]) or "none"
        raise NotFound(
            f"ShotGrid has no project named {name!r} (projects: {known}); pick one from "
            "/shotgrid/projects."
        )

    def _kept(
        self,
        key: tuple[Any, ...],
        limit: int,
        read: Callable[[], list[dict[str, Any]]],
        field: str,
    ) -> ShotGridChoices:
        """The list under ``key``, read again when older than one sync interval."""
        now = self.ctx.now()
        with self._lock:
            kept = self._lists.get(key)
        if kept is None or now - kept[0] >= self.ctx.settings.shotgrid.sync_interval_s:
            try:
                rows = read()
            except ShotGridUnavailable:
                if kept is None:
                    raise
            else:
                entries = [
                    ShotGridEntry(id=int(row["id"]), name=str(row.get(field) or "")) for row in rows
                ]
                entries.sort(key=lambda e: (e.name.casefold(), e.id))
                kept = (now, entries[:PICK_MAX], len(entries) > PICK_MAX)
                with self._lock:
                    self._lists[key] = kept
                    self._lists.move_to_end(key)
                    while len(self._lists) > KEPT_LISTS:
                        self._lists.popitem(last=False)
        fetched_at, entries, more = kept
        return ShotGridChoices(
            items=entries[:limit], truncated=more or len(entries) > limit,
            fetched_at=to_datetime(fetched_at),
        )  # fmt: skip
