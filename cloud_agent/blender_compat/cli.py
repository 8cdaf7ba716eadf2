"""The entry point of ``cloudburst-blender``: parse, print the banner, run, map errors to codes.

Exit codes: 0 success, 1 a render or scene error (or no ``bpy``), 2 a command line that cannot be
understood.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from cloud_agent.blender_compat.command_line import PROG, UsageError, parse_args, usage
from cloud_agent.blender_compat.runtime import RenderFailed, emit, run_actions


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``cloudburst-blender``; returns the exit code.

    Args:
        argv: the arguments after the program name (``sys.argv[1:]`` by default).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    own_args = args[: args.index("--")] if "--" in args else args
    if "-h" in own_args or "--help" in own_args:
        emit(usage())
        return 0
    try:
        actions = parse_args(args)
    except UsageError as exc:
        print(f"{PROG}: error: {exc.message}", file=sys.stderr, flush=True)
        return 2
    try:
        import bpy
    except ImportError:
        print(
            f"Error: {PROG} needs the bpy module (pip install 'cloudburst[blender]').",
            file=sys.stderr,
            flush=True,
        )
        return 1
    emit(
        f"Blender {bpy.app.version_string} (hash {bpy.app.build_hash.decode()} "
        f"built {bpy.app.build_date.decode()} {bpy.app.build_time.decode()})"
    )
    try:
        code = run_actions(actions, [PROG, *args])
    except RenderFailed as exc:
        print(f"Error: {exc.message}", file=sys.stderr, flush=True)
        code = 1
    emit()
    emit("Blender quit")
    return code
