"""Renders one render node (ROP) of a Houdini scene, frame by frame. Runs inside ``hython``.

``hython hython_render.py --frames FIRST LAST STEP [--rop PATH] [--camera PATH] [--output
PATTERN] SCENE``

Loads the scene, finds the ROP (``--rop``; else the one last rendered, ``$DRIVERPATH``, else
the first that writes files), points its output at the job's ``--output`` (``####`` becomes
``$F4``; the job's output is the ROP's own unless the artist changed it), points its camera
parameter at ``--camera`` when the panel chose one (``CAMERA_PARMS``; a render node without a
camera, or a camera the scene lacks, stops the render), turns on Mantra's Alfred progress, and
renders each frame
with ``hou.RopNode.render``. Besides Houdini's own output it prints, for the agent::

    cloudburst: frame 7 start
    cloudburst: wrote /shows/x/render/beauty.0007.exr
    cloudburst: frame 7 done
    cloudburst: error: <why the render stopped>

This file runs on Houdini's Python, not the agent's: it imports only the standard library
and ``hou``. Its table of output parameters follows ``ROP_TYPES`` in
``common.scene_readers.houdini_report``.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

#: The parameter each render node type writes its files to.
OUTPUT_PARMS = {
    "ifd": "vm_picture", "karma": "picture", "usdrender": "outputimage",
    "usdrender_rop": "outputimage", "usd": "lopoutput", "usd_rop": "lopoutput",
    "Redshift_ROP": "RS_outputFileNamePrefix", "arnold": "ar_picture", "geometry": "sopoutput",
    "rop_geometry": "sopoutput", "alembic": "filename", "rop_alembic": "filename",
    "comp": "copoutput", "opengl": "picture", "dop": "dopoutput",
    "baketexture": "vm_uvoutputpicture1",
}  # fmt: skip

#: The parameter that names the camera each render node type renders through.
CAMERA_PARMS = {
    "ifd": "camera", "karma": "camera", "arnold": "camera", "opengl": "camera",
    "Redshift_ROP": "RS_renderCamera", "usdrender": "override_camera",
    "usdrender_rop": "override_camera",
}  # fmt: skip
#: Render nodes whose camera is a USD primitive of their stage, not a Houdini node.
USD_CAMERA_TYPES = frozenset({"usdrender", "usdrender_rop"})


def say(message: str) -> None:
    print(f"cloudburst: {message}", flush=True)


def base_type(node: Any) -> str:
    parts = node.type().name().split("::")
    if len(parts) >= 2 and re.fullmatch(r"[\d.]+", parts[-1]):
        parts = parts[:-1]
    return parts[-1]


def output_parm(node: Any) -> Any:
    name = OUTPUT_PARMS.get(base_type(node))
    mode = node.parm("soho_outputmode") if base_type(node) == "ifd" else None
    if mode is not None and mode.evalAsString() in ("on", "1"):
        name = "soho_diskfile"
    return node.parm(name) if name else None


def find_rop(hou: Any, path: str) -> Any:
    if path:
        node = hou.node(path)
        if node is None:
            raise LookupError(f"the scene has no render node {path}")
        return node
    driver = hou.text.expandString("$DRIVERPATH")
    node = hou.node(driver) if driver.startswith("/") else None
    if node is not None:
        return node
    for node in hou.node("/out").allSubChildren():
        if output_parm(node) is not None:
            return node
    raise LookupError("the scene has no render node in /out that writes files")


def set_camera(hou: Any, rop: Any, camera: str) -> None:
    """Points ``rop``'s camera parameter at ``camera``, replacing any expression or keys.

    Raises:
        LookupError: the render node renders through no camera, or the scene has no such node.
    """
    kind = base_type(rop)
    name = CAMERA_PARMS.get(kind)
    parm = rop.parm(name) if name else None
    if parm is None:
        raise LookupError(
            f"the render node {rop.path()} ({kind}) has no camera to set to {camera}; "
            "choose Scene camera in the panel, or a render node that renders through a camera"
        )
    if kind not in USD_CAMERA_TYPES and hou.node(camera) is None:
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
        rop = find_rop(hou, args.rop)
        if args.camera:
            set_camera(hou, rop, args.camera)
        parm = output_parm(rop)
        first, last, step = args.frames
        if parm is not None and args.output:  # the job's output is what gets written
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
