"""Path mapping: one table, Windows, UNC, Linux and macOS forms, both directions."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from common.data.pathmap import PathMapping, PathRule, Platform

W, U, L, M = Platform.WINDOWS, Platform.UNC, Platform.LINUX, Platform.MACOS

TABLE = PathMapping(
    [
        PathRule(
            name="studio",
            windows="P:\\",
            unc="\\\\fs01\\projects",
            linux="/mnt/studio",
            macos="/Volumes/studio",
        ),
        PathRule(
            name="lib",
            windows="P:\\lib",  # nested in the studio root: the longest root wins
            linux="/opt/lib",
            macos="/Applications/lib",
        ),
        PathRule(name="cache", unc="\\\\cache01\\sim", linux="/mnt/sim"),
    ]
)

SAME_FILE = {
    W: "P:\\show\\sh010\\tex\\wood.exr",
    U: "\\\\fs01\\projects\\show\\sh010\\tex\\wood.exr",
    L: "/mnt/studio/show/sh010/tex/wood.exr",
    M: "/Volumes/studio/show/sh010/tex/wood.exr",
}


@pytest.mark.parametrize("source", list(SAME_FILE))
@pytest.mark.parametrize("target", list(SAME_FILE))
def test_every_form_maps_to_every_other(source: Platform, target: Platform) -> None:
    assert TABLE.map(SAME_FILE[source], target) == SAME_FILE[target]


@pytest.mark.parametrize(
    ("path", "target", "expected"),
    [
        # Windows forms ignore case and slash direction
        ("p:/show/a.exr", L, "/mnt/studio/show/a.exr"),
        ("P:\\\\show\\\\a.exr", L, "/mnt/studio/show/a.exr"),
        ("//FS01/Projects/show/a.exr", M, "/Volumes/studio/show/a.exr"),
        ("\\\\fs01\\PROJECTS\\show", L, "/mnt/studio/show"),
        # POSIX forms are exact, component by component
        ("/mnt/Studio/show/a.exr", W, None),
        ("/mnt/studio2/show/a.exr", W, None),
        ("/mnt/studio", W, "P:\\"),
        # the longest root wins, in both directions
        ("P:\\lib\\shaders\\a.osl", L, "/opt/lib/shaders/a.osl"),
        ("/opt/lib/shaders/a.osl", W, "P:\\lib\\shaders\\a.osl"),
        ("/Applications/lib/x", L, "/opt/lib/x"),
        # a rule without a drive letter maps Windows targets to its share
        ("/mnt/sim/fx/v1/geo.$F4.bgeo.sc", W, "\\\\cache01\\sim\\fx\\v1\\geo.$F4.bgeo.sc"),
        ("\\\\cache01\\sim\\fx\\geo.0001.bgeo", L, "/mnt/sim/fx/geo.0001.bgeo"),
        ("/mnt/sim/fx", M, None),  # no macOS root for that storage
        # sequence tokens pass through
        ("P:\\show\\plate.####.exr", L, "/mnt/studio/show/plate.####.exr"),
        ("/mnt/studio/show/tex.<UDIM>.tx", W, "P:\\show\\tex.<UDIM>.tx"),
        # what no rule covers is left alone
        ("C:\\Users\\me\\a.exr", L, None),
        ("tex/a.exr", L, None),
        ("$HIP/geo/a.bgeo", L, None),
        ("https://example.com/a.exr", L, None),
    ],
)
def test_mapping_cases(path: str, target: Platform, expected: str | None) -> None:
    assert TABLE.map(path, target) == expected


def test_forward_slashes_for_windows_targets() -> None:
    assert TABLE.map("/mnt/studio/a/b.ma", W, forward_slashes=True) == "P:/a/b.ma"
    assert TABLE.map("/mnt/sim/a", U, forward_slashes=True) == "//cache01/sim/a"


def test_command_line_both_directions() -> None:
    linux = ["Render", "-r", "arnold", "-rd", "/mnt/studio/out", "/mnt/studio/sh010.ma"]
    windows = TABLE.map_command(linux, W)
    assert windows == ["Render", "-r", "arnold", "-rd", "P:\\out", "P:\\sh010.ma"]
    assert TABLE.map_command(windows, L) == linux
    assert TABLE.map_command(["--scene=P:\\a.nk", "-x", "=P:\\b"], M) == [
        "--scene=/Volumes/studio/a.nk",
        "-x",
        "=P:\\b",
    ]


def test_environment_values_and_path_lists_both_directions() -> None:
    windows = {
        "OCIO": "P:\\config\\aces.ocio",
        "MAYA_SCRIPT_PATH": "P:\\tools\\scripts;C:\\local\\scripts;P:\\lib\\mel",
        "SHOT": "sh010",
    }
    linux = TABLE.map_environment(windows, L)
    assert linux == {
        "OCIO": "/mnt/studio/config/aces.ocio",
        "MAYA_SCRIPT_PATH": "/mnt/studio/tools/scripts:C:\\local\\scripts:/opt/lib/mel",
        "SHOT": "sh010",
    }
    back = TABLE.map_environment({"P": "/mnt/studio/a:/opt/lib/b", "Q": "/usr/bin"}, W)
    assert back == {"P": "P:\\a;P:\\lib\\b", "Q": "/usr/bin"}


def test_rebased_moves_one_platforms_roots_under_a_workspace() -> None:
    node = TABLE.rebased(L, "/var/cb/ws/job42/")
    assert node.map(SAME_FILE[W], L) == "/var/cb/ws/job42/studio/show/sh010/tex/wood.exr"
    assert node.map("\\\\cache01\\sim\\a", L) == "/var/cb/ws/job42/cache/a"
    assert node.map("/var/cb/ws/job42/studio/x", W) == "P:\\x"
    assert node.map("/mnt/studio/x", L) == "/var/cb/ws/job42/studio/x"  # the former root
    assert node.rebased(L, "/w2").map("/mnt/sim/a", L) == "/w2/cache/a"


@pytest.mark.parametrize(
    "fields",
    [
        {"windows": "/mnt/x"},
        {"linux": "P:\\x"},
        {"unc": "P:\\x"},
        {"macos": "relative/x"},
        {"colour": "red"},
    ],
)
def test_bad_rules_are_refused(fields: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        PathRule(name="bad", **fields)
