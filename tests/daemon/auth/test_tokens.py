"""Sign-in, access and refresh tokens: expired, forged, revoked and reused ones are refused."""

from __future__ import annotations

import base64
import json
import stat

import jwt
import pytest
from flask.testing import FlaskClient

from common.accounts import Role, UserCreate
from daemon.app import Services
from daemon.auth.keys import (
    CONNECTION_PREFIX,
    DESKTOP_PREFIX,
    SIGNING_KEY_FILE,
    bearer_token,
    new_token,
)
from tests.conftest import FakeClock

PASSWORD = "correct horse battery"


@pytest.fixture
def pat(services: Services) -> int:
    return services.users.create(UserCreate(name="pat", role=Role.TD, password=PASSWORD)).id


def login(client: FlaskClient, password: str = PASSWORD, user: str = "pat") -> dict:
    response = client.post("/api/v1/auth/login", json={"username": user, "password": password})
    assert response.status_code == 200, response.json
    data: dict = response.json["data"]
    return data


def me(client: FlaskClient, token: str) -> int:
    response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    return response.status_code


def test_login_gives_a_working_access_token_and_the_profile(
    anonymous_api: FlaskClient, pat: int
) -> None:
    pair = login(anonymous_api)
    assert pair["token_type"] == "Bearer" and pair["expires_in"] == 900
    assert pair["user"]["role"] == "td" and "agents.manage" in pair["user"]["permissions"]
    response = anonymous_api.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"}
    )
    assert response.json["data"]["name"] == "pat"


def test_wrong_password_is_refused(anonymous_api: FlaskClient, pat: int) -> None:
    response = anonymous_api.post(
        "/api/v1/auth/login", json={"username": "pat", "password": "nope"}
    )
    assert response.status_code == 401 and response.json["code"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    unknown = anonymous_api.post("/api/v1/auth/login", json={"username": "x", "password": "y"})
    assert unknown.status_code == 401 and unknown.json["message"] == response.json["message"]


def test_an_expired_access_token_is_refused_and_refresh_renews_it(
    anonymous_api: FlaskClient, pat: int, clock: FakeClock
) -> None:
    pair = login(anonymous_api)
    clock.advance(901)
    response = anonymous_api.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"}
    )
    assert response.status_code == 401 and "expired" in response.json["message"]
    renewed = anonymous_api.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert renewed.status_code == 200
    assert me(anonymous_api, renewed.json["data"]["access_token"]) == 200


def test_forged_tokens_are_refused(
    anonymous_api: FlaskClient, pat: int, services: Services
) -> None:
    pair = login(anonymous_api)
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    wrong_key = jwt.encode(claims, "x" * 64, algorithm="HS256")
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    body = base64.urlsafe_b64encode(json.dumps({**claims, "sub": "1"}).encode())
    alg_none = f"{header.decode().rstrip('=')}.{body.decode().rstrip('=')}."
    head, _, sig = pair["access_token"].split(".")
    tampered = f"{head}.{body.decode().rstrip('=')}.{sig}"
    for token in (wrong_key, alg_none, tampered, "garbage", "cbk_unknown", "cba_unknown"):
        assert me(anonymous_api, token) == 401, token
    basic = anonymous_api.get("/api/v1/jobs", headers={"Authorization": "Basic cGF0OnB3"})
    assert basic.status_code == 401


def test_the_signing_key_is_private(services: Services) -> None:
    path = services.context.settings.data_dir / SIGNING_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_logout_revokes_the_access_and_the_refresh_token(
    anonymous_api: FlaskClient, pat: int
) -> None:
    pair = login(anonymous_api)
    auth = {"Authorization": f"Bearer {pair['access_token']}"}
    assert anonymous_api.post("/api/v1/auth/logout", json={}, headers=auth).status_code == 200
    assert me(anonymous_api, pair["access_token"]) == 401
    again = anonymous_api.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert again.status_code == 401


def test_a_reused_refresh_token_revokes_the_session(anonymous_api: FlaskClient, pat: int) -> None:
    pair = login(anonymous_api)
    first = anonymous_api.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert first.status_code == 200
    reused = anonymous_api.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert reused.status_code == 401 and "already used" in reused.json["message"]
    # The thief's reuse also ends the legitimate holder's newer tokens.
    assert me(anonymous_api, first.json["data"]["access_token"]) == 401
    newer = first.json["data"]["refresh_token"]
    assert (
        anonymous_api.post("/api/v1/auth/refresh", json={"refresh_token": newer}).status_code == 401
    )


def test_a_password_change_ends_sessions(
    api: FlaskClient, anonymous_api: FlaskClient, pat: int
) -> None:
    pair = login(anonymous_api)
    changed = api.put(f"/api/v1/users/{pat}", json={"password": "a brand new secret"})
    assert changed.status_code == 200
    assert me(anonymous_api, pair["access_token"]) == 401
    login(anonymous_api, "a brand new secret")


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (None, ""),
        ("", ""),
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("Basic abc", ""),
        ("Bearer", ""),
        ("abc", ""),
    ],
)
def test_one_parser_reads_bearer_headers(header: str | None, token: str) -> None:
    assert bearer_token(header) == token


def test_desktop_secrets_and_connection_tokens_are_made_alike() -> None:
    secret, connection = new_token(DESKTOP_PREFIX), new_token(CONNECTION_PREFIX)
    assert secret.startswith("cbs_") and connection.startswith("cbc_")
    assert len(secret) == len(connection) == 4 + 43  # 32 random bytes each
    assert new_token(CONNECTION_PREFIX) != connection
