"""``GET /jobs?shot=ID``: the jobs linked to one ShotGrid shot, over real HTTP; a bad shot id is
refused with the parameter named, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from common.client import DaemonClient
from common.credentials import StaticToken
from common.models import JobSpec
from daemon.app import Services
from tests.daemon.calls import job_body, snapshot


def _submit(client: DaemonClient, name: str, **overrides: Any) -> int:
    spec = JobSpec.model_validate(job_body(name=name, owner="admin", frames="1", **overrides))
    return client.submit(spec).id


def test_the_listing_filters_by_shotgrid_shot(live_url: str, admin_token: str) -> None:
    client = DaemonClient(live_url, retries=0, auth=StaticToken(admin_token))
    first = _submit(client, "sh010 light v1", shotgrid={"shot_id": 10})
    _submit(client, "sh020 light", shotgrid={"shot_id": 20})
    _submit(client, "sh010 by task", shotgrid={"task_id": 10})  # task 10 is no shot 10
    _submit(client, "unlinked")
    second = _submit(client, "sh010 light v2", project="other", shotgrid={"shot_id": 10})

    page = client.jobs(shot=10)
    assert [job.id for job in page.items] == [second, first]  # newest first, any show
    assert page.total == 2
    assert [job.id for job in client.jobs(shot=10, project="show").items] == [first]
    ranked = client.jobs(shot=10, sort="rank")
    assert {job.id for job in ranked.items} == {first, second}
    assert client.jobs(shot=30).items == []


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("abc", "shot: Input should be a valid integer"),
        ("0", "shot: Input should be greater than or equal to 1"),
        ("-4", "shot: Input should be greater than or equal to 1"),
        ("1.5", "shot: Input should be a valid integer"),
        ("99999999999999999999", "shot: Input should be less than or equal to"),
    ],
)
def test_a_bad_shot_id_is_refused_naming_the_parameter(
    live_url: str, admin_token: str, services: Services, value: str, words: str
) -> None:
    client = DaemonClient(live_url, retries=0, auth=StaticToken(admin_token))
    _submit(client, "sh010", shotgrid={"shot_id": 10})
    before = snapshot(services)
    response = requests.get(
        f"{live_url}/api/v1/jobs",
        params={"shot": value},
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=10,
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_input" and body["data"] is None
    assert words in body["message"]
    assert snapshot(services) == before
