"""The format a Nuke job records comes from the Write its output comes from: the first enabled
Write in render order, not the first Write in the file."""

from __future__ import annotations

from pathlib import Path

from common.scene_readers.nuke_report import read_nuke_script

SCRIPT = """Root {
 inputs 0
 first_frame 1
 last_frame 10
}
ColorBars {
 inputs 0
 name Bars
}
Write {
 file render/review.mov
 file_type mov
 disable true
 name Review
}
Write {
 file render/late.####.png
 file_type png
 render_order 2
 name Late
}
Write {
 file render/comp.####.exr
 file_type exr
 name Comp
}
"""


def read(tmp_path: Path, text: str) -> tuple[str, str]:
    script = tmp_path / "comp.nk"
    script.write_text(text)
    info = read_nuke_script(str(script), env={}).info
    return info.output, info.output_format


def test_the_format_is_that_of_the_write_the_output_comes_from(tmp_path: Path) -> None:
    # Review (disabled, a movie) comes first in the file; Late renders after Comp
    assert read(tmp_path, SCRIPT) == (f"{tmp_path}/render/comp.####.exr", "exr")


def test_a_write_without_file_type_has_its_files_extension(tmp_path: Path) -> None:
    text = SCRIPT.replace(" file_type exr\n", "").replace("comp.####.exr", "comp.####.DPX")
    assert read(tmp_path, text) == (f"{tmp_path}/render/comp.####.DPX", "dpx")


def test_no_enabled_write_no_format(tmp_path: Path) -> None:
    text = SCRIPT.replace(" name Late", " disable true\n name Late").replace(
        " name Comp", " disable true\n name Comp"
    )
    assert read(tmp_path, text) == ("", "")
