"""The connection broker: what a desktop tells the daemon, and the one-time connection tokens.

A session's desktop holds one secret (``cbs_...``, stored as its sha256): with it, and only for
its own session, it reports (where it listens, whether someone is connected, how long nobody
used it) and asks whether a client's connection token is good. A token (``cbc_...``) is minted
for the session's own user when they read their ready session; the desktop redeems it once,
before it expires, for that session only: a compare-and-set marks it used in the transaction
that audits the connection.

Runs on the request threads of the desktops' calls.
"""

from __future__ import annotations

import hmac
import logging
import re
from typing import Any

from common.errors import ConnectionRefused, DesktopUnauthorized, InvalidInput
from common.models import (
    ENDED_SESSION_STATES,
    READY_SESSION_STATES,
    Connection,
    DesktopReport,
    DesktopReportReply,
    TokenRedeem,
    TokenRedeemed,
)
from daemon.auth.keys import CONNECTION_PREFIX, new_token, token_hash
from daemon.context import Context, to_datetime
from daemon.scheduling import desktop_sessions as policy
from daemon.storage import desktop_audit
from daemon.storage import desktop_sessions as store

logger = logging.getLogger(__name__)

#: A host a desktop may report: a name or an address, nothing a client would read as more.
_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:-]*$")


class ConnectionBroker:
    """Checks desktops' secrets, takes their reports, mints and redeems connection tokens."""

    def __init__(self, context: Context) -> None:
        self.ctx = context

    # --- the desktop's calls ----------------------------------------------------------------

    def report(self, session_id: int, secret: str, report: DesktopReport) -> DesktopReportReply:
        """Takes a desktop's report; answers when its session ends and what to tell the user.

        Raises:
            DesktopUnauthorized: the secret is not this session's (or none was sent).
            InvalidInput: the host is not a plain name or address.
        """
        now = self.ctx.now()
        settings = self.ctx.settings.sessions
        with self.ctx.database.transaction() as db:
            row = self._session_of(db, session_id, secret)
            if row["state"] in ENDED_SESSION_STATES:
                return self._reply(row, end_now=True)
            if not _HOST.match(report.host):
                raise InvalidInput(
                    f"Host {report.host!r} is not a host name or address: report the address "
                    "clients reach the desktop at."
                )
            state = policy.reported_state(row["state"], report.connected, report.idle_s)
            fields: dict[str, Any] = {
                "state": state, "host": report.host, "port": report.port,
                "connected": int(report.connected), "idle_s": report.idle_s,
                "last_report_at": now,
            }  # fmt: skip
            if row["started_at"] is None and state in READY_SESSION_STATES:
                fields["started_at"] = now
                fields["detail"] = ""
            store.move(db, session_id, [row["state"]], **fields)
        if row["state"] == "ending":
            left = (row["end_requested_at"] or now) + settings.end_grace_s - now
            return self._reply(row, end_now=True, grace_s=max(0.0, left))
        if row["warned_at"] is not None or now >= row["ends_at"] - settings.warn_before_end_s:
            return self._reply(row, warning=policy.warning(row["ends_at"], now))
        return self._reply(row)

    def redeem(self, session_id: int, secret: str, request: TokenRedeem) -> TokenRedeemed:
        """Takes a client's one-time token for this session: good once, before its expiry.

        Raises:
            DesktopUnauthorized: the secret is not this session's.
            ConnectionRefused: the token is used, expired, another session's, or the session
                no longer takes connections (the refusal is audited).
        """
        now = self.ctx.now()
        with self.ctx.database.transaction() as db:
            row = self._session_of(db, session_id, secret)
            taken = row["state"] in READY_SESSION_STATES and store.use_token(
                db, token_hash(request.token), session_id, now
            )
            desktop_audit.append(
                db, at=now, actor=row["user_name"] if taken else "daemon",
                action="session.connect" if taken else "session.connect_refused",
                user_name=row["user_name"], session_id=session_id,
            )  # fmt: skip
        if not taken:
            logger.warning("refused a connection token for desktop session %d", session_id)
            raise ConnectionRefused(
                "This connection token was used already or has expired: ask for a new one "
                f"with GET /api/v1/sessions/{session_id}."
            )
        logger.info("session %d: %s connected", session_id, row["user_name"])
        return TokenRedeemed(session_id=session_id, user=row["user_name"])

    # --- the user's side --------------------------------------------------------------------

    def connection(self, row: dict[str, Any], protocol: str, *, mint: bool) -> Connection | None:
        """How to reach a ready desktop; with ``mint``, a fresh one-time token in it (minted in
        its own transaction, audited ``session.token``)."""
        if row["state"] not in READY_SESSION_STATES or not row["host"]:
            return None
        if not mint:
            return Connection(protocol=protocol, host=row["host"], port=row["port"])
        now = self.ctx.now()
        token = new_token(CONNECTION_PREFIX)
        expires_at = now + self.ctx.settings.sessions.connection_token_ttl_s
        with self.ctx.database.transaction() as db:
            store.insert_token(db, token_hash(token), row["id"], row["user_name"], now, expires_at)
            desktop_audit.append(
                db, at=now, actor=row["user_name"], action="session.token",
                user_name=row["user_name"], session_id=row["id"],
            )  # fmt: skip
        return Connection(
            protocol=protocol, host=row["host"], port=row["port"], token=token,
            token_expires_at=to_datetime(expires_at),
        )  # fmt: skip

    # --- inside ------------------------------------------------------------------------------

    @staticmethod
    def _session_of(db: Any, session_id: int, secret: str) -> dict[str, Any]:
        row = store.get_session(db, session_id)
        good = row is not None and hmac.compare_digest(row["secret_hash"], token_hash(secret))
        if row is None or not secret or not good:
            raise DesktopUnauthorized(
                "Send this session's secret as 'Authorization: Bearer <secret>': the desktop "
                "agent reads it from its secret file."
            )
        return row

    def _reply(
        self,
        row: dict[str, Any],
        *,
        warning: str | None = None,
        end_now: bool = False,
        grace_s: float = 0.0,
    ) -> DesktopReportReply:
        if end_now:
            warning = policy.ENDING_NOW
        return DesktopReportReply(
            ends_at=to_datetime(row["ends_at"]), warning=warning, end_now=end_now,
            grace_s=grace_s, report_interval_s=self.ctx.settings.sessions.report_interval_s,
        )  # fmt: skip
