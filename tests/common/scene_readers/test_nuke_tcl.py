"""The TCL of Nuke file knobs: the list, string and path commands scripts use, evaluated
offline as Nuke evaluates them, and Python named as not evaluated."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.scene_readers.nuke_report import read_nuke_script
from common.scene_readers.nuke_script import parse_nuke_script
from common.scene_readers.nuke_tcl import TclContext, Unresolved, evaluate

SCRIPT_PATH = "/shows/abc/sh010/comp/sh010_comp_v012.nk"


def run(expression: str) -> str:
    script = parse_nuke_script("Read {\n inputs 0\n file x.exr\n name Read1\n}\n")
    context = TclContext(script, SCRIPT_PATH, {"SHOW": "/shows/abc"})
    return evaluate(expression, context, script.nodes[0])


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("[lindex [split [value root.name] /] 3]", "sh010"),
        ("[lindex [split [value root.name] /] end-1]", "comp"),
        ("[lindex [split [basename [value root.name]] _] 0]", "sh010"),
        ("[basename [value root.name]]", "sh010_comp_v012.nk"),
        ("[basename [value root.name] .nk]", "sh010_comp_v012"),
        ("[dirname [value root.name]]", "/shows/abc/sh010/comp"),
        ("[file rootname [file tail [value root.name]]]", "sh010_comp_v012"),
        ("[file extension [value root.name]]", ".nk"),
        ("[file dirname [file dirname [value root.name]]]/plates", "/shows/abc/sh010/plates"),
        ("[string first _ [file tail [value root.name]]]", "5"),
        ("[string last _ [file tail [value root.name]]]", "10"),
        ("[string index [file tail [value root.name]] 0]", "s"),
        ("[string replace abcdef 1 2 XY]", "aXYdef"),
        (
            "[regsub -all {_v\\d+} [file rootname [value root.name]] {}]",
            SCRIPT_PATH[: -len("_v012.nk")],
        ),
        ("[regsub {v(\\d+)} v012 {w\\1}]", "w012"),
        ("[concat a {b c}]", "a b c"),
        ("[lreverse {a b c}]", "c b a"),
        ("[lreplace {a b c} 1 1 X]", "a X c"),
        ("[format %s_%04d.exr shot 12]", "shot_0012.exr"),
    ],
)
def test_commands_scripts_use(expression: str, expected: str) -> None:
    assert run(expression) == expected


def test_python_is_named_as_not_evaluated(tmp_path: Path) -> None:
    nk = tmp_path / "comp.nk"
    nk.write_text(
        'Read {\n inputs 0\n file "[python {nuke.tcl(\\"value root.name\\")}]/a.exr"\n'
        " name Read1\n}\n"
    )
    report = read_nuke_script(str(nk), env={})
    (warning,) = report.warnings
    assert warning.startswith("Read1.file ")
    assert 'runs [python nuke.tcl("value root.name")]: Python is not evaluated' in warning
    with pytest.raises(Unresolved, match="is Python, which is not evaluated"):
        run("[python {import os; os.getcwd()}]")
