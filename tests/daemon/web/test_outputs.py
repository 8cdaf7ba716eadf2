"""``GET /jobs/{id}/outputs.zip`` and frame thumbnails."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from flask.testing import FlaskClient
from PIL import Image

from daemon.app import Services
from daemon.services.outputs import THUMBNAIL_SIZE, frame_pattern
from tests.daemon.web.helpers import render_all, submit


def test_the_zip_holds_every_rendered_frame(
    api: FlaskClient, services: Services, tmp_path: Path
) -> None:
    job_id = submit(services, frames="1-5", out=tmp_path / "out")
    written = render_all(services, tmp_path / "out")
    response = api.get(f"/api/v1/jobs/{job_id}/outputs.zip")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert f"job-{job_id}-frames.zip" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == [f"f_{n:04d}.png" for n in range(1, 6)]
        for path in written:
            assert archive.read(path.name) == path.read_bytes()


def test_no_zip_before_any_frame_is_rendered(api: FlaskClient, services: Services) -> None:
    job_id = submit(services)
    response = api.get(f"/api/v1/jobs/{job_id}/outputs.zip")
    assert response.status_code == 404
    assert response.json["code"] == "not_found"
    assert api.get("/api/v1/jobs/999/outputs.zip").status_code == 404


def test_a_thumbnail_is_a_small_jpeg_cached_on_disk(
    api: FlaskClient, services: Services, tmp_path: Path
) -> None:
    job_id = submit(services, frames="1-2", out=tmp_path / "out")
    render_all(services, tmp_path / "out", colour="red")
    response = api.get(f"/api/v1/jobs/{job_id}/thumbnail?frame=2")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(response.data)) as image:
        assert image.format == "JPEG"
        assert max(image.size) == THUMBNAIL_SIZE and image.size[0] > image.size[1]
        red, green, blue = image.convert("RGB").getpixel((10, 10))  # type: ignore[misc]
        assert red > 200 and green < 60 and blue < 60
    cached = list((services.context.settings.data_dir / "thumbnails" / str(job_id)).iterdir())
    assert [p.suffix for p in cached] == [".jpg"]
    assert api.get(f"/api/v1/jobs/{job_id}/thumbnail?frame=2").data == response.data
    first = api.get(f"/api/v1/jobs/{job_id}/thumbnail")  # no frame named: the first one
    assert first.status_code == 200 and len(list(cached[0].parent.iterdir())) == 2


def test_a_frame_not_rendered_has_no_thumbnail(
    api: FlaskClient, services: Services, tmp_path: Path
) -> None:
    job_id = submit(services, frames="1-2", out=tmp_path / "out")
    render_all(services, tmp_path / "out")
    assert api.get(f"/api/v1/jobs/{job_id}/thumbnail?frame=7").status_code == 404
    assert api.get(f"/api/v1/jobs/{job_id}/thumbnail?size=9").status_code == 400
    (tmp_path / "out" / "f_0001.png").write_bytes(b"not a png")
    assert api.get(f"/api/v1/jobs/{job_id}/thumbnail?frame=1").status_code == 404


def test_frame_numbers_come_from_the_output_pattern() -> None:
    assert frame_pattern("/r/shot_####_beauty").match("shot_0042_beauty.exr").group(1) == "0042"
    assert frame_pattern("/r/shot_").match("shot_0007.png").group(1) == "0007"
    assert frame_pattern("/r/f_####").match("g_0001.png") is None
