"""The layer table, enforced on every import `ast` finds (inside functions and under TYPE_CHECKING too)."""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

import broadcaster

PACKAGE = Path(broadcaster.__file__).resolve().parent

# Each layer may import only the layers before it in this list (and itself). docs/architecture.md says
# what each holds.
LAYERS = (
    "errors",
    "domain",
    "clock",
    "files",
    "labels",
    "config",
    "schedules",
    "planning",
    "speech",
    "audio",
    "store",
    "airlog",
    "witness",
    "reports",
    "playout",
    "services",
    "app",
    "web",
    "cli",
)
RANK = {name: rank for rank, name in enumerate(LAYERS)}
# Modules that belong to a layer named differently.
SAME_LAYER = {"config_rules": "config"}

# Pure layers: no database, no use-cases, not even through a module they import.
PURE = (
    "broadcaster.reports",
    "broadcaster.planning",
    "broadcaster.schedules",
    "broadcaster.speech.normalize",
    "broadcaster.audio",
    "broadcaster.playout",
)
KEEP_OFF = ("broadcaster.store", "broadcaster.services")

# Front ends parse, call a service, print: no SQL and no rows of their own.
FRONT_END_FORBIDDEN = ("sqlalchemy", "broadcaster.store")

# Known exceptions still to be fixed, each naming its file, what it imports and why it may for now.
# None today: an entry is ("file relative to the package", "imported module"): "issue N: why, for now".
ALLOWED: dict[tuple[str, str], str] = {}


def module_name(path: Path) -> str:
    """The dotted name of a module file in the package."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_in(source: str, filename: str = "<source>") -> list[tuple[int, str]]:
    """(line, module) of every import in a module's source, at any depth (functions, TYPE_CHECKING).

    `from broadcaster import planning` names broadcaster.planning; `from x.y import z` names x.y.
    """
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{filename}:{node.lineno}: relative import; write it absolute"
            assert node.module is not None
            if node.module == "broadcaster":
                found.extend((node.lineno, f"broadcaster.{alias.name}") for alias in node.names)
            else:
                found.append((node.lineno, node.module))
    return found


def layer_of(module: str) -> str | None:
    """The layer of a broadcaster module (None for anything outside the package)."""
    parts = module.split(".")
    if parts[0] != "broadcaster" or len(parts) < 2:
        return None
    return SAME_LAYER.get(parts[1], parts[1])


def package_modules() -> Iterator[tuple[Path, str]]:
    """Every module of the package (migrations are Alembic's scripts, not a layer) with its name."""
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.relative_to(PACKAGE).parts:
            continue
        yield path, module_name(path)


@functools.cache
def package_imports() -> tuple[tuple[str, int, str, str], ...]:
    """(file relative to the package, line, own module, imported module) for every import."""
    return tuple(
        (rel, line, name, imported)
        for path, name in package_modules()
        for rel in [path.relative_to(PACKAGE).as_posix()]
        for line, imported in imports_in(path.read_text(encoding="utf-8"), rel)
    )


def under(module: str, prefixes: tuple[str, ...]) -> bool:
    """True if `module` is one of `prefixes` or inside one of them."""
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def allowed(rel: str, imported: str) -> bool:
    """True if this import is one of the listed, commented exceptions."""
    return (rel, imported) in ALLOWED


def resolve(module: str) -> str | None:
    """The package module an import runs: the longest prefix of `module` that is a file here."""
    parts = module.split(".")
    while len(parts) > 1:
        base = PACKAGE.parent.joinpath(*parts)
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            return ".".join(parts)
        parts.pop()
    return None


@functools.cache
def import_graph() -> dict[str, set[str]]:
    """Each package module → the package modules it imports (a package's __init__ counts as imported)."""
    graph: dict[str, set[str]] = {name: set() for _, name in package_modules()}
    for _rel, _line, own, imported in package_imports():
        target = resolve(imported)
        if target is None:
            continue
        parts = target.split(".")
        graph[own].update(".".join(parts[:n]) for n in range(2, len(parts) + 1))
    return graph


def chain_to(graph: dict[str, set[str]], start: str, wanted: tuple[str, ...]) -> list[str] | None:
    """The import chain from `start` to the first module under `wanted`, or None if none is reached."""
    came_from: dict[str, str | None] = {start: None}
    todo = [start]
    while todo:
        here = todo.pop(0)
        if here != start and under(here, wanted):
            chain = [here]
            while (back := came_from[chain[-1]]) is not None:
                chain.append(back)
            return chain[::-1]
        for nxt in sorted(graph.get(here, ())):
            if nxt not in came_from:
                came_from[nxt] = here
                todo.append(nxt)
    return None


def test_the_reader_sees_imports_in_functions_and_under_type_checking() -> None:
    source = """
from typing import TYPE_CHECKING
from broadcaster import labels, planning
import broadcaster.store.db as db
if TYPE_CHECKING:
    from sqlalchemy.orm import Session
def run() -> None:
    from broadcaster.services.queue import queue
"""
    assert [m for _, m in imports_in(source)] == [
        "typing",
        "broadcaster.labels",
        "broadcaster.planning",
        "broadcaster.store.db",
        "sqlalchemy.orm",
        "broadcaster.services.queue",
    ]
    assert layer_of("broadcaster.config_rules") == "config"
    assert layer_of("sqlalchemy.orm") is None


def test_every_module_has_a_layer() -> None:
    unplaced = [name for _, name in package_modules() if layer_of(name) not in RANK and name != "broadcaster"]
    assert unplaced == [], "add the new module's layer to LAYERS and docs/architecture.md"


def test_each_layer_imports_only_layers_above_it() -> None:
    upward = [
        f"{rel}:{line} ({layer_of(own)}) imports {imported} ({layer_of(imported)})"
        for rel, line, own, imported in package_imports()
        if (target := layer_of(imported)) is not None
        and (here := layer_of(own)) is not None
        and RANK[target] > RANK[here]
        and not allowed(rel, imported)
    ]
    assert upward == []


def test_the_command_line_imports_neither_sqlalchemy_nor_the_store() -> None:
    found = [
        f"{rel}:{line} imports {imported}"
        for rel, line, _own, imported in package_imports()
        if rel.startswith("cli/") and under(imported, FRONT_END_FORBIDDEN) and not allowed(rel, imported)
    ]
    assert found == [], "call a function in services/ instead"


@pytest.mark.parametrize("pure", PURE)
def test_pure_layers_reach_neither_the_store_nor_services(pure: str) -> None:
    graph = import_graph()
    reached = {
        name: chain
        for name in graph
        if under(name, (pure,))
        if (chain := chain_to(graph, name, KEEP_OFF)) is not None
    }
    assert {name: " → ".join(chain) for name, chain in reached.items()} == {}


def test_every_allowed_exception_is_still_needed() -> None:
    present = {(rel, imported) for rel, _line, _own, imported in package_imports()}
    assert sorted(set(ALLOWED) - present) == [], "the import is gone: remove its ALLOWED entry"
