"""Secrets are written 0600 in 0700 folders; wider modes are narrowed; symlinks are left alone."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from common.private_files import create_private, make_private, private_dir, write_private


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_secret_is_written_0600_in_a_0700_folder_even_over_a_stale_temp_file(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "a" / "b"
    folder.mkdir(parents=True, mode=0o755)
    (folder / "key.tmp").write_text("left by a crash")
    os.chmod(folder / "key.tmp", 0o644)
    write_private(folder / "key", "secret")
    assert (folder / "key").read_text() == "secret"
    assert mode(folder / "key") == 0o600 and mode(folder) == 0o700


def test_wider_modes_are_narrowed_and_narrower_ones_kept(tmp_path: Path) -> None:
    wide, narrow = tmp_path / "wide", tmp_path / "narrow"
    wide.write_text("x")
    narrow.write_text("x")
    os.chmod(wide, 0o664)
    os.chmod(narrow, 0o400)
    assert make_private(wide) and make_private(narrow)
    assert (mode(wide), mode(narrow)) == (0o600, 0o400)
    assert make_private(tmp_path / "missing") is False
    os.chmod(tmp_path, 0o775)
    assert mode(private_dir(tmp_path)) == 0o700


def test_a_symlink_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("not ours to change")
    os.chmod(target, 0o644)
    os.symlink(target, tmp_path / "link")
    assert make_private(tmp_path / "link") is False
    assert mode(target) == 0o644


def test_create_private_makes_an_empty_file_once(tmp_path: Path) -> None:
    path = tmp_path / "db" / "data.sqlite3"
    create_private(path)
    assert path.read_bytes() == b"" and mode(path) == 0o600
    path.write_bytes(b"kept")
    os.chmod(path, 0o644)
    create_private(path)
    assert path.read_bytes() == b"kept" and mode(path) == 0o600
