"""Output paths: where Blender writes a frame (``#`` runs, ``//``, extensions), and timecodes.

Pure functions; nothing here imports ``bpy``.
"""

from __future__ import annotations

import os
import re

from cloud_agent.blender_compat.formats import FORMAT_EXTENSIONS, IMAGE_EXTENSION


def expand_output_path(
    pattern: str,
    frame: int,
    *,
    file_format: str = "PNG",
    use_extension: bool = True,
    blend_path: str | None = None,
    cwd: str | None = None,
) -> str:
    """Returns the absolute file a frame is written to, following Blender's rules.

    The last run of ``#`` in the file name becomes the zero-padded frame number (four digits
    are appended when there is none); ``//`` starts at the .blend file's folder, other relative
    paths at ``cwd``; with ``use_extension`` the format's extension is added unless the name
    already ends with it (another image extension is replaced).

    Args:
        pattern: the output path as set in the scene or by ``-o``.
        frame: the frame number.
        file_format: the image format identifier (``PNG``, ``OPEN_EXR``...).
        use_extension: whether to add the extension.
        blend_path: the open .blend file, if it was saved.
        cwd: the folder relative paths start from (the process's own by default).

    Returns:
        A normalised absolute path.
    """
    base_dir = cwd if cwd is not None else os.getcwd()
    path = pattern
    if path.startswith("//"):
        path = os.path.join(os.path.dirname(blend_path) if blend_path else base_dir, path[2:])
    elif not os.path.isabs(path):
        path = os.path.join(base_dir, path)
    path = _insert_frame(path, frame)
    if use_extension:
        path = _ensure_extension(path, file_format)
    return os.path.normpath(path)


def _insert_frame(path: str, frame: int) -> str:
    folder, slash, name = path.rpartition("/")
    runs = list(re.finditer(r"#+", name))
    if runs:
        start, stop = runs[-1].span()
    else:  # No '#': Blender appends four.
        start = stop = len(name)
    digits = stop - start if runs else 4
    number = ("-" if frame < 0 else "") + str(abs(frame)).zfill(digits)
    return folder + slash + name[:start] + number + name[stop:]


def _ensure_extension(path: str, file_format: str) -> str:
    extensions = FORMAT_EXTENSIONS.get(file_format)
    if not extensions:
        return path
    lowered = path.lower()
    if lowered.endswith(extensions):
        return path
    known = IMAGE_EXTENSION.search(path)
    if known and known.start() > path.rfind("/") + 1:
        return path[: known.start()] + extensions[0]
    return path.rstrip(".") + extensions[0]


def format_timecode(seconds: float) -> str:
    """Formats a duration like Blender's logs: ``MM:SS.hh``, or ``HH:MM:SS.hh`` past an hour."""
    hundredths = round(max(seconds, 0.0) * 100)
    hours, rest = divmod(hundredths, 360_000)
    minutes, rest = divmod(rest, 6_000)
    secs, hundredths = divmod(rest, 100)
    if hours:
        return f"{hours:02d}:{minutes:02d}:{secs:02d}.{hundredths:02d}"
    return f"{minutes:02d}:{secs:02d}.{hundredths:02d}"
