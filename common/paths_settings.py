"""The ``[paths]`` table of the settings: the folders jobs may read scenes from and write to."""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field, field_validator

from common.path_forms import path_problem


class PathSettings(BaseModel):
    """The ``[paths]`` table. Empty lists: any absolute path (the one-machine default).

    Roots are written in any studio form (``/mnt/studio/renders``, ``P:\\renders``,
    ``\\\\fs01\\renders``); ``[[path_rules]]`` relate the forms, so one root covers the paths
    every platform's artists submit (see ``common.job_paths``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    scene_roots: list[str] = Field(default_factory=list)
    """Folders a job's scene must be in."""
    output_roots: list[str] = Field(default_factory=list)
    """Folders a job's frames must go to (the daemon's data folder never is one)."""
    asset_roots: list[str] = Field(default_factory=list)
    """Folders whose files a scene may take out of the building when its job is staged for
    the cloud (textures, caches, references); the daemon's data folder never is one."""

    @field_validator("scene_roots", "output_roots", "asset_roots", mode="before")
    @classmethod
    def _json_list(cls, value: object) -> object:
        """Accepts JSON text, as environment variables give it."""
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("scene_roots", "output_roots", "asset_roots")
    @classmethod
    def _absolute(cls, roots: list[str]) -> list[str]:
        for root in roots:
            problem = path_problem(root, folder=True)
            if problem is not None:
                raise ValueError(f"the root {root!r} {problem}")
        return roots
