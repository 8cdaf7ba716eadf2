"""A ShotGrid site for tests: shotgun_api3's Mockgun on a schema built here, or on sg-otio's.

Mockgun keeps no ``updated_at`` and writes no event log, which a real site does on every
change; ``Site.create`` and ``Site.update`` set ``updated_at`` from the test's clock, as the
server would. ``Site.down`` makes every call fail as an unreachable site does.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from shotgun_api3.lib import mockgun

from tests.conftest import SHARED, FakeClock

SG_OTIO = SHARED / "mockgun" / "sg-otio"


def _field(data_type: str, default: Any = None, **properties: Any) -> dict[str, Any]:
    props = {"default_value": {"value": default, "editable": False}}
    for name, value in properties.items():
        props[name] = {"value": value, "editable": True}
    return {
        "data_type": {"value": data_type, "editable": False},
        "editable": {"value": True, "editable": False},
        "mandatory": {"value": False, "editable": False},
        "name": {"value": data_type, "editable": True},
        "properties": props,
    }


def _entity(**fields: dict[str, Any]) -> dict[str, dict[str, Any]]:
    common = {
        "id": _field("number"),
        "updated_at": _field("date_time"),
        "created_at": _field("date_time"),
    }
    return {**common, **fields}


def build_schema(folder: Path) -> tuple[str, str]:
    """Writes the two pickles of a small site (Project, Sequence, Shot, Asset, Task, Version,
    events).

    Its priority is a list ``sg_priority_1`` on Task with Low/Normal/High/Critical, unlike
    sg-otio's A/B/C/D ``sg_priority``: the mapping is configuration.
    """
    link = _field("entity", valid_types=["Project", "Sequence", "Shot", "Asset", "Task"])
    schema = {
        "Project": _entity(name=_field("text"), code=_field("text")),
        "Sequence": _entity(code=_field("text"), project=link),
        "Shot": _entity(
            code=_field("text"),
            project=link,
            sg_sequence=link,
            sg_status_list=_field("status_list", "wtg", valid_values=["wtg", "ip", "fin"]),
        ),
        "Asset": _entity(
            code=_field("text"),
            project=link,
            sg_asset_type=_field("list", "Prop", valid_values=["Character", "Prop", "Set"]),
        ),
        "Task": _entity(
            content=_field("text"),
            entity=link,
            project=link,
            due_date=_field("date"),
            sg_priority_1=_field(
                "list", "Normal", valid_values=["Low", "Normal", "High", "Critical"]
            ),
            sg_status_list=_field(
                "status_list", "wtg", valid_values=["wtg", "rdy", "ip", "rev", "fin", "err"]
            ),
        ),
        "Version": _entity(
            code=_field("text"),
            description=_field("text"),
            entity=link,
            project=link,
            sg_task=link,
            sg_path_to_frames=_field("text"),
            sg_first_frame=_field("number"),
            sg_last_frame=_field("number"),
            frame_range=_field("text"),
            sg_status_list=_field("status_list", "rev", valid_values=["rev", "apr"]),
        ),
        "EventLogEntry": _entity(
            event_type=_field("text"), description=_field("text"), entity=link, project=link
        ),
    }
    entities = {name: {"name": {"value": name, "editable": False}} for name in schema}
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / "schema.pickle", folder / "schema_entity.pickle")
    for path, data in zip(paths, (schema, entities), strict=True):
        with path.open("wb") as fh:
            pickle.dump(data, fh)
    return str(paths[0]), str(paths[1])


@dataclass(frozen=True)
class Flavour:
    """One kind of site the ShotGrid tests run on, with the settings its schema needs."""

    name: str
    settings: dict[str, Any]
    low: str
    """A priority value meaning low, and one meaning high."""
    high: str


BUILT = Flavour(
    name="built",
    settings={
        "priority_field": "sg_priority_1",
        "priority_values": {"Low": 10, "Normal": 40, "High": 70, "Critical": 100},
    },
    low="Normal",
    high="Critical",
)
OTIO = Flavour(name="sg-otio", settings={"project_field": "name"}, low="C", high="A")


class SiteDown(ConnectionError):
    pass


@dataclass
class Site:
    """A Mockgun site whose clock is the test's, and which can go down."""

    sg: Any
    clock: FakeClock
    flavour: Flavour
    down: bool = False
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    @property
    def priority_field(self) -> str:
        return str(self.flavour.settings.get("priority_field", "sg_priority"))

    def stamp(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now, tz=UTC)

    def create(self, entity_type: str, data: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.sg.create(entity_type, {**data, "updated_at": self.stamp()})
        return result

    def update(self, entity_type: str, entity_id: int, data: dict[str, Any]) -> None:
        self.sg.update(entity_type, entity_id, {**data, "updated_at": self.stamp()})

    def get(self, entity_type: str, entity_id: int, fields: list[str]) -> dict[str, Any]:
        row: dict[str, Any] = self.sg.find_one(entity_type, [["id", "is", entity_id]], fields)
        return row

    def connect(self) -> Any:
        """What the daemon's ShotGrid client gets instead of a ``shotgun_api3.Shotgun``."""
        return _Proxy(self)

    # --- a small production -----------------------------------------------------------------

    def project(self, name: str = "alpha") -> dict[str, Any]:
        return self.create("Project", {"name": name})

    def shot(self, project: dict[str, Any], code: str) -> dict[str, Any]:
        return self.create("Shot", {"code": code, "project": _ref(project)})

    def asset(self, project: dict[str, Any], code: str, kind: str = "Prop") -> dict[str, Any]:
        return self.create("Asset", {"code": code, "project": _ref(project), "sg_asset_type": kind})

    def task(
        self,
        shot: dict[str, Any],
        content: str,
        priority: str | None = None,
        due: date | None = None,
    ) -> dict[str, Any]:
        """A task of ``shot``, or of an asset."""
        project = self.get(shot["type"], shot["id"], ["project"])["project"]
        data: dict[str, Any] = {
            "content": content,
            "entity": _ref(shot),
            "project": {"type": "Project", "id": project["id"]},
            self.priority_field: priority or self.flavour.low,
        }
        if due is not None:
            data["due_date"] = due.isoformat()
        return self.create("Task", data)

    def due_in(self, days: int) -> date:
        return (datetime.fromtimestamp(self.clock.now, tz=UTC) + timedelta(days=days)).date()


def _ref(entity: dict[str, Any]) -> dict[str, Any]:
    return {"type": entity["type"], "id": entity["id"]}


class _Proxy:
    """The site as the daemon's client sees it: every call recorded, failing while down."""

    def __init__(self, site: Site) -> None:
        self._site = site

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._site.sg, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            if self._site.down:
                raise SiteDown(
                    "[Errno 111] Connection refused (https://studio.shotgrid.example, "
                    "key=SECRET-KEY-123)"
                )
            self._site.calls.append((name, args))
            return method(*args, **kwargs)

        return call


def make_site(flavour: Flavour, folder: Path, clock: FakeClock) -> Site:
    if flavour is OTIO:
        paths = (str(SG_OTIO / "schema.pickle"), str(SG_OTIO / "schema_entity.pickle"))
    else:
        paths = build_schema(folder)
    mockgun.Shotgun.set_schema_paths(*paths)
    sg = mockgun.Shotgun("https://studio.shotgrid.example", script_name="cloudburst", api_key="k")
    return Site(sg=sg, clock=clock, flavour=flavour)
