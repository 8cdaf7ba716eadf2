"""Whose job a submission makes, over real HTTP: the daemon decides the owner from the
credentials, not from what the submitter's machine is logged in as. Only TDs and admins may name
someone else, and then the job records who sent it."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from common.accounts import Role
from common.config import Settings
from common.errors import InvalidInput
from common.models import JobSpec
from daemon.app import Services, create_app
from daemon.auth.principal import Principal
from tests.conftest import FakeClock, user_token
from tests.daemon.calls import job_body, snapshot


def post_job(url: str, token: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{url}/api/v1/jobs", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def get_job(url: str, token: str, job_id: int) -> dict[str, Any]:
    response = requests.get(
        f"{url}/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def without_owner() -> dict[str, Any]:
    body = job_body()
    del body["owner"]
    return body


@pytest.fixture
def ana(services: Services) -> str:
    return user_token(services, "ana", Role.ARTIST)


@pytest.fixture
def tess(services: Services) -> str:
    return user_token(services, "tess", Role.TD)


def test_a_job_sent_without_an_owner_belongs_to_the_signed_in_artist(
    live_url: str, ana: str
) -> None:
    response = post_job(live_url, ana, without_owner())
    assert response.status_code == 201, response.text
    job = get_job(live_url, ana, response.json()["data"]["id"])
    assert job["spec"]["owner"] == "ana"
    assert job["submitted_by"] == "ana"
    listed = requests.get(
        f"{live_url}/api/v1/jobs", params={"owner": "ana"},
        headers={"Authorization": f"Bearer {ana}"}, timeout=30,
    ).json()["data"]  # fmt: skip
    assert [item["id"] for item in listed["items"]] == [job["id"]]


def test_a_td_naming_another_owner_is_recorded_as_the_sender(
    live_url: str, tess: str, services: Services
) -> None:
    user_token(services, "ben", Role.ARTIST)
    response = post_job(live_url, tess, job_body(owner="ben"))
    assert response.status_code == 201, response.text
    job = get_job(live_url, tess, response.json()["data"]["id"])
    assert job["spec"]["owner"] == "ben"
    assert job["submitted_by"] == "tess"


def test_an_artist_naming_another_owner_is_refused_and_nothing_is_stored(
    live_url: str, ana: str, services: Services
) -> None:
    before = snapshot(services)
    response = post_job(live_url, ana, job_body(owner="root"))
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "forbidden"
    message = response.json()["message"]
    assert "signed in as 'ana'" in message and "Leave the owner out" in message
    assert snapshot(services) == before


def test_an_artist_naming_themselves_owns_the_job(live_url: str, ana: str) -> None:
    response = post_job(live_url, ana, job_body(owner="ana"))
    assert response.status_code == 201, response.text
    assert response.json()["data"]["spec"]["owner"] == "ana"
    assert response.json()["data"]["submitted_by"] == "ana"


def test_a_service_caller_must_name_the_owner(services: Services) -> None:
    """The daemon's own callers have no account to take the owner from."""
    spec = JobSpec.model_validate(without_owner())
    before = snapshot(services)
    with pytest.raises(InvalidInput, match="names no owner"):
        services.jobs.submit(spec)
    assert snapshot(services) == before
    assert services.jobs.submit(spec.model_copy(update={"owner": "ana"})).submitted_by is None


def test_jobs_stored_before_the_sender_was_recorded_read_as_unknown(
    settings: Settings, clock: FakeClock
) -> None:
    """Migration 0009 adds ``submitted_by`` to an existing database; older jobs have none."""
    first = create_app(settings, clock=clock).extensions["cloudburst"]
    spec = JobSpec.model_validate(job_body())
    old = first.jobs.submit(spec)
    db = first.context.database.db
    db.execute("ALTER TABLE jobs DROP COLUMN submitted_by")  # as a daemon before 0009 left it
    db.execute("DELETE FROM schema_migrations WHERE version = 9")
    db.conn.commit()
    upgraded: Services = create_app(settings, clock=clock).extensions["cloudburst"]
    assert upgraded.jobs.get(old.id).submitted_by is None
    ana = Principal(kind="user", name="ana", role=Role.ARTIST, user_id=1)
    new = upgraded.jobs.submit(spec.model_copy(update={"owner": None}), ana)
    assert (new.spec.owner, new.submitted_by) == ("ana", "ana")
