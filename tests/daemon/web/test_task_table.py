"""The job page's task table: a row per task with its agent by name, the buttons its viewer
may press (checked again by the API guard when pressed), and the log of the task chosen."""

from __future__ import annotations

import re

from flask import Flask

from common.models import AgentRegistration, TaskFailure, TaskLogChunk
from common.states import TaskState
from daemon.app import Services
from tests.daemon.web.helpers import ROOT, csrf, sign_in, submit


def task_buttons(html: str) -> dict[int, set[str]]:
    """Per task number, the task buttons the page shows."""
    rows = re.findall(r'data-task-number="(\d+)">(.*?)</tr>', html, re.S)
    return {int(number): set(re.findall(r'data-task-action="(\w+)"', row)) for number, row in rows}


def fail_first(services: Services, log: str) -> None:
    agent = services.enrollment.register(AgentRegistration(name="node07", hostname="n7"), ROOT)
    task = services.agents.lease(agent.id)
    assert task is not None
    services.agents.append_log(agent.id, task.task_id, TaskLogChunk(attempt=1, offset=0, text=log))
    services.agents.fail(agent.id, task.task_id, TaskFailure(attempt=1, error="boom"))


def test_the_table_names_agents_and_offers_what_each_task_allows(
    app: Flask, services: Services
) -> None:
    job_id = submit(services, owner="ana", frames="1-6", chunk=2)
    services.context.database.db.execute(
        "UPDATE jobs SET spec = json_set(spec, '$.max_retries', 0) WHERE id = ?", [job_id]
    )
    fail_first(services, "frame 1 broke\n")
    html = sign_in(app, "ana").get(f"/jobs/{job_id}").data.decode()
    assert task_buttons(html) == {1: {"retry"}, 2: {"suspend"}, 3: {"suspend"}}
    row = re.search(r'data-task-number="1">(.*?)</tr>', html, re.S)
    assert row is not None and "node07" in row.group(1) and "failed" in row.group(1)
    assert "1-2" in row.group(1)
    # another artist sees the table but no button
    ben = sign_in(app, "ben").get(f"/jobs/{job_id}").data.decode()
    assert task_buttons(ben) == {1: set(), 2: set(), 3: set()}


def test_a_task_button_posts_and_is_refused_to_who_may_not(app: Flask, services: Services) -> None:
    job_id = submit(services, owner="ana", frames="1-4", chunk=2)
    first = services.jobs.tasks(job_id)[0]
    ben = sign_in(app, "ben")
    ben.get(f"/jobs/{job_id}")
    refused = ben.post(f"/jobs/{job_id}/tasks/{first.id}/suspend", data={"csrf": csrf(ben)})
    assert refused.status_code == 403
    assert b"is not yours" in refused.data
    assert services.jobs.tasks(job_id)[0].state is TaskState.QUEUED
    no_token = ben.post(f"/jobs/{job_id}/tasks/{first.id}/suspend", data={})
    assert no_token.status_code in (400, 403)
    assert services.jobs.tasks(job_id)[0].state is TaskState.QUEUED

    ana = sign_in(app, "ana")
    ana.get(f"/jobs/{job_id}")
    done = ana.post(f"/jobs/{job_id}/tasks/{first.id}/suspend", data={"csrf": csrf(ana)})
    assert done.status_code == 303
    assert services.jobs.tasks(job_id)[0].state is TaskState.SUSPENDED
    again = ana.post(f"/jobs/{job_id}/tasks/{first.id}/suspend", data={"csrf": csrf(ana)})
    assert again.status_code == 409
    assert b"only a queued task can be suspended (you can resume it)" in again.data
    resumed = ana.post(f"/jobs/{job_id}/tasks/{first.id}/resume", data={"csrf": csrf(ana)})
    assert resumed.status_code == 303
    assert services.jobs.tasks(job_id)[0].state is TaskState.QUEUED
    unknown = ana.post(f"/jobs/{job_id}/tasks/{first.id}/explode", data={"csrf": csrf(ana)})
    assert unknown.status_code == 404


def test_the_log_shown_is_the_chosen_tasks(app: Flask, services: Services) -> None:
    job_id = submit(services, owner="ana", frames="1-4", chunk=2)
    services.context.database.db.execute(
        "UPDATE jobs SET spec = json_set(spec, '$.max_retries', 0) WHERE id = ?", [job_id]
    )
    fail_first(services, "the first task's log\n")
    first, second = services.jobs.tasks(job_id)
    client = sign_in(app, "ana")
    page = client.get(f"/jobs/{job_id}").data.decode()
    assert f'href="/jobs/{job_id}?tasks_offset=0&amp;log={first.id}#log"' in page
    assert f"log={second.id}" not in page  # never started: no log to read
    chosen = client.get(f"/jobs/{job_id}?log={first.id}").data.decode()
    assert "the first task&#39;s log" in chosen
    assert "task 1 (frames 1-2), failed on node07" in chosen
    other_job = submit(services, owner="ana", frames="1")
    foreign = services.jobs.tasks(other_job)[0]
    assert client.get(f"/jobs/{job_id}?log={foreign.id}").status_code == 404


def test_ended_jobs_are_resubmitted_archived_and_deleted_from_their_page(
    app: Flask, services: Services
) -> None:
    job_id = submit(services, owner="ana", frames="1-2")
    services.jobs.cancel(job_id)
    ana = sign_in(app, "ana")
    ana.get(f"/jobs/{job_id}")
    cloned = ana.post(f"/jobs/{job_id}/resubmit", data={"csrf": csrf(ana)})
    assert cloned.status_code == 303
    new_id = int(cloned.headers["Location"].rsplit("/", 1)[1])
    assert services.jobs.get(new_id).spec.owner == "ana"
    assert ana.post(f"/jobs/{job_id}/archive", data={"csrf": csrf(ana)}).status_code == 303
    assert services.jobs.get(job_id).archived_at is not None
    html = ana.get(f"/jobs/{job_id}").data.decode()
    assert 'data-action="unarchive"' in html and 'data-confirm="Delete job' in html
    ben = sign_in(app, "ben")
    ben.get(f"/jobs/{job_id}")
    assert ben.post(f"/jobs/{job_id}/delete", data={"csrf": csrf(ben)}).status_code == 403
    gone = ana.post(f"/jobs/{job_id}/delete", data={"csrf": csrf(ana)})
    assert gone.status_code == 303 and gone.headers["Location"].endswith("/jobs")
    assert ana.get(f"/jobs/{job_id}").status_code == 404
