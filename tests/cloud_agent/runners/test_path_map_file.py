"""The path-map file: lookups, writing and reading it, and the agent's workspace map."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cloud_agent.cache.workspace import Workspace
from cloud_agent.runners.path_map_file import (
    FILE_NAME,
    PathMap,
    normalise,
    read_path_map,
    workspace_rules,
    write_path_map,
    write_workspace_path_map,
)
from common.data.pathmap import PathMapping, PathRule, Platform
from common.errors import RenderError

FILES = {
    "/mnt/studio/show/tex/a.png": "/ws/studio/show/tex/a.png",
    "P:\\show\\tex\\B.png": "/ws/studio/show/tex/B.png",
    "/elsewhere/x.exr": "/ws/_abs/elsewhere/x.exr",
}
RULES = (
    ("/mnt/studio", "/ws/studio"),
    ("/mnt/studio/show/lib", "/ws/libs"),
    ("P:/", "/ws/studio"),
    ("\\\\fs01\\projects", "/ws/studio"),
    ("D:\\local", "C:\\ws\\local"),
)
#: (path as a scene names it, where it is on the node); shared with test_blender_remap.py.
LOOKUPS = [
    ("/mnt/studio/show/tex/a.png", "/ws/studio/show/tex/a.png"),  # a file entry
    ("/mnt/studio//show/./tex/../tex/a.png", "/ws/studio/show/tex/a.png"),  # normalised
    ("p:/SHOW/tex/b.png", "/ws/studio/show/tex/B.png"),  # Windows: no regard to case
    ("P:/show/tex/b.png", "/ws/studio/show/tex/B.png"),
    ("/elsewhere/x.exr", "/ws/_abs/elsewhere/x.exr"),  # a file under no rule
    ("/mnt/studio/show/tex/a.0002.png", "/ws/studio/show/tex/a.0002.png"),  # a rule
    ("/mnt/studio/show/tex/u.<UDIM>.png", "/ws/studio/show/tex/u.<UDIM>.png"),
    ("/mnt/studio/show/lib/props.blend", "/ws/libs/props.blend"),  # the longest rule
    ("/mnt/studio", "/ws/studio"),
    ("/mnt/studio2/a.png", None),  # whole components only
    ("/MNT/studio/show/tex/a.png", None),  # POSIX: case matters
    ("/mnt/studio/show/TEX/a.png", "/ws/studio/show/TEX/a.png"),
    ("p:\\Show\\Tex\\c.png", "/ws/studio/Show/Tex/c.png"),  # the rest keeps its case
    ("//FS01/Projects/show/c.png", "/ws/studio/show/c.png"),  # UNC
    ("\\\\fs01\\projects\\show\\c.png", "/ws/studio/show/c.png"),
    ("d:/local/a/b.png", "C:\\ws\\local\\a\\b.png"),  # a Windows local prefix
    ("/mnt/other/a.png", None),
    ("relative/a.png", None),
]


@pytest.mark.parametrize(("path", "local"), LOOKUPS)
def test_lookup(path: str, local: str | None) -> None:
    assert PathMap(files=FILES, rules=RULES).lookup(path) == local


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("c:\\show\\\\tex\\", "C:/show/tex"),
        ("C:", "C:/"),
        ("/a/b/../../../c", "/c"),
        ("//srv/share/./x", "//srv/share/x"),
        ("a/../../b", "../b"),
        ("/", "/"),
    ],
)
def test_normalise(path: str, expected: str) -> None:
    assert normalise(path) == expected


def test_written_and_read_back(tmp_path: Path) -> None:
    path_map = PathMap(scene="/mnt/studio/show/shots/sh010.blend", files=FILES, rules=RULES)
    written = write_path_map(tmp_path / "ws" / FILE_NAME, path_map)
    assert written == str(tmp_path / "ws" / FILE_NAME)
    assert os.listdir(tmp_path / "ws") == [FILE_NAME]  # no temporary file left
    data = json.loads(Path(written).read_text(encoding="utf-8"))
    assert data == {
        "version": 1,
        "scene": "/mnt/studio/show/shots/sh010.blend",
        "files": FILES,
        "rules": [list(rule) for rule in RULES],
    }
    assert read_path_map(written) == path_map


def test_a_minimal_file_and_unknown_keys_are_read(tmp_path: Path) -> None:
    path = tmp_path / "map.json"
    path.write_text('{"files": {"/a/b.png": "/ws/b.png"}, "future": 1}')
    path_map = read_path_map(path)
    assert path_map == PathMap(scene=None, files={"/a/b.png": "/ws/b.png"}, rules=())
    assert path_map.lookup("/a/b.png") == "/ws/b.png"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[1, 2]", "not a JSON object"),
        ('{"files": ["/a"]}', '"files" is not an object'),
        ('{"rules": [["/a"]]}', '"rules" is not a list of'),
        ('{"rules": [["/a", 2]]}', '"rules" is not a list of'),
        ('{"scene": 3}', '"scene" is not a string'),
        ("{nope", "not valid JSON"),
    ],
)
def test_malformed_files_are_render_errors(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "map.json"
    path.write_text(text)
    with pytest.raises(RenderError, match=problem):
        read_path_map(path)


def test_a_missing_file_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="CLOUDBURST_PATH_MAP"):
        read_path_map(tmp_path / "nope.json")


STUDIO = PathRule(name="studio", linux="/mnt/studio", windows="P:\\", unc="\\\\fs01\\projects")
ARCHIVE = PathRule(name="archive", linux="/mnt/archive", macos="/Volumes/archive")


def test_workspace_rules_cover_every_platforms_root() -> None:
    rules = workspace_rules(PathMapping([STUDIO, ARCHIVE]), "/ws/job4/", Platform.LINUX)
    assert rules == [
        ("P:\\", "/ws/job4/studio"),
        ("\\\\fs01\\projects", "/ws/job4/studio"),
        ("/mnt/studio", "/ws/job4/studio"),
        ("/mnt/archive", "/ws/job4/archive"),
        ("/Volumes/archive", "/ws/job4/archive"),
    ]
    assert workspace_rules(PathMapping([ARCHIVE]), "C:\\ws", Platform.WINDOWS)[0] == (
        "/mnt/archive",
        "C:\\ws\\archive",
    )


def test_the_agents_map_agrees_with_the_workspace_layout(tmp_path: Path) -> None:
    mapping = PathMapping([STUDIO, ARCHIVE])
    workspace = Workspace(tmp_path / "ws", mapping, Platform.LINUX)
    manifest = ["P:\\show\\tex\\a.png", "/mnt/archive/x.exr", "/opt/outside/y.exr"]
    written = write_workspace_path_map(
        workspace, mapping, manifest, "/mnt/studio/show/shots/sh010.blend"
    )
    assert written == str(tmp_path / "ws" / FILE_NAME)
    path_map = read_path_map(written)
    assert path_map.scene == "/mnt/studio/show/shots/sh010.blend"
    assert path_map.files["/opt/outside/y.exr"] == str(tmp_path / "ws/_abs/opt/outside/y.exr")
    # Other spellings and other frames of the manifest's files land where the workspace puts
    # them, by the rules.
    for path in [
        *manifest,
        "p:/show/tex/a.0002.png",
        "\\\\fs01\\projects\\show\\tex\\a.png",
        "/mnt/studio/show/tex/a.png",
        "/Volumes/archive/x.exr",
    ]:
        assert path_map.lookup(path) == workspace.local_path(path), path
