"""What the lease path asks of cloud bursting: the ``LeaseGate`` protocol.

The agent service hands tasks out; when the farm bursts, a gate (the burst service) says how
many frames of a job a cloud node may take now and is told when a cloud task ends, so its show
is billed. The agent service is given a gate when it is built and never imports the burst
service, so the lease path and the burst pass depend on this small protocol, not on each other.
"""

from __future__ import annotations

from typing import Any, Protocol

import sqlite_utils


class LeaseGate(Protocol):
    """Called inside the agent service's write transactions, on the caller's thread."""

    def may_lease(self, db: sqlite_utils.Database, agent: dict[str, Any]) -> bool:
        """Whether the cloud agent may take any task now (asked once per lease)."""
        ...

    def cloud_quota(self, db: sqlite_utils.Database, agent: dict[str, Any], job_id: int) -> int:
        """How many frames a cloud agent may take of the job now (0: none)."""
        ...

    def book_task_end(
        self,
        db: sqlite_utils.Database,
        agent: dict[str, Any],
        task: dict[str, Any],
        project: str,
        now: float,
        *,
        preempted: bool,
    ) -> None:
        """Books a cloud node's render time of an ended task to the task's show."""
        ...
