"""The scan cache: an unchanged scene is answered without reading it; any change to the scene,
a texture, a sequence's folder or a variable the reader used makes it read again."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from common.scene_readers import SceneReport, read_scene
from common.scene_readers.scan_cache import RecordingEnv, ScanCache, report_from_dict

OLD = time.time() - 3600


def age(*paths: Path) -> None:
    """Moves files back an hour, past the racy window, as studio files are."""
    for path in paths:
        os.utime(path, (OLD, OLD))


class CountingReader:
    """``read_scene``, counting the scenes it actually read."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, path: str, env: Mapping[str, str] | None) -> SceneReport:
        self.calls += 1
        return read_scene(path, env)


def maya_scene(folder: Path, textures: list[str]) -> Path:
    nodes = "".join(
        f'createNode file -n "t{i}";\n\tsetAttr ".ftn" -type "string" "{t}";\n'
        for i, t in enumerate(textures)
    )
    scene = folder / "shot.ma"
    scene.write_text(f'//Maya ASCII 2024 scene\nrequires maya "2024";\n{nodes}')
    return scene


@pytest.fixture
def shot(tmp_path: Path) -> tuple[Path, Path]:
    """A scene using ``tex/a.png`` (present) and ``tex/b.png`` (missing), all aged."""
    tex = tmp_path / "tex"
    tex.mkdir()
    (tex / "a.png").write_bytes(b"aaaa")
    scene = maya_scene(tmp_path, [str(tex / "a.png"), str(tex / "b.png")])
    age(tex / "a.png", tex, scene)
    return scene, tex


def test_an_unchanged_scene_is_answered_from_the_cache(shot: tuple[Path, Path]) -> None:
    scene, _ = shot
    reader, cache = CountingReader(), ScanCache(None)
    first = cache.read(str(scene), reader, env={})
    second = cache.read(str(scene), reader, env={})
    assert reader.calls == 1 and cache.hits == 1
    assert second == first
    assert [a.exists for a in second.dependencies] == [True, False]


def test_a_texture_that_changes_is_read_again(shot: tuple[Path, Path]) -> None:
    scene, tex = shot
    reader, cache = CountingReader(), ScanCache(None)
    cache.read(str(scene), reader, env={})
    (tex / "a.png").write_bytes(b"a larger texture")
    age(tex / "a.png")
    report = cache.read(str(scene), reader, env={})
    assert reader.calls == 2
    assert report.dependencies[0].size == len(b"a larger texture")


def test_a_texture_rewritten_at_the_same_size_is_read_again(shot: tuple[Path, Path]) -> None:
    scene, tex = shot
    reader, cache = CountingReader(), ScanCache(None)
    cache.read(str(scene), reader, env={})
    (tex / "a.png").write_bytes(b"bbbb")
    os.utime(tex / "a.png", (OLD + 60, OLD + 60))
    cache.read(str(scene), reader, env={})
    assert reader.calls == 2


def test_a_missing_texture_that_appears_is_found(shot: tuple[Path, Path]) -> None:
    scene, tex = shot
    reader, cache = CountingReader(), ScanCache(None)
    assert len(cache.read(str(scene), reader, env={}).missing) == 1
    (tex / "b.png").write_bytes(b"bbbb")
    age(tex / "b.png", tex)
    report = cache.read(str(scene), reader, env={})
    assert reader.calls == 2 and report.missing == ()


def test_a_missing_texture_that_appears_where_maya_looks_is_found(tmp_path: Path) -> None:
    """Not where the scene says, but then copied beside the scene: Maya's rules find it, so a
    cached scan must not keep calling it missing."""
    scene = maya_scene(tmp_path, ["C:/Users/ana/tex/b.png"])
    age(scene, tmp_path)
    reader, cache = CountingReader(), ScanCache(None)
    first = cache.read(str(scene), reader, env={})
    assert len(first.missing) == 1 and str(tmp_path / "b.png") in first.probed
    (tmp_path / "b.png").write_bytes(b"bbbb")
    age(tmp_path / "b.png", tmp_path)
    report = cache.read(str(scene), reader, env={})
    assert reader.calls == 2 and report.missing == ()
    assert report.dependencies[0].found_by == "beside the scene"


def test_a_texture_that_disappears_is_reported_missing(shot: tuple[Path, Path]) -> None:
    scene, tex = shot
    reader, cache = CountingReader(), ScanCache(None)
    cache.read(str(scene), reader, env={})
    (tex / "a.png").unlink()
    report = cache.read(str(scene), reader, env={})
    assert reader.calls == 2 and len(report.missing) == 2


def test_a_changed_scene_is_read_again(shot: tuple[Path, Path]) -> None:
    scene, tex = shot
    reader, cache = CountingReader(), ScanCache(None)
    cache.read(str(scene), reader, env={})
    maya_scene(scene.parent, [str(tex / "a.png")])
    age(scene)
    report = cache.read(str(scene), reader, env={})
    assert reader.calls == 2 and len(report.dependencies) == 1


def test_a_new_frame_of_a_sequence_is_found(tmp_path: Path) -> None:
    plates = tmp_path / "plates"
    plates.mkdir()
    for frame in (1, 2):
        (plates / f"bg.{frame:04d}.exr").write_bytes(b"exr")
    script = tmp_path / "comp.nk"
    script.write_text(
        "Root {\n inputs 0\n first_frame 1\n last_frame 3\n}\n"
        f"Read {{\n inputs 0\n file {plates.as_posix()}/bg.%04d.exr\n first 1\n last 3\n"
        " name Plate\n}\n"
    )
    age(*plates.iterdir(), plates, script)
    reader, cache = CountingReader(), ScanCache(None)
    before = cache.read(str(script), reader, env={}).dependencies[0]
    assert [Path(p).name for p in before.missing_files] == ["bg.0003.exr"]
    (plates / "bg.0003.exr").write_bytes(b"exr")
    age(plates / "bg.0003.exr", plates)
    after = cache.read(str(script), reader, env={}).dependencies[0]
    assert reader.calls == 2
    assert after.exists and len(after.files) == 3 and after.missing_files == ()


def test_a_variable_the_scene_uses_is_part_of_the_key(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "wood.png").write_bytes(name.encode())
        age(tmp_path / name / "wood.png", tmp_path / name)
    scene = maya_scene(tmp_path, ["$TEXROOT/wood.png"])
    age(scene)
    reader, cache = CountingReader(), ScanCache(None)
    one = cache.read(str(scene), reader, env={"TEXROOT": str(tmp_path / "one"), "X": "1"})
    again = cache.read(str(scene), reader, env={"TEXROOT": str(tmp_path / "one"), "X": "2"})
    two = cache.read(str(scene), reader, env={"TEXROOT": str(tmp_path / "two")})
    assert reader.calls == 2  # X is not used by the scene; TEXROOT is
    assert again == one
    assert two.dependencies[0].path == str(tmp_path / "two" / "wood.png")


def test_files_written_moments_ago_are_not_cached(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"a")
    scene = maya_scene(tmp_path, [str(tmp_path / "a.png")])
    reader, cache = CountingReader(), ScanCache(None)
    cache.read(str(scene), reader, env={})
    cache.read(str(scene), reader, env={})
    assert reader.calls == 2 and cache.hits == 0


def test_the_cache_file_serves_a_later_process(shot: tuple[Path, Path], tmp_path: Path) -> None:
    scene, _ = shot
    db = tmp_path / "cache" / "scan.sqlite3"
    reader = CountingReader()
    with ScanCache(db) as cache:
        first = cache.read(str(scene), reader, env={})
    with ScanCache(db) as cache:
        again = cache.read(str(scene), reader, env={})
        assert cache.hits == 1
    assert reader.calls == 1 and again == first


def test_a_reader_error_stores_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ma"
    bad.write_text("not maya")
    age(bad)
    cache = ScanCache(None)
    with pytest.raises(Exception, match="Maya ASCII"):
        cache.read(str(bad), read_scene, env={})
    assert cache.reads == 0 and cache.hits == 0


def test_reports_survive_the_round_trip(scenes: Path) -> None:
    scene = scenes / "nuke" / "cgru-old" / "scene.nk"
    report = read_scene(scene, env={})
    assert report_from_dict(report.to_dict()) == report


def test_recording_env_remembers_lookups_and_whole_reads() -> None:
    env = RecordingEnv({"JOB": "/proj", "X": "1"})
    assert env.get("JOB") == "/proj" and "NOPE" not in env
    assert env.recorded() == {"JOB": "/proj", "NOPE": None}
    dict(env)
    assert env.everything and env.recorded() == {"JOB": "/proj", "X": "1"}
