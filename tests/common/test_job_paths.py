"""The pure rules on a job's paths, and the ``[paths]`` table that configures them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from common.config import load_settings
from common.data.outputs import is_frame_of
from common.data.pathmap import PathMapping, PathRule
from common.errors import ConfigError
from common.job_paths import is_inside
from common.path_forms import output_problem, path_problem

STUDIO = PathMapping([PathRule(name="s", windows="P:\\", unc="\\\\fs01\\p", linux="/mnt/s")])


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/mnt/s/a.blend", None),
        ("P:\\show\\a.ma", None),
        ("p:/show/a.ma", None),
        ("\\\\fs01\\p\\a.nk", None),
        ("//fs01/p/a.nk", None),  # a scene may be a UNC path in forward slashes
        ("a.blend", "is not absolute"),
        ("P:a.ma", "is not absolute"),
        ("\\\\fs01", "is not absolute"),
        ("", "is not absolute"),
        ("/", "not normalised"),
        ("/a/../b", "'..'"),
        ("/a/..\\..\\b", "'..'"),
        ("P:\\a\\..\\b", "'..'"),
        ("/a/./b", "not normalised"),
        ("/a//b", "not normalised"),
        ("/a/b/", "not normalised"),  # a scene is a file
        ("/a\x00b", "NUL"),
        ("/a\tb", "control character"),
    ],
)
def test_path_problem(path: str, problem: str | None) -> None:
    found = path_problem(path)
    assert found is None if problem is None else (found is not None and problem in found)


@pytest.mark.parametrize(
    ("output", "ok"),
    [("/r/f_####", True), ("/r/", True), ("P:\\r\\", True), ("//render/f_####", True),
     ("//render/../f", False), ("//", True), ("///r/f", False), ("render/f_####", False)],
)  # fmt: skip
def test_output_problem(output: str, ok: bool) -> None:
    assert (output_problem(output) is None) is ok


@pytest.mark.parametrize(
    ("path", "root", "inside"),
    [
        ("/mnt/s/show/a", "/mnt/s", True),
        ("/mnt/s", "/mnt/s", True),
        ("/mnt/s2/a", "/mnt/s", False),
        ("/mnt/S/a", "/mnt/s", False),  # two POSIX forms: case counts
        ("P:\\show\\a", "/mnt/s/show", True),  # through the path rules
        ("p:/SHOW/a", "/mnt/s/show", True),  # a Windows form: case does not count
        ("/mnt/s/show/a", "P:\\Show", True),
        ("/mnt/s/show/a", "\\\\FS01\\p\\show", True),
        ("\\\\fs01\\p\\show\\a", "p:/show", True),
        ("Q:\\show\\a", "/mnt/s", False),
        ("/elsewhere/a", "P:\\", False),
    ],
)
def test_is_inside_compares_across_the_studios_forms(path: str, root: str, inside: bool) -> None:
    assert is_inside(path, root, STUDIO) is inside


def test_a_frame_named_with_dots_is_not_a_frame_of_the_job() -> None:
    assert is_frame_of("/r/f_0001.png", "/r/f_####", "/s.blend")
    assert not is_frame_of("/r/x/../f_0001.png", "/r/f_####", "/s.blend")
    assert not is_frame_of("/r/./f_0001.png", "/r/f_####", "/s.blend")
    assert not is_frame_of("P:\\r\\..\\r\\f.png", "P:/r/f_####", "P:/s.ma")
    assert not is_frame_of("/r/f_0001.png\x00", "/r/f_####", "/s.blend")


def test_paths_come_from_a_table_of_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[paths]\nscene_roots = ["/mnt/s/shows", "P:\\\\shows"]\noutput_roots = ["/mnt/s/r"]\n'
    )
    settings = load_settings(env={"CLOUDBURST_CONFIG": str(config)})
    assert settings.paths.scene_roots == ["/mnt/s/shows", "P:\\shows"]
    env = {"CLOUDBURST_CONFIG": str(config), "CLOUDBURST_PATHS__OUTPUT_ROOTS": '["/a", "/b/"]'}
    assert load_settings(env=env).paths.output_roots == ["/a", "/b/"]


@pytest.mark.parametrize("root", ["renders", "/mnt/../etc", "P:renders", "/a\x00"])
def test_a_root_that_is_not_absolute_and_normalised_is_a_config_error(
    root: str, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("")
    roots = json.dumps([root])
    env = {"CLOUDBURST_CONFIG": str(config), "CLOUDBURST_PATHS__OUTPUT_ROOTS": roots}
    with pytest.raises(ConfigError, match=r"paths\.output_roots"):
        load_settings(env=env)
