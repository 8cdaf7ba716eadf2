"""``JobFilter``: which jobs a listing asks for. The API and the dashboard build it, the job
service passes it on and storage turns it into SQL; it sits below all three."""

from __future__ import annotations

from dataclasses import dataclass

from common.states import JobState


@dataclass(frozen=True)
class JobFilter:
    """Filters of ``GET /jobs``; None means any."""

    states: tuple[JobState, ...] = ()
    project: str | None = None
    owner: str | None = None
    priority_min: int | None = None
    priority_max: int | None = None
    archived: bool = False
    """List the archived jobs (only them) instead of the others."""
    offset: int = 0
    limit: int = 50
