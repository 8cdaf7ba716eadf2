"""``Idempotency-Key`` on ``POST /jobs``, through real HTTP (waitress on 127.0.0.1)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from common.accounts import Role
from daemon.app import Services
from tests.conftest import FakeClock, user_token
from tests.daemon.calls import job_body, snapshot


def post_job(url: str, token: str, key: str | None, **overrides: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return requests.post(f"{url}/api/v1/jobs", json=job_body(**overrides), headers=headers,
                         timeout=10)  # fmt: skip


def job_count(services: Services) -> int:
    return int(services.context.database.db.execute("SELECT count(*) FROM jobs").fetchone()[0])


def test_a_resend_with_the_same_key_returns_the_first_job_and_stores_nothing(
    live_url: str, admin_token: str, services: Services
) -> None:
    first = post_job(live_url, admin_token, "3f1c0a52-7d1e-4c55-9a3b-0b7f6f2e9d10")
    before = snapshot(services)
    again = post_job(live_url, admin_token, "3f1c0a52-7d1e-4c55-9a3b-0b7f6f2e9d10")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert snapshot(services) == before
    assert job_count(services) == 1


def test_without_a_key_each_post_is_a_new_job(
    live_url: str, admin_token: str, services: Services
) -> None:
    ids = {post_job(live_url, admin_token, None).json()["data"]["id"] for _ in range(2)}
    assert len(ids) == 2 and job_count(services) == 2


def test_the_same_key_with_another_job_is_refused_and_changes_nothing(
    live_url: str, admin_token: str, services: Services
) -> None:
    assert post_job(live_url, admin_token, "render-42").status_code == 201
    before = snapshot(services)
    other = post_job(live_url, admin_token, "render-42", frames="1-20")
    assert other.status_code == 422
    body = other.json()
    assert body["code"] == "idempotency_key_reused"
    assert "Send a new key with each new job" in body["message"]
    assert snapshot(services) == before


def test_keys_belong_to_their_caller(live_url: str, services: Services) -> None:
    ana = user_token(services, "ana", Role.ARTIST)
    ben = user_token(services, "ben", Role.ARTIST)
    mine = post_job(live_url, ana, "shared-key", owner="ana")
    theirs = post_job(live_url, ben, "shared-key", owner="ben")
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["data"]["id"] != theirs.json()["data"]["id"]
    assert theirs.json()["data"]["spec"]["owner"] == "ben"


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "naïve"])
def test_a_malformed_key_is_refused_and_changes_nothing(
    live_url: str, admin_token: str, services: Services, key: str
) -> None:
    before = snapshot(services)
    response = post_job(live_url, admin_token, key)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert "Idempotency-Key" in response.json()["message"]
    assert snapshot(services) == before


def test_a_refused_first_request_keeps_no_key(
    live_url: str, admin_token: str, services: Services
) -> None:
    assert post_job(live_url, admin_token, "k1", frames="9-1").status_code == 400
    assert post_job(live_url, admin_token, "k1").status_code == 201
    assert job_count(services) == 1


def test_resends_racing_each_other_store_one_job(
    live_url: str, admin_token: str, services: Services
) -> None:
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: post_job(live_url, admin_token, "race"), range(8)))
    assert {a.status_code for a in answers} == {201}
    assert {a.json()["data"]["id"] for a in answers} == {1}
    assert job_count(services) == 1


def test_keys_are_forgotten_after_their_retention(
    live_url: str, admin_token: str, services: Services, clock: FakeClock
) -> None:
    first = post_job(live_url, admin_token, "nightly").json()["data"]["id"]
    clock.advance(services.context.settings.idempotency.keep_s - 1)
    assert services.idempotency.purge() == 0
    assert post_job(live_url, admin_token, "nightly").json()["data"]["id"] == first
    clock.advance(2)
    assert services.idempotency.purge() == 1
    again = post_job(live_url, admin_token, "nightly")
    assert again.status_code == 201 and again.json()["data"]["id"] != first


def test_the_document_describes_the_header(live_url: str) -> None:
    document = requests.get(f"{live_url}/api/v1/openapi.json", timeout=10).json()
    submit = document["paths"]["/api/v1/jobs"]["post"]
    [header] = [p for p in submit["parameters"] if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key" and header["schema"]["type"] == "string"
    assert {"201", "422", "507"} <= set(submit["responses"])
