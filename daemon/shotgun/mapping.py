"""The field mapping: which fields to read, how their values become numbers, what to write.

Pure functions of the ``[shotgrid]`` settings and ShotGrid's records; no network.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from pathlib import PurePath
from typing import Any

from common.config import ShotGridSettings
from daemon.storage.shotgrid import EntityRecord

_HASHES = re.compile(r"#+")


def name_field(entity_type: str, settings: ShotGridSettings) -> str:
    """The field that names an entity: a Task's ``content``, a Project's configured field."""
    if entity_type == "Task":
        return "content"
    if entity_type == "Project":
        return settings.project_field
    return "code"


def fields_for(entity_type: str, settings: ShotGridSettings) -> list[str]:
    """The fields to read of an entity of this type."""
    fields = [name_field(entity_type, settings), "updated_at"]
    if entity_type != "Project":
        fields.append("project")
    if entity_type == "Task":
        fields += ["entity", settings.status_field]
    if entity_type == settings.priority_entity:
        fields.append(settings.priority_field)
    if entity_type == settings.due_entity:
        fields.append(settings.due_field)
    return list(dict.fromkeys(f for f in fields if f))


def priority_of(value: Any, settings: ShotGridSettings) -> tuple[float | None, str]:
    """Production's priority 0-100 and its label, from a list value or a number.

    List values map through ``priority_values`` (case-insensitive); numbers map linearly from
    ``priority_range`` (whose ends may be reversed, for sites where 1 is the top). An empty or
    unknown value gives None.
    """
    if value is None or isinstance(value, bool) or value == "":
        return None, ""
    if isinstance(value, int | float):
        low, high = settings.priority_range
        if high == low:
            return None, str(value)
        scaled = (float(value) - low) / (high - low) * 100.0
        return max(0.0, min(100.0, scaled)), f"{value:g}"
    label = str(value)
    for key, number in settings.priority_values.items():
        if key.casefold() == label.casefold():
            return max(0.0, min(100.0, number)), label
    return None, label


def timestamp(value: Any) -> float | None:
    """Epoch seconds of a ShotGrid date-time (naive ones are UTC) or date (the end of that day,
    local time: a shot due on the 24th is due by the end of the studio's 24th)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59, 59)).astimezone().timestamp()
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value[:10])
        except ValueError:
            return None
        if len(value) > 10:
            try:
                return timestamp(datetime.fromisoformat(value))
            except ValueError:
                return None
        return timestamp(day)
    return None


def to_record(entity_type: str, row: dict[str, Any], settings: ShotGridSettings) -> EntityRecord:
    """What the daemon keeps of one entity read from ShotGrid."""
    priority, label = (None, "")
    if entity_type == settings.priority_entity:
        priority, label = priority_of(row.get(settings.priority_field), settings)
    due_at = timestamp(row.get(settings.due_field)) if entity_type == settings.due_entity else None
    status = row.get(settings.status_field) if entity_type == "Task" else None
    return EntityRecord(
        entity_type=entity_type,
        entity_id=int(row["id"]),
        name=str(row.get(name_field(entity_type, settings)) or ""),
        priority=priority,
        priority_label=label,
        due_at=due_at,
        status=str(status or ""),
        updated_at=timestamp(row.get("updated_at")),
    )


def to_datetime(seconds: float) -> datetime:
    """An aware UTC datetime, as ShotGrid filters take it."""
    return datetime.fromtimestamp(seconds, tz=UTC)


def frames_path(pattern: str, outputs: list[str]) -> str:
    """The frames' path as ShotGrid shows it: ``####`` as ``%04d``, with the files' extension."""
    path = _HASHES.sub(lambda m: f"%0{len(m.group())}d", pattern)
    if outputs and not PurePath(pattern).suffix:
        path += PurePath(outputs[0]).suffix
    return path


def version_data(
    settings: ShotGridSettings,
    link: dict[str, Any],
    *,
    code: str,
    description: str,
    path: str,
    first: int,
    last: int,
) -> dict[str, Any]:
    """The fields of a new Version, linked to the job's entity (or project) and task."""
    data: dict[str, Any] = {"code": code, "description": description}
    if link.get("project_id"):
        data["project"] = {"type": "Project", "id": link["project_id"]}
    if link.get("entity_type") and link.get("entity_id"):
        data["entity"] = {"type": link["entity_type"], "id": link["entity_id"]}
    if link.get("task_id"):
        data["sg_task"] = {"type": "Task", "id": link["task_id"]}
    for field, value in (
        (settings.version_path_field, path),
        (settings.version_first_frame_field, first),
        (settings.version_last_frame_field, last),
        (settings.version_range_field, f"{first}-{last}"),
    ):
        if field:
            data[field] = value
    return data
