"""The ``[storage]``, ``[monitoring]``, ``[logs]`` and ``[idempotency]`` tables of the settings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

GIB = 1024**3
MIB = 1024**2


class StorageSettings(BaseModel):
    """The ``[storage]`` table: upload limits and how long deleted files can be restored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_file_bytes: int = Field(default=8 * GIB, ge=1)
    """Largest file an upload may declare (the quotas of ``[limits]`` bound the sum)."""
    max_part_bytes: int = Field(default=64 * MIB, ge=1)
    """Largest part one request may carry."""
    trash_ttl_s: float = Field(default=7 * 86400.0, gt=0)
    """A deleted file can be restored this long; the purge removes it after."""
    upload_ttl_s: float = Field(default=2 * 86400.0, gt=0)
    """An unfinished upload untouched this long is purged."""
    purge_interval_s: float = Field(default=600.0, gt=0)


class MonitoringSettings(BaseModel):
    """The ``[monitoring]`` table: who may scrape ``/metrics`` and the throughput window."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scrape_token: SecretStr = SecretStr("")
    """A bearer token Prometheus sends to ``/metrics``; empty: only TDs and admins may read it."""
    throughput_window_s: float = Field(default=600.0, gt=0)
    """Frames done per minute are averaged over this many seconds."""
    disk_warn_fraction: float = Field(default=0.05, ge=0, le=1)
    """Warn (``/health``, ``/metrics``, the dashboard) when the data folder's disk has less
    than this share of its size free..."""
    disk_warn_bytes: int = Field(default=2 * GIB, ge=0)
    """...or fewer bytes than this free, whichever comes first."""
    sample_interval_s: float = Field(default=60.0, ge=5)
    """How often the daemon stores a sample of the farm (the farm page's charts)."""
    history_keep_s: float = Field(default=31 * 86400.0, gt=0)
    """How long samples of the farm are kept."""


class LogSettings(BaseModel):
    """The ``[logs]`` table: how many of the daemon's log records are kept, and how long."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keep_records: int = Field(default=200_000, ge=1)
    keep_s: float = Field(default=14 * 86400.0, gt=0)
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    """The lowest level stored in the database."""
    flush_interval_s: float = Field(default=1.0, gt=0)
    task_log_max_chars: int = Field(default=5_000_000, ge=1000)
    """Characters kept of one attempt's render log. Past it the log keeps its first
    ``task_log_head_chars`` and its newest characters; reading it shows what was dropped."""
    task_log_head_chars: int = Field(default=1_000_000, ge=0)
    """The start of a log kept whatever its length (the command line, the scene loading)."""
    task_log_attempts: int = Field(default=3, ge=1)
    """Attempts of one task whose logs are kept; an older attempt's log goes when a newer one
    starts logging."""
    task_log_keep_s: float = Field(default=30 * 86400.0, gt=0)
    """Task logs of jobs that finished longer ago than this are deleted."""

    @model_validator(mode="after")
    def _head_within_cap(self) -> LogSettings:
        if self.task_log_head_chars >= self.task_log_max_chars:
            raise ValueError("task_log_head_chars must be smaller than task_log_max_chars")
        return self


class IdempotencySettings(BaseModel):
    """The ``[idempotency]`` table: how long an ``Idempotency-Key`` of a submission is kept."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keep_s: float = Field(default=86400.0, gt=0)
    """A resend with the same key within this time returns the first job; later the key is
    forgotten (purged) and may name a new job."""
    purge_interval_s: float = Field(default=3600.0, gt=0)
