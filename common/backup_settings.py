"""The ``[backup]`` table: where the daemon backs its state up, when, and how many it keeps.

An empty ``destination`` means the daemon takes no backups of its own (``cloudburst backup``
still works by hand). A destination is a folder, ``s3://bucket/prefix`` or
``oci://bucket/prefix``; the object stores are reached with ``store`` (endpoint, credentials),
else with the ``[store]`` table's, the bucket and prefix always coming from the URL. In the
environment ``store`` is JSON text (``CLOUDBURST_BACKUP__STORE='{"endpoint": "..."}'``).
"""

from __future__ import annotations

import json
import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from common.data.store_config import StoreSettings

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


class BackupSettings(BaseModel):
    """The ``[backup]`` table: the destination, the daily time, the weekly full and retention."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    destination: str = ""
    """A folder, ``s3://bucket/prefix`` or ``oci://bucket/prefix``; empty: no scheduled backups."""
    time: str = "02:00"
    """When the daily backup runs (``HH:MM``, 24-hour, in ``timezone``)."""
    timezone: str = "UTC"
    """The IANA time zone of ``time`` and of the days retention counts (``Europe/London``)."""
    full_day: Weekday = "sunday"
    """The day of the weekly full backup; the other days take incrementals."""
    keep_daily: int = Field(default=7, ge=1, le=366)
    """The newest backup of each of this many most recent days is kept."""
    keep_weekly: int = Field(default=4, ge=0, le=520)
    """The newest full backup of each of this many most recent weeks is kept."""
    store: StoreSettings | None = None
    """How to reach an ``s3://`` or ``oci://`` destination; None: the ``[store]`` table's."""

    @field_validator("time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not _TIME.match(value):
            raise ValueError(f"{value!r} is not a time of day such as '02:00' (HH:MM, 24-hour)")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            zone_error = f"{value!r} is not a time zone such as 'UTC' or 'Europe/Paris'"
            raise ValueError(zone_error) from None
        return value

    @field_validator("store", mode="before")
    @classmethod
    def _json_table(cls, value: object) -> object:
        """Accepts JSON text, as environment variables give it."""
        return json.loads(value) if isinstance(value, str) else value

    @property
    def hour_minute(self) -> tuple[int, int]:
        hour, minute = self.time.split(":")
        return int(hour), int(minute)

    @property
    def full_weekday(self) -> int:
        """``full_day`` as ``datetime.weekday()`` counts (Monday is 0)."""
        return WEEKDAYS.index(self.full_day)
