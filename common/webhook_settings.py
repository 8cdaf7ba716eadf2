"""The ``[webhooks]`` table: where the daemon may call, how hard it tries, how much it keeps."""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field, field_validator


class WebhookSettings(BaseModel):
    """The ``[webhooks]`` table of the settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    internal_hosts: list[str] = Field(default_factory=list)
    """Host names and networks (``chat.studio.lan``, ``10.20.0.0/16``, ``127.0.0.1``) a webhook
    may call although they are not on the public internet. Empty (the default): webhooks call
    public addresses only. Link-local addresses (``169.254.0.0/16``, where cloud metadata
    services answer, and ``fe80::/10``) are never called, whatever this says."""
    public_url: str = ""
    """The dashboard's address as people reach it (links in messages); empty: ``daemon_url``."""
    timeout_s: float = Field(default=10.0, gt=0, le=60)
    """How long one delivery may take to connect, and then to answer."""
    max_attempts: int = Field(default=8, ge=1, le=100)
    """Tries of one delivery (an error, a timeout, a 5xx or a 429) before it is dropped."""
    retry_base_s: float = Field(default=30.0, gt=0)
    """The wait after the first failed try; each later wait doubles, up to ``retry_max_s``."""
    retry_max_s: float = Field(default=3600.0, gt=0)
    interval_s: float = Field(default=5.0, gt=0)
    """How often the daemon sends what is due."""
    outbox_max: int = Field(default=10_000, ge=10)
    """Deliveries waiting to be sent, at most; beyond, new notifications are dropped (logged)."""
    keep_s: float = Field(default=7 * 86400.0, gt=0)
    """How long sent and dropped deliveries are kept for ``GET /api/v1/webhooks``."""
    max_per_user: int = Field(default=20, ge=1, le=1000)
    """Webhooks one person may have (their own and the shows' they added)."""
    attention_quiet_s: float = Field(default=3600.0, ge=0)
    """A job's ``job.needs_attention`` is sent at most once in this time."""

    @field_validator("internal_hosts", mode="before")
    @classmethod
    def _json_hosts(cls, value: object) -> object:
        """``CLOUDBURST_WEBHOOKS__INTERNAL_HOSTS='["chat.studio.lan"]'`` is JSON."""
        return json.loads(value) if isinstance(value, str) else value
