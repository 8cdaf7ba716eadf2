"""The dashboard's session: tokens in an HttpOnly, SameSite=Strict cookie, and CSRF checks.

The cookie holds the access and refresh tokens of an ordinary sign-in. Before each request the
tokens are checked (and refreshed when the access token expired); the page's own requests then
carry them as a bearer token, so pages, thumbnails and the JSON API the pages poll go through
the same guard as every other client. Only safe (GET/HEAD) API requests are taken from the
cookie; state changes go through dashboard forms, which need the CSRF token.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import Forbidden

from common.accounts import TokenPair
from common.errors import Unauthenticated
from daemon.auth.principal import ANONYMOUS, Principal
from daemon.container import services

SESSION_COOKIE = "cloudburst_session"
CSRF_COOKIE = "cloudburst_csrf"
CSRF_FIELD = "csrf"
_REUSE_S = 30.0
"""How long a refresh's answer is reused for requests that raced with the same old token."""

_refreshed: dict[str, tuple[float, TokenPair]] = {}
_lock = threading.Lock()


def principal() -> Principal:
    """Who the dashboard's request comes from (anonymous without a valid session)."""
    found: Principal = g.get("web_principal", ANONYMOUS)
    return found


def start(pair: TokenPair) -> None:
    """Opens a session: the cookie is set when the response leaves, with a fresh CSRF token."""
    g.web_session = f"{pair.access_token}|{pair.refresh_token}"
    g.web_csrf = secrets.token_urlsafe(32)


def end() -> None:
    """Forgets the session (cookies cleared when the response leaves)."""
    g.web_session = ""
    g.web_csrf = secrets.token_urlsafe(32)


def refresh_token() -> str | None:
    raw = request.cookies.get(SESSION_COOKIE, "")
    return raw.partition("|")[2] or None


def csrf_token() -> str:
    """The CSRF token to put in a form (made once per browser, rotated at sign-in/out)."""
    if "web_csrf" not in g:
        g.web_csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    token: str = g.web_csrf
    return token


def check_csrf() -> None:
    """Refuses a form post whose CSRF token is missing or wrong, or that comes from elsewhere.

    Raises:
        werkzeug.exceptions.Forbidden: the post did not come from one of our pages.
    """
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") != request.host_url.rstrip("/"):
        raise Forbidden("This form was posted from another site.")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.form.get(CSRF_FIELD, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise Forbidden("The form's security token is missing or stale; reload and try again.")


def _refresh(old: str) -> TokenPair:
    """One refresh per old token, even when several requests arrive with it at once."""
    auth = services().auth
    now = time.monotonic()
    with _lock:
        for token, (when, _) in list(_refreshed.items()):
            if now - when > _REUSE_S:
                del _refreshed[token]
        if old in _refreshed:
            return _refreshed[old][1]
        pair: TokenPair = auth.refresh(old)
        _refreshed[old] = (now, pair)
        return pair


def _load() -> None:
    """Before each request: the cookie's principal, and its bearer token for the guard."""
    if "Authorization" in request.headers or "HTTP_COOKIE" not in request.environ:
        return  # an agent or a client with its own token: no cookie to read
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return
    if request.path.startswith("/api/") and request.method not in ("GET", "HEAD"):
        return  # state changes through the API need a bearer token, never the cookie
    auth = services().auth
    access, _, refresh = raw.partition("|")
    try:
        found: Principal = auth.authenticate(f"Bearer {access}")
    except Unauthenticated:
        try:
            pair = _refresh(refresh)
            access = pair.access_token
            found = auth.authenticate(f"Bearer {access}")
        except Unauthenticated:
            g.web_session = ""
            return
        g.web_session = f"{pair.access_token}|{pair.refresh_token}"
    if found.kind != "user":
        return
    g.web_principal = found
    request.environ["HTTP_AUTHORIZATION"] = f"Bearer {access}"


def _store(response: Response) -> Response:
    """After each request: writes the cookies that changed."""
    if "web_session" not in g and "web_csrf" not in g:
        return response  # nothing changed (every API call with its own token)
    secure = request.is_secure
    options: dict[str, Any] = {"httponly": True, "samesite": "Strict", "secure": secure}
    if "web_session" in g:
        if g.web_session:
            ttl = services().context.settings.auth.refresh_ttl_s
            response.set_cookie(SESSION_COOKIE, g.web_session, max_age=int(ttl), **options)
        else:
            response.delete_cookie(SESSION_COOKIE, **options)
    if "web_csrf" in g and g.web_csrf != request.cookies.get(CSRF_COOKIE):
        response.set_cookie(CSRF_COOKIE, g.web_csrf, **options)
    return response


def init_app(app: Flask) -> None:
    app.before_request(_load)
    app.after_request(_store)
