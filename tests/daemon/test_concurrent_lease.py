"""Many agents asking at once over real HTTP: every task is handed out exactly once."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
from flask.testing import FlaskClient

from daemon.app import Services
from tests.daemon.calls import agent_headers, enroll_agent, submit


def test_200_concurrent_leases_for_50_tasks(
    api: FlaskClient, services: Services, live_url: str
) -> None:
    job = submit(api, frames="1-50", chunk_size=1)
    agents = [enroll_agent(api, f"node{i:03d}") for i in range(200)]

    def ask(agent: tuple[str, str]) -> tuple[int, int | None]:
        agent_id, token = agent
        with requests.Session() as session:
            response = session.post(
                f"{live_url}/api/v1/agents/{agent_id}/lease",
                headers=agent_headers(token),
                timeout=30,
            )
        task = response.json()["data"]["task_id"] if response.status_code == 200 else None
        return response.status_code, task

    with ThreadPoolExecutor(max_workers=64) as pool:
        results = list(pool.map(ask, agents))

    statuses = Counter(status for status, _ in results)
    assert statuses == {200: 50, 204: 150}
    handed = [task for _, task in results if task is not None]
    assert len(handed) == len(set(handed)) == 50
    tasks = api.get(f"/api/v1/jobs/{job['id']}/tasks").json["data"]["items"]
    assert {t["id"] for t in tasks} == set(handed)
    assert all(t["state"] == "leased" and t["attempts"] == 1 for t in tasks)
    holders = [t["agent_id"] for t in tasks]
    assert len(set(holders)) == 50
