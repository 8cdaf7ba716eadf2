"""Ranking use cases: the periodic pass, ranking one job now, the queue, production overrides.

The pass (triggered by APScheduler) reads every unfinished job (from a covering index; no task
is scanned), ranks them with the pure policy, and writes the ranks in small transactions, so an
agent asking for a lease waits at most for one batch, never for a pass; it then checkpoints the
WAL outside the write lock, so commits on the lease path do not. Jobs are also ranked one at a
time when they are submitted, reprioritised, pinned or resumed, so they are leasable at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from common.config import RankingSettings
from common.errors import NotFound
from common.models import (
    OverrideRecord,
    QueueEntry,
    QueuePage,
    RankPart,
    ShowHoldChange,
    ShowPolicy,
    ShowShareChange,
)
from common.states import JobState
from daemon.context import Context, to_datetime, to_optional_datetime
from daemon.scheduling.ranking import (
    Policy,
    Rank,
    ShowShare,
    describe_parts,
    explain,
    moved,
    rank_job,
    show_shares,
)
from daemon.shotgun.sync import is_stale
from daemon.storage import jobs as job_store
from daemon.storage import limits as limit_store
from daemon.storage import queue as queue_store
from daemon.storage import ranking as rank_store
from daemon.storage import shotgrid as sg_store

logger = logging.getLogger(__name__)

#: Ranks written per transaction by a pass: a lease waits for one batch at most.
WRITE_BATCH = 200


def policy_from(settings: RankingSettings) -> Policy:
    return Policy(
        shotgrid_weight=settings.shotgrid_weight,
        due_weight=settings.due_weight,
        artist_weight=settings.artist_weight,
        age_weight=settings.age_weight,
        fair_share_weight=settings.fair_share_weight,
        due_horizon_s=settings.due_horizon_s,
        age_half_s=settings.age_half_s,
        default_frame_s=settings.default_frame_s,
        unlinked_priority=settings.unlinked_priority,
        over_share_yields=settings.over_share_yields,
    )


@dataclass(frozen=True)
class PassReport:
    """One ranking pass: how many jobs, and where its time went."""

    jobs: int
    read_s: float
    rank_s: float
    write_s: float

    @property
    def seconds(self) -> float:
        return self.read_s + self.rank_s + self.write_s


@dataclass(frozen=True)
class RankView:
    """A job's rank as people see it."""

    position: int | None
    score: float | None
    reason: str
    parts: list[RankPart]
    pinned_by: str | None = None


def _full_limits(db: sqlite_utils.Database) -> dict[str, str]:
    """The farm-wide limits with no unit free now, each with the note a job waiting for it
    gets ("Waiting for a unit of 'maya': 20 of 20 in use. ")."""
    return {
        row["name"]: (
            f"Waiting for a unit of {row['name']!r}: {row['in_use']} of {row['capacity']} in use. "
        )
        for row in limit_store.list_limits(db)
        if not row["per_node"] and row["in_use"] >= row["capacity"]
    }


def _limit_note(db: sqlite_utils.Database, job_id: int, full: dict[str, str]) -> str:
    """The note of the first full limit the job lists; empty when none is full."""
    if not full:
        return ""
    for name in limit_store.limits_of_job(db, job_id):
        if name in full:
            return full[name]
    return ""


class RankingService:
    """Keeps every unfinished job's rank current and explains it."""

    def __init__(self, context: Context) -> None:
        self.ctx = context
        self.policy = policy_from(context.settings.ranking)
        # (commits, read at, order, positions) of the last read of the queue
        self._queue: tuple[int, float, list[int], dict[int, int]] | None = None
        self._queue_read = threading.Lock()

    # --- ranking ------------------------------------------------------------------------------

    def run_pass(self, now: float | None = None) -> PassReport:
        """Ranks every unfinished job; triggered by APScheduler, called by tests directly."""
        now = self.ctx.now() if now is None else now
        started = time.perf_counter()
        db = self.ctx.database.db
        sg = self.ctx.settings.shotgrid
        inputs = rank_store.rank_inputs(db, sg.priority_entity, sg.due_entity)
        slots = rank_store.online_agents(db)
        shares = self._shares(db, {job.project for job in inputs}, slots)
        read = time.perf_counter()
        policy = self.policy
        ranks = [rank_job(job, shares[job.project], policy, now, slots) for job in inputs]
        stored = rank_store.all_ranks(db)
        changed = [rank for rank in ranks if moved(stored.get(rank.job_id), rank)]
        ranked = time.perf_counter()
        for i in range(0, len(changed), WRITE_BATCH):
            with self.ctx.database.transaction() as wdb:
                rank_store.write_ranks(wdb, changed[i : i + WRITE_BATCH])
            time.sleep(0)  # let a waiting lease take the write lock between batches
        with self.ctx.database.transaction() as wdb:
            rank_store.delete_unranked(wdb)
            done = time.perf_counter()
            rank_store.record_pass(wdb, now, done - started, len(ranks))
        self.ctx.database.checkpoint()  # the WAL this pass wrote, and others', off the lock
        report = PassReport(len(ranks), read - started, ranked - read, done - ranked)
        logger.debug("Ranked %d jobs in %.0f ms", report.jobs, report.seconds * 1000)
        return report

    def rank_one(self, db: sqlite_utils.Database, job_id: int, now: float | None = None) -> None:
        """Ranks one job now (inside the caller's transaction), e.g. a new submission."""
        now = self.ctx.now() if now is None else now
        sg = self.ctx.settings.shotgrid
        job = rank_store.rank_input(db, job_id, sg.priority_entity, sg.due_entity)
        if job is None:  # finished: no rank
            rank_store.delete_rank(db, job_id)
            return
        slots = rank_store.online_agents(db)
        shares = self._shares(db, {job.project}, slots)
        rank = rank_job(job, shares[job.project], self.policy, now, slots)
        rank_store.write_ranks(db, [rank])

    def _shares(
        self, db: sqlite_utils.Database, projects: set[str], slots: int
    ) -> dict[str, ShowShare]:
        """Each show's share now; shows on hold or without waiting jobs do not compete."""
        policies = rank_store.show_policies(db)
        held = {p for p, row in policies.items() if row["held"]}
        weights = {p: row["share"] for p, row in policies.items()}
        competing = set(rank_store.waiting_jobs_by_show(db)) - held
        shares = show_shares(weights, rank_store.active_tasks_by_show(db), competing, slots)
        for project in projects - shares.keys():
            shares[project] = ShowShare(target=0.0, usage=0.0, fair=-1.0)
        return shares

    # --- reading ranks -------------------------------------------------------------------------

    def stale(self, db: sqlite_utils.Database) -> bool:
        return is_stale(sg_store.sync_state(db), self.ctx.settings.shotgrid, self.ctx.now())

    def views(
        self,
        db: sqlite_utils.Database,
        rows: Sequence[dict[str, Any]],
        order: Sequence[int] | None = None,
    ) -> dict[int, RankView]:
        """The rank of each of these job rows, with its sentence.

        ``order`` is the queue (``queue_ids``) when the caller has read it already.
        """
        ids = [row["id"] for row in rows]
        ranks = rank_store.get_ranks(db, ids)
        if not ranks:
            return {row["id"]: self._unranked(row, None, set()) for row in rows}
        if order is None:
            order, positions = self._queue_order(db)
        else:
            positions = {job_id: i + 1 for i, job_id in enumerate(order)}
        pinned = rank_store.pins(db, ids)
        held = rank_store.held_shows(db)
        stale = self.stale(db)
        linked = sg_store.linked_ids(db, ids)
        full = _full_limits(db)
        views: dict[int, RankView] = {}
        for row in rows:
            rank = ranks.get(row["id"])
            position = positions.get(row["id"])
            if rank is None or position is None:
                views[row["id"]] = self._unranked(row, rank, held)
                continue
            parts = describe_parts(
                rank, self.policy, row["project"], stale=stale and row["id"] in linked
            )
            reason = explain(parts, position, len(order), pinned_by=pinned.get(row["id"]))
            views[row["id"]] = RankView(
                position=position, score=round(rank.score, 4),
                reason=_limit_note(db, row["id"], full) + reason,
                parts=parts, pinned_by=pinned.get(row["id"]),
            )  # fmt: skip
        return views

    def positions(self, db: sqlite_utils.Database) -> dict[int, int]:
        """Each queued job's place in the queue (1 gets the next task), from the shared read.

        A list of jobs needs only this of the rank; ``views`` also explains it. Read-only.
        """
        return self._queue_order(db)[1]

    def _queue_order(self, db: sqlite_utils.Database) -> tuple[list[int], dict[int, int]]:
        """The queue's order, read again only after a commit (or a second) since the last read.

        Reading the whole order costs milliseconds at 10,000 queued jobs; every job view needs
        it for its position, so pages of views share one read while nothing changed. One thread
        reads it at a time; requests that find it stale together wait for that one read rather
        than each reading it again (with 16 requests in flight, 16 reads at once after each of
        a ranking pass's commits stalled every request and made passes overrun).
        """
        cached = self._cached_queue()
        if cached is not None:
            return cached
        with self._queue_read:
            cached = self._cached_queue()  # another thread read it while this one waited
            if cached is not None:
                return cached
            commits = self.ctx.database.commits
            order = queue_store.queue_ids(db)
            positions = {job_id: i + 1 for i, job_id in enumerate(order)}
            self._queue = (commits, time.monotonic(), order, positions)
            return order, positions

    def _cached_queue(self) -> tuple[list[int], dict[int, int]] | None:
        cached = self._queue
        if (
            cached is not None
            and cached[0] == self.ctx.database.commits
            and time.monotonic() - cached[1] < 1.0
        ):
            return cached[2], cached[3]
        return None

    def _unranked(self, row: dict[str, Any], rank: Rank | None, held: set[str]) -> RankView:
        state = JobState(row["state"])
        parts: list[RankPart] = []
        score = None
        if rank is not None:
            parts = describe_parts(rank, self.policy, row["project"], stale=False)
            score = round(rank.score, 4)
        if state.finished:
            reason = f"Not in the queue: the job is {state.value}."
        elif state is JobState.WAITING:
            reason = row["message"] or "Waiting for the jobs it depends on."
        elif state is JobState.PAUSED:
            reason = "Not in the queue: the job is paused; resume it to hand out its tasks again."
        elif row["project"] in held:
            reason = (
                f"Not in the queue: show {row['project']} is on hold; no task of it is handed "
                "out until production releases it."
            )
        elif rank is None:
            reason = "Not ranked yet; the next ranking pass ranks it."
        else:
            reason = "Not in the queue: every task of it is running or finished; none waits."
        return RankView(position=None, score=score, reason=reason, parts=parts)

    def queue(self, offset: int, limit: int) -> QueuePage:
        """The queue, in the order agents get tasks, one page of it."""
        db = self.ctx.database.db
        order = queue_store.queue_ids(db)
        page_ids = order[offset : offset + limit]
        rows = {row["id"]: row for row in job_store.jobs_by_ids(db, page_ids)}
        views = self.views(db, [rows[i] for i in page_ids], order)
        last = rank_store.last_pass(db)
        items = [
            QueueEntry(
                position=offset + n + 1,
                job_id=job_id,
                name=rows[job_id]["name"],
                owner=rows[job_id]["owner"],
                project=rows[job_id]["project"],
                dcc=rows[job_id]["dcc"],
                state=JobState(rows[job_id]["state"]),
                score=views[job_id].score or 0.0,
                pinned_by=views[job_id].pinned_by,
                reason=views[job_id].reason,
                parts=views[job_id].parts,
            )
            for n, job_id in enumerate(page_ids)
        ]
        return QueuePage(
            items=items, total=len(order), offset=offset, limit=limit,
            ranked_at=to_optional_datetime(last["ranked_at"]), shotgrid_stale=self.stale(db),
        )  # fmt: skip

    # --- production's overrides ----------------------------------------------------------------

    def hold(self, project: str, change: ShowHoldChange, by: str) -> ShowPolicy:
        """Holds or releases a show; recorded with ``by``, the signed-in caller."""
        now = self.ctx.now()
        with self.ctx.database.transaction() as db:
            rank_store.set_hold(db, project, change.held, by, now)
            kind = "hold" if change.held else "release"
            rank_store.record_override(
                db, now, by, kind, f"show {project}", str(change.held).lower(), change.note
            )
        logger.info("Show %s %s by %s", project, "held" if change.held else "released", by)
        return self._show(project)

    def set_share(self, project: str, change: ShowShareChange, by: str) -> ShowPolicy:
        """Sets a show's share; recorded with ``by``, the signed-in caller."""
        now = self.ctx.now()
        with self.ctx.database.transaction() as db:
            rank_store.set_share(db, project, change.share, by, now)
            rank_store.record_override(
                db, now, by, "share", f"show {project}", f"{change.share:g}", change.note
            )
        logger.info("Show %s share set to %g by %s", project, change.share, by)
        return self._show(project)

    def shows(self) -> list[ShowPolicy]:
        """Every show with work or a policy, with its share, target and usage now."""
        db = self.ctx.database.db
        policies = rank_store.show_policies(db)
        waiting = rank_store.waiting_jobs_by_show(db)
        active = rank_store.active_tasks_by_show(db)
        held = {p for p, row in policies.items() if row["held"]}
        weights = {p: row["share"] for p, row in policies.items()}
        shares = show_shares(weights, active, set(waiting) - held, rank_store.online_agents(db))
        result = []
        for project in sorted({*policies, *waiting, *active}):
            row = policies.get(project, {})
            share = shares.get(project)
            result.append(
                ShowPolicy(
                    project=project,
                    share=row.get("share", 1.0),
                    held=bool(row.get("held")),
                    target=round(share.target, 4) if share else 0.0,
                    usage=round(share.usage, 4) if share else 0.0,
                    active_tasks=active.get(project, 0),
                    waiting_jobs=waiting.get(project, 0),
                    held_by=row.get("held_by"),
                    held_at=to_optional_datetime(row.get("held_at")),
                    share_by=row.get("share_by"),
                    share_at=to_optional_datetime(row.get("share_at")),
                )
            )
        return result

    def _show(self, project: str) -> ShowPolicy:
        for show in self.shows():
            if show.project == project:
                return show
        raise NotFound(f"There is no show {project}.")  # unreachable: it has a policy now

    def overrides(self, offset: int, limit: int) -> list[OverrideRecord]:
        rows = rank_store.list_overrides(self.ctx.database.db, limit, offset)
        return [
            OverrideRecord(
                id=row["id"],
                at=to_datetime(row["at"]),
                by=row["by"],
                kind=row["kind"],
                target=row["target"],
                value=row["value"],
                note=row["note"],
            )
            for row in rows
        ]
