"""The job page live in headless Chromium: frames finish, the job pauses and its priority is
changed elsewhere while a priority is typed (what was typed stays); the log tails live; a
10,000-frame job's page shows its whole grid. Tasks move over the real agent API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from common.accounts import Role, UserCreate
from daemon.app import Services
from tests.conftest import user_token
from tests.daemon.http_farm import HttpFarm
from tests.daemon.web.helpers import submit
from tests.e2e.browser import ARGS, CHROMIUM, needs_chromium
from tests.serving import serve

pytestmark = [needs_chromium]

PASSWORD = "live-page-pw-1"
AT_BOTTOM = "pre => pre.scrollHeight - pre.scrollTop - pre.clientHeight < 4"


@dataclass
class Session:
    tab: Any
    url: str
    farm: HttpFarm

    def open(self, job_id: int) -> None:
        """Opens the job's page and marks the document, to prove later that it never reloaded."""
        self.tab.goto(f"{self.url}/jobs/{job_id}")
        self.tab.evaluate("window.sameDocument = true")

    def stayed(self) -> bool:
        return bool(self.tab.evaluate("window.sameDocument === true"))


@pytest.fixture
def session(app: Flask, services: Services) -> Iterator[Session]:
    """Chromium signed in as the artist ``ana``; the farm driven over HTTP by an admin."""
    from playwright.sync_api import sync_playwright

    services.users.create(UserCreate(name="ana", role=Role.ARTIST, password=PASSWORD))
    token = user_token(services, "root", Role.ADMIN)
    with serve(app, threads=6) as url, sync_playwright() as play:
        browser = play.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            tab = browser.new_page()
            tab.goto(f"{url}/login")
            tab.fill("input[name=username]", "ana")
            tab.fill("input[name=password]", PASSWORD)
            tab.click("button[type=submit]")
            tab.wait_for_url(f"{url}/jobs")
            yield Session(tab, url, HttpFarm(url, token))
        finally:
            browser.close()


def finish(farm: HttpFarm, node: tuple[str, str], count: int) -> None:
    for _ in range(count):
        task = farm.lease(node)
        assert task is not None
        farm.complete(node, task)


def test_typing_a_priority_while_frames_finish_keeps_what_was_typed(
    session: Session, services: Services
) -> None:
    from playwright.sync_api import expect

    tab, farm = session.tab, session.farm
    job_id = submit(services, owner="ana", frames="1-6", chunk=1)
    session.open(job_id)
    field = tab.locator("input[name=priority]")
    field.click()
    field.press("Control+A")
    field.press_sequentially("8")
    node = farm.register("node01")
    finish(farm, node, 3)
    assert farm.call("POST", f"/jobs/{job_id}/pause").status_code == 200
    assert farm.call("PUT", f"/jobs/{job_id}/priority", {"priority": 20}).status_code == 200

    # the grid, the counts, the task rows and the buttons move; the field being typed in not
    expect(tab.locator("#frames .frame.state-done")).to_have_count(3)
    tab.locator("[data-live=actions] button[data-action=resume]").wait_for()
    assert tab.locator("[data-live=actions] button[data-action=pause]").count() == 0
    assert "3 done" in tab.inner_text("[data-field=task-counts]")
    assert tab.inner_text("tr[data-task-number='3'] .badge") == "done"
    assert tab.inner_text("[data-field=priority]") == "20"  # the fact shows the new priority
    field.press_sequentially("5")
    assert field.input_value() == "85"
    assert tab.evaluate("document.activeElement.name") == "priority"
    assert session.stayed()
    tab.click("button[data-action=priority]")
    tab.wait_for_load_state()
    assert services.jobs.get(job_id).spec.priority == 85


def test_the_log_tails_live_and_leaves_a_reader_who_scrolled_up(
    session: Session, services: Services
) -> None:
    from playwright.sync_api import expect

    tab, farm = session.tab, session.farm
    job_id = submit(services, owner="ana", frames="1-2", chunk=1)
    agent_id, token = node = farm.register("node01")
    task = farm.lease(node)
    assert task is not None
    base = f"/agents/{agent_id}/tasks/{task['task_id']}"
    sent = 0

    def say(*lines: str) -> None:
        nonlocal sent
        text = "".join(f"{line}\n" for line in lines)
        body = {"attempt": task["attempt"], "offset": sent, "text": text}
        assert farm.call("POST", f"{base}/log", body, token=token).status_code == 200
        sent += len(text)

    progress = {"attempt": task["attempt"], "progress": 0.1}
    assert farm.call("POST", f"{base}/progress", progress, token=token).status_code == 200
    say(*(f"Fra:1 Mem:12M | Sample {n}/128" for n in range(80)))
    session.open(job_id)
    log = tab.locator("pre.log")
    assert log.evaluate("pre => pre.scrollHeight > pre.clientHeight")  # it overflows
    assert log.evaluate(AT_BOTTOM)  # and opens at its end

    say("Saved: /renders/f_0001.png", "tail line two")
    expect(log).to_contain_text("tail line two")
    assert log.evaluate(AT_BOTTOM)
    assert log.inner_text().count("Sample 79/128") == 1  # appended, not repeated
    assert session.stayed()

    log.evaluate("pre => { pre.scrollTop = 0; }")  # the reader scrolls up to read
    say("more after the reader scrolled up")
    expect(log).to_contain_text("reader scrolled")
    assert log.evaluate("pre => pre.scrollTop") == 0


def test_a_ten_thousand_frame_job_shows_its_whole_grid(
    session: Session, services: Services
) -> None:
    from playwright.sync_api import expect

    tab, farm = session.tab, session.farm
    job_id = submit(services, owner="ana", frames="1-10000", chunk=1)
    session.open(job_id)
    cells = tab.locator("#frames .frame")
    assert cells.count() == 10_000
    assert tab.locator("tr[data-task-id]").count() == 200  # the table goes a page at a time
    grid = tab.locator("#frames").bounding_box()
    log = tab.locator("#log").bounding_box()
    assert grid is not None and log is not None
    assert grid["height"] <= 400  # a pane that scrolls, not a page of 7,000 px
    assert log["y"] < grid["y"]  # the log is read without passing the grid

    finish(farm, farm.register("node01"), 2)
    expect(tab.locator("#frames .frame.state-done")).to_have_count(2)
    assert (
        tab.locator("#frames .frame[data-frame='1']").get_attribute("class") == "frame state-done"
    )
    tab.hover("#frames .frame[data-frame='2']")
    assert tab.locator("#frames .frame[data-frame='2']").get_attribute("title") == "frame 2: done"
    assert session.stayed()
