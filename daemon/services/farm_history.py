"""The farm over time: a sample stored every ``[monitoring] sample_interval_s`` (APScheduler
triggers ``sample``), kept ``history_keep_s``, and read back as series for the farm page's charts
and ``GET /api/v1/farm/history``.

A sample holds the agents online and busy, the queue's depth, the frames finished in the hour
before it and each show's cloud spend so far. Reading a long span averages samples in buckets
(the last spend of each bucket: spend only grows), so an answer has a bounded number of points.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from common.models import FarmHistory, FarmPoint, HistoryQuery, SpendSeries
from daemon.context import Context, to_datetime
from daemon.services.cloud_books import CloudBooks
from daemon.storage import monitoring as store

logger = logging.getLogger(__name__)

HOUR = 3600.0
FIGURES = ("agents_online", "agents_busy", "queue_depth", "frames_per_hour")


class FarmHistoryService:
    """Stores samples of the farm and reads them back."""

    def __init__(self, context: Context, books: CloudBooks) -> None:
        self.ctx = context
        self.books = books

    def sample(self, now: float | None = None) -> None:
        """Stores the farm now and drops samples older than the retention (one transaction)."""
        now = self.ctx.now() if now is None else now
        spend = {
            show.project: round(show.spent.total, 4)
            for show in self.books.spend().shows
            if show.spent.total > 0
        }
        settings = self.ctx.settings.monitoring
        with self.ctx.database.transaction() as db:
            online, busy = store.agents_online_and_busy(db)
            figures = {
                "agents_online": online, "agents_busy": busy,
                "queue_depth": store.queue_depth(db),
                "frames_per_hour": store.frames_done_since(db, now - HOUR),
            }  # fmt: skip
            store.record_sample(db, now, figures, spend)
            dropped = store.purge_samples(db, now - settings.history_keep_s)
        if dropped:
            logger.debug("dropped %d farm sample(s) past their retention", dropped)

    def history(
        self, query: HistoryQuery, *, with_spend: bool, now: float | None = None
    ) -> FarmHistory:
        """The samples of the last ``query.hours`` hours in at most ``query.points`` points;
        the shows' spend only ``with_spend`` (for those who may read reports)."""
        now = self.ctx.now() if now is None else now
        since = now - query.hours * HOUR
        db = self.ctx.database.db
        width = (now - since) / query.points
        points = [
            _point(rows)
            for rows in _buckets(store.samples(db, since, now), since, width, query.points)
        ]
        spend: list[SpendSeries] = []
        if with_spend:
            by_show: dict[str, list[dict[str, Any]]] = {}
            for row in store.spend_samples(db, since, now):
                by_show.setdefault(row["project"], []).append(row)
            spend = [
                SpendSeries(
                    project=project,
                    points=[
                        (to_datetime(rows[-1]["at"]), rows[-1]["spent"])
                        for rows in _buckets(show_rows, since, width, query.points)
                    ],
                )
                for project, show_rows in sorted(by_show.items())
            ]
        return FarmHistory(
            since=to_datetime(since), until=to_datetime(now),
            sample_interval_s=self.ctx.settings.monitoring.sample_interval_s,
            points=points, spend=spend,
        )  # fmt: skip


def _buckets(
    rows: Sequence[dict[str, Any]], since: float, width: float, count: int
) -> list[list[dict[str, Any]]]:
    """``rows`` (oldest first, each with ``at``) grouped in ``count`` spans of ``width`` seconds
    from ``since`` (the last span takes its end); empty spans are left out."""
    groups: list[list[dict[str, Any]]] = []
    current = -1
    for row in rows:
        index = min(int((row["at"] - since) // width), count - 1)
        if index != current:
            groups.append([])
            current = index
        groups[-1].append(row)
    return groups


def _point(rows: Sequence[dict[str, Any]]) -> FarmPoint:
    """The mean of a bucket of samples."""
    mean = {name: sum(row[name] for row in rows) / len(rows) for name in FIGURES}
    ratios = [row["agents_busy"] / row["agents_online"] for row in rows if row["agents_online"]]
    return FarmPoint(
        at=to_datetime(sum(row["at"] for row in rows) / len(rows)),
        agents_online=round(mean["agents_online"], 2),
        agents_busy=round(mean["agents_busy"], 2),
        utilisation=round(sum(ratios) / len(rows), 4),
        queue_depth=round(mean["queue_depth"], 2),
        frames_per_hour=round(mean["frames_per_hour"], 2),
    )
