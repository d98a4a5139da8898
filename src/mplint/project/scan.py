"""Which project modules a file imports, read from its text without parsing it.

This is the second step of the prefilter: a file that mentions no multiprocessing API is still
worth parsing when it imports (directly or through other project modules) a module that does.
The reading over-approximates (an import in a string or under `if False:` counts); it only
decides what is parsed, and the summaries decide what is reported.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mplint.file_index import SourceFile
    from mplint.project.resolver import ModuleRef, Project

_IMPORT = re.compile(
    rb"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)?|[^\n#;]*)|import[ \t]+([^\n#;]*))",
    re.MULTILINE,
)
_AS = re.compile(rb"[ \t]+as[ \t]+\w+")


@functools.cache
def not_project() -> frozenset[str]:
    """Top-level names that are never a project's modules: the standard library's, and those of
    the multiprocessing families of the API table (the forks of `multiprocessing`). Here, not in
    the resolver, and made when first asked: a run that only asks whether a file may import a
    project module (`runner.takes_part`) imports neither the resolver nor, until then, the table."""
    from mplint.apis import FAMILY_ROOTS

    stdlib = frozenset(getattr(sys, "stdlib_module_names", ())) | frozenset(sys.builtin_module_names)
    return stdlib | frozenset(root for root in FAMILY_ROOTS if "." not in root)


def imported_names(source: bytes) -> set[str]:
    """Dotted names the source may import, relative ones with their dots: `app.jobs`,
    `.jobs`, and for `from app import jobs` both `app` and `app.jobs`."""
    names: set[str] = set()
    for match in _IMPORT.finditer(source):
        module, imported, plain = match.groups()
        if plain is not None:
            for part in _AS.sub(b"", plain).split(b","):
                name = part.strip()
                if name:
                    names.add(name.decode("ascii", "replace"))
            continue
        base = module.decode("ascii", "replace")
        if base.strip("."):
            names.add(base)
        for part in _AS.sub(b"", imported.strip(b"()")).split(b","):
            name = part.strip().decode("ascii", "replace")
            if name and name != "*":
                names.add(f"{base}.{name}" if not base.endswith(".") else base + name)
    return names


def may_import_project(names: set[str], top_names: frozenset[str], in_package: bool) -> bool:
    """The cheap test before the resolution: an imported name starts with a top-level module of
    the project, or is relative inside a package."""
    return any(
        (in_package if name.startswith(".") else name.partition(".")[0] in top_names) for name in names
    )


def project_imports(names: set[str], ref: ModuleRef, project: Project) -> set[str]:
    """The project files that the names a module imports (`imported_names`) may be."""
    files = set()
    for name in names:
        absolute = ref.absolute(name)
        if absolute is None:
            continue
        # `from app import jobs` may import the module app.jobs, or a name of app
        found = project.find(absolute, ref.search)
        if found is None and "." in absolute:
            found = project.find(absolute.rpartition(".")[0], ref.search)
        if found is not None:
            files.add(found)
    return files


def names_of(source: SourceFile) -> set[str]:
    """The dotted names the file may import (`scan.py`), from the index when it knows them."""
    known = source.fact("imports")
    if isinstance(known, list):
        return set(known)
    data = source.data()
    names = imported_names(data) if isinstance(data, bytes) else set()
    source.learn("imports", sorted(names))
    return names


def may_import_any_project(names: set[str]) -> bool:
    """Some project may hold a module of one of `names` (`imported_names`): without one, a file
    reaches no project module, whatever its project."""
    return any(may_be_project_module(name) for name in names)


def may_be_project_module(name: str) -> bool:
    """Some project may hold a module of this imported name (`imported_names`): a relative
    name, or an absolute one whose top-level name is neither the standard library's nor a
    multiprocessing family's (those are never a project's, in any project)."""
    return name.startswith(".") or name.partition(".")[0] not in not_project()


def is_test_module(path: str) -> bool:
    """pytest's default `python_files`: `test_*.py` and `*_test.py`."""
    name = os.path.basename(path)
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))
