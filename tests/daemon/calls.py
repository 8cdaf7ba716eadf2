"""Small helpers for talking to the daemon app in tests."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from daemon.app import Services


def job_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "shot010 lighting",
        "owner": "ana",
        "project": "show",
        "scene": "/proj/shot010.blend",
        "frames": "1-10",
        "chunk_size": 3,
        "output": "/renders/shot010/f_####",
    }
    body.update(overrides)
    return body


def snapshot(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table and every task log file, to prove a refused request changed
    nothing."""
    db = services.context.database.db
    return {"task log files": task_log_files(services)} | {
        table: [tuple(row.values()) for row in db.query(f"SELECT * FROM {table} ORDER BY 1")]
        for table in (
            "jobs",
            "tasks",
            "agents",
            "users",
            "sessions",
            "refresh_tokens",
            "api_keys",
            "enrollment_tokens",
            "job_data",
            "audit_log",
            "task_outputs",
            "job_routes",
            "cloud_nodes",
            "show_budgets",
            "cloud_usage",
            "cloud_state",
            "projects",
            "job_pins",
            "show_policies",
            "production_overrides",
            "job_links",
            "sg_outbox",
            "limits",
            "job_limits",
            "webhooks",
            "webhook_deliveries",
            "budget_alerts",
            "desktop_sessions",
            "desktop_snapshots",
            "snapshot_schedules",
            "connection_tokens",
            "desktop_usage",
            "project_members",
            "desktop_audit",
        )
    }


def task_log_files(services: Services) -> list[tuple[Any, ...]]:
    """(path, bytes) of every file in the task logs' folder."""
    root = services.context.task_logs.root
    if not root.exists():
        return []
    return sorted(
        (str(p.relative_to(root)), p.read_bytes()) for p in root.rglob("*") if p.is_file()
    )


def register_agent(api: FlaskClient, name: str = "node01", dccs: list[str] | None = None) -> str:
    response = api.post(
        "/api/v1/agents", json={"name": name, "hostname": name, "dccs": dccs or ["blender"]}
    )
    assert response.status_code == 201, response.json
    agent_id: str = response.json["data"]["id"]
    return agent_id


def enroll_agent(api: FlaskClient, name: str = "node01") -> tuple[str, str]:
    """Registers an agent (as the client's caller, a TD or admin); its id and its own token."""
    response = api.post("/api/v1/agents", json={"name": name, "hostname": name})
    assert response.status_code == 201, response.json
    data: dict[str, Any] = response.json["data"]
    return data["id"], data["token"]


def agent_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def submit(api: FlaskClient, **overrides: Any) -> dict[str, Any]:
    response = api.post("/api/v1/jobs", json=job_body(**overrides))
    assert response.status_code == 201, response.json
    job: dict[str, Any] = response.json["data"]
    return job
