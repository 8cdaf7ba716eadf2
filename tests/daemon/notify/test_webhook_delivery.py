"""Webhooks end to end over real HTTP: a job's end reaches a local receiver, signed; a 500 is
tried again, a 404 is not; each event is delivered once."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import requests

from common.models import JobSpec
from daemon.app import Services
from tests.conftest import FakeClock
from tests.daemon.notify.conftest import People, add_webhook, agent, finish, submit
from tests.daemon.notify.receiver import Receiver


def subscribe(daemon_url: str, people: People, hook: Receiver, **extra: Any) -> dict[str, Any]:
    body = {"url": hook.url, "events": ["job.succeeded", "job.failed"], **extra}
    response = add_webhook(daemon_url, people, "ana", **body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["data"]
    return created


def check_signature(secret: str, headers: dict[str, str], body: bytes, now: float) -> None:
    """What a receiver does: recompute the HMAC over "<t>.<body>" and check t is fresh."""
    fields = dict(part.split("=", 1) for part in headers["X-Cloudburst-Signature"].split(","))
    expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256)
    assert hmac.compare_digest(fields["v1"], expected.hexdigest())
    assert abs(now - int(fields["t"])) <= 300


def test_a_job_that_succeeded_is_told_signed_and_a_500_is_tried_again(
    daemon_url: str, services: Services, people: People, hook: Receiver, clock: FakeClock
) -> None:
    created = subscribe(daemon_url, people, hook)
    assert created["secret"].startswith("whsec_")
    job_id = submit(services)
    finish(services, agent(services))
    hook.script([500])

    first = services.notifier.deliver()
    assert (first.delivered, first.retrying) == (0, 1)
    assert len(hook.received) == 1
    clock.advance(29)  # the first wait is [webhooks] retry_base_s = 30
    services.notifier.deliver()
    assert len(hook.received) == 1
    clock.advance(1)
    second = services.notifier.deliver()
    assert (second.delivered, second.retrying) == (1, 0)

    assert len(hook.received) == 2
    sent = hook.received[-1]
    assert sent.body == hook.received[0].body  # the same bytes, signed again at each try
    assert sent.headers["X-Cloudburst-Event"] == "job.succeeded"
    delivery = sent.headers["X-Cloudburst-Delivery"]
    assert delivery == hook.received[0].headers["X-Cloudburst-Delivery"]
    assert sent.headers["Content-Type"] == "application/json"
    check_signature(created["secret"], sent.headers, sent.body, clock.now)
    event = json.loads(sent.body)
    assert event["event"] == "job.succeeded"
    assert event["job"]["id"] == job_id and event["job"]["state"] == "succeeded"
    assert event["job"]["url"] == f"https://farm.studio.example/jobs/{job_id}"
    assert f"Job {job_id}" in event["text"]

    # The owner sees how it went.
    listed = requests.get(f"{daemon_url}/api/v1/webhooks", headers=people.headers("ana"),
                          timeout=10).json()["data"]  # fmt: skip
    assert "secret" not in listed[0]
    [delivery] = listed[0]["deliveries"]
    assert (delivery["state"], delivery["attempts"], delivery["last_status"]) == (
        "delivered", 2, 200)  # fmt: skip


def test_a_forged_or_replayed_signature_does_not_check(
    daemon_url: str, services: Services, people: People, hook: Receiver, clock: FakeClock
) -> None:
    from daemon.webhooks.signing import verify

    created = subscribe(daemon_url, people, hook)
    submit(services)
    finish(services, agent(services))
    services.notifier.deliver()
    [sent] = hook.received
    header = sent.headers["X-Cloudburst-Signature"]
    assert verify(created["secret"], sent.body, header, clock.now)
    assert not verify(created["secret"], sent.body + b" ", header, clock.now)
    assert not verify("whsec_other", sent.body, header, clock.now)
    assert not verify(created["secret"], sent.body, header, clock.now + 301)  # a replay


def test_a_404_is_not_tried_again(
    daemon_url: str, services: Services, people: People, hook: Receiver, clock: FakeClock
) -> None:
    subscribe(daemon_url, people, hook)
    submit(services)
    finish(services, agent(services))
    hook.script([404])
    report = services.notifier.deliver()
    assert report.dropped == 1
    for _ in range(3):
        clock.advance(3600)
        services.notifier.deliver()
    assert len(hook.received) == 1
    [webhook] = services.webhooks.list_webhooks(_ana(services))
    assert webhook.deliveries[0].state.value == "dropped"
    assert webhook.deliveries[0].last_status == 404


def test_tries_stop_at_max_attempts(
    daemon_url: str, services: Services, people: People, hook: Receiver, clock: FakeClock
) -> None:
    subscribe(daemon_url, people, hook)
    submit(services)
    finish(services, agent(services))
    hook.script([503] * 10)
    for _ in range(6):
        services.notifier.deliver()
        clock.advance(3600)
    assert len(hook.received) == 3  # [webhooks] max_attempts = 3, then dropped


def test_succeeded_and_failed_are_delivered_once_each(
    daemon_url: str, services: Services, people: People, hook: Receiver, clock: FakeClock
) -> None:
    subscribe(daemon_url, people, hook)
    good = submit(services)
    node = agent(services)
    finish(services, node)
    bad = services.jobs.submit(JobSpec(name="bad", owner="ana", project="show",
                                       scene="/p/s.blend", frames="1-2", chunk_size=1,
                                       output="/renders/y/f_####", max_retries=0)).id  # fmt: skip
    finish(services, node, fail=True)
    with services.context.database.transaction() as db:  # settling again changes nothing
        services.jobs.settle(db, good)
        services.jobs.settle(db, bad)
    for _ in range(3):
        services.notifier.deliver()
        clock.advance(60)
    told = sorted((json.loads(r.body)["event"], json.loads(r.body)["job"]["id"])
                  for r in hook.received)  # fmt: skip
    assert told == [("job.failed", bad), ("job.succeeded", good)]
    failed = next(json.loads(r.body) for r in hook.received if b"job.failed" in r.body)
    assert "failed" in failed["text"] and failed["job"]["message"]


def test_others_jobs_are_not_told(
    daemon_url: str, services: Services, people: People, hook: Receiver
) -> None:
    subscribe(daemon_url, people, hook)
    submit(services, owner="ben")
    finish(services, agent(services))
    assert services.notifier.deliver().delivered == 0
    assert hook.received == []


def test_a_slack_webhook_gets_a_sentence_and_the_job_link(
    daemon_url: str, services: Services, people: People, hook: Receiver
) -> None:
    subscribe(daemon_url, people, hook, format="slack")
    job_id = services.jobs.submit(JobSpec(name="<!channel> & co", owner="ana", project="show",
                                          scene="/p/s.blend", frames="1", chunk_size=1,
                                          output="/renders/z/f_####")).id  # fmt: skip
    finish(services, agent(services))
    services.notifier.deliver()
    [sent] = hook.received
    body = json.loads(sent.body)
    assert list(body) == ["text"]
    assert body["text"].startswith(f'Job {job_id} "&lt;!channel&gt; &amp; co" of ana (show)')
    assert body["text"].endswith(f"<https://farm.studio.example/jobs/{job_id}|Open job {job_id}>")


def _ana(services: Services) -> Any:
    from common.accounts import Role
    from daemon.auth import Principal

    user_id = next(u.id for u in services.users.list_users() if u.name == "ana")
    return Principal(kind="user", name="ana", role=Role.ARTIST, user_id=user_id)
