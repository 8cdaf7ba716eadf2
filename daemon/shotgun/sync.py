"""The ShotGrid sync: reads what changed since the last pass, for entities of unfinished jobs.

Triggered by APScheduler (tests call ``sync`` with a fake clock). Each pass reads the entities
that carry the mapped priority and due date (``priority_entity``, ``due_entity``) and are
linked to unfinished jobs, asking only for those whose ``updated_at`` (ShotGrid's own clock, so
no skew with ours) is past the newest one already seen, less ``sync_overlap_s`` against commit
races; entities never read are read in full.
Network calls happen outside any database transaction; what was read is written in one short
transaction. When ShotGrid fails, ranking goes on with the last values read, which are marked
stale, and the next attempt backs off exponentially up to ``retry_max_s``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from common.config import ShotGridSettings
from common.models import ShotGridStatus
from daemon.context import Context, to_optional_datetime
from daemon.shotgun.client import ShotGridClient
from daemon.shotgun.errors import ShotGridUnavailable
from daemon.shotgun.mapping import fields_for, to_datetime, to_record
from daemon.storage import shotgrid as sg_store
from daemon.storage.shotgrid import EntityRecord

logger = logging.getLogger(__name__)

#: Ids per ``find`` call (ShotGrid filters get slow and long past a few hundred).
ID_BATCH = 200


@dataclass(frozen=True)
class SyncReport:
    """What one sync pass did."""

    ran: bool
    read: int = 0
    changed: int = 0
    error: str = ""


def is_stale(state: dict[str, object], settings: ShotGridSettings, now: float) -> bool:
    """Whether the values read from ShotGrid may be out of date."""
    if not settings.configured:
        return False
    if state.get("failures"):
        return True
    success = state.get("last_success_at")
    return isinstance(success, float | int) and now - success > settings.stale_after_s


def retry_delay(failures: int, settings: ShotGridSettings) -> float:
    """Seconds to wait after ``failures`` failed attempts in a row: doubling, capped."""
    return float(min(settings.sync_interval_s * 2 ** max(0, failures - 1), settings.retry_max_s))


class ShotGridSync:
    """Keeps the daemon's copy of ShotGrid priorities, due dates and statuses current."""

    def __init__(
        self,
        context: Context,
        client: ShotGridClient | None,
        on_change: Callable[[], object] = lambda: None,
    ) -> None:
        self.ctx = context
        self.client = client
        self.on_change = on_change
        self._checked_schema = False

    @property
    def settings(self) -> ShotGridSettings:
        return self.ctx.settings.shotgrid

    def sync(self, now: float | None = None, *, force: bool = False) -> SyncReport:
        """One pass; while failing, waits out the backoff unless ``force``."""
        now = self.ctx.now() if now is None else now
        if self.client is None:
            return SyncReport(ran=False)
        state = sg_store.sync_state(self.ctx.database.db)
        waiting = state["failures"] and (state["next_attempt_at"] or 0) > now
        if waiting and not force:
            return SyncReport(ran=False, error=state["last_error"])
        try:
            records, newest = self._read(now)
        except ShotGridUnavailable as exc:
            failures = state["failures"] + 1
            delay = retry_delay(failures, self.settings)
            with self.ctx.database.transaction() as db:
                sg_store.record_attempt(db, now, error=exc.message, next_attempt_at=now + delay)
            logger.warning(
                "ShotGrid sync failed (%d in a row; next try in %.0f s); ranking goes on with the "
                "last values read: %s", failures, delay, exc.message,
            )  # fmt: skip
            return SyncReport(ran=True, error=exc.message)
        with self.ctx.database.transaction() as db:
            changed = sg_store.upsert_entities(db, records, now)
            for entity_type, updated_at in newest.items():
                sg_store.advance_cursor(db, entity_type, updated_at)
            sg_store.prune_entities(db)
            sg_store.record_attempt(db, now, error=None, next_attempt_at=None)
        if state["failures"]:
            logger.info("ShotGrid sync works again after %d failure(s)", state["failures"])
        if changed:
            logger.info("ShotGrid sync: %d of %d entities changed", changed, len(records))
            self.on_change()
        return SyncReport(ran=True, read=len(records), changed=changed)

    def _read(self, now: float) -> tuple[list[EntityRecord], dict[str, float]]:
        """Reads the linked entities that changed; returns them and the newest ``updated_at``."""
        assert self.client is not None
        db = self.ctx.database.db
        carriers = {self.settings.priority_entity, self.settings.due_entity}
        linked = {t: ids for t, ids in sg_store.linked_entities(db).items() if t in carriers}
        cursors = sg_store.cursors(db)
        if linked and not self._checked_schema:
            self._check_schema(set(linked))
        records: list[EntityRecord] = []
        newest: dict[str, float] = {}
        for entity_type, ids in sorted(linked.items()):
            fields = fields_for(entity_type, self.settings)
            known = sg_store.cached_ids(db, entity_type) & ids
            since = cursors.get(entity_type)
            batches: list[tuple[list[int], list[list[object]]]] = []
            new = sorted(ids - known)
            batches += [(new[i : i + ID_BATCH], []) for i in range(0, len(new), ID_BATCH)]
            old = sorted(known)
            changed_since = (
                [["updated_at", "greater_than", to_datetime(since - self.settings.sync_overlap_s)]]
                if since is not None
                else []
            )
            batches += [
                (old[i : i + ID_BATCH], changed_since) for i in range(0, len(old), ID_BATCH)
            ]
            for batch, extra in batches:
                for row in self.client.find(entity_type, [["id", "in", batch], *extra], fields):
                    record = to_record(entity_type, row, self.settings)
                    records.append(record)
                    if record.updated_at is not None:
                        newest[entity_type] = max(newest.get(entity_type, 0.0), record.updated_at)
        return records, newest

    def _check_schema(self, entity_types: set[str]) -> None:
        """Fails the sync with a clear message when a configured field is not on the site."""
        assert self.client is not None
        for entity_type in sorted(entity_types & {"Task", self.settings.priority_entity}):
            have = self.client.field_names(entity_type)
            missing = [f for f in fields_for(entity_type, self.settings) if f not in have]
            if missing:
                raise ShotGridUnavailable(
                    f"ShotGrid's {entity_type} has no field {', '.join(missing)}; fix the "
                    "[shotgrid] field mapping of the daemon's configuration."
                )
        self._checked_schema = True

    def status(self, now: float | None = None) -> ShotGridStatus:
        now = self.ctx.now() if now is None else now
        db = self.ctx.database.db
        state = sg_store.sync_state(db)
        counts = sg_store.outbox_counts(db)
        return ShotGridStatus(
            configured=self.settings.configured,
            site=self.settings.site,
            healthy=not state["failures"],
            stale=is_stale(state, self.settings, now),
            last_attempt_at=to_optional_datetime(state["last_attempt_at"]),
            last_success_at=to_optional_datetime(state["last_success_at"]),
            next_attempt_at=to_optional_datetime(state["next_attempt_at"]),
            consecutive_failures=state["failures"],
            last_error=state["last_error"],
            linked_jobs=sg_store.linked_job_count(db),
            entities_cached=sg_store.entity_count(db),
            writeback_pending=counts.get("pending", 0),
            writeback_failed=counts.get("failed", 0),
            writeback_last_error=sg_store.last_outbox_error(db),
        )
