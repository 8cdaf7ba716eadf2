"""The dashboard in real headless Chromium against a real farm rendering with real Blender."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from common.models import JobSpec
from common.states import JobState
from tests.e2e.browser import ARGS, CHROMIUM, needs_chromium
from tests.e2e.conftest import make_scene, needs_bpy
from tests.e2e.farm import Farm, wait_for

pytestmark = [pytest.mark.slow, needs_bpy, needs_chromium]

USER, PASSWORD = "ana", "ana-dashboard-pw-1"


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def add_artist(farm: Farm) -> None:
    token = json.loads((farm.data_dir / "local-admin.json").read_text())["token"]
    response = requests.post(
        f"{farm.url}/api/v1/users", json={"name": USER, "role": "artist", "password": PASSWORD},
        headers={"Authorization": f"Bearer {token}"}, timeout=10,
    )  # fmt: skip
    assert response.status_code == 201, response.text


def spec(scene: Path, out: Path, frames: str, chunk: int) -> JobSpec:
    return JobSpec(name=f"dash {frames}", owner=USER, project="e2e", scene=str(scene),
                   frames=frames, chunk_size=chunk, output=str(out / "f_####"),
                   output_format="PNG")  # fmt: skip


def test_watch_a_job_render_then_download_and_cancel(
    farm: Farm, browser: Any, tmp_path: Path
) -> None:
    scene = make_scene(tmp_path / "scene.blend", "1-40")
    farm.start_daemon()
    add_artist(farm)
    farm.start_agent("a")
    page = browser.new_page(accept_downloads=True)
    # The pages need nothing their Content Security Policy forbids (no inline style or script).
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Security Policy" in m.text else None)

    # Signing in: the queue asks for it, and sends us back after.
    page.goto(f"{farm.url}/jobs")
    assert "/login" in page.url
    page.fill("input[name=username]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{farm.url}/jobs")

    # A job renders while the page watches it (the page polls; nobody reloads by hand).
    job = farm.client.submit(spec(scene, tmp_path / "out", "1-4", chunk=2))
    page.goto(f"{farm.url}/jobs/{job.id}")
    badge = page.locator(".heading [data-field=state]")
    badge.filter(has_text="succeeded").wait_for(timeout=120_000)
    assert farm.client.job(job.id).state is JobState.SUCCEEDED, farm.logs()
    assert page.locator(".frame.state-done.has-thumb").count() == 4
    assert page.locator("pre.log").inner_text() not in ("", "No log yet.")  # Blender's output
    page.reload()  # the bar's width comes from data-percent on load, not an inline style
    assert page.locator(".progress .bar").evaluate("bar => bar.style.width") == "100%"

    # A thumbnail opens, and it is a real picture.
    thumbnail = page.locator(".frame[data-frame='2'] img")
    thumbnail.wait_for()
    assert page.evaluate("(img) => img.complete && img.naturalWidth", thumbnail.element_handle())
    with page.context.expect_page() as opened:
        page.click(".frame[data-frame='2']")
    picture = opened.value
    picture.wait_for_load_state()
    answer = picture.request.get(picture.url)
    assert answer.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(answer.body())) as image:
        assert image.size == (64, 36)  # a thumbnail is never larger than the frame
    picture.close()

    # The zip holds every frame, byte for byte.
    with page.expect_download() as download:
        page.click("a.download")
    with zipfile.ZipFile(download.value.path()) as archive:
        assert archive.namelist() == [f"f_{n:04d}.png" for n in range(1, 5)]
        for name in archive.namelist():
            assert archive.read(name) == (tmp_path / "out" / name).read_bytes()

    # Cancelling a long job from its page.
    long = farm.client.submit(spec(scene, tmp_path / "long", "1-40", chunk=1))
    page.goto(f"{farm.url}/jobs/{long.id}")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.click("button[data-action=cancel]")
    page.wait_for_url(f"{farm.url}/jobs/{long.id}")
    assert page.locator(".heading [data-field=state]").inner_text() == "cancelled"
    assert page.locator("button[data-action=cancel]").count() == 0
    assert asked and asked[0].startswith(f"Cancel job {long.id}")  # the page asked first
    done = wait_for(lambda: (j := farm.client.job(long.id)).state.finished and j, 30, "cancel")
    assert done.state is JobState.CANCELLED
    assert refused == []
