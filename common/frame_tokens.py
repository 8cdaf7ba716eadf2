"""Whether a job's output names one file per frame: the rule the daemon and the panel share.

An output without a frame token makes every frame of a job write the same file: the job
"succeeds" with one image, the last frame to finish. The tokens are those of
``common.scene_readers.sequences`` (``####``, ``%04d``, ``$F4``/``${F4}``/``$F``, ``<f>``).
Blender needs none: without ``#`` it appends the frame number to the file name itself.
"""

from __future__ import annotations

from common.errors import NoFrameToken
from common.scene_readers.sequences import has_frame_token as _names_frames

#: DCCs whose renderer puts the frame number into a name that has no token of its own.
IMPLICIT_FRAME_SUFFIX = frozenset({"blender"})


def has_frame_token(output: str, dcc: str) -> bool:
    """Whether ``output`` makes ``dcc`` write one file per frame."""
    return dcc in IMPLICIT_FRAME_SUFFIX or _names_frames(output)


def check_frame_token(output: str, dcc: str, frame_count: int) -> None:
    """Refuses a job of several frames whose output would write them all to one file.

    Raises:
        NoFrameToken: ``frame_count`` is more than one and ``output`` has no frame token.
    """
    if frame_count <= 1 or has_frame_token(output, dcc):
        return
    raise NoFrameToken(
        f"The job renders {frame_count:,} frames but its output {output!r} names a single "
        "file, so every frame would overwrite it. Add a frame token to the file name "
        "(for example shot.####.exr, or $F4 in Houdini), or render a single frame.",
        details={"output": output, "frames": frame_count},
    )
