"""Fixtures of the daemon's data tests: a real SeaweedFS S3 server, a studio tree, an app."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from common.config import Settings
from common.data.s3 import S3Store
from daemon.app import Services, create_app
from tests.common.data import seaweed

OLD = 1_700_000_000


@dataclass
class Studio:
    """A studio folder with a Maya ASCII shot that uses two textures."""

    root: Path
    scene: Path
    textures: list[Path]

    def write_scene(self, name: str, textures: list[Path]) -> Path:
        lines = ["//Maya ASCII 2024 scene", 'requires maya "2024";']
        for index, texture in enumerate(textures):
            lines += [f'createNode file -n "file{index}";',
                      f'\tsetAttr ".ftn" -type "string" "{texture}";']  # fmt: skip
        path = self.root / "show" / "shots" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
        os.utime(path, (OLD, OLD))
        return path


def write_file(path: Path, data: bytes, mtime: int = OLD) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))  # old enough for the hash cache to trust
    return path


@pytest.fixture
def studio(tmp_path: Path) -> Studio:
    root = tmp_path / "studio"
    textures = [
        write_file(root / "show" / "tex" / "wood.png", b"w" * 20_000),
        write_file(root / "show" / "tex" / "rust.png", b"r" * 30_000),
    ]
    studio = Studio(root, root, textures)
    studio.scene = studio.write_scene("sh010.ma", textures)
    return studio


@pytest.fixture
def store(weed: seaweed.SeaweedServer) -> S3Store:
    return weed.store()


@pytest.fixture
def services(tmp_path: Path, store: S3Store) -> Services:
    app = create_app(Settings(data_dir=tmp_path / "daemon"), open_store=lambda: store)
    services: Services = app.extensions["cloudburst"]
    return services
