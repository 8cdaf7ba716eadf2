"""The farm page in headless Chromium: load meters drawn under the page's strict CSP, charts
drawn, and a TD draining a node with the page's own button."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from common.accounts import Role, UserCreate
from common.models import AgentRegistration, Heartbeat
from daemon.app import Services
from tests.conftest import FakeClock
from tests.daemon.web.helpers import PASSWORD, ROOT, browser_sign_in, submit
from tests.e2e.browser import ARGS, CHROMIUM, needs_chromium
from tests.serving import serve

pytestmark = [pytest.mark.slow, needs_chromium]  # a browser start: several seconds


def test_a_td_sees_load_and_charts_and_drains_a_node(
    app: Flask, services: Services, clock: FakeClock
) -> None:
    from playwright.sync_api import sync_playwright

    services.users.create(UserCreate(name="tess", role=Role.TD, password=PASSWORD))
    node = services.enrollment.register(AgentRegistration(name="node01", hostname="h1"), ROOT)
    submit(services, owner="ana", frames="1-4", chunk=1)
    assert services.agents.lease(node.id) is not None
    services.agents.heartbeat(node.id, Heartbeat(cpu_percent=75.0))
    services.farm_history.sample()
    clock.advance(6 * 3600)
    services.farm_history.sample()
    with serve(app, threads=4) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page: Any = browser.new_page()
            violations = browser_sign_in(page, url, "tess", "/farm")
            row = page.locator(f'tr[data-agent-id="{node.id}"]')
            bar = row.locator(".meter .bar").first
            cell = row.locator(".meter .progress").first
            ratio = bar.bounding_box()["width"] / cell.bounding_box()["width"]
            assert 0.7 < ratio < 0.8  # 75 %, set by the script from data-percent
            line = page.locator('[data-chart="queue"] polyline')
            assert line.bounding_box()["width"] > 100  # two samples: a quarter of the day apart
            row.locator('button[data-action="drain"]').click()
            page.wait_for_load_state()
            state = page.locator(f'tr[data-agent-id="{node.id}"] [data-field="activity"]')
            assert state.inner_text() == "draining"
        finally:
            browser.close()
    assert violations == []
    assert services.agents.list_agents()[0].control == "drain"
