"""The job page's task table in headless Chromium: a task suspended and resumed from its
row, a task's log chosen by its link, a finished job deleted after the browser's confirm."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from common.accounts import Role, UserCreate
from common.errors import NotFound
from common.models import AgentRegistration, TaskFailure, TaskLogChunk
from common.states import TaskState
from daemon.app import Services
from tests.daemon.web.helpers import ROOT, submit
from tests.e2e.browser import ARGS, CHROMIUM, needs_chromium
from tests.serving import serve

pytestmark = [needs_chromium]

PASSWORD = "table-pw-12345"


@pytest.fixture
def page(app: Flask, services: Services) -> Iterator[tuple[Any, str]]:
    """A Chromium page signed in as the artist ``ana``, and the dashboard's URL."""
    from playwright.sync_api import sync_playwright

    services.users.create(UserCreate(name="ana", role=Role.ARTIST, password=PASSWORD))
    with serve(app) as url, sync_playwright() as play:
        browser = play.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            tab = browser.new_page()
            tab.goto(f"{url}/login")
            tab.fill("input[name=username]", "ana")
            tab.fill("input[name=password]", PASSWORD)
            tab.click("button[type=submit]")
            tab.wait_for_url(f"{url}/jobs")
            yield tab, url
        finally:
            browser.close()


def test_suspend_resume_and_read_a_tasks_log_from_the_table(
    page: tuple[Any, str], services: Services
) -> None:
    tab, url = page
    job_id = submit(services, owner="ana", frames="1-4", chunk=2)
    agent = services.enrollment.register(AgentRegistration(name="node07", hostname="n7"), ROOT)
    task = services.agents.lease(agent.id)
    assert task is not None
    chunk = TaskLogChunk(attempt=1, offset=0, text="first task says hello\n")
    services.agents.append_log(agent.id, task.task_id, chunk)
    tab.goto(f"{url}/jobs/{job_id}")

    tab.click("tr[data-task-number='2'] button[data-task-action=suspend]")

    tab.wait_for_selector("tr[data-task-number='2'] button[data-task-action=resume]")
    assert services.jobs.tasks(job_id)[1].state is TaskState.SUSPENDED
    assert tab.inner_text("tr[data-task-number='2'] .badge") == "suspended"
    tab.click("tr[data-task-number='2'] button[data-task-action=resume]")
    tab.wait_for_selector("tr[data-task-number='2'] button[data-task-action=suspend]")
    assert services.jobs.tasks(job_id)[1].state is TaskState.QUEUED
    # the leased task's row names its node, and its log link shows its log
    assert tab.inner_text("tr[data-task-number='1'] [data-field=agent]") == "node07"
    services.agents.fail(agent.id, task.task_id, TaskFailure(attempt=1, error="boom"))
    tab.goto(f"{url}/jobs/{job_id}")
    tab.click("tr[data-task-number='1'] a[data-log]")
    tab.wait_for_url(f"**log={task.task_id}#log")
    assert "first task says hello" in tab.inner_text("pre.log")
    assert tab.inner_text("[data-field=log-task]").startswith("task 1 (frames 1-2)")


def test_delete_asks_first(page: tuple[Any, str], services: Services) -> None:
    tab, url = page
    job_id = submit(services, owner="ana", frames="1")
    services.jobs.cancel(job_id)
    tab.goto(f"{url}/jobs/{job_id}")
    tab.once("dialog", lambda dialog: dialog.dismiss())
    tab.click("button[data-action=delete]")
    assert services.jobs.get(job_id).state.finished  # still there: the dialog said no
    tab.once("dialog", lambda dialog: dialog.accept())
    tab.click("button[data-action=delete]")
    tab.wait_for_url(f"{url}/jobs")
    with pytest.raises(NotFound):
        services.jobs.get(job_id)
