"""Which paths the storage root accepts: a table of refusals, symlinks, and the API's 400; a
stored path is checked again before a delete moves anything."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient

from daemon.app import Services
from daemon.services.storage_paths import UnsafePath, check_name, confine
from tests.daemon.ops.helpers import ops_snapshot, store_file

REFUSED = [
    ("", "empty"),
    ("../etc/passwd", "'..'"),
    ("show/../../x", "'..'"),
    ("/etc/passwd", "absolute"),
    ("C:/Windows/x", "absolute"),
    ("c:x", "absolute"),
    ("show\\x", "Windows"),
    ("show/a:b", "Windows"),
    ("a\x00b", "control"),
    ("a\nb", "control"),
    ("a\x7fb", "control"),
    ("show//x", "empty"),
    ("show/./x", "empty"),
    ("show/", "empty"),
    (".cloudburst/uploads/x", "hidden"),
    ("show/.hidden", "hidden"),
    ("CON", "reserved"),
    ("show/nul.txt", "reserved"),
    ("show/com1", "reserved"),
    ("show/LPT9.exr", "reserved"),
    ("show/x.", "ends with"),
    ("show/x ", "ends with"),
    ("a" * 256, "longer than 255"),
    ("/".join(["abcdefgh"] * 120), "longer than 1024"),
    ("show/a?b", "Windows"),
]


@pytest.mark.parametrize(("path", "why"), REFUSED)
def test_odd_paths_are_refused_with_a_reason(path: str, why: str) -> None:
    with pytest.raises(UnsafePath) as caught:
        check_name(path)
    assert why in caught.value.message
    assert "Use a relative path" in caught.value.message


@pytest.mark.parametrize(
    "path", ["plate.exr", "show/sh010/plate.1001.exr", "é/ünï.png", "a" * 255, "con_sole.txt"]
)
def test_plain_paths_are_accepted(path: str) -> None:
    assert check_name(path) == path


def test_a_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    os.symlink(outside, root / "escape")
    os.symlink(outside / "f", root / "link")
    with pytest.raises(UnsafePath, match="leaves the root"):
        confine(root, "escape/x.exr")
    with pytest.raises(UnsafePath, match="symlink"):
        confine(root, "link")
    (root / "inside").mkdir()
    os.symlink(root / "inside", root / "alias")
    assert confine(root, "alias/x.exr") == root.resolve() / "alias" / "x.exr"


@pytest.mark.parametrize("path", ["../x", "/abs", "a\x00b", "NUL", "x/" + "b" * 300])
def test_the_api_answers_400_and_changes_nothing(
    api: FlaskClient, services: Services, path: str
) -> None:
    before = ops_snapshot(services)
    response = api.post("/api/v1/storage/upload", json={"path": path, "size": 1})
    assert response.status_code == 400
    assert response.json["code"] in ("unsafe_path", "invalid_input")
    assert response.json["message"]
    assert ops_snapshot(services) == before


def test_delete_checks_the_stored_path_again_and_moves_nothing_from_outside(
    live_url: str, admin_token: str, services: Services, tmp_path: Path
) -> None:
    stored = store_file(services, "admin", "show/plate.bin", b"stored")
    root = services.files.root
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "plate.bin").write_bytes(b"not the daemon's")
    # Since the upload, someone swapped the folder for a link out of the storage root.
    (root / "show" / "plate.bin").unlink()
    (root / "show").rmdir()
    os.symlink(outside, root / "show")
    response = requests.delete(
        f"{live_url}/api/v1/storage/{stored.id}",
        headers={"Authorization": f"Bearer {admin_token}"}, timeout=30,
    )  # fmt: skip
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "unsafe_path" and "symlink" in response.json()["message"]
    assert (outside / "plate.bin").read_bytes() == b"not the daemon's"
    assert not services.files.trash_dir.exists() or not any(services.files.trash_dir.iterdir())
    row = services.context.database.db.execute(
        "SELECT deleted_at FROM stored_files WHERE id = ?", [stored.id]
    ).fetchone()
    assert row == (None,)
