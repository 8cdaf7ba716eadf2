"""Steps of migrations that move data out of the database, run just before their SQL script.

A step only reads the database and writes files in the data folder; if the daemon stops before
the script commits, the step runs again at the next start, so it writes whole files (a rerun
replaces them) and never half-moves anything.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Callable
from pathlib import Path

import sqlite_utils

from common.ops_settings import LogSettings
from daemon.storage.task_logs import FOLDER, LogCap, TaskLogFiles

logger = logging.getLogger(__name__)


def move_task_logs(db: sqlite_utils.Database, data_dir: Path) -> None:
    """0015: each attempt's rows of ``task_logs`` become the attempt's log file."""
    logs = TaskLogFiles(data_dir / FOLDER, LogCap.of(LogSettings()))
    rows = db.conn.execute(
        "SELECT t.job_id, l.task_id, l.attempt, l.offset, l.text FROM task_logs l"
        " JOIN tasks t ON t.id = l.task_id ORDER BY l.task_id, l.attempt, l.offset"
    )
    moved = 0
    for (job_id, task_id, attempt), group in itertools.groupby(rows, key=lambda r: r[:3]):
        logs.write_attempt(job_id, task_id, attempt, ((row[3], row[4]) for row in group))
        moved += 1
    if moved:
        os.sync()  # the files are on disk before the script drops the rows
        logger.info("Moved the logs of %d task attempt(s) into %s", moved, logs.root)


STEPS: dict[int, Callable[[sqlite_utils.Database, Path], None]] = {15: move_task_logs}
"""The step each migration version runs before its script, given the data folder."""
