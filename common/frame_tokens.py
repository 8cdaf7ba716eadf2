"""Whether a job's output names one file per frame: the rule the daemon and the panel share.

An output without a frame token makes every frame of a job write the same file: the job
"succeeds" with one image, the last frame to finish. Each DCC has its own tokens
(Houdini ``$F4``/``${F4}``/``$FF``, Maya ``<f>``, Nuke ``%04d`` and ``[frame]``, ``####`` for all).
Blender needs none: without ``#`` it appends the frame number to the file name itself.
"""

from __future__ import annotations

import re

from common.errors import NoFrameToken

#: DCCs whose renderer puts the frame number into a name that has no token of its own.
IMPLICIT_FRAME_SUFFIX = frozenset({"blender"})
#: The frame tokens each DCC's job output may hold (``####`` is ours: every runner turns it into
#: the DCC's own, Houdini's ``$F4`` for one); a DCC we do not know may use any of them.
_TOKENS = {
    "houdini": re.compile(r"#|\$\{F[F\d]?\}|\$F[F\d]?(?![A-Za-z_0-9])|<F\d?>"),
    "maya": re.compile(r"#|<f\d?>", re.IGNORECASE),
    "nuke": re.compile(r"#|%0?\d*d|\[frame\]"),
}
_ANY_TOKEN = re.compile(
    r"#|\$\{F[F\d]?\}|\$F[F\d]?(?![A-Za-z_0-9])|<f\d?>|%0?\d*d|\[frame\]", re.IGNORECASE
)


def has_frame_token(output: str, dcc: str) -> bool:
    """Whether ``output`` makes ``dcc`` write one file per frame."""
    if dcc in IMPLICIT_FRAME_SUFFIX:
        return True
    return _TOKENS.get(dcc, _ANY_TOKEN).search(output) is not None


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
