"""A farm driven over real HTTP: nodes registered with their facts, jobs submitted, leases and
completions, limits set: what the tests of requirements and limits share."""

from __future__ import annotations

from typing import Any

import requests

from tests.daemon.calls import job_body


class HttpFarm:
    """Calls the daemon at ``url``: people with ``token`` (a TD or admin), nodes with theirs.

    Each call opens its own connection, so threads may share one ``HttpFarm``.
    """

    def __init__(self, url: str, token: str) -> None:
        self.url = f"{url}/api/v1"
        self.token = token

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return requests.request(method, f"{self.url}{path}", json=body, headers=headers, timeout=30)

    def register(self, name: str, **facts: Any) -> tuple[str, str]:
        """Registers node ``name`` with its facts (pool, os, memory_mb, gpus, dcc_versions,
        tags...); returns its id and its own token."""
        body = {"name": name, "hostname": name, "dccs": ["blender"], **facts}
        answer = self.call("POST", "/agents", body)
        assert answer.status_code == 201, answer.text
        data = answer.json()["data"]
        return data["id"], data["token"]

    def submit(self, **overrides: Any) -> dict[str, Any]:
        answer = self.call("POST", "/jobs", job_body(**overrides))
        assert answer.status_code == 201, answer.text
        job: dict[str, Any] = answer.json()["data"]
        return job

    def job(self, job_id: int) -> dict[str, Any]:
        answer = self.call("GET", f"/jobs/{job_id}")
        assert answer.status_code == 200, answer.text
        job: dict[str, Any] = answer.json()["data"]
        return job

    def lease(self, node: tuple[str, str]) -> dict[str, Any] | None:
        """The task node gets, or None (204)."""
        agent_id, token = node
        answer = self.call("POST", f"/agents/{agent_id}/lease", token=token)
        assert answer.status_code in (200, 204), answer.text
        if answer.status_code == 204:
            return None
        task: dict[str, Any] = answer.json()["data"]
        return task

    def complete(self, node: tuple[str, str], task: dict[str, Any]) -> None:
        agent_id, token = node
        answer = self.call(
            "POST", f"/agents/{agent_id}/tasks/{task['task_id']}/complete",
            {"attempt": task["attempt"], "outputs": []}, token=token,
        )  # fmt: skip
        assert answer.status_code == 200, answer.text

    def put_limit(self, name: str, capacity: int, per_node: bool = False) -> requests.Response:
        return self.call("PUT", f"/limits/{name}", {"capacity": capacity, "per_node": per_node})

    def limits(self) -> dict[str, dict[str, Any]]:
        answer = self.call("GET", "/limits")
        assert answer.status_code == 200, answer.text
        return {limit["name"]: limit for limit in answer.json()["data"]}
