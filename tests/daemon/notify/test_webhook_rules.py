"""Who may subscribe what, and where a webhook may call (the SSRF rule), over real HTTP: each
refusal is a 4xx with a stable code and a sentence, and stores nothing."""

from __future__ import annotations

import pytest
import requests

from common.accounts import Role, UserUpdate
from common.models import WebhookCreate, WebhookEvent, WebhookScope
from daemon.app import Services
from daemon.webhooks import targets
from tests.daemon.calls import snapshot
from tests.daemon.notify.conftest import People, add_webhook, agent, finish, submit
from tests.daemon.notify.receiver import Receiver

SHOW_HOOK = {"events": ["job.failed", "budget.reached"], "scope": "show", "project": "show"}


def test_an_artist_cannot_subscribe_a_show(
    daemon_url: str, services: Services, people: People, hook: Receiver
) -> None:
    before = snapshot(services)
    response = add_webhook(daemon_url, people, "ana", url=hook.url, **SHOW_HOOK)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert "TDs, producers and admins" in response.json()["message"]
    assert snapshot(services) == before


@pytest.mark.parametrize("who", ["pam", "tess", "root"])
def test_tds_producers_and_admins_may_subscribe_a_show(
    daemon_url: str, services: Services, people: People, hook: Receiver, who: str
) -> None:
    response = add_webhook(daemon_url, people, who, url=hook.url, **SHOW_HOOK)
    assert response.status_code == 201, response.text
    # ... and hear of any job of the show, whoever owns it.
    submit(services, owner="ben", max_retries=0)
    finish(services, agent(services), fail=True)
    services.notifier.deliver()
    assert [r.headers["X-Cloudburst-Event"] for r in hook.received] == ["job.failed"]


def test_budget_reached_is_a_shows_event(
    daemon_url: str, services: Services, people: People, hook: Receiver
) -> None:
    response = add_webhook(daemon_url, people, "pam", url=hook.url, events=["budget.reached"])
    assert response.status_code == 400
    assert "subscribe the show" in response.json()["message"]


def test_a_producer_made_an_artist_stops_hearing_of_the_show(
    daemon_url: str, services: Services, people: People, hook: Receiver
) -> None:
    assert add_webhook(daemon_url, people, "pam", url=hook.url, **SHOW_HOOK).status_code == 201
    pam = next(u for u in services.users.list_users() if u.name == "pam")
    services.users.update(pam.id, UserUpdate(role=Role.ARTIST))
    submit(services, owner="ben", max_retries=0)
    finish(services, agent(services), fail=True)
    services.notifier.deliver()
    assert hook.received == []


REFUSED = [
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata (OCI, AWS, GCP...)
    "http://[fe80::1]/hook",  # link-local
    "http://[::ffff:169.254.169.254]/",  # metadata written as IPv6
    "http://[fd00:ec2::254]/",  # AWS's metadata over IPv6
    "http://10.0.0.5/hook",  # the studio's network, not in internal_hosts
    "http://192.168.1.20:8080/hook",
    "http://0.0.0.0:8642/api/v1/users",  # this machine by another name
    "http://127.0.0.2/hook",  # loopback, but not the address IT allowed
    "ftp://hooks.example.com/x",
    "file:///etc/passwd",
    "http://user:secret@93.184.216.34/hook",  # credentials in the address
    "https:///no-host",
]


@pytest.mark.parametrize("url", REFUSED)
def test_a_forbidden_address_is_refused(
    daemon_url: str, services: Services, people: People, url: str
) -> None:
    before = snapshot(services)
    response = add_webhook(daemon_url, people, "root", url=url, events=["job.failed"])
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "webhook_url_refused"
    assert response.json()["message"].endswith(".")
    assert snapshot(services) == before


def test_link_local_is_refused_even_when_it_sits_in_internal_hosts() -> None:
    internal = targets.InternalHosts(["169.254.0.0/16", "meta.local"])
    target = targets.parse_target("http://meta.local/latest")
    with pytest.raises(targets.WebhookUrlRefused, match="link-local"):
        targets.check_addresses(target, ["169.254.169.254"], internal)
    lan = targets.parse_target("https://chat.studio.lan/hooks/x")
    assert targets.check_addresses(lan, ["10.1.2.3"], targets.InternalHosts(["10.0.0.0/8"]))
    with pytest.raises(targets.WebhookUrlRefused, match="internal_hosts"):
        targets.check_addresses(lan, ["10.1.2.3"], targets.InternalHosts([]))
    # A name that resolves to a public and a metadata address is refused as a whole.
    with pytest.raises(targets.WebhookUrlRefused):
        targets.check_addresses(lan, ["93.184.216.34", "169.254.169.254"],
                                targets.InternalHosts(["chat.studio.lan"]))  # fmt: skip


def test_a_name_that_later_resolves_to_metadata_is_not_called(
    services: Services, people: People, hook: Receiver
) -> None:
    """The rule is checked again at each delivery, and the request goes to the checked
    address: a name rebound to 169.254.169.254 after it was added gets nothing."""
    port = int(hook.url.split(":")[2].split("/")[0])
    answers = {"now": ["127.0.0.1"]}
    resolver = lambda host, _port: answers["now"]  # noqa: E731
    services.webhooks.resolver = resolver
    services.notifier.resolver = resolver
    ana = next(u for u in services.users.list_users() if u.name == "ana")
    from daemon.auth import Principal

    caller = Principal(kind="user", name="ana", role=ana.role, user_id=ana.id)
    services.webhooks.add(WebhookCreate(url=f"http://127.0.0.1:{port}/hook",
                                        events=[WebhookEvent.JOB_SUCCEEDED]), caller)  # fmt: skip
    submit(services)
    finish(services, agent(services))
    answers["now"] = ["169.254.169.254"]
    report = services.notifier.deliver()
    assert report.delivered == 0
    assert hook.received == []
    [webhook] = services.webhooks.list_webhooks(caller)
    assert "link-local" in webhook.deliveries[0].last_error
    assert webhook.scope is WebhookScope.USER


def test_one_cannot_see_or_remove_anothers_webhook(
    daemon_url: str, services: Services, people: People, hook: Receiver
) -> None:
    created = add_webhook(daemon_url, people, "ana", url=hook.url, events=["job.failed"]).json()
    webhook_id = created["data"]["id"]
    for method in ("GET", "DELETE"):
        answer = requests.request(method, f"{daemon_url}/api/v1/webhooks/{webhook_id}",
                                  headers=people.headers("ben"), timeout=10)  # fmt: skip
        assert answer.status_code == 404, answer.text
        assert answer.json()["code"] == "not_found"
    listed = requests.get(f"{daemon_url}/api/v1/webhooks", headers=people.headers("ben"),
                          timeout=10).json()["data"]  # fmt: skip
    assert listed == []
    everyone = requests.get(f"{daemon_url}/api/v1/webhooks?everyone=true",
                            headers=people.headers("ben"), timeout=10)  # fmt: skip
    assert everyone.status_code == 403
    # An admin sees and removes anyone's.
    admin = requests.get(f"{daemon_url}/api/v1/webhooks?everyone=true",
                         headers=people.headers("root"), timeout=10).json()["data"]  # fmt: skip
    assert [w["id"] for w in admin] == [webhook_id]
    gone = requests.delete(f"{daemon_url}/api/v1/webhooks/{webhook_id}",
                           headers=people.headers("root"), timeout=10)  # fmt: skip
    assert gone.status_code == 200
    assert services.webhooks.list_webhooks(_root(services), everyone=True) == []


def test_the_secret_is_shown_once(daemon_url: str, people: People, hook: Receiver) -> None:
    created = add_webhook(daemon_url, people, "ana", url=hook.url, events=["job.failed"]).json()
    webhook_id = created["data"]["id"]
    assert len(created["data"]["secret"]) > 40
    again = requests.get(f"{daemon_url}/api/v1/webhooks/{webhook_id}",
                         headers=people.headers("ana"), timeout=10).json()["data"]  # fmt: skip
    assert "secret" not in again and created["data"]["secret"] not in str(again)


def test_bad_bodies_are_refused(daemon_url: str, services: Services, people: People) -> None:
    before = snapshot(services)
    for body in (
        {"url": "https://93.184.216.34/x", "events": []},
        {"url": "https://93.184.216.34/x", "events": ["job.exploded"]},
        {"url": "https://93.184.216.34/x", "events": ["job.failed", "job.failed"]},
        {"url": "https://93.184.216.34/x", "events": ["job.failed"], "scope": "show"},
        {"url": "https://93.184.216.34/x", "events": ["job.failed"], "project": "show"},
        {"url": "https://93.184.216.34/x", "events": ["job.failed"], "format": "xml"},
        {"url": "https://93.184.216.34/x", "events": ["job.failed"], "secret": "mine"},
        {"url": "https://93.184.216.34/" + "x" * 2000, "events": ["job.failed"]},
    ):
        response = add_webhook(daemon_url, people, "ana", **body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["code"] == "invalid_input"
    assert snapshot(services) == before


def _root(services: Services) -> object:
    from common.accounts import Role
    from daemon.auth import Principal

    user_id = next(u.id for u in services.users.list_users() if u.name == "root")
    return Principal(kind="user", name="root", role=Role.ADMIN, user_id=user_id)


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/a b",
        "http://93.184.216.34/a\r\nX-Injected: 1",
        "http://exa\tmple.com/",
    ],
)
def test_spaces_and_control_characters_are_refused(url: str) -> None:
    with pytest.raises(targets.WebhookUrlRefused, match="control characters"):
        targets.parse_target(url)


def test_a_deactivated_persons_webhooks_fall_silent(
    daemon_url: str, services: Services, people: People, hook: Receiver
) -> None:
    assert add_webhook(daemon_url, people, "ana", url=hook.url,
                       events=["job.succeeded"]).status_code == 201  # fmt: skip
    ana = next(u for u in services.users.list_users() if u.name == "ana")
    services.users.update(ana.id, UserUpdate(active=False))
    submit(services)
    finish(services, agent(services))
    services.notifier.deliver()
    assert hook.received == []
