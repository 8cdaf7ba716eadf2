"""The notifications page in real headless Chromium: add a webhook, read its secret once,
see how its delivery went, remove it; the page needs nothing its Content Security Policy
forbids."""

from __future__ import annotations

from pathlib import Path

from common.accounts import Role, UserCreate
from common.config import Settings
from common.webhook_settings import WebhookSettings
from daemon.app import Services, create_app
from tests.conftest import FakeClock
from tests.daemon.notify.conftest import agent, finish, submit
from tests.daemon.notify.receiver import receiver
from tests.e2e.browser import ARGS, CHROMIUM, needs_chromium
from tests.serving import serve

pytestmark = needs_chromium

PASSWORD = "notify-pw-123"


def test_add_a_webhook_and_watch_it_deliver(tmp_path: Path, clock: FakeClock) -> None:
    from playwright.sync_api import sync_playwright

    settings = Settings(data_dir=tmp_path / "d",
                        webhooks=WebhookSettings(internal_hosts=["127.0.0.1"]))  # fmt: skip
    app = create_app(settings, clock=clock)
    services: Services = app.extensions["cloudburst"]
    services.users.create(UserCreate(name="ana", role=Role.ARTIST, password=PASSWORD))
    with receiver() as hook, serve(app) as url, sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = chromium.new_page()
            refused: list[str] = []
            page.on(
                "console", lambda m: refused.append(m.text) if "Security Policy" in m.text else None
            )
            page.goto(f"{url}/webhooks")
            page.fill("input[name=username]", "ana")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{url}/webhooks")

            page.fill("input[name=url]", hook.url)
            page.uncheck("input[name=event][value='job.needs_attention']")
            page.select_option("select[name=format]", "slack")
            with page.expect_navigation():
                page.click(".webhook-form button[type=submit]")
            secret = page.locator("[data-field=secret]").inner_text()
            assert secret.startswith("whsec_")

            job_id = submit(services)
            finish(services, agent(services))
            services.notifier.deliver()
            with page.expect_navigation():
                page.click("nav >> text=Notifications")
            row = page.locator("tr[data-webhook]")
            assert row.count() == 1
            assert "job.succeeded, job.failed" in row.inner_text()
            assert f"job.succeeded of job {job_id} (200)" in row.inner_text()
            assert page.locator("[data-field=secret]").count() == 0  # shown once only
            assert len(hook.received) == 1

            page.click("button[data-action=remove]")
            page.wait_for_url(f"{url}/webhooks")
            assert page.locator("tr[data-webhook]").count() == 0
            assert refused == []
        finally:
            chromium.close()
