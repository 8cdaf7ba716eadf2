"""The desktop's two calls to the daemon: its report, and the redemption of a client's token.

Both carry the session's secret as ``Authorization: Bearer``. The daemon's answers are read as
every Cloudburst client reads them (``common.envelope``): an error comes back as the Cloudburst
error its ``code`` (else its status) stands for, with the daemon's sentence; replies are read
leniently, so a later daemon may add fields.
"""

from __future__ import annotations

from typing import Any, TypeVar

import requests
from pydantic import BaseModel, ValidationError

from common.envelope import decode
from common.errors import CloudburstError, DaemonUnreachable
from common.lenient import lenient
from common.models import DesktopReport, DesktopReportReply, TokenRedeem, TokenRedeemed

API = "/api/v1"

M = TypeVar("M", bound=BaseModel)


class Broker:
    """The daemon as one desktop session sees it. Thread-safe (no shared connection)."""

    def __init__(self, daemon_url: str, session_id: int, secret: str, *, timeout: float = 10.0):
        self.daemon_url = daemon_url.rstrip("/")
        self.session_id = session_id
        self._secret = secret
        self.timeout = timeout

    def __repr__(self) -> str:  # never the secret
        return f"Broker({self.daemon_url!r}, session={self.session_id})"

    def report(self, report: DesktopReport) -> DesktopReportReply:
        """Tells the daemon how the desktop is; returns what the daemon asks of it.

        Raises:
            DaemonUnreachable: the daemon did not answer (try again next interval).
            CloudburstError: the daemon refused the report (``Unauthenticated``: a wrong
                secret).
        """
        return _read(DesktopReportReply, self._post("report", report))

    def redeem(self, token: str) -> TokenRedeemed:
        """Asks the broker whether a client's connection token is good; it is spent if so.

        Raises:
            Forbidden: the token was used already, has expired or is not this session's (the
                daemon's sentence says what to do).
            DaemonUnreachable: the daemon did not answer.
        """
        return _read(TokenRedeemed, self._post("redeem", TokenRedeem(token=token)))

    def _post(self, action: str, body: BaseModel) -> Any:
        url = f"{self.daemon_url}{API}/sessions/{self.session_id}/desktop/{action}"
        headers = {
            "Authorization": f"Bearer {self._secret}",
            "Content-Type": "application/json",
        }
        try:
            response = requests.post(
                url, data=body.model_dump_json(), headers=headers, timeout=self.timeout
            )
        except requests.RequestException:
            raise DaemonUnreachable(
                f"The Cloudburst daemon at {self.daemon_url} did not answer; the desktop keeps "
                "trying."
            ) from None
        found = decode(response)
        if isinstance(found, CloudburstError):
            raise found
        return found


def _read(model: type[M], data: Any) -> M:
    try:
        return lenient(model, data)
    except ValidationError:
        raise CloudburstError(
            f"The daemon's answer is not a {model.__name__}: is the daemon URL right?"
        ) from None
