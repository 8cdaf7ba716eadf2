"""What every serving process of the daemon runs beside its requests (the first one and its
``server_workers``): the agents' group commit, and its log records stored where
``/api/v1/logging/logs`` finds them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from common.config import Settings
from daemon.container import Services
from daemon.services.logs import DatabaseLogHandler


@contextmanager
def process_services(services: Services, settings: Settings) -> Iterator[None]:
    """Runs them while the block serves; at its end writes what agents sent last and the log
    records still queued."""
    services.group_commit.start()  # agents' heartbeats and progress: one commit per tick
    handler = DatabaseLogHandler(
        services.context.database, settings.logs.flush_interval_s,
        logging.getLevelName(settings.logs.level),
    )  # fmt: skip
    handler.start()
    logging.getLogger().addHandler(handler)
    try:
        yield
    finally:
        services.group_commit.stop()
        logging.getLogger().removeHandler(handler)
        handler.close()
