"""The files a connected client reads and writes: inside the desktop's home folder, and nowhere
else.

A client names a file by a path relative to home. The name is checked before it touches the disk
(no absolute path, no ``..``, no empty or ``.`` part, no backslash or NUL), and the disk is
checked again where the name lands: the folder it resolves to (links followed) must be inside
home, and the file itself is opened without following a link. A file is written to a temporary
name beside it and renamed when whole, so a cut upload leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import BinaryIO

from common.errors import InvalidPath, NotFound, TooLarge

#: The largest file a client may put (the stand-in display is not a file server).
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_NAME_CHARS = 1024
_CHUNK = 1024 * 1024


class HomeFiles:
    """The home folder's files. Thread-safe (each call works on its own file)."""

    def __init__(self, home: Path, max_bytes: int = MAX_FILE_BYTES) -> None:
        self.home = Path(home).resolve()
        self.max_bytes = max_bytes

    def write(self, name: str, stream: BinaryIO, length: int) -> int:
        """Stores ``length`` bytes from ``stream`` as ``name``; returns the bytes written.

        Raises:
            InvalidPath: ``name`` is not a plain path inside home.
            TooLarge: over ``max_bytes``.
            InvalidInput: the body was shorter than its length.
        """
        if length > self.max_bytes:
            raise TooLarge(
                f"A file may be {self.max_bytes // (1024 * 1024)} MiB at most here: copy larger "
                "files through the studio's storage."
            )
        target = self._place(name, make_parents=True)
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        try:
            with os.fdopen(fd, "wb") as out:
                left = length
                while left > 0:
                    chunk = stream.read(min(_CHUNK, left))
                    if not chunk:
                        raise InvalidPath(
                            f"The upload of {name} was cut short ({length - left} of {length} "
                            "bytes): send it again."
                        )
                    out.write(chunk)
                    left -= len(chunk)
            if target.is_symlink():
                raise InvalidPath(f"{name} is a link: links in home are not written through.")
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return length

    def open(self, name: str) -> tuple[BinaryIO, int]:
        """The file ``name`` opened for reading, and its size.

        Raises:
            InvalidPath: ``name`` is not a plain path inside home.
            NotFound: there is no such file.
        """
        target = self._place(name, make_parents=False)
        try:
            fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise NotFound(f"There is no file {name} in your home folder.") from None
        except OSError:
            raise InvalidPath(f"{name} is not a file this desktop serves.") from None
        handle = os.fdopen(fd, "rb")
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            handle.close()
            raise InvalidPath(f"{name} is not a file: name a file in your home folder.")
        size = status.st_size
        return handle, size

    def _place(self, name: str, *, make_parents: bool) -> Path:
        """Where ``name`` is on disk, checked by its text and then by the disk."""
        parts = check_name(name)
        parent = self.home.joinpath(*parts[:-1])
        if make_parents:
            self._inside(_deepest_existing(parent), name)
            parent.mkdir(parents=True, exist_ok=True)
        self._inside(parent, name)
        return parent / parts[-1]

    def _inside(self, folder: Path, name: str) -> None:
        if not folder.resolve().is_relative_to(self.home):
            raise InvalidPath(f"{name} leads out of your home folder: name a file inside it.")


def check_name(name: str) -> list[str]:
    """The parts of a client's file name, or ``InvalidPath`` when it is not a plain relative
    path (the text alone is judged here; ``HomeFiles`` checks the disk)."""
    if not name or len(name) > MAX_NAME_CHARS or "\x00" in name or "\\" in name:
        raise InvalidPath(
            f"{name[:80]!r} is not a file name this desktop takes: use a relative path of "
            f"at most {MAX_NAME_CHARS} characters with / between folders."
        )
    if name.startswith("/"):
        raise InvalidPath(f"{name} is absolute: name files relative to your home folder.")
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise InvalidPath(
            f"{name} has an empty, '.' or '..' part: name a file inside your home folder."
        )
    return parts


def _deepest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
