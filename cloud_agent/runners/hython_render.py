"""Renders one render node (ROP) of a Houdini scene, frame by frame. Runs inside ``hython``.

``hython hython_render.py --frames FIRST LAST STEP [--rop PATH] [--camera PATH] [--output
PATTERN] SCENE``

Loads the scene and finds the ROP with the rules the panel and ``cloudburst scan`` use
(``common/houdini_rops.py``: ``--rop`` when given, else the last rendered, else the first
that renders pictures; ``/out`` and ``/stage`` alike). Its output parameter is left alone
when it already writes the job's ``--output``; otherwise it is set to it (``####`` becomes
``$F4``). Points its camera parameter at ``--camera`` when the panel chose one
(``RopType.camera_parm``; a render node without a camera, or a camera the scene lacks, stops the
render), turns on Mantra's Alfred progress, and renders each frame with
``hou.RopNode.render``. Besides Houdini's own output it prints, for the agent::

    cloudburst: frame 7 start
    cloudburst: wrote /shows/x/render/beauty.0007.exr
    cloudburst: frame 7 done
    cloudburst: error: <why the render stopped>

This file runs on Houdini's Python, not the agent's: it imports only the standard library,
``hou`` and ``houdini_rops.py``, loaded by its path (Cloudburst's packages are not on
Houdini's path on a render node).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
from types import ModuleType
from typing import Any

#: ``common/houdini_rops.py`` of this installation.
RULES_FILE = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "common", "houdini_rops.py"
)


def load_rules(path: str = RULES_FILE) -> ModuleType:
    """``houdini_rops`` loaded from its file (registered first: dataclasses look it up)."""
    name = "cloudburst_houdini_rops"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def say(message: str) -> None:
    print(f"cloudburst: {message}", flush=True)


def output_parm_name(rules: ModuleType, node: Any) -> str:
    """The parameter ``node`` writes to ("" for a node that is not a ROP Cloudburst knows)."""
    base = rules.base_type(node.type().name())
    mode = node.parm("soho_outputmode") if base == "ifd" else None
    return str(rules.output_parm(base, mode.evalAsString() if mode is not None else ""))


def rop_facts(rules: ModuleType, hou: Any) -> list[Any]:
    """Every render node of the loaded scene as ``RopFacts`` (their output unevaluated)."""
    facts = []
    for node in hou.node("/").allSubChildren():
        if not rules.is_rop_node(node):
            continue
        name = output_parm_name(rules, node)
        parm = node.parm(name) if name else None
        try:
            raw = parm.unexpandedString() if parm is not None else ""
        except hou.OperationFailed:  # an expression: a file, whatever it evaluates to
            raw = "`expression`"
        facts.append(
            rules.RopFacts(
                path=node.path(),
                type_name=rules.base_type(node.type().name()),
                bypassed=node.isBypassed(),
                output_parm=name if parm is not None else "",
                output=raw,
            )
        )
    return facts


def find_rop(hou: Any, path: str, rules: ModuleType | None = None) -> Any:
    """The ROP to render (``path`` when given), by the shared rules.

    Raises:
        LookupError: the rules found none; the message says what to do.
    """
    rules = rules or load_rules()
    try:
        driver = hou.text.expandString("$DRIVERPATH")
    except hou.OperationFailed:  # not set in this scene
        driver = ""
    chosen = rules.find_rop(rop_facts(rules, hou), path, driver if driver.startswith("/") else "")
    return hou.node(chosen.path)


def set_camera(hou: Any, rop: Any, camera: str, rules: ModuleType | None = None) -> None:
    """Points ``rop``'s camera parameter at ``camera``, replacing any expression or keys.

    Raises:
        LookupError: the render node renders through no camera, or the scene has no such node.
    """
    rules = rules or load_rules()
    kind = rules.base_type(rop.type().name())
    known = rules.ROP_TYPES.get(kind)
    name = known.camera_parm if known is not None else ""
    parm = rop.parm(name) if name else None
    if parm is None:
        raise LookupError(
            f"the render node {rop.path()} ({kind}) has no camera to set to {camera}; "
            "choose Scene camera in the panel, or a render node that renders through a camera"
        )
    if kind not in rules.USD_CAMERA_TYPES and hou.node(camera) is None:
        raise LookupError(f"the scene has no camera {camera}; pick one of its cameras")
    parm.deleteAllKeyframes()  # an expression would override the value
    parm.set(camera)
    say(f"camera {camera}")


def houdini_pattern(output: str) -> str:
    """``####`` (the job's frame token) as Houdini writes it: ``$F4``."""
    return re.sub(r"#+", lambda m: f"$F{len(m.group(0))}", output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hython_render.py")
    parser.add_argument("--rop", default="")
    parser.add_argument("--frames", nargs=3, type=int, required=True)
    parser.add_argument("--camera", default="")
    parser.add_argument("--output", default="")
    parser.add_argument("scene")
    args = parser.parse_args(argv)
    import hou

    try:
        hou.hipFile.load(args.scene, suppress_save_prompt=True, ignore_load_warnings=True)
        rules = load_rules()
        rop = find_rop(hou, args.rop, rules)
        if args.camera:
            set_camera(hou, rop, args.camera, rules)
        name = output_parm_name(rules, rop)
        parm = rop.parm(name) if name else None
        first, last, step = args.frames
        if parm is not None and args.output:
            job_file = hou.text.expandString(rules.output_at(args.output, first))
            if not rules.keeps_rop_output(job_file, parm.evalAtFrame(first)):
                parm.deleteAllKeyframes()  # an expression (chs()) would override the value
                parm.set(houdini_pattern(args.output))
        alf = rop.parm("vm_alfprogress") or rop.parm("alfprogress")
        if alf is not None:
            alf.set(1)
        for frame in range(first, last + 1, step):
            say(f"frame {frame} start")
            rop.render(frame_range=(frame, frame), verbose=True, output_progress=True)
            if parm is not None:
                say(f"wrote {parm.evalAtFrame(frame)}")
            say(f"frame {frame} done")
    except Exception as exc:  # hou.OperationFailed, hou.LoadWarning and friends
        say("error: " + " ".join(str(exc).split()))  # one line, for the agent
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
