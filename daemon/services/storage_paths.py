"""Which names a stored file may have, and where under the storage root it then lives.

``check_name`` is pure: it refuses ``..``, absolute paths, control characters, NUL, Windows'
reserved device names and characters, hidden names and overly long names, each with a sentence
that says what to change. ``confine`` adds the one check that needs the disk: no symlink on the
way may lead out of the root.
"""

from __future__ import annotations

import re
from pathlib import Path

from common.errors import InvalidInput

MAX_COMPONENT_BYTES = 255
MAX_PATH_BYTES = 1024
_RESERVED = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])$", re.IGNORECASE)
_FORBIDDEN_CHARS = set('<>:"|?*\\')


class UnsafePath(InvalidInput):
    """A stored file's path that could escape the storage root or break on some system."""

    code = "unsafe_path"


def check_name(path: str) -> str:
    """The ``/``-separated relative path, unchanged, when it is safe to store at.

    Raises:
        UnsafePath: why the path is refused and what to use instead.
    """

    def refuse(why: str) -> UnsafePath:
        return UnsafePath(
            f"The path {path!r} is refused: {why}. Use a relative path of plain names separated "
            "by '/', such as 'show/sh010/plate.exr'."
        )

    if not path:
        raise refuse("it is empty")
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise refuse(f"it is longer than {MAX_PATH_BYTES} bytes")
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise refuse("it holds a control character or NUL")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        raise refuse("it is absolute")
    bad = sorted(_FORBIDDEN_CHARS & set(path))
    if bad:
        raise refuse(f"it holds {' '.join(bad)}, which Windows cannot store")
    for part in path.split("/"):
        if part in ("", "."):
            raise refuse("it has an empty or '.' part")
        if part == "..":
            raise refuse("'..' would leave the storage root")
        if part.startswith("."):
            raise refuse(f"{part!r} is hidden (names starting with '.' are the daemon's)")
        if part.endswith((" ", ".")):
            raise refuse(f"{part!r} ends with a space or a dot")
        if _RESERVED.match(part.split(".", 1)[0].rstrip(" ")):
            raise refuse(f"{part!r} is a reserved device name on Windows")
        if len(part.encode("utf-8", "surrogatepass")) > MAX_COMPONENT_BYTES:
            raise refuse(f"a part is longer than {MAX_COMPONENT_BYTES} bytes")
    return path


def confine(root: Path, path: str) -> Path:
    """The absolute location of ``path`` under ``root``, after ``check_name``.

    Raises:
        UnsafePath: the name is unsafe, or a symlink on the way leads out of the root (or the
            file itself is a symlink).
    """
    check_name(path)
    base = root.resolve()
    target = base.joinpath(*path.split("/"))
    if target.is_symlink():
        raise UnsafePath(f"The path {path!r} is refused: it is a symlink.")
    if not target.parent.resolve().is_relative_to(base):
        raise UnsafePath(f"The path {path!r} is refused: a symlink on the way leaves the root.")
    return target
