"""``common.houdini_rops``: the one set of rules that picks a Houdini job's render node."""

from __future__ import annotations

import pytest

from common.houdini_rops import (
    ROP_TYPES,
    RopFacts,
    RopRole,
    base_type,
    default_rop,
    find_rop,
    frame_spec,
    keeps_rop_output,
    output_at,
    output_parm,
)
from common.scene_readers import houdini_report

MANTRA = RopFacts("/out/mantra1", "ifd", output_parm="vm_picture", output="$HIP/r/a.$F4.exr")
CACHE = RopFacts("/out/cache", "geometry", output_parm="sopoutput", output="$HIP/g.$F4.bgeo")
USD = RopFacts("/stage/usd_rop1", "usd_rop", output_parm="lopoutput", output="$HIP/s.usd")
STAGE = RopFacts("/stage/usdrender_rop1", "usdrender_rop", output_parm="outputimage",
                 output="$HIP/r/k.$F4.exr")  # fmt: skip


def test_a_geometry_or_usd_rop_is_never_the_default() -> None:
    assert default_rop([CACHE, USD]) is None
    assert default_rop([CACHE, USD, MANTRA]) == MANTRA


def test_bypassed_rops_and_rops_rendering_to_a_viewer_are_not_the_default() -> None:
    bypassed = RopFacts("/out/old", "ifd", bypassed=True, output_parm="vm_picture", output="x")
    mplay = RopFacts("/out/view", "ifd", output_parm="vm_picture", output="ip")
    assert default_rop([bypassed, mplay, MANTRA]) == MANTRA
    assert default_rop([bypassed, mplay]) is None


def test_out_comes_before_stage_and_the_last_rendered_wins() -> None:
    assert default_rop([STAGE, MANTRA]) == MANTRA
    assert default_rop([STAGE]) == STAGE  # a scene with only a USD Render ROP in /stage
    assert default_rop([MANTRA, STAGE], last_rendered="/stage/usdrender_rop1") == STAGE
    assert default_rop([MANTRA], last_rendered="/out/cache") == MANTRA  # not a candidate


def test_the_chosen_rop_wins_even_a_cache_rop() -> None:
    assert find_rop([MANTRA, USD], chosen="/stage/usd_rop1") == USD
    assert find_rop([MANTRA, USD]) == MANTRA


def test_what_cannot_be_rendered_says_what_to_do() -> None:
    with pytest.raises(LookupError, match="no render node /out/nope"):
        find_rop([MANTRA], chosen="/out/nope")
    bypassed = RopFacts("/out/old", "ifd", bypassed=True)
    with pytest.raises(LookupError, match="turn its bypass flag off"):
        find_rop([bypassed], chosen="/out/old")
    with pytest.raises(LookupError, match=r"it has: /stage/usd_rop1\): choose one in the panel"):
        find_rop([USD])


def test_frame_specs_and_type_names() -> None:
    assert frame_spec((1, 10, 2)) == "1-10x2" and frame_spec((7, 7, 1)) == "7"
    assert base_type("Redshift_ROP") == "Redshift_ROP" and base_type("sop::karma::2.0") == "karma"
    assert MANTRA.role is RopRole.PICTURES and USD.role is RopRole.CACHE


@pytest.mark.parametrize(
    ("pattern", "frame", "expected"),
    [
        ("/r/a.####.exr", 7, "/r/a.0007.exr"),
        ("/r/a.$F4.exr", 7, "/r/a.0007.exr"),
        ("/r/a.${F3}.exr", 7, "/r/a.007.exr"),
        ("/r/a.$F.exr", 7, "/r/a.7.exr"),
        ("/r/a.%04d.exr", -3, "/r/a.-0003.exr"),
        ("/r/$FSTART.exr", 7, "/r/$FSTART.exr"),  # another variable, not the frame
    ],
)
def test_output_at_a_frame(pattern: str, frame: int, expected: str) -> None:
    assert output_at(pattern, frame) == expected


def test_a_rops_output_is_kept_unless_the_job_names_another_file() -> None:
    assert keeps_rop_output("/r/a.0007.exr", "/r/./a.0007.exr")
    assert keeps_rop_output("", "/r/a.0007.exr")  # the job names no output
    assert not keeps_rop_output("/elsewhere/a.0007.exr", "/r/a.0007.exr")
    assert not keeps_rop_output("/r/a.0007.exr", "")


def test_the_offline_reader_reads_the_one_table() -> None:
    assert houdini_report.ROP_TYPES is ROP_TYPES


@pytest.mark.parametrize(
    ("type_name", "mode", "parm"),
    [("ifd", "", "vm_picture"), ("ifd", "on", "soho_diskfile"), ("ifd", "1", "soho_diskfile"),
     ("karma", "on", "picture"), ("Redshift_ROP", "", "RS_outputFileNamePrefix"),
     ("usdrender_rop", "", "outputimage"), ("null", "", "")],
)  # fmt: skip
def test_the_parameter_a_render_node_writes_to(type_name: str, mode: str, parm: str) -> None:
    assert output_parm(type_name, mode) == parm
