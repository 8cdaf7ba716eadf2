"""The command line: Blender-style arguments parsed into actions, and the usage text.

Pure: nothing here imports ``bpy``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cloud_agent.blender_compat.actions import (
    MAX_FRAME,
    Action,
    LoadScene,
    RelativeFrame,
    RenderAnimation,
    RenderFrames,
    RunPythonExpr,
    RunPythonFile,
    SelectScene,
    SetAutoexec,
    SetEngine,
    SetFormat,
    SetFrameEnd,
    SetFrameStart,
    SetFrameStep,
    SetOutput,
    SetPythonExitCode,
    SetThreads,
    SetUseExtension,
)
from cloud_agent.blender_compat.formats import FORMAT_ALIASES, KNOWN_FORMATS
from common.errors import InvalidInput

PROG = "cloudburst-blender"
MAX_THREADS = 1024
_RELATIVE_INT = re.compile(r"^([+-]?)(\d+)$")


class UsageError(InvalidInput):
    """The command line cannot be understood; the command exits with code 2."""

    code = "blender_usage"


# Options without a value. -b is accepted and ignored: this command always runs in background.
_FLAGS: dict[str, Action | None] = {
    "-b": None,
    "--background": None,
    "--factory-startup": None,
    "-a": RenderAnimation(),
    "--render-anim": RenderAnimation(),
    "-y": SetAutoexec(True),
    "--enable-autoexec": SetAutoexec(True),
    "-Y": SetAutoexec(False),
    "--disable-autoexec": SetAutoexec(False),
}
_VALUE_OPTIONS = {
    "-o": "--render-output",
    "-F": "--render-format",
    "-E": "--engine",
    "-s": "--frame-start",
    "-e": "--frame-end",
    "-j": "--frame-jump",
    "-f": "--render-frame",
    "-t": "--threads",
    "-x": "--use-extension",
    "-S": "--scene",
    "-P": "--python",
    "--python-expr": "--python-expr",
    "--python-exit-code": "--python-exit-code",
}
_LONG_TO_SHORT = {long: short for short, long in _VALUE_OPTIONS.items()}


def parse_args(argv: Sequence[str]) -> list[Action]:
    """Turns Blender-style arguments into the actions they ask for, in order.

    Args:
        argv: the arguments after the program name. Everything after ``--`` is left to scripts.

    Returns:
        The actions, in the order the arguments gave them.

    Raises:
        UsageError: an unknown option, a missing value or a value that cannot be used.
    """
    actions: list[Action] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            break
        if arg in _FLAGS:
            flag_action = _FLAGS[arg]
            if flag_action is not None:
                actions.append(flag_action)
            index += 1
            continue
        option = _LONG_TO_SHORT.get(arg, arg)
        if option in _VALUE_OPTIONS:
            if index + 1 >= len(argv):
                raise UsageError(f"{arg} needs a value; see `{PROG} --help`.")
            actions.append(_value_action(option, argv[index + 1]))
            index += 2
            continue
        if arg.startswith("-") and len(arg) > 1:
            raise UsageError(f"unknown option {arg!r}. {usage()}")
        actions.append(LoadScene(arg))
        index += 1
    return actions


def usage() -> str:
    """The one-line usage text of the command."""
    return (
        f"usage: {PROG} [-b] [SCENE.blend] [-S NAME] [-o PATH] [-F FORMAT] [-E ENGINE] "
        "[-x 0|1] [-t N] [-s N] [-e N] [-j N] [-f FRAMES] [-a] [-y|-Y] [--python FILE] "
        "[--python-expr CODE] [--python-exit-code N] [-- ARGS...]"
    )


def _value_action(option: str, value: str) -> Action:
    if option == "-o":
        return SetOutput(value)
    if option == "-F":
        return SetFormat(_parse_format(value))
    if option == "-E":
        return SetEngine(value)
    if option == "-s":
        return SetFrameStart(_parse_relative(option, value))
    if option == "-e":
        return SetFrameEnd(_parse_relative(option, value))
    if option == "-j":
        return SetFrameStep(min(max(_parse_int(option, value), 1), MAX_FRAME))
    if option == "-f":
        return RenderFrames(_parse_frame_list(value))
    if option == "-t":
        threads = _parse_int(option, value)
        if not 0 <= threads <= MAX_THREADS:
            raise UsageError(f"-t {value}: expected a number of threads in [0..{MAX_THREADS}].")
        return SetThreads(threads)
    if option == "-x":
        if value[:1] not in ("0", "1"):
            raise UsageError(f"-x {value}: use -x 1 or -x 0.")
        return SetUseExtension(value[:1] == "1")
    if option == "-S":
        return SelectScene(value)
    if option == "-P":
        return RunPythonFile(value)
    if option == "--python-expr":
        return RunPythonExpr(value)
    code = _parse_int(option, value)
    if not 0 <= code <= 255:
        raise UsageError(f"--python-exit-code {value}: expected a number in [0..255].")
    return SetPythonExitCode(code)


def _parse_int(option: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"{option} {value}: not a number.") from None


def _parse_relative(option: str, value: str) -> RelativeFrame:
    match = _RELATIVE_INT.match(value.strip())
    if match is None:
        raise UsageError(f"{option} {value}: not a frame number (write 7, +7 or -7).")
    return RelativeFrame(int(match.group(2)), match.group(1))


def _parse_format(value: str) -> str:
    name = FORMAT_ALIASES.get(value.upper(), value.upper())
    if name not in KNOWN_FORMATS:
        known = " ".join(sorted(KNOWN_FORMATS | set(FORMAT_ALIASES)))
        raise UsageError(f"-F {value}: unknown format; use one of {known}.")
    return name


def _parse_frame_list(value: str) -> tuple[tuple[RelativeFrame, RelativeFrame], ...]:
    ranges = []
    for item in value.split(","):
        first, sep, last = item.partition("..")
        if not item or (sep and not last):
            raise UsageError(f"-f {value}: write frames as 7, 1,3,5..7, +1 or -1 (no spaces).")
        start = _parse_relative("-f", first)
        end = _parse_relative("-f", last) if sep else start
        ranges.append((start, end))
    return tuple(ranges)
