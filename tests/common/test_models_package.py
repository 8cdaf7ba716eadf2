"""The wire models' package: ``common.models`` is their one public path, and its ``__all__``
names every public model and type its submodules define."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import common.models

ROOT = Path(__file__).resolve().parents[2]


def submodules() -> list[str]:
    return [m.name for m in pkgutil.iter_modules(common.models.__path__)]


def test_all_names_every_public_definition_of_the_submodules() -> None:
    defined: set[str] = set()
    for name in submodules():
        module = importlib.import_module(f"common.models.{name}")
        tree = ast.parse(Path(module.__file__ or "").read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                defined.add(node.name)
            elif isinstance(node, ast.Assign):
                defined.update(t.id for t in node.targets if isinstance(t, ast.Name))
    public = {name for name in defined if not name.startswith("_")}
    assert set(common.models.__all__) == public
    assert all(getattr(common.models, name) is not None for name in public)


def test_code_outside_the_package_imports_the_package_not_its_submodules() -> None:
    inner = {f"common.models.{name}" for name in submodules()}
    offenders = []
    for folder in ("common", "daemon", "cloud_agent", "dcc", "tests", "bench"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.is_relative_to(ROOT / "common" / "models"):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = (
                    [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else []
                )
                if any(n in inner or n.startswith("common.models_") for n in names):
                    offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
