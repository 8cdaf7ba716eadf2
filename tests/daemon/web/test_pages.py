"""The queue, job, farm and users pages: what each role sees and may press."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from common.accounts import Role, UserCreate
from common.states import JobState
from daemon.app import Services
from tests.daemon.web.helpers import csrf, render_all, sign_in, submit


def buttons(html: bytes) -> set[str]:
    return set(re.findall(r'data-action="(\w+)"', html.decode()))


def test_the_queue_filters_and_pages(app: Flask, services: Services) -> None:
    for i in range(55):
        submit(services, owner="ana" if i % 2 else "ben")
    client = sign_in(app, "ana")
    first = client.get("/jobs").data.decode()
    assert first.count("data-job-id=") == 50 and "Next" in first
    second = client.get("/jobs?offset=50").data.decode()
    assert second.count("data-job-id=") == 5 and "Previous" in second
    bens = client.get("/jobs?owner=ben").data.decode()
    assert bens.count("data-job-id=") == 28 and "ana shot" not in bens
    assert 'data-rows="/jobs/rows?owner=ben"' in bens
    services.jobs.pause(1)
    paused = client.get("/jobs?state=paused").data.decode()
    assert paused.count("data-job-id=") == 1


def test_names_are_shown_escaped(app: Flask, services: Services) -> None:
    from common.models import JobSpec

    spec = JobSpec(name="<script>alert(1)</script>", owner="ana", project="show",
                   scene="/p/s.blend", frames="1", output="/r/f_####")  # fmt: skip
    job = services.jobs.submit(spec)
    client = sign_in(app, "ana")
    for path in ("/jobs", f"/jobs/{job.id}"):
        html = client.get(path).data
        assert b"<script>alert" not in html and b"&lt;script&gt;alert(1)" in html


@pytest.mark.parametrize(
    ("name", "role", "expected"),
    [
        ("ana", Role.ARTIST, {"pause", "cancel", "priority"}),  # her own job
        ("ben", Role.ARTIST, set()),
        ("pam", Role.PRODUCER, {"priority"}),
        ("tess", Role.TD, {"pause", "cancel", "priority"}),
    ],
)
def test_buttons_follow_the_api_permissions(
    app: Flask, services: Services, name: str, role: Role, expected: set[str]
) -> None:
    job_id = submit(services, owner="ana")
    client = sign_in(app, name, role)
    html = client.get(f"/jobs/{job_id}").data
    assert buttons(html) == expected  # a queued job: no resume, no retry


def test_cancel_from_the_job_page(app: Flask, services: Services) -> None:
    job_id = submit(services, owner="ana")
    client = sign_in(app, "ana")
    client.get(f"/jobs/{job_id}")
    response = client.post(f"/jobs/{job_id}/cancel", data={"csrf": csrf(client)})
    assert response.status_code == 303
    assert services.jobs.get(job_id).state is JobState.CANCELLED
    again = client.post(f"/jobs/{job_id}/cancel", data={"csrf": csrf(client)})
    assert again.status_code == 409  # the service's reason, shown on the page
    assert b"notice error" in again.data


def test_the_server_refuses_what_the_page_hides(app: Flask, services: Services) -> None:
    job_id = submit(services, owner="ana")
    client = sign_in(app, "ben")
    response = client.post(f"/jobs/{job_id}/cancel", data={"csrf": csrf(client)})
    assert response.status_code == 403
    assert b"is not yours" in response.data
    assert services.jobs.get(job_id).state is JobState.QUEUED


def test_an_action_without_the_csrf_token_changes_nothing(app: Flask, services: Services) -> None:
    job_id = submit(services, owner="ana")
    client = sign_in(app, "ana")
    for data in ({}, {"csrf": "forged"}):
        assert client.post(f"/jobs/{job_id}/pause", data=data).status_code == 403
    assert services.jobs.get(job_id).state is JobState.QUEUED


def test_priority_from_the_job_page(app: Flask, services: Services) -> None:
    job_id = submit(services, owner="ana")
    client = sign_in(app, "pam", Role.PRODUCER)
    response = client.post(f"/jobs/{job_id}/priority", data={"csrf": csrf(client),
                                                             "priority": "80"})  # fmt: skip
    assert response.status_code == 303
    assert services.jobs.get(job_id).spec.priority == 80
    bad = client.post(f"/jobs/{job_id}/priority", data={"csrf": csrf(client), "priority": "900"})
    assert bad.status_code == 400
    assert services.jobs.get(job_id).spec.priority == 80


def test_the_job_page_shows_frames_thumbnails_and_the_log(
    app: Flask, services: Services, tmp_path: Path
) -> None:
    job_id = submit(services, owner="ana", out=tmp_path / "out")
    render_all(services, tmp_path / "out")
    html = sign_in(app, "ana").get(f"/jobs/{job_id}").data.decode()
    assert html.count('class="frame state-done has-thumb"') == 4
    assert f"/api/v1/jobs/{job_id}/thumbnail?frame=3" in html
    assert f"/api/v1/jobs/{job_id}/outputs.zip" in html
    assert "succeeded" in html
    # a finished job only starts again as a new job, or leaves the listing
    assert buttons(html.encode()) == {"resubmit", "archive", "delete"}


def test_the_farm_page_shows_each_agent_and_what_it_runs(app: Flask, services: Services) -> None:
    from common.models import AgentRegistration
    from tests.daemon.web.helpers import ROOT

    job_id = submit(services, owner="ana")
    busy = services.enrollment.register(AgentRegistration(name="busy01", hostname="h1"), ROOT)
    services.enrollment.register(AgentRegistration(name="idle01", hostname="h2"), ROOT)
    assert services.agents.lease(busy.id) is not None
    html = sign_in(app, "ana").get("/farm").data.decode()
    assert "busy01" in html and "idle01" in html
    assert f'href="/jobs/{job_id}"' in html and "idle" in html
    assert "suspect" not in html


def test_the_farm_page_marks_a_suspect_node_with_why(app: Flask, services: Services) -> None:
    from common.models import AgentChange, AgentRegistration
    from daemon.storage import agents as agent_store
    from tests.daemon.web.helpers import ROOT

    node = services.enrollment.register(AgentRegistration(name="node01", hostname="h1"), ROOT)
    with services.context.database.transaction() as db:
        agent_store.set_suspect(db, node.id, "failed 5 tasks in a row; last: GPU lost")
    html = sign_in(app, "ana").get("/farm").data.decode()
    assert 'title="failed 5 tasks in a row; last: GPU lost"' in html
    assert "leases nothing until a TD clears it" in html
    services.agents.change(node.id, AgentChange(suspect=False), "tess")
    assert "leases nothing" not in sign_in(app, "ben").get("/farm").data.decode()


def test_users_page_is_for_admins(app: Flask, services: Services) -> None:
    assert sign_in(app, "ana").get("/users").status_code == 403
    waiting = services.users.create(UserCreate(name="newbie", role=Role.ARTIST, active=False))
    admin = sign_in(app, "root", Role.ADMIN)
    assert b"waiting for approval" in admin.get("/users").data
    for action, check in [("approve", lambda u: u.active), ("deactivate", lambda u: not u.active)]:
        response = admin.post(f"/users/{waiting.id}/{action}", data={"csrf": csrf(admin)})
        assert response.status_code == 303
        assert check(services.users.get(waiting.id))
    services.users.delete(waiting.id)
    admin.post(f"/users/{waiting.id}/restore", data={"csrf": csrf(admin)})
    assert not services.users.get(waiting.id).deleted


def test_an_artist_cannot_approve_users_even_by_posting(app: Flask, services: Services) -> None:
    waiting = services.users.create(UserCreate(name="newbie", role=Role.ARTIST, active=False))
    client = sign_in(app, "ana")
    response = client.post(f"/users/{waiting.id}/approve", data={"csrf": csrf(client)})
    assert response.status_code == 403
    assert not services.users.get(waiting.id).active


def test_the_job_page_says_where_its_files_are_and_why_it_may_burst(
    app: Flask, services: Services
) -> None:
    from daemon.storage import cloud as cloud_store
    from daemon.storage import data as data_store

    job_id = submit(services, owner="ana")
    with services.context.database.transaction() as db:
        data_store.insert_pending(db, job_id, 0.0)
        data_store.claim_pending(db, job_id, 0.0)
        data_store.record_manifest(db, job_id, '{"entries": []}', 3, 5 * 1048576, 0.0)
        data_store.mark_staged(db, job_id, blobs_sent=2, bytes_sent=2 * 1048576,
                               destination="s3://store/b/", now=0.0)  # fmt: skip
        reason = "local farm finishes 2 h after the due date; 4 of 4 frames may go to the cloud"
        cloud_store.replace_routes(db, [(job_id, "burst", 4, 2, 0.5, "{}", reason, 0.0)])
    html = sign_in(app, "ana").get(f"/jobs/{job_id}").data.decode()
    assert f"burst: {reason}" in html
    assert "staged: 3 file(s), 5.0 MB, 2.0 MB sent" in html


def test_the_job_page_shows_a_page_of_tasks_with_links_to_the_others(
    app: Flask, services: Services
) -> None:
    job_id = submit(services, owner="ana", frames="1-450", chunk=1)
    client = sign_in(app, "ana")
    first = client.get(f"/jobs/{job_id}").data.decode()
    # the grid is the whole job's, in small cells; the table a page of 200 tasks
    assert first.count('class="frame state-queued"') == 450
    assert 'class="frames compact"' in first and "<img src=" not in first  # on demand
    assert first.count("<tr data-task-id=") == 200
    assert 'data-task-number="200"' in first and 'data-task-number="201"' not in first
    assert "tasks 1\u2013200 of 450" in first
    assert f"/jobs/{job_id}?tasks_offset=200" in first and 'rel="prev"' not in first
    last = client.get(f"/jobs/{job_id}?tasks_offset=400").data.decode()
    assert last.count("<tr data-task-id=") == 50
    assert 'data-task-number="401"' in last and 'data-task-number="400"' not in last
    assert f"/jobs/{job_id}?tasks_offset=200" in last and 'rel="next"' not in last
    assert f'data-live-url="/jobs/{job_id}/live?tasks_offset=400"' in last  # what the page polls


def test_a_button_sends_back_to_the_job_page_and_its_page_of_tasks(
    app: Flask, services: Services
) -> None:
    job_id = submit(services, owner="ana", frames="1-4")
    client = sign_in(app, "ana")
    paused = client.post(f"/jobs/{job_id}/pause", data={"csrf": csrf(client)})
    assert paused.headers["Location"] == f"/jobs/{job_id}"  # the page's own URL, no ?tasks_offset=0
    task = services.jobs.tasks(job_id)[1].id
    form = {"csrf": csrf(client), "tasks_offset": "200"}
    suspended = client.post(f"/jobs/{job_id}/tasks/{task}/suspend", data=form)
    assert suspended.headers["Location"] == f"/jobs/{job_id}?tasks_offset=200"
