"""Task logs: each attempt's render log as its agent streams it, in files, capped.

An attempt's log is the file ``<root>/<job_id>/<task_id>.<attempt>.log`` (``root`` is
``task-logs`` in the daemon's data folder): records of text at the character offset the agent
sent them at (``log_records``), so a resent piece is recognised and the stream's length is the
end of the last record. Appending takes no SQLite lock: appends to one attempt are serialised
by a lock of this process and an ``flock`` on the file (several daemon processes may append),
and different tasks append in parallel. Each process keeps a small index per attempt (the
file's id, its length, the stream's end) and rereads only what another process added.

An attempt's log longer than its cap keeps its first ``head_chars`` characters and its newest
ones; readers see a marker where the middle was. The file itself is rewritten without the
middle only once it passes the cap by half the tail (``LogCap.margin``), so a long log costs a
rewrite now and then, not one per piece. A task keeps the logs of its newest ``attempts``
attempts. A daemon killed mid-append loses at most that piece: the torn record is ignored by
readers and cut by the next append; a rewrite goes to a new file renamed over the old one.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from common.errors import InvalidInput
from common.models import MAX_INTEGER
from common.ops_settings import LogSettings
from daemon.storage import log_records as records_file
from daemon.storage.log_records import FILE_HEADER_SIZE, RECORD_CHARS, Record

logger = logging.getLogger(__name__)

FOLDER = "task-logs"
"""The folder of the task logs in the daemon's data folder."""
_NAME = re.compile(r"(\d+)\.(\d+)\.log")
#: Records of one file past which it is rewritten with contiguous records joined.
MAX_RECORDS = 512
#: Attempts whose index one process keeps (a few numbers each).
INDEXED = 16_384
#: Locks appends of this process are spread over (an attempt always takes the same one).
LOCKS = 256


@dataclass(frozen=True)
class LogCap:
    """How much of a task's logs is kept (the ``[logs]`` settings ``task_log_*``)."""

    max_chars: int
    """Characters kept of one attempt's log."""
    head_chars: int
    """Of those, the log's first characters; the rest are its newest."""
    attempts: int
    """Newest attempts of a task whose logs are kept."""

    @classmethod
    def of(cls, settings: LogSettings) -> LogCap:
        return cls(
            max_chars=settings.task_log_max_chars,
            head_chars=settings.task_log_head_chars,
            attempts=settings.task_log_attempts,
        )

    @property
    def margin(self) -> int:
        """Characters a file may hold past the cap before it is rewritten without them."""
        return max(1, (self.max_chars - self.head_chars) // 2)

    def cut(self, end: int) -> tuple[int, int] | None:
        """The stream's characters not kept when it is ``end`` long: None under the cap."""
        if end <= self.max_chars:
            return None
        return self.head_chars, end - (self.max_chars - self.head_chars)


def dropped_marker(count: int) -> str:
    """What a reader sees where characters of the log are not kept: the middle of a long log,
    or a piece that never arrived."""
    return (
        f"\n[... {count} characters dropped here: the daemon keeps the start and the end of "
        "a long log (logs.task_log_max_chars), or they never arrived ...]\n"
    )


@dataclass(frozen=True)
class Span:
    """Contiguous text of an attempt's log, at its stream offset."""

    task_id: int
    attempt: int
    offset: int
    text: str


@dataclass(frozen=True)
class _Index:
    """What one process knows of an attempt's file after reading it whole."""

    file_id: bytes
    size: int
    """Bytes of whole, checked records (with the file header)."""
    end: int
    """Characters the agent has sent (dropped ones count)."""
    stored: int
    """Characters in the file."""
    count: int
    """Records in the file."""
    rewrite_at: int = MAX_RECORDS
    """Records past which the file is rewritten (doubles when a rewrite cannot join them)."""

    def add(self, record: Record) -> _Index:
        return _Index(self.file_id, record.next_position, max(self.end, record.end),
                      self.stored + record.chars, self.count + 1, self.rewrite_at)  # fmt: skip


Key = tuple[int, int, int]
"""(job id, task id, attempt)."""


class TaskLogFiles:
    """The task logs of one daemon, under ``root``."""

    def __init__(self, root: Path, cap: LogCap) -> None:
        self.root = root
        self.cap = cap
        self._root = str(root)  # paths as strings: pathlib costs more than the append itself
        self._locks = [threading.Lock() for _ in range(LOCKS)]
        self._index: OrderedDict[Key, _Index] = OrderedDict()
        self._index_lock = threading.Lock()

    # --- writing ----------------------------------------------------------------------------

    def append(self, job_id: int, task_id: int, attempt: int, offset: int, text: str) -> None:
        """Appends ``text`` at character ``offset`` of the attempt's log; a resent piece is
        not written twice, and after a gap the piece keeps its own offset (``read`` marks
        the gap). The caller has checked that the agent may write this attempt's log and
        gives the task's own job id."""
        key = (job_id, task_id, attempt)
        path = self._path(key)
        _check_offset(offset)
        if not isinstance(text, str):
            raise InvalidInput("A task log piece is text.")
        if not text:
            return
        with self._locks[hash(key) % LOCKS]:
            fd = self._open_locked(key, path)
            try:
                index = self._refresh(key, fd)
                self._remember(key, index)
                if offset + len(text) <= index.end:
                    return  # already have it
                if offset < index.end:
                    text, offset = text[index.end - offset :], index.end
                data, written = bytearray(), index
                for start, part in _joined([(offset, text)]):  # records of RECORD_CHARS at most
                    encoded, record = records_file.encode(start, part, written.size)
                    data += encoded
                    written = written.add(record)
                try:
                    records_file.write_all(fd, bytes(data))
                except BaseException:
                    self._forget(key)
                    os.ftruncate(fd, index.size)  # not half a record: this piece is lost
                    raise
                index = written
                if index.stored > self.cap.max_chars + self.cap.margin or (
                    index.count > index.rewrite_at
                ):
                    index = self._rewrite(fd, path, index)
                self._remember(key, index)
            finally:
                os.close(fd)  # and the flock with it

    def write_attempt(
        self, job_id: int, task_id: int, attempt: int, pieces: Iterable[tuple[int, str]]
    ) -> None:
        """Writes the attempt's whole log from its pieces (stream offset, text; in order; what
        overlaps an earlier piece is left out), replacing any file it had. For moving logs
        from elsewhere while no daemon appends (a migration)."""
        key = (job_id, task_id, attempt)
        path = self._path(key)
        with self._locks[hash(key) % LOCKS]:
            self._make_folders(path)
            self._write_file(path, _after_one_another(pieces), durable=False)
            self._forget(key)

    # --- reading ----------------------------------------------------------------------------

    def read(self, job_id: int, task_id: int, attempt: int, offset: int) -> tuple[str, int]:
        """The attempt's log from character ``offset`` on, with a marker where characters
        were dropped, and the offset to read on from."""
        _check_offset(offset)
        pieces: list[str] = []
        position = offset
        for first, text in self._kept(self._path((job_id, task_id, attempt)), offset):
            if first > position:
                pieces.append(dropped_marker(first - position))
            pieces.append(text)
            position = first + len(text)
        return "".join(pieces), position

    def stream_end(self, job_id: int, task_id: int, attempt: int) -> int:
        """Characters the agent has sent of the attempt's log (dropped ones count)."""
        end = 0
        for first, text in self._kept(self._path((job_id, task_id, attempt)), 0):
            end = first + len(text)
        return end

    def spans(self, job_id: int, task_id: int | None = None) -> Iterator[Span]:
        """The kept text of the job's logs (or one task's), task by task, attempt by
        attempt, in stream order; read lazily, so a caller may stop early."""
        folder = f"{self._root}/{_checked(job_id)}"
        for task, attempt in sorted(_attempts(folder)):
            if task_id is None or task == task_id:
                for first, text in self._kept(f"{folder}/{task}.{attempt}.log", 0):
                    yield Span(task, attempt, first, text)

    # --- retention --------------------------------------------------------------------------

    def job_ids(self) -> list[int]:
        """Jobs that have logs here."""
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            return []
        return sorted(int(n) for n in names if n.isascii() and n.isdigit())

    def delete_job(self, job_id: int) -> int:
        """Deletes every log of the job; returns how many tasks had logs."""
        folder = f"{self._root}/{_checked(job_id)}"
        tasks = {task for task, _ in _attempts(folder)}
        shutil.rmtree(folder, ignore_errors=True)
        with self._index_lock:
            for key in [k for k in self._index if k[0] == job_id]:
                del self._index[key]
        return len(tasks)

    # --- inside -----------------------------------------------------------------------------

    def _path(self, key: Key) -> str:
        job_id, task_id, attempt = (_checked(n) for n in key)
        return f"{self._root}/{job_id}/{task_id}.{attempt}.log"

    def _make_folders(self, path: str) -> None:
        """The task logs' folder and the job's, private to the daemon."""
        os.makedirs(self._root, mode=0o700, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.mkdir(os.path.dirname(path), mode=0o700)

    def _open_locked(self, key: Key, path: str) -> int:
        """The attempt's file opened for appending, under an exclusive ``flock``; created
        (and the task's oldest attempts' logs deleted) when it is the attempt's first piece."""
        flags = os.O_RDWR | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
        while True:
            try:
                fd = os.open(path, flags)
            except FileNotFoundError:
                self._drop_old_attempts(key)
                self._make_folders(path)
                fd = os.open(path, flags | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                current = os.fstat(fd).st_ino == os.stat(path, follow_symlinks=False).st_ino
            except FileNotFoundError:
                current = False
            except BaseException:
                os.close(fd)
                raise
            if current:
                return fd
            os.close(fd)  # another process rewrote or deleted it meanwhile: open it again

    def _refresh(self, key: Key, fd: int) -> _Index:
        """The attempt's index, reading what this process has not seen; a torn tail is cut
        (the caller holds the file's flock, so nobody is writing it)."""
        size = os.fstat(fd).st_size
        header = os.pread(fd, FILE_HEADER_SIZE, 0)
        if not records_file.valid_file_header(header):
            if size:
                logger.warning("Task log %s had no valid header; it starts again", key)
            os.ftruncate(fd, 0)
            header = records_file.file_header()
            records_file.write_all(fd, header)
            return _Index(header, len(header), 0, 0, 0)
        with self._index_lock:
            index = self._index.get(key)
        if index is None or index.file_id != header or index.size > size:
            index = _Index(header, FILE_HEADER_SIZE, 0, 0, 0)
        found, good = records_file.scan(fd, index.size, size, verify=True)
        for record in found:
            index = index.add(record)
        if good < size:
            logger.warning("Cut %d bytes of a torn tail off task log %s", size - good, key)
            os.ftruncate(fd, good)
        return index

    def _rewrite(self, fd: int, path: str, index: _Index) -> _Index:
        """Rewrites the file with only what readers see, contiguous records joined."""
        found, _ = records_file.scan(fd, FILE_HEADER_SIZE, index.size, verify=False)
        kept = list(_kept_parts(fd, found, self.cap, 0))
        new = self._write_file(path, kept, durable=True)
        return replace(new, rewrite_at=max(MAX_RECORDS, 2 * new.count))

    def _write_file(self, path: str, pieces: Iterable[tuple[int, str]], durable: bool) -> _Index:
        """Writes a new file of ``pieces`` beside ``path`` and renames it over ``path``."""
        folder, name = os.path.split(path)
        temporary = os.path.join(folder, f".{name}.new")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(temporary, flags, 0o600)
        try:
            header = records_file.file_header()
            records_file.write_all(fd, header)
            index = _Index(header, len(header), 0, 0, 0)
            for offset, text in _joined(pieces):
                data, record = records_file.encode(offset, text, index.size)
                records_file.write_all(fd, data)
                index = index.add(record)
            if durable:
                os.fsync(fd)
        except BaseException:
            os.unlink(temporary)  # the old file stays as it was
            raise
        finally:
            os.close(fd)
        os.replace(temporary, path)
        return index

    def _kept(self, path: str, offset: int) -> Iterator[tuple[int, str]]:
        """(stream offset, text) of what readers see of the file from ``offset`` on."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return
        try:
            size = os.fstat(fd).st_size
            if not records_file.valid_file_header(os.pread(fd, FILE_HEADER_SIZE, 0)):
                return  # being created, or damaged: the next append starts it again
            found, _ = records_file.scan(fd, FILE_HEADER_SIZE, size, verify=False)
            yield from _kept_parts(fd, found, self.cap, offset)
        finally:
            os.close(fd)

    def _drop_old_attempts(self, key: Key) -> None:
        """Deletes the logs of the task's attempts older than the newest ``cap.attempts``."""
        job_id, task_id, attempt = key
        last = attempt - self.cap.attempts
        if last < 0:
            return
        folder = f"{self._root}/{job_id}"
        for task, old in _attempts(folder):
            if task == task_id and old <= last:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{folder}/{task}.{old}.log")
                self._forget((job_id, task, old))

    def _remember(self, key: Key, index: _Index) -> None:
        with self._index_lock:
            self._index[key] = index
            self._index.move_to_end(key)
            while len(self._index) > INDEXED:
                self._index.popitem(last=False)

    def _forget(self, key: Key) -> None:
        with self._index_lock:
            self._index.pop(key, None)


def _kept_parts(
    fd: int, found: list[Record], cap: LogCap, offset: int
) -> Iterator[tuple[int, str]]:
    """(stream offset, text) of the records' characters readers see from ``offset`` on: all
    of them under the cap, else the head and the newest; stops at a record not intact."""
    cut = cap.cut(max((r.end for r in found), default=0))
    for record in found:
        parts = [(record.offset, record.end)]
        if cut is not None:  # the part before the cut, the part after it
            parts = [
                (record.offset, min(record.end, cut[0])),
                (max(record.offset, cut[1]), record.end),
            ]
        parts = [(max(a, offset), b) for a, b in parts if b > max(a, offset)]
        if not parts:
            continue
        text = records_file.read_text(fd, record)
        if text is None:
            return  # a torn tail (or a record being written): what follows is not served
        for a, b in parts:
            yield a, text[a - record.offset : b - record.offset]


def _joined(pieces: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """The pieces with contiguous ones joined, up to ``RECORD_CHARS`` characters each."""
    start, parts, length = -1, list[str](), 0
    for offset, text in pieces:
        while text:
            if parts and offset == start + length and length < RECORD_CHARS:
                taken = text[: RECORD_CHARS - length]
            else:
                if parts:
                    yield start, "".join(parts)
                start, parts, length = offset, [], 0
                taken = text[:RECORD_CHARS]
            parts.append(taken)
            length += len(taken)
            offset += len(taken)
            text = text[len(taken) :]
    if parts:
        yield start, "".join(parts)


def _after_one_another(pieces: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """The pieces without what an earlier one already holds (as ``append`` keeps them)."""
    end = 0
    for offset, text in pieces:
        if offset < end:
            text, offset = text[end - offset :], end
        if text:
            yield offset, text
            end = offset + len(text)


def _attempts(folder: str) -> list[tuple[int, int]]:
    """(task id, attempt) of every log in a job's folder."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    found = (_NAME.fullmatch(name) for name in names)
    return [(int(m[1]), int(m[2])) for m in found if m is not None]


def _checked(number: int) -> int:
    """An id or attempt as a file name may hold it: a whole number in SQLite's range."""
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= MAX_INTEGER:
        raise InvalidInput(f"{number!r} is not a job id, task id or attempt; give a whole number.")
    return number


def _check_offset(offset: int) -> None:
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= MAX_INTEGER:
        raise InvalidInput(f"{offset!r} is not a log offset; give a whole number of characters.")
