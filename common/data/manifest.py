"""A job's dependency manifest: every file its scene needs, with size, time and content hash.

Files of image sequences and tile sets are listed one by one, each tagged with its frame (and
UDIM tile), so ``Manifest.for_frames`` can give a task only the files of the frames it renders.
The manifest is a strict wire model; ``to_json`` / ``from_json`` carry it between processes.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import Field, model_validator

from common.data.hashing import HASH_PATTERN
from common.models import WireModel

Hash = Annotated[str, Field(pattern=HASH_PATTERN)]


class ManifestEntry(WireModel):
    """One file a job needs."""

    path: Annotated[str, Field(min_length=1, max_length=4096)]
    """The path as the scene refers to it, on studio storage (any platform's form)."""
    size: Annotated[int, Field(ge=0)]
    mtime_ns: int
    hash: Hash
    """xxh3-128 of the file's bytes, 32 hex digits."""
    kind: Annotated[str, Field(pattern=r"^[a-z][a-z_]*$", max_length=40)] = "other"
    """What it is to the scene: ``scene``, ``image``, ``reference``, ``cache``, ..."""
    sequence: Annotated[str, Field(max_length=4096)] | None = None
    """The pattern (``plate.####.exr``) this file is one frame or tile of."""
    frame: int | None = None
    tile: Annotated[int, Field(ge=1001)] | None = None


class Manifest(WireModel):
    """Every dependency of a job (or of one task, after ``for_frames``)."""

    version: Literal[1] = 1
    hash_algorithm: Literal["xxh3-128"] = "xxh3-128"
    entries: list[ManifestEntry] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    """Files the scene names that were not found (sequences: the pattern)."""

    @model_validator(mode="after")
    def _paths_unique(self) -> Manifest:
        seen: set[str] = set()
        for entry in self.entries:
            if entry.path in seen:
                raise ValueError(f"the manifest lists {entry.path!r} twice")
            seen.add(entry.path)
        return self

    # --- figures -------------------------------------------------------------------------------

    @property
    def total_size(self) -> int:
        """Bytes of all entries (a file stored twice under two paths counts twice)."""
        return sum(entry.size for entry in self.entries)

    def blobs(self) -> dict[str, int]:
        """Each distinct content hash and its size."""
        return {entry.hash: entry.size for entry in self.entries}

    @property
    def unique_size(self) -> int:
        """Bytes of distinct contents: what a transfer moves at most."""
        return sum(self.blobs().values())

    # --- selection -----------------------------------------------------------------------------

    def for_frames(self, frames: Iterable[int], *, handles: int = 0) -> Manifest:
        """The part of the manifest that rendering ``frames`` needs.

        Files that are not frames of a sequence are always kept; so is every UDIM tile. Of a
        sequence, each wanted frame's file is kept; a wanted frame beyond the sequence's ends
        takes the end frame, and a frame missing inside the sequence takes the nearest earlier
        one (the "hold" of Nuke, Maya and Houdini readers).

        Args:
            frames: the frames the task renders.
            handles: also keep this many frames either side of each (motion blur reads the
                neighbouring frames of geometry caches).
        """
        wanted = {f + d for f in frames for d in range(-handles, handles + 1)}
        by_sequence: dict[str, list[int]] = {}
        for entry in self.entries:
            if entry.frame is not None:
                by_sequence.setdefault(entry.sequence or entry.path, []).append(entry.frame)
        picked: dict[str, set[int]] = {}
        for sequence, available_list in by_sequence.items():
            available = sorted(set(available_list))
            picked[sequence] = {_hold(available, frame) for frame in wanted}
        kept = [
            entry
            for entry in self.entries
            if entry.frame is None or entry.frame in picked[entry.sequence or entry.path]
        ]
        return Manifest(entries=kept, missing=list(self.missing))

    # --- JSON ----------------------------------------------------------------------------------

    def to_json(self) -> str:
        """The manifest as JSON text."""
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> Manifest:
        """Reads a manifest written by ``to_json``.

        Raises:
            pydantic.ValidationError: the text is not a valid manifest.
        """
        return cls.model_validate_json(text)


def _hold(available: list[int], frame: int) -> int:
    """The frame of a sequence a reader shows at ``frame`` (``available`` sorted, not empty)."""
    if frame <= available[0]:
        return available[0]
    return available[bisect_right(available, frame) - 1]
