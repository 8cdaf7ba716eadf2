"""``/api/v1/auth``: sign in, refresh, sign out, register, and who am I."""

from __future__ import annotations

from flask import request

from common.accounts import (
    LoginRequest,
    LogoutRequest,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    User,
)
from common.errors import Forbidden, InvalidInput, RateLimited, Unauthenticated
from daemon.api.guard import current_principal
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission
from daemon.container import services
from daemon.services.auth import AuthService
from daemon.services.users import UserService

bp = ApiBlueprint("auth", __name__, tag="auth")


def auth() -> AuthService:
    return services().auth


@bp.operation(
    "POST", "/auth/login", "Sign in: a short-lived access token and a refresh token",
    body=LoginRequest, returns=TokenPair, errors=(Unauthenticated, RateLimited),
    permission=Permission.PUBLIC,
)  # fmt: skip
def login(body: LoginRequest) -> TokenPair:
    return auth().login(body, request.remote_addr or "unknown")


@bp.operation(
    "POST", "/auth/refresh", "Swap a refresh token for new tokens (each refresh token works once)",
    body=RefreshRequest, returns=TokenPair, errors=(Unauthenticated,),
    permission=Permission.PUBLIC,
)  # fmt: skip
def refresh(body: RefreshRequest) -> TokenPair:
    return auth().refresh(body.refresh_token)


@bp.operation(
    "POST", "/auth/logout", "Sign out: revoke this session's tokens", body=LogoutRequest,
    errors=(Unauthenticated,), permission=Permission.SIGNED_IN,
)  # fmt: skip
def logout(body: LogoutRequest) -> None:
    auth().logout(current_principal(), body.refresh_token)


@bp.operation(
    "POST", "/auth/register", "Ask for an artist account (admin-approved, open or disabled)",
    body=RegisterRequest, returns=User, status=201, errors=(Forbidden, InvalidInput),
    permission=Permission.PUBLIC,
)  # fmt: skip
def register(body: RegisterRequest) -> User:
    return auth().register(body)


@bp.operation(
    "GET", "/auth/me", "The signed-in user's profile: role and permissions", returns=User,
    errors=(Unauthenticated,), permission=Permission.SIGNED_IN,
)  # fmt: skip
def me() -> User:
    users: UserService = services().users
    user_id = current_principal().user_id
    assert user_id is not None
    return users.get(user_id)
