"""The Blender runner renders the view layer and camera chosen in the panel.

The command line is checked here; the renders are real (``cloudburst-blender`` on the ``bpy``
wheel) over a scene with two view layers and two cameras (``layered_scene.py``), and the test
reads the pixels back.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cloud_agent.blender_compat import LoadScene, RunPythonFile, SetOutput, parse_args
from cloud_agent.process import ManagedProcess
from cloud_agent.runners.blender import (
    REMAP_SCRIPT,
    TARGET_SCRIPT,
    BlenderRunner,
    BlenderTaskRender,
    resolve_blender,
)
from cloud_agent.runners.path_map_file import PATH_MAP_ENV
from common.errors import RenderError
from common.jobspec import CAMERA_ENV, TARGET_ENV
from tests.cloud_agent.runners.test_blender_runner import assignment, prepare

needs_bpy = pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="no bpy")


# --- the command line ---------------------------------------------------------------------------


def test_a_chosen_layer_or_camera_runs_the_target_script_after_the_scene_loads(
    tmp_path: Path,
) -> None:
    for env in ({TARGET_ENV: "Greens"}, {CAMERA_ENV: "LookWest"}):
        render = prepare([1], f"{tmp_path}/f_####", env=env)
        assert render.command[3:7] == ["--python-exit-code", "1", "--python", TARGET_SCRIPT]
        assert render.env == {"PYTHONUNBUFFERED": "1", **env}  # the script reads them there
        actions = parse_args(render.command[1:])
        assert actions[0] == LoadScene("/shows/demo/shot010.blend")
        assert actions.index(RunPythonFile(TARGET_SCRIPT)) < next(
            i for i, a in enumerate(actions) if isinstance(a, SetOutput)
        )
    assert os.path.isfile(TARGET_SCRIPT)


def test_the_path_map_is_applied_before_the_layer_and_camera_are_chosen(tmp_path: Path) -> None:
    env = {PATH_MAP_ENV: "/ws/map.json", TARGET_ENV: "Greens", CAMERA_ENV: "LookWest"}
    render = prepare([1], f"{tmp_path}/f_####", env=env)
    assert render.command[3:9] == [
        "--python-exit-code", "1", "--python", REMAP_SCRIPT, "--python", TARGET_SCRIPT,
    ]  # fmt: skip


def test_without_a_choice_no_script_runs(tmp_path: Path) -> None:
    command = prepare([1], f"{tmp_path}/f_####", env={TARGET_ENV: "", CAMERA_ENV: ""}).command
    assert "--python" not in command


# --- real renders ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def layered_scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scene = tmp_path_factory.mktemp("layered") / "layers.blend"
    subprocess.run(
        [sys.executable, "-m", "tests.cloud_agent.runners.layered_scene", str(scene)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return scene


def render_with(scene: Path, output: str, env: dict[str, str]) -> tuple[BlenderTaskRender, int]:
    runner = BlenderRunner(resolve_blender("", which=lambda name: None, has_bpy=True))
    render = runner.prepare(assignment([1], output, scene=str(scene), env=env))
    lines: list[str] = []

    def on_line(line: str) -> None:
        lines.append(line)
        render.interpret(line)

    result = ManagedProcess(render.command, env={**os.environ, **render.env}).run(on_line)
    assert result.exit_code is not None, "\n".join(lines[-30:])
    return render, result.exit_code


def colour_of(path: str) -> str:
    """The one colour every pixel of the image has: ``red``, ``green`` or ``grey``."""
    from PIL import Image

    with Image.open(path) as image:
        rgb = image.convert("RGB")
        names = {_name(rgb.getpixel((x, y))) for x in range(rgb.width) for y in range(rgb.height)}
    assert len(names) == 1, f"{path} is not one flat colour: {sorted(names)}"
    return names.pop()


def _name(pixel: object) -> str:
    assert isinstance(pixel, tuple)
    r, g, b = pixel[:3]
    if r > 200 and g < 50 and b < 50:
        return "red"
    if g > 200 and r < 50 and b < 50:
        return "green"
    if max(r, g, b) - min(r, g, b) < 8 and 60 < r < 200:
        return "grey"
    return f"rgb{(r, g, b)}"


@pytest.mark.slow
@needs_bpy
@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "red"),  # the scene's own: every layer (Reds first), LookEast
        ({TARGET_ENV: "Greens", CAMERA_ENV: "LookWest"}, "green"),  # the marker unbound too
        ({TARGET_ENV: "Reds", CAMERA_ENV: "LookWest"}, "grey"),  # Reds has nothing at -X
        ({TARGET_ENV: "Greens"}, "grey"),  # the scene's camera looks where Greens is empty
        ({CAMERA_ENV: "LookWest"}, "grey"),  # every layer: Reds first, empty at -X
    ],
)
def test_the_chosen_view_layer_renders_through_the_chosen_camera(
    layered_scene: Path, tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    render, code = render_with(layered_scene, f"{tmp_path}/out/f_####", env)
    outputs = render.finish(code)
    render.cleanup()
    assert outputs == [f"{tmp_path}/out/f_0001.png"]
    assert colour_of(outputs[0]) == expected


@pytest.mark.slow
@needs_bpy
@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({TARGET_ENV: "Blues"}, "no view layer 'Blues' (it has: 'Reds', 'Greens')"),
        ({CAMERA_ENV: "Nope"}, "no camera 'Nope' (it has: 'LookEast', 'LookWest')"),
        ({CAMERA_ENV: "RedSideBox"}, "no camera 'RedSideBox'"),  # an object, not a camera
    ],
)
def test_an_unknown_layer_or_camera_fails_the_task_before_it_renders(
    layered_scene: Path, tmp_path: Path, env: dict[str, str], named: str
) -> None:
    render, code = render_with(layered_scene, f"{tmp_path}/out/f_####", env)
    assert code == 1
    with pytest.raises(RenderError) as raised:
        render.finish(code)
    render.cleanup()
    assert named in raised.value.message
    assert "Pick one of them in the panel" in raised.value.message
    assert os.listdir(tmp_path / "out") == []
