"""The form of one task log file on disk: a file header, then records of text.

The file header is one line that names the format and carries a random id, new for every file
(a rewrite makes a new file): ``\\x1ecloudburst task log 1 <16 hex digits>\\n``. Each record is
a header line and the text's UTF-8 bytes::

    \\x1e<offset: 16 hex> <characters: 8 hex> <bytes: 8 hex> <crc32 of the bytes: 8 hex>\\n<text>

``offset`` is the character offset of the text in the attempt's log stream, as the agent sent
it, so a gap between records is text that was dropped or never arrived. A record is read by its
lengths, never by looking for separators in the text, and checked by its CRC: a record cut short
by a crash (the file's torn tail) does not parse, and everything from it on is ignored by
readers and cut by the next append. The text is encoded with ``surrogatepass`` so that any
string an agent sends keeps its length in characters.
"""

from __future__ import annotations

import os
import re
import secrets
import zlib
from dataclasses import dataclass

MAGIC = b"\x1ecloudburst task log 1 "
FILE_HEADER_SIZE = len(MAGIC) + 17
_FILE_HEADER = re.compile(re.escape(MAGIC) + rb"[0-9a-f]{16}\n")
HEADER_SIZE = 45
_HEADER = re.compile(rb"\x1e([0-9a-f]{16}) ([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8})\n")
#: Characters one record holds at most when a rewrite joins contiguous records.
RECORD_CHARS = 1_000_000
ENCODING = "utf-8"
ERRORS = "surrogatepass"


@dataclass(frozen=True)
class Record:
    """One record's place: its characters in the stream and its bytes in the file."""

    offset: int
    chars: int
    position: int
    """Where its text starts in the file."""
    size: int
    """Bytes of its text."""
    crc: int

    @property
    def end(self) -> int:
        """The stream offset just after its text."""
        return self.offset + self.chars

    @property
    def next_position(self) -> int:
        """Where the next record starts in the file."""
        return self.position + self.size


def file_header() -> bytes:
    """A new file's first line, with a fresh id."""
    return MAGIC + secrets.token_hex(8).encode() + b"\n"


def valid_file_header(header: bytes) -> bool:
    return _FILE_HEADER.fullmatch(header) is not None


def encode(offset: int, text: str, position: int) -> tuple[bytes, Record]:
    """The bytes of the record of ``text`` at stream ``offset``, and the record as it is once
    written at byte ``position`` of its file."""
    data = text.encode(ENCODING, ERRORS)
    crc = zlib.crc32(data)
    header = b"\x1e%016x %08x %08x %08x\n" % (offset, len(text), len(data), crc)
    return header + data, Record(offset, len(text), position + HEADER_SIZE, len(data), crc)


def decode(data: bytes) -> str:
    return data.decode(ENCODING, ERRORS)


def scan(fd: int, start: int, stop: int, *, verify: bool) -> tuple[list[Record], int]:
    """The whole records of the file between byte ``start`` (a record's start) and ``stop``,
    and where the last of them ends (``stop`` unless the tail is torn). ``verify`` also reads
    each record's text and checks its CRC."""
    records: list[Record] = []
    position = start
    while position + HEADER_SIZE <= stop:
        found = _HEADER.fullmatch(os.pread(fd, HEADER_SIZE, position))
        if found is None:
            break
        offset, chars, size, crc = (int(group, 16) for group in found.groups())
        record = Record(offset, chars, position + HEADER_SIZE, size, crc)
        if record.next_position > stop or (verify and not intact(fd, record)):
            break
        records.append(record)
        position = record.next_position
    return records, position


def intact(fd: int, record: Record) -> bool:
    """Whether the record's text is all there and matches its CRC."""
    data = os.pread(fd, record.size, record.position)
    return len(data) == record.size and zlib.crc32(data) == record.crc


def read_text(fd: int, record: Record) -> str | None:
    """The record's text; None when it is not intact (a torn tail being read)."""
    data = os.pread(fd, record.size, record.position)
    if len(data) != record.size or zlib.crc32(data) != record.crc:
        return None
    return decode(data)


def write_all(fd: int, data: bytes) -> None:
    """Writes every byte of ``data`` (``os.write`` may write fewer)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
