"""Failure classes read from each runner's log lines and from how the render ended."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from cloud_agent.failure_class import FailureWatch, classify, killed_by, lines_for, oom_kills
from common.models import FailureClass
from tests.cloud_agent.runners.fakes import DATA, sections

L, M, B, OOM = (
    FailureClass.LICENCE,
    FailureClass.MISSING_FILE,
    FailureClass.BAD_SCENE,
    FailureClass.OUT_OF_MEMORY,
)

#: (dcc, line, class it tells), as each product prints them.
TELLING: list[tuple[str, str, FailureClass | None]] = [
    # Blender
    ("blender", "Error: Cannot read file '/shows/demo/sh010.blend': No such file or directory", M),
    ("blender", 'Error: Cannot read file "/s/sh010.blend": No such file or directory', M),
    ("blender", "00:04.486  cycles           | ERROR Image file '/tex/a.png' does not exist.", M),
    (
        "blender",
        "Error: [cloudburst] 2 file(s) the scene needs are not on this node: /tex/a.png; "
        "/tex/b.png. Not rendering: the picture would be wrong. Add them to the job's files.",
        M,
    ),
    ("blender", "Error: File format is not supported in file '/shows/demo/sh010.blend'", B),
    ("blender", "Error: Failed to read blend file '/s/sh010.blend': file is truncated", B),
    (
        "blender",
        "Error: [cloudburst] the scene has no view layer 'fg'. Not rendering: the picture would "
        "be wrong.",
        B,
    ),
    ("blender", "Error: Out of memory in CUDA queue enqueue (integrator_shade_surface)", OOM),
    ("blender", "CUDA error: Out of memory in cuMemAlloc(&device_pointer, size)", OOM),
    ("blender", "Error: System is out of GPU and shared host memory", OOM),
    ("blender", "Malloc returns null: len=34359738368 in BVH nodes, total 1073741824", OOM),
    # Maya and its renderers
    ("maya", "// Error: Arnold could not check out a license for the render //", L),
    ("maya", "00:00:03   749MB WARNING | [rlm] error checking out license for arnold (v7)", L),
    ("maya", "00:00:10   444MB WARNING | [rlm] could not connect to any license server", L),
    ("maya", "V-Ray error: Could not obtain a license (-200)", L),
    ("maya", "ERROR : [Redshift] License not found for redshift-core (-1)", L),
    ("maya", "Error: (lic) Unable to get a license for Maya: no license available", L),
    ("maya", "00:00:01   640MB ERROR   | [texturesys] /shows/tex/skin.1001.tx: file not found", M),
    ("maya", '// Error: Cannot find file "/shows/demo/sh010.ma" for source statement. //', M),
    ("maya", "R56001 {ERROR} txmake: cannot open texture /shows/demo/tex/wall.tex", M),
    ("maya", "// Error: file: /shows/demo/sh010.ma line 1234: Syntax error //", B),
    ("maya", '// Error: line 1: Cannot find procedure "cbSetupLayers". //', B),
    ("maya", "// Error: File is not a valid Maya ASCII file: /shows/demo/sh010.ma //", B),
    ("maya", "ERROR : [Redshift] Out of GPU memory: could not allocate 512 MB", OOM),
    ("maya", "V-Ray error: Not enough memory to render the image", OOM),
    # Houdini
    ("houdini", "No licenses could be found to run this application.", L),
    (
        "houdini",
        "hou.OperationFailed: The attempted operation failed. Unable to open file: /a.hip",
        M,
    ),
    ("houdini", "cloudburst: error: The attempted operation failed. Could not open file /a.hip", M),
    ("houdini", "mantra: Unable to open texture file /shows/tex/brick.rat", M),
    ("houdini", "[12:01:02] Failed to open layer @/shows/demo/usd/sh010.usd@", M),
    ("houdini", "cloudburst: error: the scene has no camera /obj/cam9; pick one of its cameras", B),
    ("houdini", "cloudburst: error: the scene has no render node /out/beauty", B),
    ("houdini", "KarmaXPU: device 0 ran out of GPU memory", OOM),
    ("houdini", "ERROR : [Redshift] License not found for redshift-core", L),
    # Nuke
    ("nuke", "Foundry licensing error: no licence for nuke_r", L),
    ("nuke", "[14:02.11] ERROR: License not found for nuke_r (-1)", L),
    ("nuke", "No license available for nuke_r", L),
    ("nuke", "ERROR: Read1: /shows/demo/plates/bg.0007.exr: No such file or directory", M),
    ("nuke", "/shows/demo/comp/sh010.nk: No such file or directory", M),
    ("nuke", "[14:02.11] ERROR: Read2: Missing frame 1007 of /plates/fg.%04d.exr", M),
    ("nuke", 'ERROR: /shows/demo/comp/sh010.nk:12: unknown command "Blurr"', B),
    ("nuke", "Error: There are no active Write operators in this script", B),
    ("nuke", "[14:02.11] ERROR: Cache memory: out of memory", OOM),
    # Any program
    ("maya", "MemoryError", OOM),
    ("houdini", "    raise MemoryError('buffer')", None),  # a source line in a traceback
    ("nuke", "terminate called after throwing an instance of 'std::bad_alloc'", OOM),
    ("blender", "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB", OOM),
    ("houdini", "All licenses in use (-22)", L),
]

#: Ordinary lines that must tell nothing, beside every line of the recorded logs.
ORDINARY: list[tuple[str, str]] = [
    (
        "blender",
        "Fra:1 Mem:12.34M (Peak 15.00M) | Time:00:00.12 | Remaining:00:01.23 | Sample 8/16",
    ),
    ("blender", "Read blend: '/shows/demo/sh010.blend'"),
    ("blender", "Warning: Unable to open image '/tex/a.png'; using a pink image"),
    (
        "blender",
        "Info: 12 libraries and 340 linked data-blocks are missing (including 2 "
        "ObjectData), please check the Info and Outliner editors for details",
    ),
    ("blender", "Memory: 1.2 GiB of 64 GiB"),
    ("blender", "Could not find license file for the denoiser add-on; it stays off"),
    ("maya", "// Warning: Licensing: this Maya is a subscription license //"),
    ("maya", "00:00:00   109MB         | [license] checking out license for arnold: ok"),
    ("maya", "Result: /shows/demo/images/sh010.0007.exr"),
    ("maya", "File read in  2.1 seconds."),
    ("maya", "// Warning: file: /shows/demo/sh010.ma line 12: Unrecognized node type //"),
    ("houdini", "ALF_PROGRESS 42%"),
    ("houdini", "mantra: Generating image /shows/demo/render/beauty.0007.exr"),
    ("houdini", "Loading .hip file /shows/demo/sh010.hip."),
    ("nuke", "Writing /shows/demo/comp/sh010.0007.exr took 1.53 seconds"),
    ("nuke", "Frame 7 (2 of 10)"),
    ("nuke", "Read1: reading /plates/bg.0007.exr"),
    ("maya", "Rendering with 1.2 GB of 48 GB memory, out-of-core textures enabled"),
]

RECORDED = sorted(p.name for p in DATA.glob("*.txt"))
DCC_OF = {"blender": "blender", "cloudburst": "blender", "bpy": "blender", "husk": "houdini",
          "mantra": "houdini", "houdini": "houdini", "maya": "maya", "nuke": "nuke"}  # fmt: skip
#: The lines of the recorded logs that tell a class (the logs of failed runs; every other line
#: of every recorded log must tell nothing).
RECORDED_TELLING: dict[str, dict[str, FailureClass]] = {
    "blender_classic.txt": {
        "Error: Cannot render, no camera": B,
        'Error: Cannot read file "/projects/demo/shots/sh030/sh030_lighting.blend"': M,
    },
    "blender_5x.txt": {
        'Error: Cannot read file "/tmp/cbx/missing.blend"': M,
        'Error: Loading "/tmp/cbx/corrupt.blend" failed: Failed to read blend file': B,
        "ERROR Image file '/tmp/cbx/textures/missing_wood.png' does not exist.": M,
        "Error: Cannot render, no camera": B,
    },
    "bpy_module_5x.txt": {
        'Error: Cannot read file "/tmp/cbx/missing.blend"': M,
        "Error: Cannot render, no camera": B,
    },
    "cloudburst_blender.txt": {"Cannot render, no camera": B},
    "maya_arnold_error.txt": {"[texturesys] /shows/demo/tex/skin.1001.tx: file not found": M},
    "houdini_redshift_error.txt": {"Out of GPU memory": OOM},
    "maya_redshift_error.txt": {"Out of GPU memory": OOM},
    "maya_renderman_error.txt": {"txmake: cannot open /shows/demo/tex/wall.tex": M},
    "nuke_error.txt": {"No such file or directory": M},
    "nuke_licence.txt": {"Foundry licensing error": L},
    "maya_arnold_licence.txt": {
        "[rlm] error checking out license": L,
        "aborting render because of failure to checkout license": L,
    },
    "maya_redshift_licence.txt": {"Unable to acquire a license": L},
    "maya_vray_error.txt": {"No such file or directory": M, "Could not obtain a license": L},
}


def told(dcc: str, lines: list[str]) -> FailureClass | None:
    watch = FailureWatch(lines_for(dcc))
    for line in lines:
        watch.feed(line)
    return watch.strongest()


@pytest.mark.parametrize(("dcc", "line", "expected"), TELLING)
def test_a_telling_line_gives_its_class(dcc: str, line: str, expected: FailureClass | None) -> None:
    assert told(dcc, [line]) is expected


@pytest.mark.parametrize(("dcc", "line"), ORDINARY)
def test_an_ordinary_line_tells_nothing(dcc: str, line: str) -> None:
    assert told(dcc, [line]) is None


@pytest.mark.parametrize("name", RECORDED)
def test_recorded_logs_tell_only_what_their_failures_were(name: str) -> None:
    values = {"{frame}": "7", "{index}": "1", "{count}": "1", "{{": "{", "}}": "}",
              "{image}": "/shows/demo/images/sh010.0007.exr"}  # fmt: skip
    dcc = DCC_OF[name.split("_")[0].split(".")[0]]
    telling: dict[str, FailureClass] = {}
    for part in sections(str(DATA / name)).values():
        for line in part:
            for old, new in values.items():
                line = line.replace(old, new)
            found = told(dcc, [line])
            if found is not None:
                telling[line] = found
    expected = RECORDED_TELLING.get(name, {})
    for line, found in telling.items():
        keys = [key for key in expected if key in line]
        assert keys, f"{line!r} must tell nothing, yet tells {found}"
        assert found is expected[keys[0]], line
    for key in expected:
        assert any(key in line for line in telling), f"no line of {name} told {key!r}"


def test_the_strongest_line_wins() -> None:
    lines = [
        "ERROR : [Redshift] Out of GPU memory: could not allocate 512 MB",
        "// Error: file: /s/a.ma line 3: Syntax error //",
        "00:00:01 ERROR | [texturesys] /t/a.tx: file not found",
        "ERROR : [Redshift] License not found for redshift-core",
    ]
    assert told("maya", lines) is L
    assert told("maya", lines[:3]) is M
    assert told("maya", lines[:2]) is B


#: (how it ended, the class the lines told, the class of the failure).
ENDINGS: list[tuple[dict[str, object], FailureClass | None, FailureClass]] = [
    ({"exit_code": -signal.SIGTERM, "timed_out": True}, L, FailureClass.TIMEOUT),
    ({"exit_code": -signal.SIGTERM, "stalled": True}, None, FailureClass.STALLED),
    ({"exit_code": -signal.SIGKILL}, OOM, OOM),
    ({"exit_code": 137}, OOM, OOM),  # a wrapper shell: 128 + SIGKILL
    ({"exit_code": -signal.SIGKILL, "oom_killed": True}, None, OOM),
    ({"exit_code": -signal.SIGKILL}, None, FailureClass.CRASH),
    ({"exit_code": -signal.SIGSEGV}, OOM, FailureClass.CRASH),
    ({"exit_code": 139}, L, FailureClass.CRASH),  # 128 + SIGSEGV
    ({"exit_code": -signal.SIGABRT}, None, FailureClass.CRASH),
    ({"exit_code": -signal.SIGBUS}, None, FailureClass.CRASH),
    ({"exit_code": 1}, L, L),
    ({"exit_code": 211}, M, M),  # Maya's own status, not a signal
    ({"exit_code": 1}, OOM, OOM),
    ({"exit_code": 1}, None, FailureClass.RENDER_ERROR),
    ({"exit_code": 0}, None, FailureClass.RENDER_ERROR),  # frames missing after a clean exit
    ({"exit_code": 130}, None, FailureClass.RENDER_ERROR),  # 128 + SIGINT: not read as one
]


@pytest.mark.parametrize(("ending", "found", "expected"), ENDINGS)
def test_how_the_render_ended_decides_first(
    ending: dict[str, object], found: FailureClass | None, expected: FailureClass
) -> None:
    assert classify(found, **ending) is expected  # type: ignore[arg-type]


def test_killed_by() -> None:
    assert killed_by(-9) is signal.SIGKILL
    assert killed_by(134) is signal.SIGABRT
    assert killed_by(1) is None and killed_by(0) is None and killed_by(None) is None
    assert killed_by(255) is None


def test_oom_kills_are_read_from_the_cgroup(tmp_path: Path) -> None:
    proc = tmp_path / "cgroup"
    proc.write_text("0::/system.slice/cloudburst-agent.service\n")
    events = tmp_path / "root" / "system.slice" / "cloudburst-agent.service" / "memory.events"
    events.parent.mkdir(parents=True)
    events.write_text("low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\n")
    assert oom_kills(proc, tmp_path / "root") == 2
    proc.write_text("12:memory:/user.slice\n")  # cgroup v1 only: unknown
    assert oom_kills(proc, tmp_path / "root") is None
    assert oom_kills(tmp_path / "nothing", tmp_path / "root") is None
