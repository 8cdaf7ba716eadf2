"""The cloud's books: what cloud work costs, per show and per job, against each show's budget.

Every cloud task's render seconds are booked when it ends (done, failed or preempted), split
between its show and the shows whose local-only jobs it made room for (the route's payers).
A show's spend is those seconds at its nodes' price plus storage and egress estimates
(``daemon.scheduling.budget``, pure) plus its artists' ended desktop sessions; what running
cloud tasks will still cost, and what live desktop sessions have cost so far, is committed.
Budgets come from the API (``PUT /shows/{show}/budget``), else ``[cloud] budgets``, else
``[cloud] default_budget``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import sqlite_utils

from common.config import Settings
from common.models import JobSpend, ShowSpend, Spend, SpendReport
from daemon.context import Context
from daemon.scheduling import budget
from daemon.services.session_pass import live_cost
from daemon.storage import cloud as cloud_store
from daemon.storage import desktop_sessions as desktop_store

logger = logging.getLogger(__name__)


class CloudBooks:
    """Prices, spend, budgets. Reads inside the caller's transaction where one is given."""

    def __init__(self, context: Context) -> None:
        self.ctx = context

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    def prices(self) -> budget.PriceList:
        cloud = self.settings.cloud
        shapes = [
            budget.ShapePrice(cloud.simcloud.shape, cloud.simcloud.on_demand_price_per_hour,
                              cloud.simcloud.preemptible_price_per_hour),
            budget.ShapePrice(cloud.oci.shape, cloud.oci.on_demand_price_per_hour,
                              cloud.oci.preemptible_price_per_hour),
        ]  # fmt: skip
        seen: set[str] = set()
        unique = [s for s in shapes if not (s.shape in seen or seen.add(s.shape))]  # type: ignore[func-returns-value]
        return budget.PriceList(shapes=tuple(unique))

    def shape_price(self) -> budget.ShapePrice:
        cloud = self.settings.cloud
        name = cloud.simcloud.shape if cloud.backend == "simcloud" else cloud.oci.shape
        return self.prices().shape(name)

    def ledger(self, db: sqlite_utils.Database, now: float) -> budget.Ledger:
        prices = self.prices()
        fallback = self.shape_price().shape
        nodes = [
            budget.NodeUsage(
                project=row["project"],
                job_id=row["job_id"],
                shape=row["shape"]
                if row["shape"] in {s.shape for s in prices.shapes}
                else fallback,
                preemptible=bool(row["preemptible"]),
                seconds=row["seconds"],
            )
            for row in cloud_store.usage(db)
        ]
        storage = [
            budget.StorageUsage(
                project=row["project"],
                job_id=row["job_id"],
                gb=row["bytes_total"] / 1e9,
                seconds=max(0.0, now - (row["staged_at"] or now)),
            )
            for row in cloud_store.staged_bytes(db)
        ]
        egress = [
            budget.EgressUsage(
                project=row["project"], job_id=row["job_id"], gb=(row["bytes"] or 0) / 1e9
            )
            for row in cloud_store.frames_home_bytes(db)
        ]
        desktops = [
            budget.DesktopUsage(project=project, cost=cost)
            for project, cost in desktop_store.booked_by_project(db).items()
        ]
        return budget.build_ledger(prices, nodes, storage, egress, desktops)

    def owed(self, db: sqlite_utils.Database, now: float) -> dict[str, float]:
        price = self.shape_price()
        running = []
        for row in cloud_store.running_cloud_tasks(db):
            node = cloud_store.node_of_agent(db, row["node"])
            frame_s = (
                row["render_s"] / row["frames_done"]
                if row["frames_done"]
                else self.settings.ranking.default_frame_s
            )
            start = row["started_at"] or now
            running.append(
                budget.RunningTask(
                    project=row["project"],
                    job_id=row["job_id"],
                    shape=price.shape,
                    preemptible=bool(node["preemptible"]) if node else True,
                    expected_end=start + row["frame_count"] * frame_s,
                )
            )
        owed = budget.committed(running, self.prices(), now)
        for session in desktop_store.launched_live_sessions(db):  # their cost so far
            owed[session["project"]] = owed.get(session["project"], 0.0) + live_cost(session, now)
        return owed

    def budget_of(self, project: str, budgets: dict[str, float]) -> float:
        cloud = self.settings.cloud
        return budgets.get(project, cloud.budgets.get(project, cloud.default_budget))

    def show_budgets(self, db: sqlite_utils.Database, now: float) -> dict[str, budget.ShowBudget]:
        ledger = self.ledger(db, now)
        owed = self.owed(db, now)
        stored = cloud_store.budgets(db)
        price = budget.price_per_cloud_s(self.shape_price())
        projects = {row["project"] for row in db.query("SELECT DISTINCT project FROM jobs")}
        projects |= set(stored) | set(self.settings.cloud.budgets)
        projects |= set(desktop_store.booked_by_project(db)) | {
            row["project"] for row in desktop_store.launched_live_sessions(db)
        }
        return {
            p: budget.show_budget(p, self.budget_of(p, stored), ledger, owed, price)
            for p in projects
        }

    def record_task_end(
        self,
        db: sqlite_utils.Database,
        agent: dict[str, Any],
        task: dict[str, Any],
        project: str,
        now: float,
        *,
        preempted: bool = False,
    ) -> None:
        """Books a cloud task's render seconds to its show and job."""
        node = cloud_store.node_of_agent(db, agent["name"])
        seconds = max(0.0, now - (task["started_at"] or now))
        route = cloud_store.route_of(db, task["job_id"])
        payers = json.loads(route["payers"]) if route else {}
        shares = payers if sum(payers.values()) > 0 else {project: 1}
        total = sum(shares.values())
        for payer, frames in shares.items():  # shows it made room for pay their part
            cloud_store.record_usage(
                db,
                {
                    "at": now, "project": payer, "job_id": task["job_id"], "task_id": task["id"],
                    "node": agent["name"], "shape": node["shape"] if node else "",
                    "preemptible": int(node["preemptible"]) if node else 1,
                    "seconds": seconds * frames / total, "preempted": int(preempted),
                },
            )  # fmt: skip

    def set_budget(self, project: str, amount: float, by: str) -> ShowSpend:
        with self.ctx.database.transaction() as db:
            cloud_store.set_budget(db, project, amount, by, self.ctx.now())
        logger.info("cloud budget of %s set to %.2f by %s", project, amount, by)
        return next(s for s in self.spend().shows if s.project == project)

    def spend(self) -> SpendReport:
        db = self.ctx.database.db
        now = self.ctx.now()
        ledger = self.ledger(db, now)
        budgets = self.show_budgets(db, now)
        shows = [
            ShowSpend(
                project=p,
                budget=b.budget,
                spent=_spend(ledger.show(p)),
                committed=b.committed,
                room=b.room,
            )
            for p, b in sorted(budgets.items())
        ]
        projects = {row["id"]: row["project"] for row in db.query("SELECT id, project FROM jobs")}
        jobs = [
            JobSpend(job_id=j, project=projects.get(j, ""), spent=_spend(s))
            for j, s in sorted(ledger.jobs.items())
        ]
        nodes_cost = sum(row["cost"] for row in cloud_store.list_nodes(db))
        render_s = sum(row["seconds"] for row in cloud_store.usage(db))
        return SpendReport(shows=shows, jobs=jobs, nodes_cost=nodes_cost, render_s=render_s)


def _spend(spend: budget.Spend) -> Spend:
    return Spend(
        compute=spend.compute, storage=spend.storage, egress=spend.egress, total=spend.total
    )
