"""What a render node reports about its load with each heartbeat."""

from __future__ import annotations

import logging
from pathlib import Path

import psutil

from common.models import Capabilities, Heartbeat

logger = logging.getLogger(__name__)


def heartbeat_with_load(
    task_ids: list[int], disk: Path, capabilities: Capabilities | None = None
) -> Heartbeat:
    """A heartbeat carrying CPU, memory and free disk (of ``disk``), and ``capabilities`` when
    what the node has changed; GPU load is not measured here.

    ``cpu_percent`` is the load since the previous call (the first call answers 0). A failing
    probe leaves its field out rather than stopping the heartbeat.
    """
    try:
        disk_free_mb: int | None = psutil.disk_usage(str(disk)).free // (1024 * 1024)
    except OSError:
        disk_free_mb = None
    try:
        return Heartbeat(
            task_ids=task_ids,
            cpu_percent=min(100.0, float(psutil.cpu_percent(interval=None))),
            memory_percent=min(100.0, float(psutil.virtual_memory().percent)),
            disk_free_mb=disk_free_mb,
            capabilities=capabilities,
        )
    except Exception:  # a probe psutil cannot answer on this platform
        logger.debug("load probe failed", exc_info=True)
        return Heartbeat(task_ids=task_ids, capabilities=capabilities)
