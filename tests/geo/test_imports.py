"""geo/ has no import circle (issue #12): read from the source, so a TYPE_CHECKING import counts too."""

from __future__ import annotations

import ast
from pathlib import Path

GEO = Path(__file__).resolve().parents[2] / "geo"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(GEO.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in GEO.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:  # "from geo import registry" imports geo.registry
                    target = f"{node.module}.{alias.name}"
                    found.add(target if target in modules else node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return path[path.index(name) :] + [name]
        if name in done:
            return None
        for target in sorted(graph[name]):
            found = visit(target, [*path, name])
            if found:
                return found
        done.add(name)
        return None

    for name in sorted(graph):
        found = visit(name, [])
        if found:
            return found
    return None


def test_the_graph_sees_imports():
    graph = _imports()
    assert "geo.metrics_tables" in graph["geo.metrics"]
    assert "geo.registry" in graph["geo.school_columns"]  # "from geo import registry"


def test_geo_has_no_import_circle():
    assert _cycle(_imports()) is None


def test_a_circle_is_found():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
