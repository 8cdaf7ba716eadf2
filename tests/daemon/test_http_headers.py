"""What every answer tells the browser, over real HTTP: the dashboard's Content Security Policy
(and that its pages need nothing it forbids), nosniff everywhere, and ``Allow`` on a 405."""

from __future__ import annotations

import re

import pytest
import requests

from common.accounts import Role, UserCreate
from daemon.app import Services
from daemon.web.session import CSRF_COOKIE
from tests.daemon.web.helpers import render_all, submit

PASSWORD = "root-password-1"


def signed_in(live_url: str, services: Services) -> requests.Session:
    services.users.create(UserCreate(name="root", role=Role.ADMIN, password=PASSWORD))
    browser = requests.Session()
    browser.get(f"{live_url}/login", timeout=30)
    answer = browser.post(
        f"{live_url}/login", timeout=30, allow_redirects=False,
        data={"username": "root", "password": PASSWORD, "csrf": browser.cookies[CSRF_COOKIE]},
    )  # fmt: skip
    assert answer.status_code == 303
    return browser


def test_every_dashboard_answer_carries_the_policy(live_url: str, services: Services) -> None:
    browser = signed_in(live_url, services)
    job = submit(services)
    for path in ("/login", "/jobs", f"/jobs/{job}", "/farm", "/users",
                 "/dashboard-static/dashboard.js", "/dashboard-static/dashboard.css"):  # fmt: skip
        answer = browser.get(live_url + path, timeout=30)
        assert answer.status_code == 200, path
        policy = answer.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src 'self'" in policy, path
        assert "frame-ancestors 'none'" in policy and "form-action 'self'" in policy, path
        assert answer.headers["X-Frame-Options"] == "DENY", path
        assert answer.headers["X-Content-Type-Options"] == "nosniff", path
        assert answer.headers["Referrer-Policy"] == "same-origin", path


def test_pages_hold_no_inline_script_style_or_handler(live_url: str, services: Services) -> None:
    browser = signed_in(live_url, services)
    frames = services.context.settings.data_dir.parent / "frames"
    job = submit(services, out=frames)
    render_all(services, frames)  # a page with thumbnails and progress bars
    for path in ("/login", "/jobs", f"/jobs/{job}", "/farm", "/users"):
        html = browser.get(live_url + path, timeout=30).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert "<style" not in html and " style=" not in html, path
        assert not re.search(r"\son[a-z]+=", html), path
        assert "javascript:" not in html, path


@pytest.mark.parametrize(
    "path", ["/api/v1/jobs", "/api/v1/openapi.json", "/api/v1/health", "/api/v1/nothing-here"]
)
def test_api_answers_forbid_sniffing(live_url: str, path: str) -> None:
    answer = requests.get(live_url + path, timeout=30)
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_a_405_says_which_methods_the_path_takes(live_url: str) -> None:
    answer = requests.patch(f"{live_url}/api/v1/jobs", timeout=30)
    assert answer.status_code == 405 and answer.json()["code"] == "method_not_allowed"
    allowed = {method.strip() for method in answer.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed and "PATCH" not in allowed
    answer = requests.put(f"{live_url}/api/v1/jobs/1", timeout=30)
    assert answer.status_code == 405
    assert {"GET", "DELETE"} <= {m.strip() for m in answer.headers["Allow"].split(",")}
