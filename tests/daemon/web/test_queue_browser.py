"""The queue page in headless Chromium: a new job appears without a reload while rows are
selected and a search is being typed, then three jobs are cancelled at once after the page
asks."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from common.states import JobState
from daemon.app import Services
from tests.daemon.web.helpers import browser_sign_in, sign_in, submit
from tests.e2e.browser import ARGS, CHROMIUM, needs_chromium
from tests.serving import serve

pytestmark = [pytest.mark.slow, needs_chromium]  # a browser start: several seconds


def test_select_three_cancel_them_and_see_a_new_job_arrive(app: Flask, services: Services) -> None:
    from playwright.sync_api import sync_playwright

    sign_in(app, "ana")  # the account; the browser signs in through the form
    chosen = [submit(services, owner="ana") for _ in range(3)]
    kept = submit(services, owner="ana")
    with serve(app, threads=4) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page: Any = browser.new_page()
            violations = browser_sign_in(page, url, "ana", "/jobs")
            page.evaluate("window.notReloaded = true")
            for job_id in chosen:
                page.check(f'tr[data-job-id="{job_id}"] input[name=job]')
            page.fill("input[name=name]", "half-typed")
            assert page.inner_text('#bulk [data-field="selected"]') == "3 selected"

            arrived = submit(services, owner="ana")
            page.locator(f'tr[data-job-id="{arrived}"]').wait_for(timeout=15_000)

            assert page.evaluate("window.notReloaded") is True
            assert page.input_value("input[name=name]") == "half-typed"
            for job_id in chosen:
                assert page.is_checked(f'tr[data-job-id="{job_id}"] input[name=job]')
            assert not page.is_checked(f'tr[data-job-id="{arrived}"] input[name=job]')
            asked: list[str] = []
            page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
            page.click('button[data-action="bulk-cancel"]')
            page.wait_for_load_state()
            page.locator('tr[data-job-id] [data-field="state"]', has_text="cancelled").nth(
                2
            ).wait_for(timeout=10_000)
        finally:
            browser.close()
    assert asked and asked[0].startswith("Cancel the selected jobs")
    assert asked[0].endswith("(3 selected)")
    assert [services.jobs.get(i).state for i in chosen] == [JobState.CANCELLED] * 3
    assert services.jobs.get(kept).state is JobState.QUEUED
    assert services.jobs.get(arrived).state is JobState.QUEUED
    assert violations == []
