"""Sign-in, refresh, sign-out, self-registration, and who a bearer token stands for."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import sqlite_utils

from common.accounts import LoginRequest, RegisterRequest, Role, TokenPair, User
from common.errors import Forbidden, InvalidInput, Unauthenticated
from daemon.auth import jwt_tokens
from daemon.auth.keys import (
    AGENT_PREFIX,
    API_KEY_PREFIX,
    DESKTOP_PREFIX,
    REFRESH_PREFIX,
    bearer_token,
    make_private,
    new_token,
    signing_key,
    token_hash,
    write_private,
)
from daemon.auth.limiter import LoginLimiter
from daemon.auth.passwords import hash_password, verify_password
from daemon.auth.principal import ANONYMOUS, Principal
from daemon.auth.token_cache import credential_cache
from daemon.context import Context
from daemon.services.users import user_from_row
from daemon.storage import enrollment as enrollment_store
from daemon.storage import sessions as session_store
from daemon.storage import users as user_store

logger = logging.getLogger(__name__)

LOCAL_ADMIN = "local-admin"
LOCAL_ADMIN_FILE = "local-admin.json"


class AuthService:
    """Issues and checks credentials. ``limiter`` counts failed sign-ins (fake-clock testable);
    ``credentials`` keeps who recent tokens stand for (``[auth] token_cache_ttl_s``): whatever
    revokes a credential tells it (``forget_*``) once the change commits, which tells the
    daemon's other processes too (``daemon/auth/revocations.py``)."""

    def __init__(self, context: Context) -> None:
        self.ctx = context
        auth = context.settings.auth
        self.limiter = LoginLimiter(
            auth.login_max_failures, auth.login_address_max_failures, auth.login_window_s,
            context.clock, auth.login_tracked_keys,
        )  # fmt: skip
        self._key = signing_key(context.settings.data_dir)
        self.credentials = credential_cache(auth, context.settings.data_dir, context.clock)

    # --- sign-in --------------------------------------------------------------------------

    def login(self, request: LoginRequest, address: str) -> TokenPair:
        """Checks the password and opens a session.

        Raises:
            RateLimited: too many failures lately from ``address``, for this user name or in
                all (other addresses are not affected).
            Unauthenticated: wrong name or password, or the account is not active.
        """
        self.limiter.check(request.username, address)
        db = self.ctx.database.db
        row = user_store.user_by_name(db, request.username)
        ok = verify_password(row["password_hash"] if row else None, request.password)
        if row is None or not ok:
            self.limiter.failed(request.username, address)
            logger.warning(
                "Sign-in refused for %r from %s: bad credentials", request.username, address
            )
            raise Unauthenticated("Wrong user name or password.")
        if row["deleted_at"] is not None or not row["active"]:
            logger.warning("Sign-in refused for %r: account not active", request.username)
            raise Unauthenticated(
                f"The account {request.username!r} is not active; an admin must approve it."
            )
        self.limiter.succeeded(request.username, address)
        with self.ctx.database.transaction() as db:
            session_id = uuid.uuid4().hex
            session_store.insert_session(db, session_id, row["id"], self.ctx.now())
            pair = self._issue(db, row, session_id)
        logger.info("user %s signed in from %s", row["name"], address)
        return pair

    def refresh(self, refresh_token: str) -> TokenPair:
        """Rotates a refresh token; a token used twice revokes its whole session."""
        now = self.ctx.now()
        digest = token_hash(refresh_token)
        with self.ctx.database.transaction() as db:
            row = session_store.get_refresh(db, digest)
            if row is None or row["expires_at"] <= now:
                raise Unauthenticated("The refresh token is unknown or expired. Sign in again.")
            session = session_store.get_session(db, row["session_id"])
            if session is None or session["revoked_at"] is not None:
                raise Unauthenticated("That session was signed out. Sign in again.")
            if not session_store.use_refresh(db, digest, now):
                session_store.revoke_session(db, row["session_id"], now)
                logger.warning("Refresh token reused: session %s revoked", row["session_id"])
                reused = True
            else:
                reused = False
                user = self._active_user(db, session["user_id"])
                pair = self._issue(db, user, row["session_id"])
        if reused:  # outside the transaction, so that the revocation commits
            self.credentials.forget_session(row["session_id"])
            raise Unauthenticated(
                "That refresh token was already used; the session is revoked. Sign in again."
            )
        return pair

    def logout(self, principal: Principal, refresh_token: str | None) -> None:
        """Revokes the caller's session (and the one of ``refresh_token``, if given)."""
        now = self.ctx.now()
        revoked: list[str] = []
        with self.ctx.database.transaction() as db:
            if principal.session_id:
                session_store.revoke_session(db, principal.session_id, now)
                revoked.append(principal.session_id)
            if refresh_token:
                row = session_store.get_refresh(db, token_hash(refresh_token))
                if row is not None:
                    session = session_store.get_session(db, row["session_id"])
                    if session is not None and session["user_id"] == principal.user_id:
                        session_store.revoke_session(db, row["session_id"], now)
                        revoked.append(row["session_id"])
        for session_id in revoked:  # committed: no request of this process accepts them now
            self.credentials.forget_session(session_id)
        logger.info("user %s signed out", principal.name)

    def register(self, request: RegisterRequest) -> User:
        """Self-registration as an artist, as ``auth.registration`` allows."""
        mode = self.ctx.settings.auth.registration
        if mode == "disabled":
            raise Forbidden("Registration is disabled here; ask an admin for an account.")
        now = self.ctx.now()
        with self.ctx.database.transaction() as db:
            if user_store.user_by_name(db, request.username) is not None:
                raise InvalidInput(f"The user name {request.username!r} is taken.")
            user_id = user_store.insert_user(
                db, request.username, Role.ARTIST.value, hash_password(request.password),
                mode == "open", now,
            )  # fmt: skip
            row = user_store.get_user(db, user_id)
        assert row is not None
        logger.info("user %s registered (%s)", request.username, mode)
        return user_from_row(row)

    # --- who is calling ------------------------------------------------------------------

    def authenticate(self, header: str | None) -> Principal:
        """The principal an ``Authorization`` header stands for; anonymous without one.

        Raises:
            Unauthenticated: a token was given and is not valid.
        """
        if not header:
            return ANONYMOUS
        token = bearer_token(header)
        if not token:
            raise Unauthenticated("Send the token as 'Authorization: Bearer <token>'.")
        if token.startswith(DESKTOP_PREFIX):
            # A desktop's session secret names no person: the two desktop endpoints (open to
            # anyone) check it against their session; everywhere else it is nobody.
            return ANONYMOUS
        digest = token_hash(token)
        cached = self.credentials.get(digest)
        if cached is not None:
            return cached
        generation = self.credentials.generation()
        principal, expires_at = self._look_up(token, digest)
        self.credentials.put(digest, principal, generation, expires_at)
        return principal

    def _look_up(self, token: str, digest: str) -> tuple[Principal, float | None]:
        """Who ``token`` stands for, from the database, and when the token itself expires."""
        db = self.ctx.database.db
        if token.startswith(AGENT_PREFIX):
            agent = enrollment_store.agent_by_token(db, digest)
            if agent is None:
                raise Unauthenticated("Unknown agent token; enroll the agent again.")
            return Principal(kind="agent", name=agent["name"], agent_id=agent["id"]), None
        if token.startswith(API_KEY_PREFIX):
            user_id = session_store.api_key_user(db, digest)
            if user_id is None:
                raise Unauthenticated("Unknown or revoked API key.")
            return self._principal(self._active_user(db, user_id), None), None
        claims = jwt_tokens.verify(self._key, token, self.ctx.now())
        session = session_store.get_session(db, claims.session_id)
        if session is None or session["revoked_at"] is not None:
            raise Unauthenticated("This session was signed out. Sign in again.")
        user = self._active_user(db, claims.user_id)
        return self._principal(user, claims.session_id), claims.expires_at

    # --- the local admin ------------------------------------------------------------------

    def ensure_local_admin(self) -> None:
        """Writes ``local-admin.json`` (0600) with an admin API key, once per data folder."""
        path = self.ctx.settings.data_dir / LOCAL_ADMIN_FILE
        if make_private(path) or not self.ctx.settings.auth.local_admin_file:
            return  # there already (narrowed to 0600, as an older version may have left it)
        with self.ctx.database.transaction() as db:
            row = user_store.user_by_name(db, LOCAL_ADMIN)
            if row is None:
                user_id = user_store.insert_user(
                    db, LOCAL_ADMIN, Role.ADMIN.value, None, True, self.ctx.now()
                )
            else:
                user_id = row["id"]
            token = self.create_api_key(user_id, "local admin file")
        write_private(path, json.dumps({"user": LOCAL_ADMIN, "token": token}) + "\n")
        logger.info("Wrote the local admin credential to %s", path)

    def create_api_key(self, user_id: int, label: str) -> str:
        """A long-lived bearer token for ``user_id`` (kept hashed); shown only now."""
        token = new_token(API_KEY_PREFIX)
        with self.ctx.database.transaction() as db:
            session_store.insert_api_key(db, token_hash(token), user_id, label, self.ctx.now())
        return token

    # --- internals ------------------------------------------------------------------------

    def _issue(self, db: sqlite_utils.Database, user: dict[str, Any], session_id: str) -> TokenPair:
        now = self.ctx.now()
        auth = self.ctx.settings.auth
        refresh = new_token(REFRESH_PREFIX)
        session_store.insert_refresh(db, token_hash(refresh), session_id, now + auth.refresh_ttl_s)
        access = jwt_tokens.issue(
            self._key, user["id"], user["name"], session_id, now, auth.access_ttl_s
        )
        return TokenPair(
            access_token=access, refresh_token=refresh, expires_in=auth.access_ttl_s,
            user=user_from_row(user),
        )  # fmt: skip

    def _active_user(self, db: sqlite_utils.Database, user_id: int) -> dict[str, Any]:
        row = user_store.get_user(db, user_id)
        if row is None or row["deleted_at"] is not None or not row["active"]:
            raise Unauthenticated("This account is deleted or not active.")
        return row

    @staticmethod
    def _principal(row: dict[str, Any], session_id: str | None) -> Principal:
        return Principal(
            kind="user", name=row["name"], role=Role(row["role"]), user_id=row["id"],
            session_id=session_id,
        )  # fmt: skip
