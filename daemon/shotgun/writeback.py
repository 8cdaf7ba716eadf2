"""Write-back to ShotGrid through an outbox: the linked Task's status, and a Version on success.

A job's state change puts write-backs in the ``sg_outbox`` table in the same transaction as
the change, so none is lost; ``WriteBack.flush`` (triggered by APScheduler) sends them in order,
outside any transaction, and retries failures with backoff. Nothing here can fail a render:
the enqueue is a row insert, and sending happens on the scheduler's thread.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from common.config import ShotGridSettings
from common.frames import parse_frames
from common.states import JobState
from daemon.context import Context
from daemon.shotgun.client import ShotGridClient
from daemon.shotgun.errors import ShotGridUnavailable
from daemon.shotgun.mapping import frames_path, version_data
from daemon.storage import jobs as job_store
from daemon.storage import shotgrid as sg_store

logger = logging.getLogger(__name__)

STATUS = "status"
VERSION = "version"


def enqueue_for_transition(
    db: sqlite_utils.Database,
    settings: ShotGridSettings,
    job: dict[str, Any],
    target: JobState,
    now: float,
) -> int:
    """Queues the write-backs a job's move to ``target`` calls for; returns how many.

    Call inside the transaction that moves the job.
    """
    if not settings.configured:
        return 0
    link = sg_store.get_link(db, job["id"])
    if link is None:
        return 0
    status = {
        JobState.RUNNING: settings.status_on_start,
        JobState.SUCCEEDED: settings.status_on_success,
        JobState.FAILED: settings.status_on_failure,
    }.get(target, "")
    queued = 0
    if status and link["task_id"] and settings.status_field:
        payload = {
            "entity_type": "Task", "entity_id": link["task_id"],
            "data": {settings.status_field: status},
        }  # fmt: skip
        sg_store.enqueue(db, job["id"], STATUS, json.dumps(payload), now)
        queued += 1
    if target is JobState.SUCCEEDED and settings.create_version:
        spec = job_store.job_spec(job)
        frames = parse_frames(spec.frames)
        code = f"{spec.name} (cloudburst job {job['id']})"
        data = version_data(
            settings, link, code=code,
            description=f"Rendered by Cloudburst: job {job['id']}, {len(frames)} frames.",
            path=frames_path(spec.output, list(sg_store.first_outputs(db, job["id"]))),
            first=min(frames), last=max(frames),
        )  # fmt: skip
        sg_store.enqueue(db, job["id"], VERSION, json.dumps({"data": data}), now)
        queued += 1
    return queued


@dataclass(frozen=True)
class FlushReport:
    sent: int = 0
    failed: int = 0


class WriteBack:
    """Sends queued write-backs; triggered by APScheduler, called directly by tests."""

    def __init__(self, context: Context, client: ShotGridClient | None) -> None:
        self.ctx = context
        self.client = client

    @property
    def settings(self) -> ShotGridSettings:
        return self.ctx.settings.shotgrid

    def flush(self, now: float | None = None, limit: int = 100) -> FlushReport:
        """Sends what is due, oldest first; a job's later items wait behind a failed one."""
        now = self.ctx.now() if now is None else now
        if self.client is None:
            return FlushReport()
        sent = failed = 0
        blocked: set[int] = set()
        for item in sg_store.due_writebacks(self.ctx.database.db, now, limit):
            if item["job_id"] in blocked:
                continue
            try:
                self._send(item)
            except ShotGridUnavailable as exc:
                attempts = item["attempts"] + 1
                give_up = attempts >= self.settings.writeback_max_attempts
                delay = min(
                    self.settings.writeback_interval_s * 2 ** (attempts - 1),
                    self.settings.retry_max_s,
                )
                with self.ctx.database.transaction() as db:
                    sg_store.writeback_failed(db, item["id"], exc.message, now + delay, give_up)
                blocked.add(item["job_id"])
                failed += 1
                logger.warning(
                    "job_id=%s: ShotGrid %s write-back failed (attempt %d%s): %s",
                    item["job_id"], item["kind"], attempts,
                    "; giving up" if give_up else f"; retry in {delay:.0f} s", exc.message,
                )  # fmt: skip
                continue
            with self.ctx.database.transaction() as db:
                sg_store.writeback_done(db, item["id"], now)
            sent += 1
            logger.info("job_id=%s: ShotGrid %s written", item["job_id"], item["kind"])
        return FlushReport(sent=sent, failed=failed)

    def _send(self, item: dict[str, Any]) -> None:
        assert self.client is not None
        payload = json.loads(item["payload"])
        if item["kind"] == STATUS:
            self.client.update(payload["entity_type"], payload["entity_id"], payload["data"])
            return
        data = payload["data"]
        # A resend after a lost answer must not make a second Version.
        filters: list[Any] = [["code", "is", data["code"]]]
        for key in ("entity", "project"):
            if key in data:
                filters.append([key, "is", data[key]])
                break
        if self.client.find_one("Version", filters, ["id"]) is None:
            self.client.create("Version", data)
