"""The ``[limits]`` table of the settings: how much one caller may make the daemon hold.

Every limit here protects the whole farm from one request: a body read into memory, a job
expanded into rows, a user or a show filling the daemon's disk. Each error that enforces one
names the setting, so a studio that needs more knows what to raise.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

KIB = 1024
MIB = 1024**2
GIB = 1024**3


class LimitSettings(BaseModel):
    """The ``[limits]`` table: request bodies, jobs, and stored files per user and per show."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    small_body_bytes: int = Field(default=16 * KIB, ge=1 * KIB)
    """Largest body of what anyone may call (sign-in, tokens, registration, enrollment), of
    operations that take no body, and of the dashboard's forms."""
    json_body_bytes: int = Field(default=1 * MIB, ge=1 * KIB)
    """Largest JSON body of the other operations (a job submission, a user, a priority)."""
    agent_body_bytes: int = Field(default=16 * MIB, ge=1 * KIB)
    """Largest report an agent sends (a finished chunk's output paths, a piece of log)."""
    max_frames_per_job: int = Field(default=100_000, ge=1)
    """Frames one job may name, counted term by term of its frame range before it is
    expanded (a frame named twice counts twice)."""
    max_tasks_per_job: int = Field(default=10_000, ge=1)
    """Tasks one job may be cut into (its frames divided by its chunk size, or more)."""
    storage_per_user_bytes: int = Field(default=50 * GIB, ge=0)
    """Bytes one user's stored files may take; 0: no quota. Deleted files count until the
    purge removes them (they still fill the disk), and an unfinished upload counts its
    declared size from the moment it starts."""
    storage_per_show_bytes: int = Field(default=250 * GIB, ge=0)
    """Bytes the stored files of one show may take, whoever uploaded them; 0: no quota. A
    file's show is the first folder of its path (``<show>/sh010/plate.exr``)."""
