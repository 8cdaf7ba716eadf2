"""``cloudburst submit`` runs the submit panel's pre-flight on the scene file, read without its
DCC: errors stop the submission, warnings are printed, missing files need ``--allow-missing``.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from common.accounts import Role
from common.cli.context import CliState
from common.cli.main import cli
from common.models import JobSpec
from daemon.app import Services
from tests.common.cli.test_cli import (
    FakeClient,
    Untouchable,
    no_user_config,  # noqa: F401 (autouse here too)
)
from tests.conftest import SHARED, user_token

SCENES = SHARED / "scenes"


@pytest.fixture(autouse=True)
def own_scan_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A scan cache of the test's own (``no_user_config`` keeps the user's config out)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def maya_scene(folder: Path, *, rust: bool = False) -> Path:
    """``shot.ma``, frames 1-3, using ``tex/wood.png`` and ``tex/rust.png`` (on disk if
    ``rust``)."""
    tex = folder / "tex"
    tex.mkdir(parents=True, exist_ok=True)
    (tex / "wood.png").write_bytes(b"wood")
    if rust:
        (tex / "rust.png").write_bytes(b"rust")
    scene = folder / "shot.ma"
    scene.write_text(
        '//Maya ASCII 2024 scene\nrequires maya "2024";\n'
        f'createNode file -n "wood";\n\tsetAttr ".ftn" -type "string" "{tex}/wood.png";\n'
        f'createNode file -n "rust";\n\tsetAttr ".ftn" -type "string" "{tex}/rust.png";\n'
        'select -ne :defaultRenderGlobals;\n\tsetAttr ".an" yes;\n'
        '\tsetAttr ".sf" 1;\n\tsetAttr ".ef" 3;\n'
    )
    return scene


def submit(scene: Path, *args: str, client: Any) -> Result:
    state = CliState(client=client, poll_interval_s=0)
    runner = CliRunner(env={"COLUMNS": "200"})
    return runner.invoke(cli, ["submit", str(scene), *args], obj=state)


def sent(client: FakeClient) -> JobSpec:
    [(name, (spec,), _)] = client.calls
    assert name == "submit"
    assert isinstance(spec, JobSpec)
    return spec


def test_missing_files_stop_the_submit_and_are_named(tmp_path: Path) -> None:
    scene = maya_scene(tmp_path / "proj")
    result = submit(scene, "-f", "1-3", client=Untouchable())
    assert result.exit_code == 1, result.output
    assert "Error: 1 file the scene needs is missing: rust.png" in result.stderr
    assert "Put each missing file where the scene expects it" in result.stderr
    assert "pass --allow-missing to submit anyway" in result.stderr
    assert f"  {tmp_path / 'proj' / 'tex' / 'rust.png'}" in result.stderr.splitlines()
    assert "Nothing was submitted: the pre-flight found 1 error." in result.stderr


def test_allow_missing_submits_anyway_and_names_the_missing_files(tmp_path: Path) -> None:
    scene = maya_scene(tmp_path / "proj")
    client = FakeClient()
    result = submit(scene, "-f", "1-3", "--allow-missing", client=client)
    assert result.exit_code == 0, result.output
    assert "Warning: 1 file the scene needs is missing: rust.png" in result.stderr
    assert str(tmp_path / "proj" / "tex" / "rust.png") in result.stderr
    assert "Submitted job" in result.stdout
    spec = sent(client)
    assert spec.dcc == "maya"  # from the scene, not the old default "blender"


def test_a_complete_scene_submits_without_a_word(tmp_path: Path) -> None:
    client = FakeClient()
    result = submit(maya_scene(tmp_path / "proj", rust=True), "-f", "1-3", client=client)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert sent(client).dcc == "maya"


def test_an_output_without_a_frame_number_is_refused_for_several_frames(tmp_path: Path) -> None:
    scene = maya_scene(tmp_path / "proj", rust=True)
    output = tmp_path / "out" / "beauty.exr"
    result = submit(scene, "-f", "1-3", "-o", str(output), client=Untouchable())
    assert result.exit_code == 1, result.output
    assert f"The output {output} has no frame number" in result.stderr
    assert f"as in {tmp_path / 'out' / 'beauty'}.####.exr" in result.stderr
    client = FakeClient()  # one frame may overwrite nothing
    assert submit(scene, "-f", "2", "-o", str(output), client=client).exit_code == 0
    assert sent(client).output == str(output)


def test_a_movie_output_is_refused(tmp_path: Path) -> None:
    scene = maya_scene(tmp_path / "proj", rust=True)
    result = submit(scene, "-f", "1", "-o", str(tmp_path / "cut.mov"), client=Untouchable())
    assert result.exit_code == 1
    assert "Error: The output is a movie file" in result.stderr
    assert "Render an image sequence (an output such as shot.####.exr and --format" in (
        result.stderr
    )


def test_every_error_is_printed_before_the_refusal(tmp_path: Path) -> None:
    scene = maya_scene(tmp_path / "proj")
    args = ["-f", "1-3", "-o", str(tmp_path / "cut.mov")]
    result = submit(scene, *args, client=Untouchable())
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 2  # the missing file and the movie
    assert "the pre-flight found 2 errors. Fix them" in result.stderr


def test_warnings_are_printed_and_the_job_goes(tmp_path: Path) -> None:
    scene = maya_scene(tmp_path / "proj", rust=True)
    client = FakeClient()
    result = submit(scene, "-f", "1-10", client=client)
    assert result.exit_code == 0, result.output
    assert "Warning: 7 of the frames (4...) lie outside the scene's range 1-3." in result.stderr
    assert sent(client).frames == "1-10"


def test_a_render_target_the_scene_lacks_is_refused(tmp_path: Path) -> None:
    scene = maya_scene(tmp_path / "proj", rust=True)
    args = ["-f", "1", "--env", "CLOUDBURST_RENDER_TARGET=fgLayer"]
    result = submit(scene, *args, client=Untouchable())
    assert result.exit_code == 1, result.output
    assert "The scene has no render target 'fgLayer'" in result.stderr


def test_a_camera_the_scene_lacks_is_refused(tmp_path: Path) -> None:
    scene = maya_scene(tmp_path / "proj", rust=True)
    result = submit(scene, "-f", "1", "--env", "CLOUDBURST_CAMERA=shotCam", client=Untouchable())
    assert result.exit_code == 1, result.output
    assert "The scene has no camera 'shotCam'" in result.stderr


def test_no_preflight_does_not_read_the_scene(tmp_path: Path) -> None:
    scene = maya_scene(tmp_path / "proj")
    client = FakeClient()
    result = submit(scene, "-f", "1-3", "--no-preflight", client=client)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert sent(client).dcc == "blender"  # nothing was read: the option's old default


def test_the_dcc_option_wins_over_the_scene(tmp_path: Path) -> None:
    client = FakeClient()
    scene = maya_scene(tmp_path / "proj", rust=True)
    result = submit(scene, "-f", "1", "--dcc", "mayapy", "--renderer", "arnold", client=client)
    assert result.exit_code == 0, result.output
    spec = sent(client)
    assert (spec.dcc, spec.renderer) == ("mayapy", "arnold")


def test_a_kind_with_no_reader_says_the_preflight_was_skipped(tmp_path: Path) -> None:
    scene = tmp_path / "shot.mb"
    scene.write_bytes(b"FOR4 binary")
    client = FakeClient()
    result = submit(scene, "-f", "1-3", "--dcc", "maya", client=client)
    assert result.exit_code == 0, result.output
    assert "the pre-flight was skipped: no reader knows .mb scenes" in result.stderr
    assert sent(client).scene == str(scene)


@pytest.mark.parametrize(
    ("name", "content"),
    [("broken.blend", b"BLENDER"), ("broken.hip", b"not a hip file at all")],
)
def test_a_scene_the_reader_cannot_read_stops_the_submit(
    tmp_path: Path, name: str, content: bytes
) -> None:
    if name.endswith(".blend"):
        pytest.importorskip("blender_asset_tracer", reason="the gui extra is not installed")
    scene = tmp_path / name
    scene.write_bytes(content)
    result = submit(scene, "-f", "1", client=Untouchable())
    assert result.exit_code == 1, result.output
    assert "The pre-flight cannot read the scene." in result.stderr
    assert "pass --no-preflight to submit it unchecked" in result.stderr
    assert "Traceback" not in result.output


def test_bad_options_are_refused_before_the_scene_is_read(tmp_path: Path) -> None:
    scene = tmp_path / "broken.hip"
    scene.write_bytes(b"not a hip file at all")
    result = submit(scene, "-f", "1", "--priority", "101", client=Untouchable())
    assert result.exit_code == 1
    assert "priority" in result.stderr and "pre-flight" not in result.stderr


# --- the real scenes -------------------------------------------------------------------------


@pytest.fixture
def scenes() -> Path:
    if not SCENES.is_dir():
        pytest.skip(f"the real test scenes are not here ({SCENES} is missing)")
    return SCENES


def test_a_real_nuke_script_with_missing_frames_needs_allow_missing(
    tmp_path: Path, scenes: Path
) -> None:
    script = scenes / "nuke" / "cgru-old" / "scene.nk"
    output = str(tmp_path / "out" / "comp.####.exr")
    refused = submit(script, "-f", "1", "-o", output, client=Untouchable())
    assert refused.exit_code == 1, refused.output
    assert "missing" in refused.stderr and "test_a.0001.exr" in refused.stderr
    client = FakeClient()
    allowed = submit(script, "-f", "1", "-o", output, "--allow-missing", client=client)
    assert allowed.exit_code == 0, allowed.output
    assert sent(client).dcc == "nuke"


def test_a_real_maya_scene_with_its_references_found_goes(
    tmp_path: Path, scenes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mrv = scenes / "maya" / "mrv"
    monkeypatch.setenv("MAYAFILEBASE", str(mrv))
    client = FakeClient()
    result = submit(mrv / "ma" / "refbase.ma", "-f", "1", client=client)
    assert result.exit_code == 0, result.output
    assert "Error" not in result.stderr
    assert sent(client).dcc == "maya"


def test_a_real_houdini_scene_without_a_default_render_node_names_one_with_env(
    tmp_path: Path, scenes: Path
) -> None:
    hip = scenes / "houdini" / "qlib" / "rop_tool_ql_ROP.hip"
    args = ["-f", "1", "-o", str(tmp_path / "out" / "beauty.$F4.exr"), "--allow-missing"]
    refused = submit(hip, *args, client=Untouchable())
    assert refused.exit_code == 1, refused.output
    assert "Nothing in the scene renders pictures by default" in refused.stderr
    assert "Name the render node with --env CLOUDBURST_RENDER_TARGET=NODE" in refused.stderr
    client = FakeClient()
    target = ["--env", "CLOUDBURST_RENDER_TARGET=/out/mantra1"]
    chosen = submit(hip, *args, *target, client=client)
    assert chosen.exit_code == 0, chosen.output
    spec = sent(client)
    assert spec.dcc == "houdini" and spec.env["CLOUDBURST_RENDER_TARGET"] == "/out/mantra1"


def test_a_real_blend_that_writes_a_movie_needs_an_image_format(
    tmp_path: Path, scenes: Path
) -> None:
    pytest.importorskip("blender_asset_tracer", reason="the gui extra is not installed")
    blend = scenes / "blend" / "bat-tests" / "basic_file.blend"
    args = ["-f", "1", "-o", str(tmp_path / "out" / "f.####.png")]
    refused = submit(blend, *args, client=Untouchable())
    assert refused.exit_code == 1, refused.output
    assert "The output is a movie file" in refused.stderr and "--format" in refused.stderr
    client = FakeClient()
    assert submit(blend, *args, "--format", "PNG", client=client).exit_code == 0
    assert (sent(client).dcc, sent(client).output_format) == ("blender", "PNG")


# --- against the real daemon -----------------------------------------------------------------


def test_a_refused_preflight_leaves_no_job_on_the_daemon(
    live_url: str, services: Services, tmp_path: Path
) -> None:
    token = user_token(services, getpass.getuser(), Role.ARTIST)
    runner = CliRunner(env={"COLUMNS": "200", "CLOUDBURST_TOKEN": token})
    scene = maya_scene(tmp_path / "proj")
    base = ["--daemon-url", live_url, "submit", str(scene), "-f", "1-3"]
    refused = runner.invoke(cli, base)
    assert refused.exit_code == 1 and "rust.png" in refused.stderr
    listed = runner.invoke(cli, ["--daemon-url", live_url, "jobs", "--json"])
    assert json.loads(listed.stdout)["items"] == []
    sent_anyway = runner.invoke(cli, [*base, "--allow-missing", "--json"])
    assert sent_anyway.exit_code == 0, sent_anyway.output
    job = json.loads(sent_anyway.stdout)
    assert job["spec"]["dcc"] == "maya" and job["frame_count"] == 3
