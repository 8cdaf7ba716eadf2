"""A job's life after it ends: resubmitted (cloned, with other frames or another name),
archived out of the default listing, or deleted with its tasks and logs (frames stay on disk)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from common.errors import IllegalStateChange
from common.models import Job, JobSpec, Resubmission
from common.states import JobState
from daemon.auth import Principal
from daemon.context import Context
from daemon.services.jobs import JobService
from daemon.storage import jobs as job_store

logger = logging.getLogger(__name__)


class JobRecords:
    """Resubmit, archive, unarchive and delete jobs (owner or ``jobs.manage``: the API guard
    decides who; this decides when)."""

    def __init__(self, context: Context, jobs: JobService, thumbnails: Path | None = None) -> None:
        self.ctx = context
        self.jobs = jobs
        self.thumbnails = thumbnails
        """The daemon's cache of thumbnails (one folder per job), emptied for a deleted job."""

    def resubmit(self, job_id: int, change: Resubmission, caller: Principal | None) -> Job:
        """A new job with the spec of ``job_id`` (any state), changed by ``change``, submitted
        as the caller's own: every rule of a submission applies again (paths, environment,
        frame limits, dependencies).

        Raises:
            NotFound: there is no such job.
            pydantic.ValidationError: the new frames or name do not make a valid job.
            CloudburstError: whatever ``JobService.submit`` refuses.
        """
        old = job_store.job_spec(job_store.require_job(self.ctx.database.db, job_id))
        fields = old.model_dump()
        fields["owner"] = None  # the caller's, as a submission's
        for name, value in change.model_dump(exclude_none=True).items():
            fields[name] = value
        spec = JobSpec.model_validate(fields)  # the new frames checked as a submission's are
        job = self.jobs.submit(spec, caller)
        logger.info("job_id=%s resubmitted as job_id=%s", job_id, job.id)
        return job

    def archive(self, job_id: int, archived: bool = True) -> Job:
        """Hides a finished job from the default listing (``archived=False``: shows it again).

        Raises:
            NotFound: there is no such job.
            IllegalStateChange: the job has not finished, or is already where it was asked.
        """
        with self.ctx.database.transaction() as db:
            row = job_store.require_job(db, job_id)
            _check_finished(job_id, JobState(row["state"]), "archived")
            at = self.ctx.now() if archived else None
            if not job_store.set_archived(db, job_id, at):
                raise IllegalStateChange(
                    f"Job {job_id} is already {'archived' if archived else 'in the listing'}."
                )
        logger.info("job_id=%s %s", job_id, "archived" if archived else "unarchived")
        return self.jobs.get(job_id)

    def delete(self, job_id: int) -> Job:
        """Deletes a finished job's records: the job, its tasks, their logs (frames on disk
        and the audit log stay). Returns the job as it was.

        Raises:
            NotFound: there is no such job.
            IllegalStateChange: the job has not finished, or unfinished jobs wait for it.
        """
        with self.ctx.database.transaction() as db:
            row = job_store.require_job(db, job_id)
            _check_finished(job_id, JobState(row["state"]), "deleted")
            waiting = job_store.unfinished_dependants(db, job_id)
            if waiting:
                ids = ", ".join(str(i) for i in waiting)
                raise IllegalStateChange(
                    f"Job {job_id} cannot be deleted: job(s) {ids} depend on it and have not "
                    "finished. Change what they wait for (`PUT /api/v1/jobs/{id}/depends-on`) "
                    "or archive this job instead."
                )
            job = self.jobs.get(job_id)
            if not job_store.delete_finished(db, job_id):
                raise IllegalStateChange(f"Job {job_id} changed while you asked; look again.")
        self.ctx.task_logs.delete_job(job_id)
        if self.thumbnails is not None:
            shutil.rmtree(self.thumbnails / str(job_id), ignore_errors=True)
        logger.info("job_id=%s deleted (%s)", job_id, job.spec.name)
        return job


def _check_finished(job_id: int, state: JobState, verb: str) -> None:
    if not state.finished:
        raise IllegalStateChange(
            f"Job {job_id} is {state.value}; only a finished job can be {verb}. Cancel it "
            f"first (`cloudburst job cancel {job_id}`) or wait for it to end."
        )
