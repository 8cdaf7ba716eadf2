"""The Blender log parser, on single lines and on whole recorded logs.

The logs under ``data/``:

* ``blender_5x.txt``: recorded here from bpy 5.0.1 with Blender's ``render.*`` log category
  switched on, which is what ``blender -b ... -f/-a`` does, so the lines are those of the 5.0.1
  executable: Cycles frames 1-2, EEVEE frame 3, Workbench frame 4, a missing texture (frame 5),
  no camera (frame 6), an unwritable output folder (frame 7), a missing and a corrupt .blend.
* ``bpy_module_5x.txt``: recorded here from plain bpy 5.0.1 (``render.render(animation=True)``),
  which prints only ``Read blend:``, ``Saved:`` and reports.
* ``cloudburst_blender.txt``: recorded here from two runs of ``cloudburst-blender``, stdout and
  stderr together: frames 1-2, then frame 3 with no camera.
* ``blender_classic.txt``: the Blender 2.8x-3.x format (2.83 with tiles, 3.6 with samples and
  EEVEE), written after published logs of those versions since none of them runs here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cloud_agent.runners.blender_log import (
    BlenderEvent,
    FrameProgress,
    FrameSaved,
    FrameStarted,
    RenderError,
    iter_events,
    parse_line,
    strip_log_prefix,
)

DATA = Path(__file__).parent / "data"


def _events(name: str) -> list[BlenderEvent]:
    with (DATA / name).open(encoding="utf-8") as handle:
        return list(iter_events(handle))


def _of_type(events: list[BlenderEvent], kind: type) -> list:
    return [event for event in events if isinstance(event, kind)]


def _last_fraction(events: list[BlenderEvent]) -> dict[int, float]:
    last: dict[int, float] = {}
    for event in _of_type(events, FrameProgress):
        last[event.frame] = event.fraction
    return last


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "Fra:1 Mem:12.34M (Peak 15.00M) | Time:00:00.12 | Remaining:00:01.23 | "
            "Mem:3.00M, Peak:3.00M | Scene, ViewLayer | Sample 8/16",
            FrameProgress(1, 0.5),
        ),
        (
            "Fra:125 Mem:12.37M (0.00M, Peak 14.83M) | Time:00:00.13 | Remaining:00:00.14 | "
            "Mem:0.71M, Peak:1.20M | Background Lines, RenderLayer | Path Tracing Tile 4/16, "
            "Sample 10/10",
            FrameProgress(125, 0.25),
        ),
        (
            "Fra:7 Mem:1M | Time:00:00.10 | Scene, ViewLayer | Rendered 3/16 Tiles",
            FrameProgress(7, 3 / 16),
        ),
        ("Fra:2 Mem:1M | Scene, ViewLayer | Path Tracing Sample 4/16", FrameProgress(2, 0.25)),
        ("Fra:3 Mem:45.10M (Peak 52.60M) | Rendering 8 / 16 samples", FrameProgress(3, 0.5)),
        (
            "00:04.230  render           | Fra: 1 | Remaining: 01:43.73 | Mem: 1699M | "
            "Sample 32/128",
            FrameProgress(1, 0.25),
        ),
        ("00:02:19.277  render           | Fra: 1 | Mem: 1699M | Finished", FrameProgress(1, 1.0)),
        ("Fra: -5 | Mem: 0M | Synchronizing object | Cube", FrameStarted(-5)),
        ("00:00.245  render           | Rendering frame 12", FrameStarted(12)),
        ("Rendering frame 3", FrameStarted(3)),
        ("Fra: 4 | Mem: 2M | Sample 0/0", FrameStarted(4)),
        ("Saved: '/tmp/out/f_0001.png'\n", FrameSaved("/tmp/out/f_0001.png")),
        ("Saved: '/tmp/it's here/f_0001.png'", FrameSaved("/tmp/it's here/f_0001.png")),
        ("00:00.322  render           | Saved: '/r/c_0001.exr'", FrameSaved("/r/c_0001.exr")),
        ("Saved: /tmp/old/0001.png Time: 00:01.00", FrameSaved("/tmp/old/0001.png")),
        ("Error: Cannot render, no camera", RenderError("Cannot render, no camera")),
        (
            '00:00.001  blend            | ERROR Cannot read file "/x.blend"',
            RenderError('Cannot read file "/x.blend"'),
        ),
        ("Warning: Unable to open '/tex/wood.png'", RenderError("Unable to open '/tex/wood.png'")),
        ("Warning: Path '//tex/a.png' not found", RenderError("Path '//tex/a.png' not found")),
        (
            "Fra:9 Mem:1M | Error: CUDA error: out of memory",
            RenderError("CUDA error: out of memory"),
        ),
        ("Warning: the add-on foo is outdated", None),
        (" Time: 00:00.52 (Saving: 00:00.01)", None),
        ("00:00.328  render           | Time: 00:00.07 (Saving: 00:00.06)", None),
        ("00:00.256  render           | Rendering animation (frames 1..2)", None),
        ("00:00.333  render           | Rendering single frame", None),
        ('00:00.194  blend            | Read blend: "/tmp/scene.blend"', None),
        ("EGL Error (0x3009): EGL_BAD_MATCH: Arguments are inconsistent.", None),
        ("Blender quit", None),
        ("", None),
        ("   \n", None),
    ],
)
def test_parse_line(line: str, expected: BlenderEvent | None) -> None:
    assert parse_line(line) == expected


def test_strip_log_prefix_keeps_lines_without_one() -> None:
    assert strip_log_prefix("00:01.140  render           | Fra: 1 | x\n") == "Fra: 1 | x"
    assert strip_log_prefix("01:02:03.140  bke.image    | body") == "body"
    assert strip_log_prefix("Fra:12 Mem:10M | Sample 1/2") == "Fra:12 Mem:10M | Sample 1/2"


def test_iter_events_reports_each_frame_start_once() -> None:
    lines = [
        "Fra: 1 | Mem: 0M | Initializing",
        "Fra: 1 | Mem: 0M | Updating Scene",
        "Fra: 1 | Mem: 2M | Sample 2/4",
        "Fra: 2 | Mem: 2M | Sample 1/4",  # Progress of a new frame starts it.
        "Fra: 2 | Mem: 2M | Updating Film",
    ]
    assert list(iter_events(lines)) == [
        FrameStarted(1),
        FrameProgress(1, 0.5),
        FrameStarted(2),
        FrameProgress(2, 0.25),
    ]


def test_blender_5x_log() -> None:
    events = _events("blender_5x.txt")
    assert [e.frame for e in _of_type(events, FrameStarted)] == [1, 2, 3, 4, 5, 6, 7]
    assert [e.path for e in _of_type(events, FrameSaved)] == [
        "/tmp/cbx/rec/cycles_0001.png",
        "/tmp/cbx/rec/cycles_0002.png",
        "/tmp/cbx/rec/eevee_0003.png",
        "/tmp/cbx/rec/workbench_0004.png",
        "/tmp/cbx/rec/texture_0005.png",
    ]
    # Cycles reports samples, EEVEE "Rendering n / N samples"; Workbench (4) nothing.
    assert _last_fraction(events) == {1: 1.0, 2: 1.0, 3: 1.0, 5: 1.0, 7: 1.0}
    assert FrameProgress(1, 0.25) in events
    assert FrameProgress(3, 0.25) in events
    errors = [e.message for e in _of_type(events, RenderError)]
    assert errors == [
        'Cannot read file "/tmp/cbx/missing.blend": No such file or directory',
        'Loading "/tmp/cbx/corrupt.blend" failed: Failed to read blend file '
        "'/tmp/cbx/corrupt.blend': Missing DNA block",
        "Image file '/tmp/cbx/textures/missing_wood.png' does not exist.",
        "Cannot render, no camera",
        "Image file '/tmp/cbx/textures/missing_wood.png' does not exist.",
        "Couldn't create directory for file /proc/forbidden/x_0007.png: No such file or directory",
        "Render error (No such file or directory) cannot save: '/proc/forbidden/x_0007.png'",
    ]


def test_bpy_module_log() -> None:
    events = _events("bpy_module_5x.txt")
    assert events == [
        RenderError('Cannot read file "/tmp/cbx/missing.blend": No such file or directory'),
        FrameSaved("/tmp/cbx/bpy/frame_0001.png"),
        FrameSaved("/tmp/cbx/bpy/frame_0002.png"),
        RenderError("Cannot render, no camera"),
    ]


def test_cloudburst_blender_log() -> None:
    events = _events("cloudburst_blender.txt")
    assert [e.frame for e in _of_type(events, FrameStarted)] == [1, 2, 3]
    assert [e.path for e in _of_type(events, FrameSaved)] == [
        "/tmp/cbx/out2/f_0001.png",
        "/tmp/cbx/out2/f_0002.png",
    ]
    assert _last_fraction(events) == {1: 1.0, 2: 1.0}
    assert [e.message for e in _of_type(events, RenderError)] == [
        "Cannot render, no camera",
        "Frame 3: Cannot render, no camera",
    ]
    # Every frame's progress comes between its start and its saved file.
    kinds = [
        type(e).__name__ for e in events[: events.index(FrameSaved("/tmp/cbx/out2/f_0001.png"))]
    ]
    assert kinds[0] == "FrameStarted" and set(kinds[1:]) == {"FrameProgress"}


def test_classic_log() -> None:
    events = _events("blender_classic.txt")
    assert [e.frame for e in _of_type(events, FrameStarted)] == [10, 11, 1, 2, 3]
    assert [e.path for e in _of_type(events, FrameSaved)] == [
        "/projects/demo/renders/sh010/sh010_0010.exr",
        "/projects/demo/renders/sh010/sh010_0011.exr",
        "/projects/demo/renders/sh020/sh020_0001.png",
        "/projects/demo/renders/sh020/sh020_0002.png",
        "/projects/demo/renders/sh020/sh020_0003.png",
    ]
    assert FrameProgress(10, 0.5) in events  # Path Tracing Tile 8/16
    assert FrameProgress(11, 6 / 16) in events  # Rendered 6/16 Tiles
    assert FrameProgress(1, 0.5) in events  # Sample 8/16
    assert FrameProgress(2, 0.25) in events  # Path Tracing Sample 4/16
    assert FrameProgress(3, 0.5) in events  # EEVEE: Rendering 32 / 64 samples
    assert _last_fraction(events) == {10: 1.0, 11: 1.0, 1: 1.0, 2: 1.0, 3: 1.0}
    assert [e.message for e in _of_type(events, RenderError)] == [
        "Path '//textures/wood_diffuse.png' not found",
        "Cannot render, no camera",
        'Cannot read file "/projects/demo/shots/sh030/sh030_lighting.blend": '
        "No such file or directory",
    ]


@pytest.mark.parametrize(
    "name", ["blender_5x.txt", "bpy_module_5x.txt", "cloudburst_blender.txt", "blender_classic.txt"]
)
def test_progress_never_goes_back_within_a_frame(name: str) -> None:
    last: dict[int, float] = {}
    for event in _events(name):
        if isinstance(event, FrameProgress):
            assert 0.0 <= event.fraction <= 1.0
            assert event.fraction >= last.get(event.frame, 0.0), event
            last[event.frame] = event.fraction
