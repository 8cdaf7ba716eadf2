"""Frames home: the daemon fetches the frames nodes away from studio storage uploaded, verifies
each against its hash, and puts it at its place in the job's output folder.

``bring_home`` runs on the daemon's scheduler. A frame is read into a hidden folder beside its
final place (``.cloudburst-incoming``), verified by ``common.data.BlobReader``, and moved into
place with ``os.replace``, so no half-written frame is ever at a final path and a daemon killed
midway only leaves a temporary file that the next pass replaces. Once the last frame of a job
is home the job settles to ``succeeded``.

A frame the store cannot give intact (gone, or corrupt in the store even after a second read)
cannot come home: its task renders again (spending one retry), as a frame lost on a node would.
A store that does not answer is tried again on the next pass.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

from common.errors import CloudburstError
from daemon.context import Context
from daemon.services.data_plane import DataPlane
from daemon.services.failures import requeue_lost_task
from daemon.services.jobs import JobService
from daemon.storage import data as data_store
from daemon.storage import tasks as task_store

logger = logging.getLogger(__name__)

INCOMING_DIR = ".cloudburst-incoming"
#: Frames handled per pass, at most.
BATCH = 256


class Homecoming:
    """Brings uploaded frames home. ``bring_home`` runs on one thread at a time."""

    def __init__(self, context: Context, plane: DataPlane, jobs: JobService) -> None:
        self.ctx = context
        self.plane = plane
        self.jobs = jobs
        self._lock = threading.Lock()

    def bring_home(self) -> int:
        """Fetches frames waiting to come home; returns how many arrived."""
        if not self.plane.configured or not self._lock.acquire(blocking=False):
            return 0
        try:
            rows = data_store.outputs_away(self.ctx.database.db, BATCH)
            by_folder: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for row in rows:
                final = self.plane.local_path(row["path"])
                by_folder[os.path.dirname(final)].append({**row, "final": final})
            return sum(
                self._fetch_folder(Path(folder), group) for folder, group in by_folder.items()
            )
        finally:
            self._lock.release()

    def _fetch_folder(self, folder: Path, rows: list[dict[str, Any]]) -> int:
        incoming = folder / INCOMING_DIR
        try:
            incoming.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            logger.error("cannot write frames home to %s: %s", folder, exc.strerror or exc)
            return 0
        by_hash: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_hash[row["hash"]].append(row)
        arrived: list[dict[str, Any]] = []

        def accept(digest: str, path: Path) -> None:
            group = by_hash[digest]
            for row in group[:-1]:  # the same bytes at several places: copies, then the last
                shutil.copyfile(path, incoming / f"{digest}.copy")
                os.replace(incoming / f"{digest}.copy", row["final"])
            os.replace(path, group[-1]["final"])
            arrived.extend(group)

        sizes = {digest: group[0]["size"] for digest, group in by_hash.items()}
        lost: dict[str, str] = {}
        try:
            self.plane.fetch(sizes, incoming, accept)
        except CloudburstError as exc:  # BlobMissing (a NotFound) too
            if exc.retryable:
                logger.warning("frames home from %s wait: %s", self.plane.store_name, exc)
            else:
                lost = self._find_lost(sizes, incoming, accept, arrived)
        finally:
            with contextlib.suppress(OSError):
                incoming.rmdir()
        self._record(arrived, lost, by_hash)
        return len(arrived)

    def _find_lost(
        self, sizes: dict[str, int], incoming: Path, accept: Any, arrived: list[dict[str, Any]]
    ) -> dict[str, str]:
        """After a batch failed: each remaining blob alone, to tell the lost from the fine."""
        done = {row["hash"] for row in arrived}
        lost: dict[str, str] = {}
        for digest, size in sizes.items():
            if digest in done:
                continue
            try:
                self.plane.fetch({digest: size}, incoming, accept)
            except CloudburstError as exc:
                if not exc.retryable:
                    lost[digest] = exc.message
        return lost

    def _record(
        self,
        arrived: list[dict[str, Any]],
        lost: dict[str, str],
        by_hash: dict[str, list[dict[str, Any]]],
    ) -> None:
        if not arrived and not lost:
            return
        now = self.ctx.now()
        jobs: set[int] = set()
        with self.ctx.database.transaction() as db:
            for row in arrived:
                data_store.mark_output(db, row["task_id"], row["path"], "home", home_at=now)
                jobs.add(row["job_id"])
            requeued: set[int] = set()
            for digest, message in lost.items():
                for row in by_hash[digest]:
                    error = f"Frame {row['path']} could not be brought home: {message}"
                    data_store.mark_output(db, row["task_id"], row["path"], "failed", error=error)
                    jobs.add(row["job_id"])
                    if row["task_id"] not in requeued:
                        requeued.add(row["task_id"])
                        task = task_store.get_task(db, row["task_id"])
                        if task is not None:
                            requeue_lost_task(db, task, error, now)
                    logger.error("job_id=%s: %s; its task renders again", row["job_id"], error)
            for job_id in jobs:
                self.jobs.settle(db, job_id)
        logger.info("%d frame(s) home from %s", len(arrived), self.plane.store_name)
