"""Bursting: jobs' routes, cloud nodes, shows' budgets, the ledger of cloud render seconds."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlite_utils

# --- what routing reads ------------------------------------------------------------------------


def routing_rows(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every unfinished job with what routing needs, in queue order (ranked ones first).

    Frames in flight count leased and running tasks; ``cloud_in_flight`` those held by agents
    without studio storage.
    """
    return list(
        db.query(
            "SELECT j.id, j.project, j.spec, j.frame_count, j.frames_done, j.render_s, j.due_at,"
            " coalesce(r.position, 1000000000) AS position,"
            " (SELECT d.state FROM job_data d WHERE d.job_id = j.id) AS data_state,"
            " (SELECT coalesce(sum(t.frame_count), 0) FROM tasks t WHERE t.job_id = j.id"
            "   AND t.state IN ('leased', 'running')) AS in_flight,"
            " (SELECT coalesce(sum(t.frame_count), 0) FROM tasks t JOIN agents a"
            "   ON a.id = t.agent_id WHERE t.job_id = j.id AND t.state IN ('leased', 'running')"
            "   AND a.studio_access = 0) AS cloud_in_flight"
            " FROM jobs j LEFT JOIN (SELECT job_id, row_number() OVER"
            "   (ORDER BY tier, sort_key, submitted_at, job_id) AS position FROM job_ranks) r"
            "   ON r.job_id = j.id"
            " WHERE j.state IN ('queued', 'running')"
            " ORDER BY position, j.id"
        )
    )


def local_slots(db: sqlite_utils.Database) -> int:
    """Agents online with studio storage: the local farm's render slots."""
    row = next(
        iter(
            db.query(
                "SELECT count(*) AS n FROM agents WHERE state = 'online' AND studio_access = 1"
            )
        )
    )
    return int(row["n"])


def running_cloud_tasks(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Tasks held by agents without studio storage, with their job's project and pace."""
    return list(
        db.query(
            "SELECT t.id, t.job_id, t.frame_count, t.started_at, t.lease_expires_at, j.project,"
            " j.frames_done, j.render_s, a.name AS node FROM tasks t"
            " JOIN agents a ON a.id = t.agent_id JOIN jobs j ON j.id = t.job_id"
            " WHERE t.state IN ('leased', 'running') AND a.studio_access = 0"
        )
    )


# --- routes ----------------------------------------------------------------------------------


def replace_routes(db: sqlite_utils.Database, rows: Iterable[tuple[Any, ...]]) -> None:
    """Stores this pass's routes: (job_id, verdict, quota, chunk, cost, payers, reason,
    decided_at); ``payers`` is JSON ``{show: frames}`` for frames other shows pay for."""
    db.execute("DELETE FROM job_routes")
    db.conn.executemany(
        "INSERT INTO job_routes (job_id, verdict, cloud_quota, cloud_chunk, estimated_cost,"
        " payers, reason, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def route_of(db: sqlite_utils.Database, job_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM job_routes WHERE job_id = ?", [job_id]))
    return rows[0] if rows else None


def cloud_in_flight(db: sqlite_utils.Database, job_id: int) -> int:
    row = next(
        iter(
            db.query(
                "SELECT coalesce(sum(t.frame_count), 0) AS n FROM tasks t JOIN agents a"
                " ON a.id = t.agent_id WHERE t.job_id = ? AND t.state IN ('leased', 'running')"
                " AND a.studio_access = 0",
                [job_id],
            )
        )
    )
    return int(row["n"])


# --- nodes -----------------------------------------------------------------------------------


def upsert_node(db: sqlite_utils.Database, node: dict[str, Any]) -> None:
    """Inserts or updates a node as the backend describes it (keeps ``draining``/``idle``)."""
    db.execute(
        "INSERT INTO cloud_nodes (id, backend, name, state, preemptible, shape, price_per_hour,"
        " launched_at, ended_at, cost, detail) VALUES (:id, :backend, :name, :state,"
        " :preemptible, :shape, :price_per_hour, :launched_at, :ended_at, :cost, :detail)"
        " ON CONFLICT (id) DO UPDATE SET state = excluded.state, ended_at = excluded.ended_at,"
        " cost = excluded.cost, detail = excluded.detail",
        node,
    )


def list_nodes(db: sqlite_utils.Database, live_only: bool = False) -> list[dict[str, Any]]:
    where = " WHERE n.state != 'terminated'" if live_only else ""
    return list(
        db.query(
            "SELECT n.*, a.id AS agent_id, a.state AS agent_state, a.last_seen,"
            " (SELECT count(*) FROM tasks t WHERE t.agent_id = a.id"
            "   AND t.state IN ('leased', 'running')) AS busy"
            " FROM cloud_nodes n LEFT JOIN agents a ON a.id = (SELECT id FROM agents"
            "   WHERE name = n.name AND studio_access = 0 ORDER BY last_seen DESC LIMIT 1)"
            f"{where} ORDER BY n.launched_at, n.id"
        )
    )


def set_idle_since(db: sqlite_utils.Database, node_id: str, since: float | None) -> None:
    db.execute("UPDATE cloud_nodes SET idle_since = ? WHERE id = ?", [since, node_id])


def set_draining(db: sqlite_utils.Database, node_ids: Sequence[str]) -> None:
    db.conn.executemany(
        "UPDATE cloud_nodes SET draining = 1 WHERE id = ?", [(node_id,) for node_id in node_ids]
    )


def node_draining(db: sqlite_utils.Database, agent_name: str) -> bool:
    rows = list(
        db.query(
            "SELECT 1 FROM cloud_nodes WHERE name = ? AND draining = 1 AND state != 'terminated'",
            [agent_name],
        )
    )
    return bool(rows)


def node_of_agent(db: sqlite_utils.Database, agent_name: str) -> dict[str, Any] | None:
    rows = list(
        db.query(
            "SELECT * FROM cloud_nodes WHERE name = ? ORDER BY launched_at DESC LIMIT 1",
            [agent_name],
        )
    )
    return rows[0] if rows else None


# --- money -----------------------------------------------------------------------------------


def set_budget(db: sqlite_utils.Database, project: str, budget: float, by: str, now: float) -> None:
    db.execute(
        "INSERT INTO show_budgets (project, budget, set_by, set_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (project) DO UPDATE SET budget = excluded.budget, set_by = excluded.set_by,"
        " set_at = excluded.set_at",
        [project, budget, by, now],
    )


def budgets(db: sqlite_utils.Database) -> dict[str, float]:
    return {row["project"]: row["budget"] for row in db.query("SELECT * FROM show_budgets")}


def record_usage(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    db.execute(
        "INSERT INTO cloud_usage (at, project, job_id, task_id, node, shape, preemptible,"
        " seconds, preempted) VALUES (:at, :project, :job_id, :task_id, :node, :shape,"
        " :preemptible, :seconds, :preempted)",
        row,
    )


def usage(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM cloud_usage ORDER BY id"))


def staged_bytes(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Per staged job: its project, bytes kept in the store, since when."""
    return list(
        db.query(
            "SELECT d.job_id, j.project, d.bytes_total, d.staged_at FROM job_data d"
            " JOIN jobs j ON j.id = d.job_id WHERE d.state = 'staged'"
        )
    )


def frames_home_bytes(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Per job: bytes of frames brought home (the store's egress)."""
    return list(
        db.query(
            "SELECT o.job_id, j.project, sum(o.size) AS bytes FROM task_outputs o"
            " JOIN jobs j ON j.id = o.job_id WHERE o.state = 'home' GROUP BY o.job_id"
        )
    )


# --- the autoscaler's memory -----------------------------------------------------------------


def cloud_state(db: sqlite_utils.Database) -> dict[str, Any]:
    return dict(next(iter(db.query("SELECT * FROM cloud_state WHERE id = 1"))))


def save_cloud_state(
    db: sqlite_utils.Database, in_fallback: bool, last_pass: float, reasons: list[str]
) -> None:
    db.execute(
        "UPDATE cloud_state SET in_fallback = ?, last_pass = ?, reasons = ? WHERE id = 1",
        [int(in_fallback), last_pass, json.dumps(reasons)],
    )


def set_min_nodes(db: sqlite_utils.Database, count: int | None) -> None:
    db.execute("UPDATE cloud_state SET min_nodes = ? WHERE id = 1", [count])


def agents_for_resources(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every agent with its size, last load and tasks held (for ``GET /resources``)."""
    return list(
        db.query(
            "SELECT a.id, a.name, a.pool, a.state, a.cores, a.memory_mb, a.studio_access,"
            " a.registered_at, l.cpu_percent, l.gpu_percent, l.disk_free_mb,"
            " (SELECT count(*) FROM tasks t WHERE t.agent_id = a.id"
            "  AND t.state IN ('leased', 'running')) AS running_tasks"
            " FROM agents a LEFT JOIN agent_load l ON l.agent_id = a.id ORDER BY a.name, a.id"
        )
    )


def mark_terminated(db: sqlite_utils.Database, node_id: str, now: float) -> None:
    db.execute(
        "UPDATE cloud_nodes SET state = 'terminated', ended_at = coalesce(ended_at, ?)"
        " WHERE id = ?",
        [now, node_id],
    )


def mark_releasing(db: sqlite_utils.Database, node_ids: Sequence[str]) -> None:
    db.conn.executemany(
        "UPDATE cloud_nodes SET state = 'terminating' WHERE id = ? AND state != 'terminated'",
        [(node_id,) for node_id in node_ids],
    )


def cloud_done_since(db: sqlite_utils.Database, job_id: int, since: float) -> int:
    """Frames of the job that nodes without studio storage finished since ``since``."""
    row = next(
        iter(
            db.query(
                "SELECT coalesce(sum(t.frame_count), 0) AS n FROM tasks t JOIN agents a"
                " ON a.id = t.agent_id WHERE t.job_id = ? AND t.state = 'done'"
                " AND t.finished_at >= ? AND a.studio_access = 0",
                [job_id, since],
            )
        )
    )
    return int(row["n"])
