"""Staging: the daemon sends the files of jobs that may render away from studio storage to the
object store, and writes every file that leaves the building to the audit log.

A job is staged when an object store is configured and its placement lets it leave (``cloud``,
and ``auto`` unless ``[staging] auto = false``; confidential projects are ``never-cloud`` by
then). ``stage_pending`` runs on the daemon's scheduler: for each job waiting, it reads the
scene's dependencies with the offline scene readers, builds the manifest (hashes come from the
daemon's hash cache, so an unchanged file is never read twice), sends the blobs the store lacks
(``common.data.Uploader``), then in one transaction appends the audit records and marks the job
``staged``. Nodes without studio storage only take tasks of staged jobs.

A failure that may pass (the store is unreachable, a file changed while it was read) sends the
job back to ``pending`` for the next pass, until ``[staging] max_attempts``; then, or at once
for a scene that cannot be read or names missing files, staging is ``failed`` with a sentence
saying what to fix, and the job renders on studio nodes only.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import sqlite_utils

from common.errors import CloudburstError, InvalidInput
from common.models import (
    AuditPage,
    AuditQuery,
    AuditRecord,
    DataState,
    JobData,
    JobSpec,
    Placement,
)
from daemon.context import Context, to_datetime, to_optional_datetime
from daemon.services.data_plane import DataPlane
from daemon.storage import data as data_store
from daemon.storage import jobs as job_store

logger = logging.getLogger(__name__)

#: Missing files named in a failed staging's message before the rest are counted.
MISSING_SHOWN = 5


class StagingService:
    """Puts jobs' files in the object store. ``stage_pending`` runs on one thread at a time."""

    def __init__(self, context: Context, plane: DataPlane) -> None:
        self.ctx = context
        self.plane = plane
        self.paths = context.paths
        """What may leave the building: never the daemon's own folder, only the asset roots."""
        self._lock = threading.Lock()

    # --- at submission ---------------------------------------------------------------------

    def wants(self, spec: JobSpec) -> bool:
        """Whether a job with this (policy-checked) spec is staged."""
        if not self.plane.configured:
            return False
        if spec.placement is Placement.CLOUD:
            return True
        return spec.placement is Placement.AUTO and self.ctx.settings.staging.auto

    def enqueue(self, db: sqlite_utils.Database, job_id: int, spec: JobSpec, now: float) -> bool:
        """Queues the job for staging when it wants it (inside the submission's transaction)."""
        if not self.wants(spec):
            return False
        data_store.insert_pending(db, job_id, now)
        return True

    # --- reading -----------------------------------------------------------------------------

    @staticmethod
    def job_data(db: sqlite_utils.Database, job_id: int) -> JobData:
        """The job's staging and its frames' journey home (inside the caller's transaction)."""
        row = data_store.get_job_data(db, job_id)
        frames = data_store.count_outputs(db, job_id)
        if row is None:
            return JobData(
                job_id=job_id,
                state=None,
                frames_away=frames["away"],
                frames_home=frames["home"],
                frames_failed=frames["failed"],
            )
        return JobData(
            job_id=job_id,
            state=DataState(row["state"]),
            files=row["files"],
            bytes_total=row["bytes_total"],
            blobs_sent=row["blobs_sent"],
            bytes_sent=row["bytes_sent"],
            destination=row["destination"],
            error=row["error"],
            staged_at=to_optional_datetime(row["staged_at"]),
            frames_away=frames["away"],
            frames_home=frames["home"],
            frames_failed=frames["failed"],
        )

    def audit(self, query: AuditQuery) -> AuditPage:
        """A page of the audit log."""
        return audit_page(self.ctx, query)

    # --- the pass ----------------------------------------------------------------------------

    def resume_after_restart(self) -> int:
        """Jobs a stopped daemon left half-staged are staged again (uploads resume)."""
        with self.ctx.database.transaction() as db:
            return data_store.reset_interrupted(db, self.ctx.now())

    def stage_pending(self) -> int:
        """Stages every job waiting, one after the other; returns how many got staged."""
        if not self.plane.configured or not self._lock.acquire(blocking=False):
            return 0
        staged = 0
        tried: set[int] = set()
        try:
            while True:
                row = data_store.next_pending(self.ctx.database.db)
                if row is None or row["job_id"] in tried:
                    return staged
                tried.add(row["job_id"])
                staged += self._stage(row)
        finally:
            self._lock.release()

    def _stage(self, row: dict[str, Any]) -> int:
        job_id = row["job_id"]
        with self.ctx.database.transaction() as db:
            if not data_store.claim_pending(db, job_id, self.ctx.now()):
                return 0
        attempt = row["attempts"] + 1
        spec = job_store.job_spec(row)
        try:
            self._send(job_id, row["owner"], spec)
        except InvalidInput as exc:
            self._give_up(job_id, exc.message)
            return 0
        except (CloudburstError, OSError) as exc:  # the store, or a file read: may pass
            message = getattr(exc, "message", None) or str(exc)
            if attempt >= self.ctx.settings.staging.max_attempts:
                self._give_up(job_id, f"{message} (gave up after {attempt} tries)")
            else:
                logger.warning("job_id=%s staging try %d failed: %s", job_id, attempt, message)
                with self.ctx.database.transaction() as db:
                    data_store.mark_unstaged(db, job_id, "pending", message, self.ctx.now())
            return 0
        return 1

    def _send(self, job_id: int, owner: str, spec: JobSpec) -> None:
        plane = self.plane
        scene = plane.local_path(spec.scene)
        manifest = plane.build_manifest(spec.scene, spec.env)
        if manifest.missing:
            shown = ", ".join(manifest.missing[:MISSING_SHOWN])
            more = len(manifest.missing) - MISSING_SHOWN
            raise InvalidInput(
                f"The scene {scene} names {len(manifest.missing)} file(s) that do not exist: "
                f"{shown}{f' and {more} more' if more > 0 else ''}. The job renders on studio "
                "nodes only; fix the paths and submit again to let it leave the building."
            )
        for entry in manifest.entries:  # checked before a byte is sent or recorded
            self.paths.check_asset(entry.path, os.path.realpath(plane.local_path(entry.path)))
        now = self.ctx.now()
        with self.ctx.database.transaction() as db:
            data_store.record_manifest(
                db, job_id, manifest.to_json(), len(manifest.entries), manifest.unique_size, now
            )
        report = plane.upload(manifest)
        destination = plane.store_name
        now = self.ctx.now()
        audit: list[tuple[Any, ...]] = []
        charged: set[str] = set()
        for entry in manifest.entries:
            sent_now = entry.hash in report.sent and entry.hash not in charged
            charged.add(entry.hash)
            audit.append(
                (now, job_id, owner, entry.path, entry.hash, entry.size, destination,
                 entry.size if sent_now else 0)
            )  # fmt: skip
        with self.ctx.database.transaction() as db:
            data_store.append_audit(db, audit)
            data_store.mark_staged(
                db, job_id, blobs_sent=report.uploaded, bytes_sent=report.bytes_uploaded,
                destination=destination, now=now,
            )  # fmt: skip
        logger.info(
            "job_id=%s staged to %s: %d file(s), %d blob(s) sent (%d byte(s)), %d already there",
            job_id, destination, len(manifest.entries), report.uploaded, report.bytes_uploaded,
            report.already_stored,
        )  # fmt: skip

    def _give_up(self, job_id: int, message: str) -> None:
        logger.warning("job_id=%s not staged: %s", job_id, message)
        with self.ctx.database.transaction() as db:
            data_store.mark_unstaged(db, job_id, DataState.FAILED.value, message, self.ctx.now())


def audit_page(context: Context, query: AuditQuery) -> AuditPage:
    """A page of the audit log."""
    where = data_store.AuditFilter(
        job_id=query.job_id,
        user=query.user,
        since=query.since.timestamp() if query.since else None,
        until=query.until.timestamp() if query.until else None,
        offset=query.offset,
        limit=query.limit,
    )
    rows, total = data_store.list_audit(context.database.db, where)
    items = [AuditRecord(**{**row, "at": to_datetime(row["at"])}) for row in rows]
    return AuditPage(items=items, total=total, offset=query.offset, limit=query.limit)
