"""Frames and tasks per job, and a job's tasks a page at a time: over real HTTP (waitress)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from common.config import Settings
from common.limits_settings import LimitSettings
from daemon.app import Services
from tests.daemon.calls import job_body, snapshot

JOBS = "/api/v1/jobs"


def post_job(live_url: str, token: str, **overrides: Any) -> requests.Response:
    return requests.post(
        live_url + JOBS, json=job_body(**overrides), headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )  # fmt: skip


def get(live_url: str, token: str, path: str, **params: Any) -> requests.Response:
    return requests.get(
        live_url + path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


@pytest.mark.parametrize(
    ("frames", "chunk", "words"),
    [
        ("1-1000000", 100, ["1,000,000 frames",
                            "at most 100,000 per job (limits.max_frames_per_job)",
                            "Split the frame range into several jobs"]),
        ("1-20000", 1, ["20,000 tasks",
                        "at most 10,000 per job (limits.max_tasks_per_job)",
                        "Use a chunk size of 2 or more"]),
    ],
)  # fmt: skip
def test_a_job_past_a_limit_is_refused_naming_it_and_nothing_is_stored(
    live_url: str, admin_token: str, services: Services, frames: str, chunk: int,
    words: list[str],
) -> None:  # fmt: skip
    before = snapshot(services)
    response = post_job(live_url, admin_token, frames=frames, chunk_size=chunk)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["code"] == "job_too_large"
    assert error["details"]["limit"] in words[1]
    for sentence in words:
        assert sentence in error["message"]
    assert snapshot(services) == before


def test_a_bigger_chunk_size_fits_the_task_limit(live_url: str, admin_token: str) -> None:
    fits = post_job(live_url, admin_token, frames="1-20000", chunk_size=2)
    assert fits.status_code == 201, fits.text
    assert fits.json()["data"]["task_counts"]["queued"] == 10_000


def test_a_10000_frame_job_of_10000_tasks_still_works_and_its_tasks_come_in_pages(
    live_url: str, admin_token: str
) -> None:
    response = post_job(live_url, admin_token, frames="1-10000", chunk_size=1)
    assert response.status_code == 201, response.text
    job = response.json()["data"]
    assert job["frame_count"] == 10_000
    assert job["task_counts"]["queued"] == 10_000
    page = get(live_url, admin_token, f"{JOBS}/{job['id']}/tasks", offset=9990, limit=500)
    assert page.status_code == 200, page.text
    data = page.json()["data"]
    assert data["total"] == 10_000
    assert (data["offset"], data["limit"]) == (9990, 500)
    assert [t["index"] for t in data["items"]] == list(range(9990, 10_000))
    assert data["items"][-1]["frames"] == [10_000]


def test_a_page_of_tasks_is_in_task_order_and_the_page_size_is_bounded(
    live_url: str, admin_token: str
) -> None:
    job = post_job(live_url, admin_token, frames="1-10", chunk_size=2).json()["data"]
    tasks = f"{JOBS}/{job['id']}/tasks"
    page = get(live_url, admin_token, tasks, offset=1, limit=2).json()["data"]
    assert [t["frames"] for t in page["items"]] == [[3, 4], [5, 6]]
    assert page["total"] == 5
    default = get(live_url, admin_token, tasks).json()["data"]
    assert (len(default["items"]), default["limit"]) == (5, 100)
    past = get(live_url, admin_token, tasks, offset=5).json()["data"]
    assert past["items"] == [] and past["total"] == 5
    for bad in ({"limit": 501}, {"limit": 0}, {"offset": -1}, {"page": 2}):
        refused = get(live_url, admin_token, tasks, **bad)
        assert refused.status_code == 400, (bad, refused.text)
        assert refused.json()["code"] == "invalid_input"


#: 24 frames whose gaps grow by one: every task holds two of them, whatever the chunk size.
UNEVEN = ",".join(str(1 + k * (k + 1) // 2) for k in range(24))


class TestTheLimitsAreSettings:
    """A daemon configured with 100 frames and 10 tasks per job."""

    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        limits = LimitSettings(max_frames_per_job=100, max_tasks_per_job=10)
        return Settings(data_dir=tmp_path / "data", limits=limits)

    @pytest.mark.parametrize(
        ("frames", "chunk", "setting"),
        [
            ("1-101", 20, "limits.max_frames_per_job"),
            ("1-50,1-51", 20, "limits.max_frames_per_job"),  # a frame named twice counts twice
            (UNEVEN, 20, "limits.max_tasks_per_job"),  # 24 frames, no even step: 12 tasks
            ("1-11", 1, "limits.max_tasks_per_job"),
        ],
    )
    def test_over_a_limit_is_refused(
        self, live_url: str, admin_token: str, frames: str, chunk: int, setting: str
    ) -> None:
        response = post_job(live_url, admin_token, frames=frames, chunk_size=chunk)
        assert response.status_code == 400, response.text
        assert response.json()["details"]["limit"] == setting
        assert post_job(live_url, admin_token, frames="1-100", chunk_size=10).status_code == 201
