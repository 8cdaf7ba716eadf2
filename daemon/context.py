"""What every service needs: the database, the task logs, the settings and a clock; the
services and the ShotGrid sync both take it, so it belongs to neither."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from common.config import Settings
from common.job_paths import JobPaths
from daemon.storage import Database
from daemon.storage.task_logs import FOLDER, LogCap, TaskLogFiles


@dataclass
class Context:
    """Shared by the services of one daemon; ``clock`` is replaceable in tests."""

    database: Database
    settings: Settings
    clock: Callable[[], float] = field(default=time.time)

    def now(self) -> float:
        return self.clock()

    @cached_property
    def task_logs(self) -> TaskLogFiles:
        """Each task attempt's render log: files in the data folder's ``task-logs/``, capped
        by the ``[logs] task_log_*`` settings. Made once; appending takes no database lock."""
        return TaskLogFiles(self.settings.data_dir / FOLDER, LogCap.of(self.settings.logs))

    @cached_property
    def paths(self) -> JobPaths:
        """Where jobs' files may be: the studio's ``[paths]`` roots, never the daemon's own
        data folder. Made once; every service checks with the same rules."""
        return JobPaths.from_settings(self.settings, private=[self.settings.data_dir])


def to_datetime(seconds: float) -> datetime:
    """Epoch seconds from the database as an aware UTC datetime for the wire."""
    return datetime.fromtimestamp(seconds, tz=UTC)


def to_optional_datetime(seconds: float | None) -> datetime | None:
    return None if seconds is None else to_datetime(seconds)
