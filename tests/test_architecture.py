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


#: the classes that may walk a tree (subclass `Walker` or the use classifier `UseReader`, directly
#: or through another walker), with the reason each one walks; every other fact is a query of
#: what these record
ALLOWED_WALKERS = {
    "mplint.facts.scopes._Collector": "the one walk: scopes, bindings, calls, parents, and the "
    "records in source order that the facts query",
    "mplint.facts.flow.Flow": "the flow fact: one walk of the code that makes a tracked object, "
    "keeping the stack that uses.py reads each use from",
    "mplint.fixes.guard._HoldsDefinitions": "a fix, not a fact: the MPL001/MPL009 edit reads the "
    "module-level statements it keeps or moves",
    "mplint.fixes.guard._TopLevel": "a fix, not a fact: which top-level statement each node of "
    "the moved code belongs to",
}
_WALKER_BASES = {"Walker", "FunctionBodyVisitor", "UseReader"}


def _classes() -> dict[str, tuple[str, set[str]]]:
    """Every class of the package: its qualified name -> (its own name, its bases' names)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = {
                    b.id if isinstance(b, ast.Name) else b.attr
                    for b in node.bases
                    if isinstance(b, (ast.Name, ast.Attribute))
                }
                found[f"{module}.{node.name}"] = (node.name, bases)
    return found


def test_only_the_allowed_walkers_walk_the_tree() -> None:
    classes = _classes()
    walking = set(_WALKER_BASES)
    changed = True
    while changed:  # a subclass of a walker walks too
        changed = False
        for name, bases in classes.values():
            if bases & walking and name not in walking:
                walking.add(name)
                changed = True
    walkers = {
        qualname for qualname, (_, bases) in classes.items()
        if bases & walking and not qualname.startswith("mplint.facts.walk.")
    }
    extra = walkers - ALLOWED_WALKERS.keys()
    assert not extra, (
        "these classes walk the tree again; make them queries of what the one walk records "
        "(facts/scopes.py, facts/records.py) or of the flow fact: " + ", ".join(sorted(extra))
    )
    assert ALLOWED_WALKERS.keys() <= walkers, f"no longer walkers: {sorted(ALLOWED_WALKERS.keys() - walkers)}"
