"""Job use cases: submit, look up, list, cancel, pause, resume, retry, reprioritise, pin,
change what a job waits for."""

from __future__ import annotations

import json
import logging
from typing import Any

import sqlite_utils

from common.errors import IllegalStateChange, JobTooLarge, NotFound
from common.frame_tokens import check_frame_token
from common.frames import chunk_frames, count_frames, parse_frames
from common.limits_settings import LimitSettings
from common.models import (
    DependsOnChange,
    FailureClass,
    Job,
    JobData,
    JobPage,
    JobSpec,
    PinChange,
    Task,
    TaskLog,
    TaskPage,
)
from common.render_env import check_env
from common.states import JobState, TaskState, check_job_move, job_states_from
from daemon.auth import Principal
from daemon.auth.rules import check_render_env, job_owner
from daemon.context import Context, to_datetime, to_optional_datetime
from daemon.job_filter import JobFilter, JobSort
from daemon.scheduling.dependencies import hold_sentence
from daemon.scheduling.failures import failed_job_message
from daemon.scheduling.progress import (
    derive_job_state,
    estimate_finish,
    failed_limit,
    progress_fraction,
)
from daemon.services.dependencies import DependencyService
from daemon.services.idempotency import SubmissionKey, check_resend, submission_key
from daemon.services.node_fit import NO_NODE, NodeFit
from daemon.services.notifications import job_moved, job_needs_attention
from daemon.services.projects import ProjectService
from daemon.services.ranking import RankingService, RankView
from daemon.services.staging import StagingService
from daemon.shotgun.client import ShotGridClient
from daemon.shotgun.links import ResolvedLink, resolve
from daemon.shotgun.writeback import enqueue_for_transition
from daemon.storage import data as data_store
from daemon.storage import idempotency as idem_store
from daemon.storage import jobs as job_store
from daemon.storage import ranking as rank_store
from daemon.storage import shotgrid as sg_store
from daemon.storage import tasks as task_store
from daemon.storage.idempotency import KeptKey

logger = logging.getLogger(__name__)


class JobService:
    """Everything people (CLI, panels, dashboard) do with jobs."""

    def __init__(
        self,
        context: Context,
        ranking: RankingService,
        shotgrid: ShotGridClient | None = None,
        projects: ProjectService | None = None,
        staging: StagingService | None = None,
        dependencies: DependencyService | None = None,
        fit: NodeFit | None = None,
    ) -> None:
        self.ctx = context
        self.ranking = ranking
        self.shotgrid = shotgrid
        self.projects = projects or ProjectService(context)
        self.staging = staging
        self.dependencies = dependencies or DependencyService(context)
        self.fit = fit or NodeFit()
        """Whether any known node can run a job (its page says so when none can)."""
        self.paths = context.paths
        """Where scenes and frames may be: the studio's roots, never the daemon's data folder."""

    def submit(
        self, spec: JobSpec, caller: Principal | None = None, idempotency_key: str | None = None
    ) -> Job:
        """Stores the job and all its tasks in one transaction, ranked, so leasable at once.

        A ShotGrid link is checked first (outside the transaction): unknown codes are refused.
        The job belongs to ``caller`` unless a TD/admin names another owner (who sent it is
        recorded); a job of several frames must name one file per frame (``common.frame_tokens``);
        confidential shows stay in the building.
        The scene and output must be absolute, normalised studio paths inside the studio's
        roots (``common.job_paths``); the environment must fit its limits, and only TDs and
        admins set what the renderer loads (``common.render_env``); the jobs it depends on
        must exist. A refused job writes nothing; one whose dependencies are unmet is stored
        waiting (never queued), in the same transaction.
        With ``idempotency_key`` the key is stored in the job's transaction: a resend of the same
        request with the same key returns the first answer and stores nothing.
        A job no known node can run is accepted; its message and rank reason say why
        (``services/node_fit.py``).

        Raises:
            IdempotencyKeyReused: the caller's key first came with another request.
            UnknownDependency: ``depends_on`` names jobs that do not exist.
        """
        key = submission_key(idempotency_key, caller, spec)
        kept = None if key is None else idem_store.find(self.ctx.database.db, key.caller, key.key)
        if key is not None and kept is not None:
            return self._resent(key, kept)
        who = job_owner(caller, spec.owner)
        spec = spec.model_copy(update={"owner": who.owner})
        check_env(spec.env)
        check_render_env(caller, spec.env)
        self.paths.check(spec.scene, spec.output)
        chunks = job_chunks(spec, self.ctx.settings.limits)
        check_frame_token(spec.output, spec.dcc, sum(len(chunk) for chunk in chunks))
        spec = self.projects.enforce(self.ctx.database.db, spec)
        link: ResolvedLink | None = None
        if spec.shotgrid is not None:
            link = resolve(self.shotgrid, self.ctx.settings.shotgrid, spec.shotgrid, spec.project)
            spec = spec.model_copy(update={"shotgrid": link.link})
        now = self.ctx.now()
        with self.ctx.database.transaction() as db:
            if key is not None:  # a resend may have overtaken this one since the look above
                kept = idem_store.find(db, key.caller, key.key)
            if kept is None:
                job_id = self._store(db, spec, chunks, link, now, who.submitted_by)
                if key is not None:
                    idem_store.insert(db, key.caller, key.key, key.request_hash, job_id, now)
        if key is not None and kept is not None:
            return self._resent(key, kept)
        logger.info("job_id=%s submitted: %s, %d tasks", job_id, spec.name, len(chunks))
        job = self.get(job_id)
        if job.rank_reason.startswith(NO_NODE):
            logger.warning("job_id=%s: %s", job_id, job.rank_reason)
        if key is not None:  # the first answer, for resends (a crash before: they get the job)
            with self.ctx.database.transaction() as db:
                idem_store.keep_response(db, key.caller, key.key, job.model_dump_json())
        return job

    def _store(
        self,
        db: sqlite_utils.Database,
        spec: JobSpec,
        chunks: list[list[int]],
        link: ResolvedLink | None,
        now: float,
        submitted_by: str | None,
    ) -> int:
        """Inserts the job, its tasks, its dependencies, its ShotGrid link, its rank and its
        staging (in a transaction); returns its id."""
        deps = self.dependencies.checked(db, spec.dependencies)
        job_id = job_store.insert_job(db, spec, chunks, now, submitted_by)
        if spec.paused:  # in the job's own transaction: no agent ever sees it queued
            job_store.move_job(db, job_id, [JobState.QUEUED], JobState.PAUSED)
        if deps:  # a new job names older ones only: no loop can close here
            self.dependencies.store(db, job_id, deps)
            self._settle(db, job_id, None, force=False)  # waiting, if they are unmet
        if link is not None:
            sg_store.insert_link(
                db, job_id, link.project_id, link.entity_type, link.entity_id, link.task_id
            )
            sg_store.upsert_entities(db, link.records, now)
        self.ranking.rank_one(db, job_id, now)
        if self.staging is not None:
            self.staging.enqueue(db, job_id, spec, now)
        return job_id

    def _resent(self, key: SubmissionKey, kept: KeptKey) -> Job:
        """The first answer to a resent submission; nothing is stored."""
        check_resend(key, kept)
        logger.info("job_id=%s sent again with the same Idempotency-Key", kept.job_id)
        if kept.response is not None:
            return Job.model_validate_json(kept.response)
        return self.get(kept.job_id)

    def owner_of(self, job_id: int) -> str:
        """The owner of a job (for the ownership rule).

        Raises:
            NotFound: there is no such job.
        """
        return str(job_store.require_job(self.ctx.database.db, job_id)["owner"])

    def get(self, job_id: int) -> Job:
        return self._load(self.ctx.database.db, job_id)

    def data(self, job_id: int) -> JobData:
        """The job's files in the object store and its frames coming home, read together.

        Raises:
            NotFound: there is no such job.
        """
        with self.ctx.database.transaction() as db:
            job_store.require_job(db, job_id)
            return StagingService.job_data(db, job_id)

    def list_jobs(self, filters: JobFilter) -> JobPage:
        """One page of job summaries in the filter's order: five queries whatever the page's
        size.

        A summary has each job's place in the queue but not the rank's parts and sentence,
        its errors or its spec; ``get`` gives those for one job. Sorted by rank, the page
        follows the same read of the queue as the places it shows.
        """
        db = self.ctx.database.db
        by_rank = filters.sort is JobSort.RANK
        places = self.ranking.positions(db) if by_rank else {}
        rows, total = job_store.list_jobs(db, filters, list(places))
        ids = [row["id"] for row in rows]
        counts = job_store.task_counts(db, ids)
        stats = job_store.frame_stats(db, ids)
        if rows and not by_rank:
            places = self.ranking.positions(db)
        now = self.ctx.now()
        items = [
            summary_fields(row, counts[row["id"]], stats[row["id"]], places.get(row["id"]), now)
            for row in rows
        ]
        # One validation of the whole page: a third faster than a model per job.
        return JobPage.model_validate(
            {"items": items, "total": total, "offset": filters.offset, "limit": filters.limit}
        )

    def cancel(self, job_id: int, reason: str = "Cancelled by request.") -> Job:
        """Cancels the job; agents running its tasks kill them on their next heartbeat."""
        now = self.ctx.now()
        with self.ctx.database.transaction() as db:
            row = job_store.require_job(db, job_id)
            check_job_move(job_id, JobState(row["state"]), JobState.CANCELLED)
            job_store.move_job(
                db, job_id, [JobState(row["state"])], JobState.CANCELLED,
                finished_at=now, message=reason,
            )  # fmt: skip
            cancelled = task_store.cancel_job_tasks(db, job_id, now)
            rank_store.delete_rank(db, job_id)
            self._settle_dependants(db, job_id)
        logger.info("job_id=%s cancelled (%d tasks)", job_id, cancelled)
        return self.get(job_id)

    def pause(self, job_id: int) -> Job:
        """No new task of this job is handed out; running ones finish."""
        with self.ctx.database.transaction() as db:
            row = job_store.require_job(db, job_id)
            check_job_move(job_id, JobState(row["state"]), JobState.PAUSED)
            if row["state"] == JobState.PAUSED.value:
                raise IllegalStateChange(f"Job {job_id} is already paused.")
            job_store.move_job(db, job_id, [JobState(row["state"])], JobState.PAUSED)
        return self.get(job_id)

    def resume(self, job_id: int) -> Job:
        with self.ctx.database.transaction() as db:
            row = job_store.require_job(db, job_id)
            if row["state"] != JobState.PAUSED.value:
                raise IllegalStateChange(
                    f"Job {job_id} is {row['state']}, not paused; only a paused job can resume."
                )
            self._settle(db, job_id, JobState.QUEUED, force=True)
            self.ranking.rank_one(db, job_id)
        return self.get(job_id)

    def retry(self, job_id: int) -> Job:
        """Requeues the job's failed tasks with a fresh retry budget."""
        with self.ctx.database.transaction() as db:
            row = job_store.require_job(db, job_id)
            if JobState(row["state"]) in (JobState.CANCELLED, JobState.SUCCEEDED):
                raise IllegalStateChange(
                    f"Job {job_id} is {row['state']}; only failed tasks of an unfinished or "
                    "failed job can be retried. Submit it again instead."
                )
            if task_store.requeue_failed(db, job_id) == 0:
                raise IllegalStateChange(f"Job {job_id} has no failed tasks to retry.")
            self.reopen(db, job_id)
        return self.get(job_id)

    def reopen(self, db: sqlite_utils.Database, job_id: int) -> JobState:
        """Settles a job some of whose tasks were put back in the queue by hand (in a
        transaction): a failed job is open again, and the job is ranked anew."""
        current = JobState(job_store.require_job(db, job_id)["state"])
        job_store.reopen(db, job_id)
        base = JobState.QUEUED if current.finished else current
        state = self._settle(db, job_id, base, force=True)
        self.ranking.rank_one(db, job_id)
        return state

    def set_priority(self, job_id: int, priority: int) -> Job:
        with self.ctx.database.transaction() as db:
            row = job_store.require_job(db, job_id)
            if JobState(row["state"]).finished:
                raise IllegalStateChange(
                    f"Job {job_id} is {row['state']}; the priority of a finished job cannot change."
                )
            spec = job_store.job_spec(row).model_copy(update={"priority": priority})
            job_store.set_priority(db, job_id, priority, spec.model_dump_json())
            self.ranking.rank_one(db, job_id)
        return self.get(job_id)

    def pin(self, job_id: int, change: PinChange, by: str) -> Job:
        """Puts the job above every unpinned one (or back among them); recorded with ``by``,
        the signed-in caller (``change.by`` is ignored)."""
        now = self.ctx.now()
        with self.ctx.database.transaction() as db:
            row = job_store.require_job(db, job_id)
            if change.pinned and JobState(row["state"]).finished:
                raise IllegalStateChange(
                    f"Job {job_id} is {row['state']}; only an unfinished job can be pinned."
                )
            rank_store.set_pin(db, job_id, change.pinned, by, now, change.note)
            rank_store.record_override(
                db, now, by, "pin" if change.pinned else "unpin", f"job {job_id}",
                str(change.pinned).lower(), change.note,
            )  # fmt: skip
            self.ranking.rank_one(db, job_id, now)
        logger.info("job_id=%s %s by %s", job_id, "pinned" if change.pinned else "unpinned", by)
        return self.get(job_id)

    def set_dependencies(self, job_id: int, change: DependsOnChange) -> Job:
        """Makes ``change`` the jobs an unfinished job waits for (its frame-by-frame edges
        rebuilt), and settles it: it waits, or is released, at once.

        Raises:
            NotFound: there is no such job.
            IllegalStateChange: the job has finished.
            UnknownDependency: the list names jobs that do not exist.
            DependencyCycle: the jobs would wait for each other in a loop.
        """
        with self.ctx.database.transaction() as db:
            row = job_store.require_job(db, job_id)
            if JobState(row["state"]).finished:
                raise IllegalStateChange(
                    f"Job {job_id} is {row['state']}; only an unfinished job's dependencies can "
                    "change. Submit it again to render it after other jobs."
                )
            deps = self.dependencies.checked(db, change.dependencies)
            self.dependencies.check_no_loop(db, job_id, deps)
            self.dependencies.store(db, job_id, deps)
            spec = job_store.job_spec(row).model_copy(update={"depends_on": change.depends_on})
            job_store.set_job_spec(db, job_id, spec.model_dump_json())
            self._settle(db, job_id, None, force=False)
            self.ranking.rank_one(db, job_id)
        return self.get(job_id)

    def tasks(self, job_id: int) -> list[Task]:
        """Every task of the job (at most ``limits.max_tasks_per_job``), for the daemon's own
        use; callers outside get pages (``task_page``)."""
        db = self.ctx.database.db
        job_store.require_job(db, job_id)
        return [task_from_row(row) for row in task_store.list_tasks(db, job_id)]

    def frame_states(self, job_id: int) -> list[tuple[list[int], TaskState]]:
        """Each task's frames and state in task order: what a frame grid needs, read without
        building whole tasks (a job page of 10,000 tasks asks for it every few seconds)."""
        db = self.ctx.database.db
        job_store.require_job(db, job_id)
        rows = task_store.task_frames(db, job_id)
        return [(json.loads(frames), TaskState(state)) for frames, state in rows]

    def done_outputs(self, job_id: int) -> list[str]:
        """The files the job's done tasks reported, in task order."""
        db = self.ctx.database.db
        job_store.require_job(db, job_id)
        return [path for row in task_store.done_outputs(db, job_id) for path in json.loads(row)]

    def task_page(self, job_id: int, offset: int, limit: int) -> TaskPage:
        """One page of the job's tasks in task order, with how many there are."""
        db = self.ctx.database.db
        job_store.require_job(db, job_id)
        rows, total = task_store.page_tasks(db, job_id, offset, limit)
        items = [task_from_row(row) for row in rows]
        return TaskPage(items=items, total=total, offset=offset, limit=limit)

    def task(self, job_id: int, task_id: int) -> Task:
        """The job's task ``task_id``, with its agent's name.

        Raises:
            NotFound: no such job, or the job has no such task.
        """
        db = self.ctx.database.db
        job_store.require_job(db, job_id)
        row = task_store.named_task(db, job_id, task_id)
        if row is None:
            raise NotFound(f"Job {job_id} has no task {task_id}.")
        return task_from_row(row)

    def latest_started_task(self, job_id: int) -> Task | None:
        """The job's task that started last, a running one first; None before any started."""
        row = task_store.latest_started(self.ctx.database.db, job_id)
        return None if row is None else task_from_row(row)

    def log(self, job_id: int, task_id: int, offset: int, attempt: int | None) -> TaskLog:
        db = self.ctx.database.db
        task = task_store.get_task(db, task_id)
        if task is None or task["job_id"] != job_id:
            raise NotFound(f"Job {job_id} has no task {task_id}.")
        attempt = task["attempts"] if attempt is None else attempt
        text, next_offset = self.ctx.task_logs.read(job_id, task_id, attempt, offset)
        return TaskLog(task_id=task_id, offset=offset, text=text, next_offset=next_offset)

    # --- shared with the agent service ----------------------------------------------------

    def settle(self, db: sqlite_utils.Database, job_id: int) -> JobState:
        """Re-derives the job's state from its tasks after a task changed (in a transaction)."""
        return self._settle(db, job_id, None, force=False)

    def _settle(
        self, db: sqlite_utils.Database, job_id: int, base: JobState | None, *, force: bool
    ) -> JobState:
        row = job_store.require_job(db, job_id)
        current = JobState(row["state"])
        counts = job_store.task_counts(db, [job_id])[job_id]
        away = data_store.count_outputs(db, job_id)["away"]
        failed = counts.get(TaskState.FAILED.value, 0)
        limit = None
        if failed:  # the spec is read only when it can matter (a lease settles every time)
            limit = failed_limit(job_store.job_spec(row).max_failed_tasks, sum(counts.values()))
        hold = self.dependencies.hold(db, job_id)
        target = derive_job_state(
            base or current, counts, away, failed_limit=limit, waiting=hold is not None
        )
        why = "" if hold is None else hold_sentence(hold)
        reason_changed = target is JobState.WAITING and row["message"] != why
        if target is current and not force and not reason_changed:
            return current
        fields: dict[str, Any] = {}
        now = self.ctx.now()
        if target is JobState.WAITING:
            fields["message"] = why
        elif current is JobState.WAITING and not target.finished:
            fields["message"] = ""  # released: the reason it waited no longer holds
        if target is JobState.RUNNING and row["started_at"] is None:
            fields["started_at"] = now
        if target.finished:
            fields["finished_at"] = now
            if target is JobState.FAILED:
                stopped_at = self._stop_early(db, job_id, counts, limit)
                fields["message"] = self._failed_message(db, job_id, stopped_at)
            elif target is JobState.SUCCEEDED:
                fields["message"] = "All frames rendered."
        elif away and counts.get(TaskState.DONE.value, 0) == sum(counts.values()):
            fields["message"] = f"{away} frame(s) on their way home from the object store."
        if target is not current or fields:
            job_store.move_job(db, job_id, (*job_states_from(target), current), target, **fields)
            logger.info("job_id=%s %s -> %s", job_id, current.value, target.value)
        if reason_changed and hold is not None and hold.broken:
            job_needs_attention(db, self.ctx.settings, job_id, why, now)
        if target is not current:
            if not (target is JobState.RUNNING and current is JobState.PAUSED):
                enqueue_for_transition(db, self.ctx.settings.shotgrid, row, target, now)
            job_moved(db, self.ctx.settings, job_id, target, now)
            if target.finished:
                rank_store.delete_rank(db, job_id)
            self._settle_dependants(db, job_id)
        return target

    def _settle_dependants(self, db: sqlite_utils.Database, job_id: int) -> None:
        """Settles the jobs waiting for ``job_id`` after its state changed: released when it
        succeeded, held when it failed or was cancelled, released again when it runs anew.
        Each settles its own dependants in turn when it moves (jobs never wait in a loop)."""
        for dependant in self.dependencies.dependants(db, job_id):
            self._settle(db, dependant, None, force=False)

    def _stop_early(
        self, db: sqlite_utils.Database, job_id: int, counts: dict[str, int], limit: int | None
    ) -> int | None:
        """A job failing with tasks still to render stopped at its ``max_failed_tasks``: its
        tasks out on nodes come back, no retry spent (``retry`` resumes the job). Returns how
        many tasks had failed, or None when every task had ended anyway."""
        ended = sum(counts.get(s.value, 0) for s in TaskState if s.finished)
        if limit is None or ended == sum(counts.values()):
            return None
        failed = counts.get(TaskState.FAILED.value, 0)
        taken = task_store.requeue_active(db, job_id)
        logger.warning(
            "job_id=%s stopped early: %d tasks failed (its max_failed_tasks); %d taken back "
            "from their nodes", job_id, failed, taken,
        )  # fmt: skip
        return failed

    @staticmethod
    def _failed_message(db: sqlite_utils.Database, job_id: int, stopped_at: int | None) -> str:
        failed = task_store.failed_tasks(db, job_id)
        first_error = failed[0]["error"] if failed else ""
        return failed_job_message(frames_of(failed), first_error, stopped_at=stopped_at)

    def _load(self, db: sqlite_utils.Database, job_id: int) -> Job:
        row = job_store.require_job(db, job_id)
        counts = job_store.task_counts(db, [job_id])[job_id]
        stats = job_store.frame_stats(db, [job_id])[job_id]
        rank = self.ranking.views(db, [row])[job_id]
        return self._build(db, row, counts, stats, rank)

    def _build(
        self,
        db: sqlite_utils.Database,
        row: dict[str, Any],
        counts: dict[str, int],
        stats: dict[str, Any],
        rank: RankView,
    ) -> Job:
        state = JobState(row["state"])
        spec = job_store.job_spec(row)
        estimate = no_node = None
        if not state.finished:
            no_node = self.fit.why_not(db, spec)
        if _estimated(state):
            estimate = estimate_finish(
                self.ctx.now(), row["frame_count"], stats["done"], stats["seconds"],
                stats["partial"], stats["active"],
            )  # fmt: skip
        return Job(
            id=row["id"],
            spec=spec,
            submitted_by=row["submitted_by"],
            state=state,
            submitted_at=to_datetime(row["submitted_at"]),
            started_at=to_optional_datetime(row["started_at"]),
            finished_at=to_optional_datetime(row["finished_at"]),
            archived_at=to_optional_datetime(row["archived_at"]),
            frame_count=row["frame_count"],
            task_counts={TaskState(s): counts.get(s.value, 0) for s in TaskState},
            progress=progress_fraction(row["frame_count"], stats["done"]),
            estimated_finish=to_optional_datetime(estimate),
            message=row["message"] or no_node or "",
            errors=job_store.job_errors(db, row["id"]),
            failed_frames=frames_of(task_store.failed_tasks(db, row["id"])),
            error_classes=task_store.error_classes(db, row["id"]),
            rank=rank.position,
            rank_reason=no_node if no_node and state is not JobState.PAUSED else rank.reason,
            rank_score=rank.score,
            rank_parts=rank.parts,
        )


def job_chunks(spec: JobSpec, limits: LimitSettings) -> list[list[int]]:
    """The job's tasks as chunks of frames, within the job limits. The frames are counted
    before the range is expanded, so a huge range costs nothing.

    Raises:
        JobTooLarge: more frames than ``limits.max_frames_per_job``, or more tasks than
            ``limits.max_tasks_per_job``.
    """
    count = count_frames(spec.frames)
    most = limits.max_frames_per_job
    if count > most:
        raise JobTooLarge(
            f"The job names {count:,} frames; this daemon takes at most {most:,} per job "
            "(limits.max_frames_per_job). Split the frame range into several jobs.",
            details={"limit": "limits.max_frames_per_job", "max": most, "requested": count},
        )
    frames = parse_frames(spec.frames, most)
    chunks = chunk_frames(frames, spec.chunk_size)
    most = limits.max_tasks_per_job
    if len(chunks) > most:
        chunk = -(-len(frames) // most)
        raise JobTooLarge(
            f"The job would be cut into {len(chunks):,} tasks; this daemon takes at most "
            f"{most:,} per job (limits.max_tasks_per_job). Use a chunk size of {chunk} or "
            "more, or split the job.",
            details={"limit": "limits.max_tasks_per_job", "max": most, "requested": len(chunks)},
        )
    return chunks


#: Task states with their values, looked up once (enum attribute access is slow per row).
_TASK_STATES = tuple((state, state.value) for state in TaskState)


def summary_fields(
    row: dict[str, Any],
    counts: dict[str, int],
    stats: dict[str, Any],
    rank: int | None,
    now: float,
) -> dict[str, Any]:
    """The fields of a job's ``JobSummary``, from its ``SUMMARY_COLUMNS`` row, task counts and
    frame statistics."""
    state = JobState(row["state"])
    estimate = None
    if _estimated(state):
        estimate = estimate_finish(
            now, row["frame_count"], stats["done"], stats["seconds"], stats["partial"],
            stats["active"],
        )  # fmt: skip
    return {
        "id": row["id"],
        "name": row["name"],
        "owner": row["owner"],
        "project": row["project"],
        "dcc": row["dcc"],
        "priority": row["priority"],
        "state": state,
        "submitted_at": to_datetime(row["submitted_at"]),
        "started_at": to_optional_datetime(row["started_at"]),
        "finished_at": to_optional_datetime(row["finished_at"]),
        "archived_at": to_optional_datetime(row["archived_at"]),
        "frame_count": row["frame_count"],
        "task_counts": {task_state: counts.get(value, 0) for task_state, value in _TASK_STATES},
        "progress": progress_fraction(row["frame_count"], stats["done"]),
        "estimated_finish": to_optional_datetime(estimate),
        "message": row["message"],
        "rank": rank,
    }


def _estimated(state: JobState) -> bool:
    """Whether a job in ``state`` has a finish to estimate: not a finished one, nor a paused
    one (it renders nothing more until somebody resumes it)."""
    return not state.finished and state is not JobState.PAUSED


def frames_of(tasks: list[dict[str, Any]]) -> list[int]:
    """The frames of task rows, sorted."""
    return sorted(frame for task in tasks for frame in json.loads(task["frames"]))


def task_from_row(row: dict[str, Any]) -> Task:
    return Task(
        id=row["id"],
        job_id=row["job_id"],
        index=row["idx"],
        frames=json.loads(row["frames"]),
        state=TaskState(row["state"]),
        attempts=row["attempts"],
        agent_id=row["agent_id"],
        last_agent_id=row.get("last_agent_id"),
        agent_name=row.get("agent_name"),
        lease_expires_at=to_optional_datetime(row["lease_expires_at"]),
        started_at=to_optional_datetime(row["started_at"]),
        finished_at=to_optional_datetime(row["finished_at"]),
        progress=row["progress"],
        outputs=json.loads(row["outputs"]),
        error=row["error"],
        error_class=FailureClass(row["error_class"]) if row["error_class"] else None,
    )
