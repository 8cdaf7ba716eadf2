"""Rewrites the paths inside text scene files: Maya ASCII (``.ma``), Nuke (``.nk``), USD
(``.usda``).

Each format is read as the strings it writes paths in: ``.ma`` double-quoted strings (with
``\\\\`` and ``\\"`` escapes), ``.usda`` asset paths (``@...@``, ``@@@...@@@``) and double-quoted
strings, ``.nk`` brace-quoted values, double-quoted values and bare words (whose TCL escapes
such as ``\\[`` are kept as they are; paths put into ``.nk`` files are written with ``/``, as Nuke
writes them on every platform). A string is replaced only when the mapper maps it; every other
byte of the file is left as it was, so a file with nothing to map comes out identical. Binary
formats (``.mb``, ``.hip``, ``.blend``) are remapped by the DCC itself at render time, not here.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

Mapper = Callable[[str], str | None]

_QUOTED = r'"(?P<quoted>(?:[^"\\\n]|\\.)*)"'
_PATTERNS: dict[str, re.Pattern[str]] = {
    ".ma": re.compile(_QUOTED),
    ".usda": re.compile(r"@@@(?P<triple>.*?)@@@|@(?P<asset>[^@\n]*)@|" + _QUOTED),
    ".nk": re.compile(r"\{(?P<braced>[^{}\n]*)\}|" + _QUOTED + r'|(?P<bare>[^\s{}"]+)'),
}
SUPPORTED_SUFFIXES = frozenset(_PATTERNS)


def rewrite_text(text: str, suffix: str, mapper: Mapper) -> tuple[str, int]:
    """Maps the paths in a scene's text.

    Args:
        text: the file's text.
        suffix: its format, ``.ma``, ``.nk`` or ``.usda``.
        mapper: returns the new form of a path, or None to leave a string as it is.

    Returns:
        The new text and how many strings were replaced.

    Raises:
        ValueError: the format is not one of ``SUPPORTED_SUFFIXES``.
    """
    pattern = _PATTERNS.get(suffix.lower())
    if pattern is None:
        raise ValueError(f"cannot rewrite paths in {suffix!r} files")
    count = 0
    nuke = suffix.lower() == ".nk"

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        group = next(name for name, value in match.groupdict().items() if value is not None)
        raw = match.group(group)
        quoted = group == "quoted" and not nuke
        value = _unescape(raw) if quoted else raw
        mapped = mapper(value)
        if mapped is None or mapped == value:
            return match.group(0)
        count += 1
        if nuke:
            mapped = mapped.replace("\\", "/")
        new = _escape(mapped) if quoted else mapped
        start, end = match.start(group) - match.start(), match.end(group) - match.start()
        whole = match.group(0)
        return whole[:start] + new + whole[end:]

    return pattern.sub(replace, text), count


def rewrite_file(source: Path, dest: Path, mapper: Mapper, suffix: str | None = None) -> int:
    """Writes ``source`` to ``dest`` with its paths mapped; returns the count replaced.

    The format is ``suffix``, else ``dest``'s suffix (a cache file has none).

    ``dest`` is replaced atomically (a new file, renamed into place), so a hard link that was
    at ``dest`` is broken rather than written through. Bytes that are not UTF-8 pass unchanged.

    Raises:
        ValueError: the file's format is not supported.
        OSError: reading or writing failed.
    """
    raw = source.read_bytes()
    text = raw.decode("utf-8", errors="surrogateescape")
    new_text, count = rewrite_text(text, suffix or dest.suffix, mapper)
    dest.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=".rewrite-", dir=dest.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(new_text.encode("utf-8", errors="surrogateescape"))
        os.replace(temp, dest)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return count


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
