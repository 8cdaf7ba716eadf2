"""The desktop's report loop: tells the daemon how the desktop is, and does what it answers.

Threads: the **main thread** runs ``ReportLoop.run`` (a report at once, then one every
``report_interval_s`` of the daemon's last reply); the display stand-in answers clients on
waitress's threads. A daemon that does not answer, or answers an error, is tried again at the
next interval: the desktop never stops for it. A reply with ``end_now`` ends the loop at once
(no new connections from then on), so the agent exits well within ``grace_s``; its
``warning`` is kept for ``/status``. ``stop`` (SIGTERM, SIGINT) ends it too.
"""

from __future__ import annotations

import logging
import threading

from cloud_agent.desktop.broker import Broker
from cloud_agent.desktop.presence import Presence
from common.errors import CloudburstError
from common.models import DesktopReport

logger = logging.getLogger(__name__)

#: Bounds on the interval a reply asks for (a reply cannot make the desktop spin or go silent).
MIN_INTERVAL_S = 0.05
MAX_INTERVAL_S = 300.0


class ReportLoop:
    """Reports until the daemon says to end, or ``stop`` is set."""

    def __init__(
        self,
        broker: Broker,
        presence: Presence,
        *,
        host: str,
        port: int,
        interval_s: float = 10.0,
    ) -> None:
        self.broker = broker
        self.presence = presence
        self.host = host
        self.port = port
        self.interval_s = interval_s
        self.stop = threading.Event()

    def run(self) -> None:
        """On the main thread; returns when told to end."""
        while not self.stop.is_set():
            if self.report_once():
                return
            self.stop.wait(self.interval_s)

    def report_once(self) -> bool:
        """One report; True when the daemon said to end now."""
        report = DesktopReport(
            host=self.host,
            port=self.port,
            connected=self.presence.connected,
            idle_s=min(self.presence.idle_s, 10**9),
        )
        try:
            reply = self.broker.report(report)
        except CloudburstError as exc:
            logger.warning("desktop: report not taken (%s); trying again later", exc)
            return False
        self.interval_s = min(max(reply.report_interval_s, MIN_INTERVAL_S), MAX_INTERVAL_S)
        if reply.end_now:
            self.presence.end(reply.warning)
            logger.info("desktop: the daemon ends this session (grace %.0f s)", reply.grace_s)
            return True
        self.presence.warning = reply.warning
        return False
