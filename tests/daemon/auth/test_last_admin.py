"""The farm always keeps an active admin: no demotion, deactivation or deletion takes the last
one away, whether through the API (real HTTP), the dashboard or two admins racing."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests
from flask import Flask

from common.accounts import Role, UserCreate, UserUpdate
from daemon.app import Services
from daemon.auth.rules import LastAdmin
from tests.conftest import user_token
from tests.daemon.calls import snapshot
from tests.daemon.web.helpers import csrf, sign_in


def call(url: str, token: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method, f"{url}/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30,
        **kwargs,
    )  # fmt: skip


def admins(services: Services) -> list[str]:
    return [u.name for u in services.users.list_users() if u.role is Role.ADMIN and u.active]


@pytest.mark.parametrize(
    ("method", "body"),
    [("PUT", {"role": "artist"}), ("PUT", {"role": "td"}), ("PUT", {"active": False}),
     ("DELETE", None)],
)  # fmt: skip
def test_the_only_admin_cannot_demote_deactivate_or_delete_themselves(
    live_url: str, services: Services, method: str, body: dict[str, Any] | None
) -> None:
    token = user_token(services, "root", Role.ADMIN)
    user_token(services, "ana", Role.ARTIST)
    root = next(u for u in services.users.list_users() if u.name == "root")
    before = snapshot(services)
    response = call(live_url, token, method, f"/users/{root.id}", json=body)
    assert response.status_code == 409, response.text
    answer = response.json()
    assert answer["code"] == "last_admin"
    assert "only active admin" in answer["message"] and "another user an admin" in answer["message"]
    assert snapshot(services) == before
    assert call(live_url, token, "GET", "/auth/me").json()["data"]["role"] == "admin"


def test_an_admin_may_step_down_once_another_active_admin_exists(
    live_url: str, services: Services
) -> None:
    token = user_token(services, "root", Role.ADMIN)
    root = next(u for u in services.users.list_users() if u.name == "root")
    # An admin account waiting for approval, or deleted, runs nothing: it does not count.
    waiting = services.users.create(UserCreate(name="ivy", role=Role.ADMIN, active=False))
    gone = services.users.create(UserCreate(name="gus", role=Role.ADMIN))
    services.users.delete(gone.id)
    assert call(live_url, token, "PUT", f"/users/{root.id}", json={"role": "td"}).status_code == 409
    approved = call(live_url, token, "PUT", f"/users/{waiting.id}", json={"active": True})
    assert approved.status_code == 200
    stepped_down = call(live_url, token, "PUT", f"/users/{root.id}", json={"role": "td"})
    assert stepped_down.status_code == 200, stepped_down.text
    assert admins(services) == ["ivy"]
    # ...and ivy, now the only one, is held to the same rule.
    ivy = services.auth.create_api_key(waiting.id, "test")
    assert call(live_url, ivy, "DELETE", f"/users/{waiting.id}").status_code == 409
    assert call(live_url, ivy, "POST", f"/users/{gone.id}/restore").status_code == 200
    assert call(live_url, ivy, "DELETE", f"/users/{waiting.id}").status_code == 200
    assert admins(services) == ["gus"]


def test_two_admins_demoting_each_other_at_once_leave_one_admin(services: Services) -> None:
    first = services.users.create(UserCreate(name="amy", role=Role.ADMIN))
    second = services.users.create(UserCreate(name="bob", role=Role.ADMIN))
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(user_id: int) -> None:
        start.wait()
        try:
            services.users.update(user_id, UserUpdate(role=Role.ARTIST))
            outcomes.append("demoted")
        except LastAdmin:
            outcomes.append("refused")

    threads = [threading.Thread(target=demote, args=(u.id,)) for u in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["demoted", "refused"]
    assert len(admins(services)) == 1


def test_the_dashboard_cannot_deactivate_the_last_admin(app: Flask, services: Services) -> None:
    browser = sign_in(app, "root", Role.ADMIN)
    root = next(u for u in services.users.list_users() if u.name == "root")
    page = browser.post(f"/users/{root.id}/deactivate", data={"csrf": csrf(browser)})
    assert page.status_code == 409
    assert b"only active admin" in page.data
    assert admins(services) == ["root"]
