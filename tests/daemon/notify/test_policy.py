"""What a try's answer means (pure): 2xx done; no answer, 5xx, 429 and 408 tried again with
a doubling wait up to the limit, then dropped; other 4xx and redirects dropped at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.config import load_settings
from common.models import DeliveryState
from common.webhook_settings import WebhookSettings
from daemon.webhooks.policy import after_try

SETTINGS = WebhookSettings(retry_base_s=30, retry_max_s=100, max_attempts=4)


@pytest.mark.parametrize(
    ("status", "attempts", "state", "wait"),
    [
        (200, 1, DeliveryState.DELIVERED, 0),
        (204, 3, DeliveryState.DELIVERED, 0),
        (500, 1, DeliveryState.PENDING, 30),
        (502, 2, DeliveryState.PENDING, 60),
        (None, 3, DeliveryState.PENDING, 100),  # 120, held to retry_max_s
        (429, 1, DeliveryState.PENDING, 30),
        (408, 1, DeliveryState.PENDING, 30),
        (503, 4, DeliveryState.DROPPED, 0),  # max_attempts reached
        (None, 4, DeliveryState.DROPPED, 0),
        (404, 1, DeliveryState.DROPPED, 0),
        (400, 1, DeliveryState.DROPPED, 0),
        (401, 1, DeliveryState.DROPPED, 0),
        (301, 1, DeliveryState.DROPPED, 0),  # redirects are not followed
    ],
)
def test_after_a_try(status: int | None, attempts: int, state: DeliveryState, wait: float) -> None:
    after = after_try(status, attempts, SETTINGS, now=1000.0)
    assert after.state is state
    assert after.next_attempt_at == 1000.0 + wait


def test_internal_hosts_come_from_the_file_or_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[webhooks]\ninternal_hosts = ["chat.studio.lan"]\n', encoding="utf-8")
    from_file = load_settings(env={"CLOUDBURST_CONFIG": str(config)})
    assert from_file.webhooks.internal_hosts == ["chat.studio.lan"]
    env = {"CLOUDBURST_CONFIG": str(config),
           "CLOUDBURST_WEBHOOKS__INTERNAL_HOSTS": '["10.20.0.0/16"]'}  # fmt: skip
    assert load_settings(env=env).webhooks.internal_hosts == ["10.20.0.0/16"]
