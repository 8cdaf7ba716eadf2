"""``FolderStore``: an ``ObjectStore`` in a local (or mounted) folder, one file per object.

A key ``a/b/c`` is the file ``<root>/a/b/c``. Objects appear whole or not at all: each is
written to a hidden temporary file beside its place, flushed to disk, then renamed over it.
Multipart uploads keep their parts in ``<root>/.multipart/<upload id>/`` until completed.
Names starting with ``.`` are the store's own and never keys, so listings skip them.

Folders are made owner-only (0700) and objects owner-readable (0600): what goes into a store
on a shared disk (backups hold the farm's keys) is nobody else's to read.
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from common.data.errors import BlobMissing, UploadGone
from common.data.store import ObjectInfo, PartInfo, TransferStats
from common.errors import InvalidInput
from common.private_files import private_folders

_CHUNK = 1024 * 1024
_MULTIPART = ".multipart"


class FolderStore:
    """Objects as files under ``root``. Thread-safe: every write lands by one rename."""

    min_part_size = 1
    max_parts = 10_000

    def __init__(self, root: Path) -> None:
        self.root = root
        self.name = f"file://{root}"
        self.stats = TransferStats()

    # --- ObjectStore -------------------------------------------------------------------------

    def put(self, key: str, data: bytes) -> None:
        self._write(self._path(key), [data])
        self.stats.count_request("put")
        self.stats.add_sent(len(data))

    def get(self, key: str, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        path = self._path(key)
        self.stats.count_request("get")
        try:
            stream = path.open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise BlobMissing(f"{key} is not in the folder store {self.root}.") from None
        with stream:
            stream.seek(offset)
            left = length
            while left is None or left > 0:
                chunk = stream.read(_CHUNK if left is None else min(_CHUNK, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                self.stats.add_received(len(chunk))
                yield chunk

    def exists_many(self, keys: Iterable[str]) -> set[str]:
        self.stats.count_request("exists")
        return {key for key in keys if self._path(key).is_file()}

    def list_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        self.stats.count_request("list")
        start = self.root.joinpath(*prefix.split("/")[:-1])  # the deepest folder it names
        if not start.is_dir():
            return
        found: list[ObjectInfo] = []
        for folder, dirs, files in os.walk(start):
            dirs[:] = [name for name in dirs if not name.startswith(".")]
            for name in files:
                if name.startswith("."):
                    continue
                path = Path(folder, name)
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    found.append(ObjectInfo(key, path.stat().st_size))
        yield from sorted(found, key=lambda info: info.key)

    def delete(self, keys: Iterable[str]) -> None:
        self.stats.count_request("delete")
        for key in keys:
            path = self._path(key)
            path.unlink(missing_ok=True)
            folder = path.parent
            while folder != self.root and _empty(folder):  # no empty folders left behind
                folder.rmdir()
                folder = folder.parent

    def start_multipart(self, key: str) -> str:
        self._path(key)  # a bad key fails now, not at the end
        upload_id = uuid.uuid4().hex
        folder = self.root / _MULTIPART / upload_id
        private_folders(self.root, folder)
        (folder / "key").write_text(key, encoding="utf-8")
        return upload_id

    def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> PartInfo:
        folder = self._upload(key, upload_id)
        self._write(folder / f"{number:05d}", [data])
        self.stats.count_request("put_part")
        self.stats.add_sent(len(data))
        return PartInfo(number, str(number), len(data))

    def list_parts(self, key: str, upload_id: str) -> list[PartInfo]:
        folder = self._upload(key, upload_id)
        return sorted(
            (
                PartInfo(int(p.name), p.name.lstrip("0"), p.stat().st_size)
                for p in folder.iterdir()
                if p.name.isdigit()
            ),
            key=lambda part: part.number,
        )

    def complete_multipart(self, key: str, upload_id: str, parts: list[PartInfo]) -> None:
        folder = self._upload(key, upload_id)
        ordered = sorted(parts, key=lambda part: part.number)
        chunks = itertools.chain.from_iterable(_read(folder / f"{p.number:05d}") for p in ordered)
        self._write(self._path(key), chunks)
        shutil.rmtree(folder)
        self.stats.count_request("complete_multipart")

    def abort_multipart(self, key: str, upload_id: str) -> None:
        shutil.rmtree(self.root / _MULTIPART / upload_id, ignore_errors=True)

    # --- helpers -----------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        """The file of ``key``; keys are plain ``/``-separated names, never hidden or ``..``."""
        parts = key.split("/")
        if any(p in ("", ".", "..") or p.startswith(".") or "\\" in p or "\0" in p for p in parts):
            raise InvalidInput(f"{key!r} is not a key a folder store can hold.")
        return self.root.joinpath(*parts)

    def _upload(self, key: str, upload_id: str) -> Path:
        folder = self.root / _MULTIPART / upload_id
        try:
            recorded = (folder / "key").read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            raise UploadGone(f"The multipart upload of {key} no longer exists.") from None
        if recorded != key or not upload_id.isalnum():
            raise UploadGone(f"The multipart upload {upload_id} is not one of {key}.")
        return folder

    def _write(self, path: Path, chunks: Iterable[bytes]) -> None:
        private_folders(self.root, path.parent)
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as stream:
                for chunk in chunks:
                    stream.write(chunk)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise


def _empty(folder: Path) -> bool:
    try:
        return not any(folder.iterdir())
    except FileNotFoundError:
        return False


def _read(path: Path) -> Iterator[bytes]:
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            yield chunk
