"""The daemon's health and its data disk: ``/health`` as its document says, the free space in
``/metrics``, and the dashboard's banner before the disk fills.

Whether a disk is low is decided by a pure rule, tested on numbers; through HTTP, the real
disk of the test's folder is measured, with thresholds set below or above its free space.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import requests
from flask import Flask

from common.accounts import Role
from common.config import Settings
from common.ops_settings import MonitoringSettings
from daemon.services.disk_space import GIB, assess, warning
from tests.daemon.web.helpers import sign_in

TOKEN = "scrape-secret-2"
NEVER = MonitoringSettings(scrape_token=TOKEN, disk_warn_fraction=0.0, disk_warn_bytes=0)
ALWAYS = MonitoringSettings(scrape_token=TOKEN, disk_warn_fraction=1.0, disk_warn_bytes=2**62)


@pytest.mark.parametrize(
    ("free", "total", "low"),
    [
        (100 * GIB, 1000 * GIB, False),  # 10 % and far above 2 GiB
        (49 * GIB, 1000 * GIB, True),  # under 5 % of a big disk
        (3 * GIB, 20 * GIB, False),  # 15 %, above 2 GiB
        (int(1.9 * GIB), 20 * GIB, True),  # under 2 GiB of a small disk
        (0, 0, True),  # nothing at all
    ],
)
def test_a_disk_is_low_below_the_larger_threshold(free: int, total: int, low: bool) -> None:
    disk = assess(free, total, warn_fraction=0.05, warn_bytes=2 * GIB)
    assert disk.low is low
    assert (warning(disk) is not None) is low


def test_the_warning_says_how_much_is_left_and_what_to_do() -> None:
    text = warning(assess(GIB, 100 * GIB, 0.05, 2 * GIB))
    assert text is not None
    assert "1.0 GiB free (1.0%)" in text and "Free space" in text


def conforms(document: dict[str, Any], path: str, status: str, body: Any) -> None:
    """Checks ``body`` against the document's schema of GET ``path``'s ``status`` answer."""
    content = document["paths"][path]["get"]["responses"][status]["content"]
    schema = {**content["application/json"]["schema"], "components": document["components"]}
    jsonschema_rs.Draft202012Validator(schema).validate(body)


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """The thresholds of ``request.param`` (``NEVER`` unless a test names ``ALWAYS``)."""
    return Settings(data_dir=tmp_path / "data", monitoring=getattr(request, "param", NEVER))


def test_health_matches_its_document(live_url: str, tmp_path: Path) -> None:
    body = requests.get(f"{live_url}/api/v1/health", timeout=10).json()
    document = requests.get(f"{live_url}/api/v1/openapi.json", timeout=10).json()
    conforms(document, "/api/v1/health", "200", body)
    health = body["data"]
    assert health["status"] == "ok" and health["warnings"] == []
    assert health["disk"]["total_bytes"] == shutil.disk_usage(tmp_path).total
    assert 0 < health["disk"]["free_bytes"] <= health["disk"]["total_bytes"]


@pytest.mark.parametrize("settings", [ALWAYS], indirect=True)
def test_health_warns_before_the_disk_fills(live_url: str) -> None:
    body = requests.get(f"{live_url}/api/v1/health", timeout=10).json()
    health = body["data"]
    assert health["status"] == "warning" and health["disk"]["low"] is True
    [text] = health["warnings"]
    assert text.startswith("The daemon's data disk has ") and "Free space" in text


@pytest.mark.parametrize(("settings", "low"), [(NEVER, 0), (ALWAYS, 1)], indirect=["settings"])
def test_metrics_export_the_free_space(live_url: str, tmp_path: Path, low: int) -> None:
    text = requests.get(
        f"{live_url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    ).text
    samples = dict(
        line.split(" ") for line in text.splitlines() if line.startswith("cloudburst_daemon_disk")
    )
    assert "# TYPE cloudburst_daemon_disk_free_bytes gauge" in text
    assert int(samples["cloudburst_daemon_disk_total_bytes"]) == shutil.disk_usage(tmp_path).total
    assert int(samples["cloudburst_daemon_disk_free_bytes"]) > 0
    assert int(samples["cloudburst_daemon_disk_low"]) == low


@pytest.mark.parametrize(("settings", "shown"), [(NEVER, False), (ALWAYS, True)],
                         indirect=["settings"])  # fmt: skip
def test_the_dashboard_shows_a_banner_while_the_disk_runs_low(app: Flask, shown: bool) -> None:
    browser = sign_in(app, "ana", Role.ARTIST)
    for page in ("/jobs", "/farm"):
        html = browser.get(page).data.decode()
        assert ('data-banner="disk"' in html) is shown
        assert ("The daemon&#39;s data disk has" in html) is shown
