"""What every service needs: the database, the settings and a clock; the services and
the ShotGrid sync both take it, so it belongs to neither."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from common.config import Settings
from daemon.storage import Database


@dataclass
class Context:
    """Shared by the services of one daemon; ``clock`` is replaceable in tests."""

    database: Database
    settings: Settings
    clock: Callable[[], float] = field(default=time.time)

    def now(self) -> float:
        return self.clock()


def to_datetime(seconds: float) -> datetime:
    """Epoch seconds from the database as an aware UTC datetime for the wire."""
    return datetime.fromtimestamp(seconds, tz=UTC)


def to_optional_datetime(seconds: float | None) -> datetime | None:
    return None if seconds is None else to_datetime(seconds)
