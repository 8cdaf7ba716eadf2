"""The ``[storage]``, ``[monitoring]`` and ``[logs]`` tables of the settings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

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


class LogSettings(BaseModel):
    """The ``[logs]`` table: how many of the daemon's log records are kept, and how long."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keep_records: int = Field(default=200_000, ge=1)
    keep_s: float = Field(default=14 * 86400.0, gt=0)
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    """The lowest level stored in the database."""
    flush_interval_s: float = Field(default=1.0, gt=0)
