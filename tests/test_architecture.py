"""The shape of the package: no module over 600 lines, and no import cycles between its modules,
also through imports inside functions (those hide a cycle from Python's import machinery, not
from a reader)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "mplint"


def _module_name(path: Path) -> str:
    parts = ("mplint", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """module -> the modules of the package it imports (anywhere but under `if TYPE_CHECKING:`)."""
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
            for inner in ast.walk(node)
        }
        found = set()
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    found.add(submodule if submodule in modules else node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        edges[name] = {m for m in found if m in modules and m != name}
    return edges


def _cycle_through(start: str, edges: dict[str, set[str]]) -> list[str] | None:
    path: list[str] = []
    seen: set[str] = set()

    def visit(module: str) -> list[str] | None:
        if module == start and path:
            return [*path, start]
        if module in seen:
            return None
        seen.add(module)
        path.append(module)
        for imported in sorted(edges[module]):
            found = visit(imported)
            if found:
                return found
        path.pop()
        return None

    return visit(start)


def test_no_module_imports_itself_through_others() -> None:
    edges = _imports()
    cycles = {" -> ".join(c) for m in edges if (c := _cycle_through(m, edges))}
    assert not cycles, "import cycles:\n" + "\n".join(sorted(cycles))


#: a module longer than this holds more than one idea: split it by what its parts hold
MAX_LINES = 600


def test_no_module_is_over_600_lines() -> None:
    long = {
        str(path.relative_to(PACKAGE)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines (split them): {long}"
