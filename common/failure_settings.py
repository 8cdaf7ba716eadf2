"""The ``[failures]`` table: how the farm contains failing frames, nodes and scenes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FailureSettings(BaseModel):
    """The ``[failures]`` table of the settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    node_failures_per_job: int = Field(default=3, ge=1)
    """A node that failed one job this many times gets no more of its tasks (a TD may clear
    it: ``DELETE /api/v1/jobs/{id}/kept-off/{agent}``)."""
    node_failures_in_a_row: int = Field(default=5, ge=1)
    """A node that failed this many tasks in a row, whatever their jobs, is marked suspect and
    leases nothing until a TD clears it (``PATCH /api/v1/agents/{id}``)."""
    stall_timeout_s: int = Field(default=1800, ge=1)
    """A task with no progress and no log line for this long is killed and retried (a job's
    ``stall_timeout_s`` overrides it)."""
    licence_wait_s: float = Field(default=120.0, ge=0)
    """A task that found no free licence goes back to the queue and waits this long (no retry
    spent)."""
