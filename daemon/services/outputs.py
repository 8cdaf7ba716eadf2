"""A job's rendered frames: which file holds which frame, one zip of them, and thumbnails.

Only files that pass ``FrameFiles`` when served are listed, zipped or thumbnailed, and they are
read through descriptors opened without following links.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath

from PIL import Image

from common.errors import NotFound
from common.models import JobSpec
from daemon.context import Context
from daemon.services.frame_files import FrameFiles
from daemon.services.jobs import JobService

logger = logging.getLogger(__name__)

THUMBNAIL_SIZE = 256
"""The longest side of a thumbnail, in pixels."""
_CHUNK = 1 << 16


@dataclass(frozen=True)
class FrameFile:
    """One rendered file of a job; ``frame`` is None for a file that names no frame."""

    frame: int | None
    path: Path


def frame_pattern(output: str) -> re.Pattern[str]:
    """A regex that finds the frame number in the file names ``output`` produces.

    ``####`` stands for the padded frame; without it, Blender appends the digits.
    """
    name = PurePath(output).name
    if "#" in name:
        parts = re.split(r"#+", name, maxsplit=1)
        body = re.escape(parts[0]) + r"(-?\d+)" + re.escape(parts[1])
    else:
        body = re.escape(name) + r"(-?\d+)"
    return re.compile(rf"^{body}(?:\.[A-Za-z0-9]+)?$")


class _Pipe:
    """A write-only stream that hands out what was written (for streaming zips)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: chunks leave through ``take``."""

    def close(self) -> None:
        """Nothing to close."""

    def take(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


class OutputService:
    """Reads what a job's finished tasks reported; writes nothing but the thumbnail cache."""

    def __init__(self, context: Context, jobs: JobService) -> None:
        self.ctx = context
        self.jobs = jobs
        self.frames = FrameFiles(context.paths)

    @property
    def cache_dir(self) -> Path:
        return self.ctx.settings.data_dir / "thumbnails"

    def files(self, job_id: int) -> list[FrameFile]:
        """The files of the job's finished tasks that exist here and may be served, in frame
        order (``FrameFiles``: a file that breaks a rule is left out and logged).

        Raises:
            NotFound: no such job.
        """
        spec, reported = self._reported(job_id)
        servable = set(self.frames.servable(job_id, spec, [str(f.path) for f in reported]))
        return [f for f in reported if f.path in servable]

    def _reported(self, job_id: int) -> tuple[JobSpec, list[FrameFile]]:
        """What the job's finished tasks reported, in frame order, not yet checked.

        Raises:
            NotFound: no such job.
        """
        job = self.jobs.get(job_id)
        pattern = frame_pattern(job.spec.output)
        reported = []
        for output in self.jobs.done_outputs(job_id):
            path = Path(output)
            match = pattern.match(path.name)
            reported.append(FrameFile(int(match.group(1)) if match else None, path))
        reported.sort(key=lambda f: (f.frame is None, f.frame or 0, f.path.name))
        return job.spec, reported

    def zip_stream(self, job_id: int) -> Iterator[bytes]:
        """The job's frames as one zip (stored, not compressed), produced chunk by chunk.

        Raises:
            NotFound: no such job, or it has no rendered frame yet (before the first chunk).
        """
        files = self.files(job_id)
        if not files:
            raise NotFound(f"Job {job_id} has no rendered frames to download yet.")
        return self._zip(files)

    def _zip(self, files: list[FrameFile]) -> Iterator[bytes]:
        pipe = _Pipe()
        names: set[str] = set()
        with zipfile.ZipFile(pipe, "w", zipfile.ZIP_STORED) as archive:
            for item in files:
                try:
                    source = self.frames.open(item.path)
                except OSError as exc:  # gone, or swapped for a link since it was listed
                    logger.warning("%s left out of the zip: %s", item.path, exc)
                    continue
                name = item.path.name
                while name in names:  # two files of the same name: keep both
                    name = f"_{name}"
                names.add(name)
                with source, archive.open(name, "w") as target:
                    while chunk := source.read(_CHUNK):
                        target.write(chunk)
                        yield pipe.take()
        yield pipe.take()

    def thumbnail(self, job_id: int, frame: int | None = None) -> Path:
        """A JPEG of at most ``THUMBNAIL_SIZE`` pixels of the frame, cached on disk.

        Without ``frame``, the first rendered frame. The cache key holds the source's path,
        size and mtime, so a re-render refreshes it.

        Raises:
            NotFound: no such job, or the frame is not rendered (or not an image).
        """
        spec, reported = self._reported(job_id)
        wanted = (f for f in reported if f.frame is not None and frame in (None, f.frame))
        # One file checked at a time: a thumbnail needs one frame, not the whole job's.
        source = next(
            (p for f in wanted for p in self.frames.servable(job_id, spec, [str(f.path)])), None
        )
        if source is None and frame is None:
            raise NotFound(f"Job {job_id} has no rendered frame yet.")
        if source is None:
            raise NotFound(f"Frame {frame} of job {job_id} is not rendered yet.")
        stat = source.stat()
        key = hashlib.sha256(f"{source}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()
        target = self.cache_dir / str(job_id) / f"{frame}-{key[:16]}.jpg"
        if target.is_file():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self.frames.open(source) as file, Image.open(file) as image:
                image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
                picture = image.convert("RGB")
        except (OSError, ValueError) as exc:
            logger.warning("No thumbnail of %s: %s", source, exc, extra={"job_id": job_id})
            raise NotFound(f"Frame {frame} of job {job_id} is not an image we can read.") from exc
        partial = target.with_suffix(f".{os.getpid()}.part")
        picture.save(partial, "JPEG", quality=85)
        partial.replace(target)  # never a half-written thumbnail at its final path
        return target
