"""Job use cases: submit, look up, list, cancel, pause, resume, retry, reprioritise."""

from __future__ import annotations

import json
import logging
from typing import Any

import sqlite_utils

from common.errors import IllegalStateChange, NotFound
from common.frames import chunk_frames, parse_frames
from common.models import Job, JobPage, JobSpec, Task, TaskLog
from common.states import JobState, TaskState, check_job_move, job_states_from
from daemon.scheduling.progress import derive_job_state, estimate_finish, progress_fraction
from daemon.services.context import Context, to_datetime, to_optional_datetime
from daemon.storage import agents as agent_store
from daemon.storage import jobs as job_store
from daemon.storage import tasks as task_store
from daemon.storage.jobs import JobFilter

logger = logging.getLogger(__name__)


class JobService:
    """Everything people (CLI, panels, dashboard) do with jobs."""

    def __init__(self, context: Context) -> None:
        self.ctx = context

    def submit(self, spec: JobSpec) -> Job:
        """Stores the job and all its tasks in one transaction."""
        chunks = chunk_frames(parse_frames(spec.frames), spec.chunk_size)
        with self.ctx.database.transaction() as db:
            job_id = job_store.insert_job(db, spec, chunks, self.ctx.now())
            job = self._load(db, job_id)
        logger.info("job_id=%s submitted: %s, %d tasks", job_id, spec.name, len(chunks))
        return job

    def get(self, job_id: int) -> Job:
        return self._load(self.ctx.database.db, job_id)

    def list_jobs(self, filters: JobFilter) -> JobPage:
        db = self.ctx.database.db
        rows, total = job_store.list_jobs(db, filters)
        counts = job_store.task_counts(db, [row["id"] for row in rows])
        items = [self._build(db, row, counts[row["id"]], with_details=False) for row in rows]
        return JobPage(items=items, total=total, offset=filters.offset, limit=filters.limit)

    def cancel(self, job_id: int, reason: str = "Cancelled by request.") -> Job:
        """Cancels the job; agents running its tasks kill them on their next heartbeat."""
        now = self.ctx.now()
        with self.ctx.database.transaction() as db:
            row = self._row(db, job_id)
            check_job_move(job_id, JobState(row["state"]), JobState.CANCELLED)
            job_store.move_job(
                db, job_id, [JobState(row["state"])], JobState.CANCELLED,
                finished_at=now, message=reason,
            )  # fmt: skip
            cancelled = task_store.cancel_job_tasks(db, job_id, now)
            job = self._load(db, job_id)
        logger.info("job_id=%s cancelled (%d tasks)", job_id, cancelled)
        return job

    def pause(self, job_id: int) -> Job:
        """No new task of this job is handed out; running ones finish."""
        with self.ctx.database.transaction() as db:
            row = self._row(db, job_id)
            check_job_move(job_id, JobState(row["state"]), JobState.PAUSED)
            if row["state"] == JobState.PAUSED.value:
                raise IllegalStateChange(f"Job {job_id} is already paused.")
            job_store.move_job(db, job_id, [JobState(row["state"])], JobState.PAUSED)
            return self._load(db, job_id)

    def resume(self, job_id: int) -> Job:
        with self.ctx.database.transaction() as db:
            row = self._row(db, job_id)
            if row["state"] != JobState.PAUSED.value:
                raise IllegalStateChange(
                    f"Job {job_id} is {row['state']}, not paused; only a paused job can resume."
                )
            self._settle(db, job_id, JobState.QUEUED, force=True)
            return self._load(db, job_id)

    def retry(self, job_id: int) -> Job:
        """Requeues the job's failed tasks with a fresh retry budget."""
        with self.ctx.database.transaction() as db:
            row = self._row(db, job_id)
            if JobState(row["state"]) in (JobState.CANCELLED, JobState.SUCCEEDED):
                raise IllegalStateChange(
                    f"Job {job_id} is {row['state']}; only failed tasks of an unfinished or "
                    "failed job can be retried. Submit it again instead."
                )
            if task_store.requeue_failed(db, job_id) == 0:
                raise IllegalStateChange(f"Job {job_id} has no failed tasks to retry.")
            db.execute("UPDATE jobs SET message = '', finished_at = NULL WHERE id = ?", [job_id])
            current = JobState(row["state"])
            self._settle(db, job_id, JobState.QUEUED if current.finished else current, force=True)
            return self._load(db, job_id)

    def set_priority(self, job_id: int, priority: int) -> Job:
        with self.ctx.database.transaction() as db:
            row = self._row(db, job_id)
            if JobState(row["state"]).finished:
                raise IllegalStateChange(
                    f"Job {job_id} is {row['state']}; the priority of a finished job cannot change."
                )
            spec = JobSpec.model_validate_json(row["spec"]).model_copy(
                update={"priority": priority}
            )
            job_store.set_priority(db, job_id, priority, spec.model_dump_json())
            return self._load(db, job_id)

    def tasks(self, job_id: int) -> list[Task]:
        db = self.ctx.database.db
        self._row(db, job_id)
        return [task_from_row(row) for row in task_store.list_tasks(db, job_id)]

    def log(self, job_id: int, task_id: int, offset: int, attempt: int | None) -> TaskLog:
        db = self.ctx.database.db
        task = task_store.get_task(db, task_id)
        if task is None or task["job_id"] != job_id:
            raise NotFound(f"Job {job_id} has no task {task_id}.")
        attempt = task["attempts"] if attempt is None else attempt
        text = agent_store.read_log(db, task_id, attempt, offset)
        return TaskLog(task_id=task_id, offset=offset, text=text, next_offset=offset + len(text))

    # --- shared with the agent service ----------------------------------------------------

    def settle(self, db: sqlite_utils.Database, job_id: int) -> JobState:
        """Re-derives the job's state from its tasks after a task changed (in a transaction)."""
        return self._settle(db, job_id, None, force=False)

    def _settle(
        self, db: sqlite_utils.Database, job_id: int, base: JobState | None, *, force: bool
    ) -> JobState:
        row = self._row(db, job_id)
        current = JobState(row["state"])
        counts = job_store.task_counts(db, [job_id])[job_id]
        target = derive_job_state(base or current, counts)
        if target is current and not force:
            return current
        fields: dict[str, Any] = {}
        now = self.ctx.now()
        if target is JobState.RUNNING and row["started_at"] is None:
            fields["started_at"] = now
        if target.finished:
            fields["finished_at"] = now
            if target is JobState.FAILED:
                errors = job_store.job_errors(db, job_id, limit=1)
                failed = counts.get(TaskState.FAILED.value, 0)
                fields["message"] = (
                    f"{failed} task(s) failed after spending their retry budget. "
                    + (errors[0] if errors else "")
                ).strip()
            elif target is JobState.SUCCEEDED:
                fields["message"] = "All frames rendered."
        if target is not current or fields:
            job_store.move_job(db, job_id, (*job_states_from(target), current), target, **fields)
            logger.info("job_id=%s %s -> %s", job_id, current.value, target.value)
        return target

    def _row(self, db: sqlite_utils.Database, job_id: int) -> dict[str, Any]:
        row = job_store.get_job(db, job_id)
        if row is None:
            raise NotFound(f"There is no job {job_id}. List jobs with `cloudburst jobs`.")
        return row

    def _load(self, db: sqlite_utils.Database, job_id: int) -> Job:
        row = self._row(db, job_id)
        return self._build(db, row, job_store.task_counts(db, [job_id])[job_id], with_details=True)

    def _build(
        self,
        db: sqlite_utils.Database,
        row: dict[str, Any],
        counts: dict[str, int],
        *,
        with_details: bool,
    ) -> Job:
        stats = job_store.frame_stats(db, row["id"])
        state = JobState(row["state"])
        estimate = None
        if not state.finished:
            estimate = estimate_finish(
                self.ctx.now(), row["frame_count"], stats["done"], stats["seconds"],
                stats["partial"], stats["active"],
            )  # fmt: skip
        return Job(
            id=row["id"],
            spec=JobSpec.model_validate_json(row["spec"]),
            state=state,
            submitted_at=to_datetime(row["submitted_at"]),
            started_at=to_optional_datetime(row["started_at"]),
            finished_at=to_optional_datetime(row["finished_at"]),
            frame_count=row["frame_count"],
            task_counts={TaskState(s): counts.get(s.value, 0) for s in TaskState},
            progress=progress_fraction(row["frame_count"], stats["done"]),
            estimated_finish=to_optional_datetime(estimate),
            message=row["message"],
            errors=job_store.job_errors(db, row["id"]) if with_details else [],
        )


def task_from_row(row: dict[str, Any]) -> Task:
    return Task(
        id=row["id"],
        job_id=row["job_id"],
        index=row["idx"],
        frames=json.loads(row["frames"]),
        state=TaskState(row["state"]),
        attempts=row["attempts"],
        agent_id=row["agent_id"],
        lease_expires_at=to_optional_datetime(row["lease_expires_at"]),
        started_at=to_optional_datetime(row["started_at"]),
        finished_at=to_optional_datetime(row["finished_at"]),
        progress=row["progress"],
        outputs=json.loads(row["outputs"]),
        error=row["error"],
    )
