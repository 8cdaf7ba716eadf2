"""The notifications page: one's webhooks, added and removed through CSRF-checked forms that
the same rules as the API govern."""

from __future__ import annotations

from flask import Flask

from common.accounts import Role
from common.config import Settings
from common.webhook_settings import WebhookSettings
from daemon.app import Services, create_app
from tests.conftest import FakeClock
from tests.daemon.calls import snapshot
from tests.daemon.web.helpers import csrf, sign_in

URL = "https://93.184.216.34/hooks/desk"


def test_add_see_the_secret_once_and_remove(app: Flask, services: Services) -> None:
    browser = sign_in(app, "ana")
    page = browser.get("/webhooks")
    assert page.status_code == 200
    assert b'name="project"' not in page.data  # an artist cannot subscribe a show
    added = browser.post("/webhooks", data={
        "csrf": csrf(browser), "url": URL, "event": ["job.failed", "job.succeeded"],
        "format": "slack", "description": "my desk",
    })  # fmt: skip
    assert added.status_code == 201, added.data
    [hook] = services.webhooks.list_webhooks(_ana(services))
    assert [e.value for e in hook.events] == ["job.failed", "job.succeeded"]
    assert hook.format.value == "slack" and hook.description == "my desk"
    assert b"whsec_" in added.data and b"shown only now" in added.data
    again = browser.get("/webhooks")
    assert URL.encode() in again.data
    assert b"whsec_" not in again.data  # never shown again
    removed = browser.post(f"/webhooks/{hook.id}/remove", data={"csrf": csrf(browser)})
    assert removed.status_code == 303
    assert services.webhooks.list_webhooks(_ana(services)) == []


def test_an_artist_posting_a_show_is_refused(app: Flask, services: Services) -> None:
    browser = sign_in(app, "ana")
    browser.get("/webhooks")
    before = snapshot(services)
    answer = browser.post("/webhooks", data={"csrf": csrf(browser), "url": URL,
                                             "event": "job.failed", "project": "show"})  # fmt: skip
    assert answer.status_code == 403
    assert b"cannot subscribe a whole show" in answer.data
    assert snapshot(services) == before


def test_a_producer_may_subscribe_a_show(app: Flask, services: Services) -> None:
    browser = sign_in(app, "pam", Role.PRODUCER)
    assert b'name="project"' in browser.get("/webhooks").data
    form = {"csrf": csrf(browser), "url": URL, "event": "budget.reached", "project": "show"}
    answer = browser.post("/webhooks", data=form)
    assert answer.status_code == 201, answer.data


def test_forms_without_the_token_or_with_bad_input_change_nothing(
    app: Flask, services: Services
) -> None:
    browser = sign_in(app, "ana")
    browser.get("/webhooks")
    before = snapshot(services)
    forged = browser.post("/webhooks", data={"url": URL, "event": "job.failed"})
    assert forged.status_code == 403
    no_event = browser.post("/webhooks", data={"csrf": csrf(browser), "url": URL})
    assert no_event.status_code == 400
    assert b"tick at least one event" in no_event.data
    metadata = browser.post("/webhooks", data={"csrf": csrf(browser), "event": "job.failed",
                                               "url": "http://169.254.169.254/latest"})  # fmt: skip
    assert metadata.status_code == 400
    assert b"link-local or cloud metadata" in metadata.data
    assert snapshot(services) == before


def test_one_cannot_remove_anothers_webhook_from_the_page(app: Flask, services: Services) -> None:
    ana = sign_in(app, "ana")
    ana.get("/webhooks")
    ana.post("/webhooks", data={"csrf": csrf(ana), "url": URL, "event": "job.failed"})
    [hook] = services.webhooks.list_webhooks(_ana(services))
    ben = sign_in(app, "ben")
    ben.get("/webhooks")
    answer = ben.post(f"/webhooks/{hook.id}/remove", data={"csrf": csrf(ben)})
    assert answer.status_code == 404
    assert URL.encode() not in ben.get("/webhooks").data
    assert len(services.webhooks.list_webhooks(_ana(services))) == 1


def test_the_page_needs_signing_in(app: Flask) -> None:
    answer = app.test_client().get("/webhooks")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def _ana(services: Services) -> object:
    from daemon.auth import Principal

    user = next(u for u in services.users.list_users() if u.name == "ana")
    return Principal(kind="user", name="ana", role=user.role, user_id=user.id)


def test_deliveries_show_on_the_page(tmp_path: object, clock: FakeClock) -> None:
    from pathlib import Path

    from tests.daemon.notify.conftest import agent, finish, submit
    from tests.daemon.notify.receiver import receiver

    settings = Settings(data_dir=Path(str(tmp_path)) / "d",
                        webhooks=WebhookSettings(internal_hosts=["127.0.0.1"]))  # fmt: skip
    app = create_app(settings, clock=clock)
    services: Services = app.extensions["cloudburst"]
    with receiver() as hook:
        hook.script([404])
        browser = sign_in(app, "ana")
        browser.get("/webhooks")
        browser.post("/webhooks", data={"csrf": csrf(browser), "url": hook.url,
                                        "event": "job.succeeded"})  # fmt: skip
        job_id = submit(services)
        finish(services, agent(services))
        services.notifier.deliver()
    page = browser.get("/webhooks").data.decode()
    assert f"job.succeeded of job {job_id} (404)" in page
    assert 'class="badge delivery-dropped"' in page
