"""The house is one-way: no import circle anywhere, and each floor imports only what it may.

The graph is read from the source with ``ast`` (every ``import`` and ``from ... import``,
including those inside functions and under ``TYPE_CHECKING``), so a lazy import cannot hide a
circle. Rules, as docs/code_organization.md draws them:

- ``common`` imports nothing of ours but ``common``;
- ``cloud_agent`` and ``dcc`` never import ``daemon``; ``dcc`` never imports ``cloud_agent``;
- views (``daemon.api``, ``daemon.web``) never import ``daemon.storage``: they call services;
- policy (``daemon.scheduling``) imports no services, storage, web, API or backends;
- storage imports no services, API or web.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("common", "daemon", "cloud_agent", "dcc")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules ``name`` imports (a name from a package counts as its module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                targets.add(full if full in known else base)
    return {resolve(t, known) for t in targets if t.split(".")[0] in PACKAGES} - {name}


def resolve(target: str, known: set[str]) -> str:
    while target not in known and "." in target:
        target = target.rpartition(".")[0]
    return target


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(start: str) -> None:
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            step = next(edges, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph.get(step, ())))))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return groups


def is_within(module: str, floor: str) -> bool:
    return module == floor or module.startswith(floor + ".")


#: (who, may not import, why)
FORBIDDEN = [
    ("common", "daemon", "common is the ground floor"),
    ("common", "cloud_agent", "common is the ground floor"),
    ("common", "dcc", "common is the ground floor"),
    ("cloud_agent", "daemon", "agents talk to the daemon over HTTP only"),
    ("dcc", "daemon", "the DCCs talk to the daemon over HTTP only"),
    ("dcc", "cloud_agent", "the DCCs submit; they do not render"),
    ("daemon.api", "daemon.storage", "views call services, never storage"),
    ("daemon.web", "daemon.storage", "views call services, never storage"),
    ("daemon.scheduling", "daemon.services", "policy is pure"),
    ("daemon.scheduling", "daemon.storage", "policy is pure"),
    ("daemon.scheduling", "daemon.backends", "policy is pure"),
    ("daemon.scheduling", "daemon.api", "policy is pure"),
    ("daemon.storage", "daemon.services", "storage is below the services"),
    ("daemon.storage", "daemon.api", "storage is below the views"),
    ("daemon.storage", "daemon.web", "storage is below the views"),
]


def test_the_graph_is_read_from_the_source() -> None:
    graph = import_graph()
    assert "daemon.api.routing" in graph["daemon.api.jobs"]
    assert graph["common"] <= {name for name in graph if is_within(name, "common")}


def test_no_module_imports_itself_round_a_circle() -> None:
    found = cycles(import_graph())
    assert not found, "import circles:\n" + "\n".join(" <-> ".join(c) for c in found)


@pytest.mark.parametrize(("who", "target", "why"), FORBIDDEN)
def test_each_floor_imports_only_what_it_may(who: str, target: str, why: str) -> None:
    graph = import_graph()
    broken = sorted(
        f"{module} -> {imported}"
        for module, imported_set in graph.items()
        if is_within(module, who)
        for imported in imported_set
        if is_within(imported, target)
    )
    assert not broken, f"{why}:\n" + "\n".join(broken)


def test_every_import_of_ours_names_a_module_that_exists() -> None:
    """mypy skips imports it cannot find; a module left behind by a move must fail here."""
    modules = project_modules()
    known = set(modules)
    missing = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module.split(".")[0] in PACKAGES and node.module not in known:
                    missing.append(f"{name}: from {node.module} import ...")
            elif isinstance(node, ast.Import):
                missing += [
                    f"{name}: import {alias.name}"
                    for alias in node.names
                    if alias.name.split(".")[0] in PACKAGES and alias.name not in known
                ]
    assert not missing, "imports of modules that do not exist:\n" + "\n".join(missing)


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
