"""Agents' load through the heartbeat, the metrics JSON, and the Prometheus text at /metrics."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cloud_agent.load import heartbeat_with_load
from common.accounts import Role
from common.config import Settings
from common.models import TaskDone
from common.ops_settings import MonitoringSettings
from daemon.app import Services
from tests.conftest import FakeClock, client_as, user_token
from tests.daemon.calls import agent_headers, enroll_agent, submit

TOKEN = "scrape-secret-1"
SAMPLE = re.compile(
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})? '
    r"-?[0-9.e+-]+$"
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", lease_ttl_s=30,
        monitoring=MonitoringSettings(scrape_token=TOKEN, throughput_window_s=300),
    )  # fmt: skip


def beat(api: FlaskClient, agent: str, token: str, **load: float) -> None:
    body = {"task_ids": [], **load}
    response = api.post(f"/api/v1/agents/{agent}/heartbeat", json=body,
                        headers=agent_headers(token))  # fmt: skip
    assert response.status_code == 200, response.json


def test_load_comes_with_the_heartbeat_and_old_agents_still_beat(api: FlaskClient) -> None:
    first, first_token = enroll_agent(api, "node01")
    second, second_token = enroll_agent(api, "node02")
    beat(api, first, first_token, cpu_percent=50.0, memory_percent=20.0, disk_free_mb=1000)
    beat(api, second, second_token, cpu_percent=70.0, gpu_percent=90.0, disk_free_mb=500)
    enroll_agent(api, "node03")
    old, old_token = enroll_agent(api, "node04")
    beat(api, old, old_token)  # an agent from before load reporting
    metrics = api.get("/api/v1/monitoring/metrics").json["data"]
    assert (metrics["cpu_percent"], metrics["memory_percent"]) == (60.0, 20.0)
    assert (metrics["gpu_percent"], metrics["disk_free_mb"]) == (90.0, 1500)
    by_name = {a["name"]: a for a in metrics["agents"]}
    assert by_name["node01"]["cpu_percent"] == 50.0
    assert by_name["node04"]["cpu_percent"] is None and by_name["node04"]["reported_at"] is None
    assert metrics["agents_online"] == 4


def test_a_bad_load_is_refused_and_changes_nothing(api: FlaskClient, services: Services) -> None:
    agent, token = enroll_agent(api)
    response = api.post(f"/api/v1/agents/{agent}/heartbeat", json={"cpu_percent": 180.0},
                        headers=agent_headers(token))  # fmt: skip
    assert response.status_code == 400
    assert list(services.context.database.db.query("SELECT * FROM agent_load")) == []


def test_queue_depth_leases_and_throughput(
    api: FlaskClient, services: Services, clock: FakeClock
) -> None:
    agent, _ = enroll_agent(api)
    job = submit(api, frames="1-9", chunk_size=3)
    task = services.agents.lease(agent)
    assert task is not None
    metrics = api.get("/api/v1/monitoring/metrics").json["data"]
    assert (metrics["queue_depth"], metrics["leased_tasks"]) == (2, 1)
    assert metrics["jobs_by_state"]["queued"] + metrics["jobs_by_state"]["running"] == 1
    services.agents.complete(agent, task.task_id, TaskDone(attempt=task.attempt, outputs=[]))
    metrics = api.get("/api/v1/monitoring/metrics").json["data"]
    assert metrics["frames_per_minute"] == 3 * 60 / 300
    assert metrics["shotgrid"]["configured"] is False
    clock.advance(301)
    assert api.get("/api/v1/monitoring/metrics").json["data"]["frames_per_minute"] == 0
    assert job["id"]


def test_prometheus_text_parses(api: FlaskClient, app: Flask) -> None:
    agent, token = enroll_agent(api, 'node "7"\\a')
    beat(api, agent, token, cpu_percent=12.5, memory_percent=40.0)
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    lines = response.get_data(as_text=True).splitlines()
    families = {}
    for line in lines:
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            families[name] = kind
        elif not line.startswith("# HELP "):
            assert SAMPLE.match(line), line
            assert line.split("{")[0].split(" ")[0] in families, line
    assert families["cloudburst_queue_depth"] == "gauge"
    assert 'cloudburst_agent_cpu_percent{agent="node \\"7\\"\\\\a"' in "\n".join(lines)
    assert "cloudburst_shotgrid_healthy 1" in lines


def test_who_may_scrape(app: Flask, services: Services) -> None:
    assert app.test_client().get("/metrics").status_code == 401
    wrong = client_as(app, "not-the-token").get("/metrics")
    assert wrong.status_code == 401
    assert (
        client_as(app, user_token(services, "ana", Role.ARTIST)).get("/metrics").status_code == 403
    )
    assert client_as(app, user_token(services, "tess", Role.TD)).get("/metrics").status_code == 200


def test_the_agent_reports_its_load(tmp_path: Path) -> None:
    beat = heartbeat_with_load([7], tmp_path)
    assert beat.task_ids == [7]
    assert beat.cpu_percent is not None and 0 <= beat.cpu_percent <= 100
    assert beat.memory_percent is not None and 0 < beat.memory_percent <= 100
    assert beat.disk_free_mb is not None and beat.disk_free_mb > 0
