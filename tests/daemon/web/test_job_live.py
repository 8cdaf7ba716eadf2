"""``GET /jobs/{id}/live``, what the job page's script refreshes in place: who may read it, the
query it takes, the frame grid as runs, and the log read on from where the page stopped."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from common.models import AgentRegistration, TaskDone, TaskLogChunk, TaskProgress
from daemon.app import Services
from daemon.web.job_view import LIVE_REGIONS, LOG_TAIL_CHARS
from tests.daemon.web.helpers import ROOT, sign_in, submit


def live(client: FlaskClient, job_id: int, **query: Any) -> Any:
    response = client.get(f"/jobs/{job_id}/live", query_string=query)
    assert response.status_code == 200, response.json
    return response.json["data"]


def test_signed_out_unknown_jobs_and_bad_queries_get_the_apis_errors(
    app: Flask, services: Services
) -> None:
    job_id = submit(services, owner="ana")
    anonymous = app.test_client().get(f"/jobs/{job_id}/live")
    assert anonymous.status_code == 401
    assert anonymous.json["code"] == "unauthenticated"
    assert "sign in again" in anonymous.json["message"]
    client = sign_in(app, "ben")  # any signed-in user reads any job, as on its page
    assert live(client, job_id)["state"] == "queued"
    missing = client.get("/jobs/999/live")
    assert (missing.status_code, missing.json["code"]) == (404, "not_found")
    for bad in ({"log_offset": "-1"}, {"log_task": "x"}, {"tasks_offset": "1e99"}, {"what": "1"}):
        answer = client.get(f"/jobs/{job_id}/live", query_string=bad)
        assert answer.status_code == 400, bad
        assert answer.json["code"] == "invalid_input"
        assert next(iter(bad)) in answer.json["message"]
    other = submit(services, owner="cid")
    foreign_task = services.jobs.tasks(other)[0].id
    stray = client.get(f"/jobs/{job_id}/live", query_string={"log": foreign_task})
    assert stray.status_code == 404  # a task of another job is not this page's to show


def test_the_regions_and_the_frame_runs_follow_the_tasks(app: Flask, services: Services) -> None:
    job_id = submit(services, owner="ana", frames="1-6", chunk=2)
    client = sign_in(app, "ana")
    first = live(client, job_id)
    assert set(first["regions"]) == set(LIVE_REGIONS)
    assert first["frames"] == [[6, "queued", 0]]
    assert 'data-action="pause"' in first["regions"]["actions"]
    assert first["regions"]["tasks"].count("<tr data-task-id=") == 3
    agent = services.enrollment.register(AgentRegistration(name="node07", hostname="n7"), ROOT)
    task = services.agents.lease(agent.id)
    assert task is not None
    services.agents.complete(agent.id, task.task_id, TaskDone(attempt=task.attempt, outputs=[]))
    second = live(client, job_id)
    assert second["frames"] == [[2, "done", 0], [4, "queued", 0]]
    assert "1 done, 2 queued" in second["regions"]["summary"]  # tasks, by state
    assert second["finished"] is False
    services.jobs.cancel(job_id)
    last = live(client, job_id)
    assert (last["state"], last["finished"]) == ("cancelled", True)
    assert 'data-action="resubmit"' in last["regions"]["actions"]
    assert 'data-action="pause"' not in last["regions"]["actions"]


def test_the_log_reads_on_from_the_pages_offset(app: Flask, services: Services) -> None:
    job_id = submit(services, owner="ana", frames="1-2", chunk=1)
    client = sign_in(app, "ana")
    assert live(client, job_id)["log"] == {"task": None, "attempt": 0, "offset": 0, "text": "",
                                           "reset": False}  # fmt: skip
    agent = services.enrollment.register(AgentRegistration(name="node07", hostname="n7"), ROOT)
    task = services.agents.lease(agent.id)
    assert task is not None
    services.agents.progress(agent.id, task.task_id, TaskProgress(attempt=1, progress=0.1))
    first = TaskLogChunk(attempt=task.attempt, offset=0, text="line one\n")
    services.agents.append_log(agent.id, task.task_id, first)
    log = live(client, job_id)["log"]  # the page showed no task: the whole tail, to replace
    assert log == {"task": task.task_id, "attempt": 1, "offset": 9, "text": "line one\n",
                   "reset": True}  # fmt: skip
    second = TaskLogChunk(attempt=task.attempt, offset=9, text="line two\n")
    services.agents.append_log(agent.id, task.task_id, second)
    cursor = {"log_task": task.task_id, "log_attempt": 1, "log_offset": 9}
    log = live(client, job_id, **cursor)["log"]
    assert (log["text"], log["offset"], log["reset"]) == ("line two\n", 18, False)
    assert live(client, job_id, **{**cursor, "log_offset": 18})["log"]["text"] == ""
    # another attempt than the page's: its log replaces the page's
    log = live(client, job_id, **{**cursor, "log_attempt": 7})["log"]
    assert (log["text"], log["reset"]) == ("line one\nline two\n", True)
    # a cursor naming another job's task reads nothing of it: this job's log comes whole
    other = submit(services, owner="cid")
    foreign = {**cursor, "log_task": services.jobs.tasks(other)[0].id, "log_offset": 0}
    log = live(client, job_id, **foreign)["log"]
    assert (log["task"], log["text"], log["reset"]) == (task.task_id, "line one\nline two\n", True)
    # more than one update appends: the tail, to replace
    flood = "x" * (LOG_TAIL_CHARS + 10)
    third = TaskLogChunk(attempt=task.attempt, offset=18, text=flood)
    services.agents.append_log(agent.id, task.task_id, third)
    log = live(client, job_id, **{**cursor, "log_offset": 18})["log"]
    assert (len(log["text"]), log["reset"], log["offset"]) == (
        LOG_TAIL_CHARS,
        True,
        18 + len(flood),
    )


def test_the_page_polls_for_the_log_it_was_asked_for(app: Flask, services: Services) -> None:
    job_id = submit(services, owner="ana", frames="1-2", chunk=1)
    second = services.jobs.tasks(job_id)[1].id
    html = sign_in(app, "ana").get(f"/jobs/{job_id}?log={second}").data.decode()
    assert f'data-live-url="/jobs/{job_id}/live?tasks_offset=0&amp;log={second}"' in html
    assert '<script src="/dashboard-static/job.js" defer>' in html
