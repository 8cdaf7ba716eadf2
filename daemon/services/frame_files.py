"""The frame files of a job the daemon accepts from agents and serves to people.

An agent names the files a task wrote; the daemon stores those names and later serves the
files (the zip of a job's frames, thumbnails). So a name is checked when the agent reports it
and again each time its file is served, against the same rules:

* the job's own paths still pass the studio's rules (``common.job_paths``: rows written before
  the rules were not checked when submitted);
* the name is a file directly inside the job's output folder, as written: no ``..``, no ``.``
  (``common.data.outputs.is_frame_of``), and that folder is inside the studio's output roots
  and not in the daemon's data folder;
* what the daemon sees on its disk: the file is a regular file, not a symbolic link, and its
  real location (links in the folders above resolved) is neither in the daemon's data folder
  nor, when the studio lists output roots, outside them.

When reported, a file the daemon cannot see passes the disk checks (it may be on its way home
from the object store, or on storage only render nodes mount); when served, it must exist, and
it is opened without following a link, so it cannot be swapped for one between check and read.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from common.data.outputs import is_frame_of, output_folder
from common.errors import OutputNotAllowed, UserFacingError
from common.job_paths import JobPaths
from common.models import JobSpec

logger = logging.getLogger(__name__)

_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)


class FrameFiles:
    """The rules above for one daemon. Stateless; any thread."""

    def __init__(self, paths: JobPaths) -> None:
        self.paths = paths

    def check_reported(self, job_id: int, spec: JobSpec, paths: Iterable[str]) -> None:
        """Checks the files an agent reports for a task of the job.

        Raises:
            OutputNotAllowed: a file breaks a rule; the message names it and the folder.
        """
        paths = list(paths)
        if not paths:
            return
        folder = self._job_folder(job_id, spec)
        for path in paths:
            problem = self._problem(path, spec)
            if problem is None and os.path.lexists(path):
                problem = self._disk_problem(path)
            if problem is not None:
                raise OutputNotAllowed(
                    f"The file {path!r} {problem}; a render node may only report files "
                    f"directly inside job {job_id}'s output folder {folder}."
                )

    def servable(self, job_id: int, spec: JobSpec, paths: Iterable[str]) -> list[Path]:
        """The files among ``paths`` that may be served now; the others are logged, skipped."""
        try:
            self._job_folder(job_id, spec)
        except OutputNotAllowed as exc:
            logger.warning("job_id=%s frames not served: %s", job_id, exc.message)
            return []
        found = []
        for path in paths:
            problem = self._problem(path, spec)
            if problem is None and os.path.exists(path):
                problem = self._disk_problem(path)
                if problem is None:
                    found.append(Path(path))
            if problem is not None:
                logger.warning("job_id=%s output %r not served: it %s", job_id, path, problem)
        return found

    def open(self, path: Path) -> BinaryIO:
        """Opens a servable frame for reading, never through a link.

        Raises:
            OSError: the file is gone, became a link, or is not a regular file.
        """
        fd = os.open(path, os.O_RDONLY | _NO_FOLLOW | getattr(os, "O_BINARY", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(f"{path} is not a regular file")
            return os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise

    # --- the rules -----------------------------------------------------------------------------

    def _job_folder(self, job_id: int, spec: JobSpec) -> str:
        """The job's output folder, once its paths pass the rules."""
        try:
            self.paths.check(spec.scene, spec.output)
        except UserFacingError as exc:
            raise OutputNotAllowed(
                f"Job {job_id}'s own paths break the studio's rules, so none of its files is "
                f"accepted or served: {exc.message}"
            ) from None
        return output_folder(spec.output, spec.scene)

    def _problem(self, path: str, spec: JobSpec) -> str | None:
        if not is_frame_of(path, spec.output, spec.scene):
            return "is not directly inside the job's output folder"
        return None

    def _disk_problem(self, path: str) -> str | None:
        """What is wrong with the file as this machine sees it (it exists)."""
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            return "is a symbolic link"
        if not stat.S_ISREG(info.st_mode):
            return "is not a regular file"
        real = os.path.realpath(path)
        if self.paths.is_private(real):
            return f"is really {real}, inside the daemon's own data folder"
        if not self.paths.within_output_roots(real):
            return f"is really {real}, outside the studio's output roots"
        return None
