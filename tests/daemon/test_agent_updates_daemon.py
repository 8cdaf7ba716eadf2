"""A serving daemon (a real process) writes agents' updates by its flusher thread, with nobody
asking, and writes what it still holds when it stops."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

from tests.daemon.http_farm import HttpFarm
from tests.e2e.farm import Farm, wait_for


def progress_of(farm: HttpFarm, job_id: int) -> tuple[str, float]:
    task = farm.call("GET", f"/jobs/{job_id}/tasks").json()["data"]["items"][0]
    return task["state"], task["progress"]


def test_a_serving_daemon_commits_updates_by_itself_and_at_stop(tmp_path: Path) -> None:
    real = Farm(tmp_path, lease_ttl=30)
    # A long interval: the update sent just before the stop is still waiting when it comes.
    real.env["CLOUDBURST_AGENTS__COMMIT_INTERVAL_S"] = "1.0"
    try:
        real.start_daemon()
        token = json.loads((real.data_dir / "local-admin.json").read_text())["token"]
        farm = HttpFarm(real.url, token)
        job = farm.submit(frames="1")
        node = farm.register("n1")
        task = farm.lease(node)
        assert task is not None

        def update(progress: float) -> None:
            body: dict[str, Any] = {
                "task_ids": [task["task_id"]],
                "tasks": [{"task_id": task["task_id"], "attempt": 1, "progress": progress}],
            }
            answer = farm.call("POST", f"/agents/{node[0]}/updates", body, token=node[1])
            assert answer.status_code == 200, answer.text

        update(0.25)
        wait_for(lambda: progress_of(farm, job["id"]) == ("running", 0.25), 20, "the flusher")
        update(0.75)
        assert real.daemon is not None
        real.daemon.send_signal(signal.SIGTERM)
        assert real.daemon.wait(timeout=20) == 0
        real.start_daemon()
        assert progress_of(farm, job["id"]) == ("running", 0.75), real.logs()
    finally:
        real.stop_all()
