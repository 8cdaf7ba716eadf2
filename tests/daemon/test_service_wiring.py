"""The daemon's services are wired one way: each is built after those it uses, the lease path
knows cloud bursting only through the ``LeaseGate`` protocol, and no import circle runs through
the services or the backends (imports read from the source, ``TYPE_CHECKING`` ones included)."""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.cloud_settings import CloudSettings
from common.config import Settings
from daemon.app import Services, create_app

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("common", "daemon", "cloud_agent", "dcc")
#: Modules under these prefixes must be on no import circle.
ONE_WAY = ("daemon.services", "daemon.backends", "daemon.scheduling", "daemon.storage")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> Iterator[str]:
    """The project's modules that ``name`` imports, anywhere in its source."""

    def known(dotted: str) -> str | None:
        while dotted and dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [known(alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else known(base)
                for alias in node.names
            ]
        else:
            continue
        yield from (t for t in targets if t is not None and t != name)


@functools.cache
def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: set(_imports(name, path, modules)) for name, path in modules.items()}


def _reach(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def test_no_import_circle_runs_through_the_services_or_the_backends() -> None:
    graph = _graph()
    circles = {
        name: sorted(m for m in _reach(graph, name) if name in _reach(graph, m))
        for name in graph
        if name.startswith(ONE_WAY) and name in _reach(graph, name)
    }
    assert circles == {}


@pytest.mark.parametrize(
    ("module", "never"),
    [
        ("daemon.services.agents", "daemon.services.burst"),  # through the LeaseGate only
        ("daemon.services.enrollment", "daemon.services.agents"),
        ("daemon.services.burst", "daemon.services.agents"),
        ("daemon.services.cloud_pool", "daemon.services.burst"),
    ],
)
def test_a_service_does_not_depend_on_another_it_must_not_know(module: str, never: str) -> None:
    assert never not in _reach(_graph(), module)


def _services(tmp_path: Path, backend: str) -> Services:
    cloud = CloudSettings.model_validate({"backend": backend})
    settings = Settings(data_dir=tmp_path / "d", cloud=cloud)
    services: Services = create_app(settings).extensions["cloudburst"]
    return services


def test_a_bursting_farm_gives_the_lease_path_the_burst_service_as_its_gate(
    tmp_path: Path,
) -> None:
    services = _services(tmp_path, "simcloud")
    try:
        assert services.burst.enabled
        assert services.agents.lease_gate is services.burst
        assert services.burst.pool is services.pool is services.resources.pool
    finally:
        services.pool.close()


def test_a_farm_that_never_bursts_leases_without_a_gate(tmp_path: Path) -> None:
    services = _services(tmp_path, "none")
    assert not services.burst.enabled
    assert services.agents.lease_gate is None
