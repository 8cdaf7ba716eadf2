"""Dependencies between jobs: checked where they enter (a submission, a change), stored with
their frame-by-frame task edges, and read when a job's state is settled.

Every method runs inside the caller's transaction (``JobService`` owns it): a refused list
writes nothing, and a job never shows as queued while what it waits for is unmet.
"""

from __future__ import annotations

import logging

import sqlite_utils

from common.errors import DependencyCycle, UnknownDependency
from common.models import JobDependency
from daemon.context import Context
from daemon.scheduling.dependencies import Hold, hold_of
from daemon.storage import dependencies as dep_store

logger = logging.getLogger(__name__)


class DependencyService:
    """What jobs wait for."""

    def __init__(self, context: Context) -> None:
        self.ctx = context

    def checked(self, db: sqlite_utils.Database, deps: list[JobDependency]) -> list[JobDependency]:
        """``deps`` with each job once (``all`` wins over ``same``), every one of them stored.

        Raises:
            UnknownDependency: some ids name no job; none of the list is used.
        """
        by_job: dict[int, JobDependency] = {}
        for dep in deps:
            kept = by_job.get(dep.job)
            if kept is None or (kept.frames == "same" and dep.frames == "all"):
                by_job[dep.job] = dep
        missing = sorted(set(by_job) - dep_store.existing_jobs(db, list(by_job)))
        if missing:
            names = ", ".join(str(job_id) for job_id in missing)
            raise UnknownDependency(
                f"The job waits for job{'s' if len(missing) > 1 else ''} {names}, which "
                f"do{'' if len(missing) > 1 else 'es'} not exist. Check the ids in depends_on "
                "(`cloudburst jobs` lists them) and send it again.",
                details={"unknown": missing},
            )
        return list(by_job.values())

    def check_no_loop(
        self, db: sqlite_utils.Database, job_id: int, deps: list[JobDependency]
    ) -> None:
        """Refuses dependencies that would make ``job_id`` wait for itself, through any chain.

        Raises:
            DependencyCycle: the loop, named job by job.
        """
        loop = dep_store.find_loop(db, job_id, [dep.job for dep in deps])
        if not loop:
            return
        if len(loop) == 2:
            raise DependencyCycle(
                f"Job {job_id} cannot wait for itself; leave {job_id} out of its depends_on.",
                details={"loop": loop},
            )
        chain = ", which waits for ".join(str(step) for step in loop[1:])
        raise DependencyCycle(
            f"These dependencies would make jobs wait for each other in a loop: job {job_id} "
            f"waits for {chain}. Leave one of these dependencies out.",
            details={"loop": loop},
        )

    def store(self, db: sqlite_utils.Database, job_id: int, deps: list[JobDependency]) -> None:
        """Makes ``deps`` (``checked``) the job's dependencies, with its frame-by-frame edges."""
        dep_store.replace(db, job_id, deps)
        if deps:
            logger.info(
                "job_id=%s waits for %s", job_id, ", ".join(f"{d.job} ({d.frames})" for d in deps)
            )

    def hold(self, db: sqlite_utils.Database, job_id: int) -> Hold | None:
        """What keeps the job waiting now; None when nothing does."""
        return hold_of(dep_store.upstreams(db, job_id))

    def dependants(self, db: sqlite_utils.Database, job_id: int) -> list[int]:
        """The jobs waiting for ``job_id`` (to settle again when its state changed)."""
        return dep_store.dependants(db, job_id)
