"""The project side of a run: which modules the named files reach, which of them to summarise,
and what each checked file is told after linking.

The files named on the command line are the ones reported on. The project modules they import
(through the resolver, read from the text by `scan.py`) are read too, even when not named. Of all
these, only the ones that can matter are summarised (parsed): the modules that use a
multiprocessing API, and the modules that import one of those, directly or through others. Every
other file stays unparsed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

from mplint.findings import FileResult
from mplint.project.asked import Asked
from mplint.project.link import NO_PROJECT_FACTS, Linked, Module, ProjectFacts
from mplint.project.resolver import ModuleRef, Project, Projects
from mplint.project.scan import may_import_project, project_imports
from mplint.project.summary import CONFTEST, Summary

#: a run reads at most this many project modules that it was not asked to check
MAX_REACHED = 50_000
#: files larger than this are not read for their imports (the engine refuses to parse them too)
_MAX_SCANNED_BYTES = 2 * 2**20


@dataclass
class File:
    path: str
    #: the path as the run was given it (findings name it so)
    given: str
    ref: ModuleRef
    project: Project
    source: bytes
    #: it uses a multiprocessing API (the first step of the prefilter lets it through)
    uses_api: bool
    named: bool
    imports: set[str] = field(default_factory=set)
    #: a conftest.py of a named test module: summarised for the start method it may pin
    pinned_wanted: bool = False
    #: the text names a top-level module of the project or imports relatively (`scan.py`)
    may_import: bool = False


class Session:
    def __init__(self, start: str | None = None) -> None:
        self.projects = Projects(start)
        self.files: dict[str, File] = {}
        self.summaries: dict[str, Summary | None] = {}
        #: named files that were checked while they were summarised (without project facts)
        self.local_results: dict[str, FileResult] = {}
        #: what the check of each of those asked of its project (`asked.py`)
        self.asked: dict[str, Asked] = {}
        #: each named test module -> the conftest.py files pytest loads for it, outermost first
        self.conftests: dict[str, list[str]] = {}
        self._linked: Linked | None = None

    def add(self, path: str, source: bytes, uses_api: bool, named: bool = True, reached: bool = False) -> None:
        """`reached`: a module imported by another one, kept even when it imports nothing of the
        project, since a worker may call into it (`net.py` doing `requests.get`)."""
        key = os.path.abspath(path)
        if key in self.files or len(source) > _MAX_SCANNED_BYTES:
            return
        project = self.projects.for_path(key)
        ref = project.module_of(key)
        if ref is None:
            return
        imports = may_import_project(source, project.top_names(ref.search), bool(ref.package_name))
        if not uses_api and not imports and not named and not reached:
            return  # it can neither start processes nor reach code that does: never kept
        kept = source if uses_api or imports or reached else b""
        self.files[key] = File(key, path, ref, project, kept, uses_api, named)
        self.files[key].may_import = imports

    def explore(self, uses_api: Callable[[bytes], bool]) -> None:
        """Follow the imports of the files added, reading the project modules they reach
        (`uses_api(source)` is the prefilter's first step for a module read here)."""
        queue = list(self.files.values())
        reached = 0
        while queue:
            file = queue.pop()
            if not file.may_import:
                continue
            file.imports = project_imports(file.source, file.ref, file.project) - {file.path}
            for path in sorted(file.imports):
                known = self.files.get(path)
                if known is not None and not known.source and not known.uses_api:
                    known.source = _read(path) or b""  # named, and kept unread until reached
                if known is not None or reached >= MAX_REACHED:
                    continue
                source = _read(path)
                if source is None:
                    continue
                reached += 1
                self.add(path, source, uses_api(source), named=False, reached=True)
                if path in self.files:
                    queue.append(self.files[path])

    def add_conftests(self, uses_api: Callable[[bytes], bool]) -> None:
        """The `conftest.py` files pytest loads for each named test module, read and kept for a
        summary: one may pin the start method for the tests below it."""
        for file in [f for f in self.files.values() if f.named and _is_test_module(f.path)]:
            found = []
            folder = os.path.dirname(file.path)
            root = file.project.root
            while folder.startswith(root):
                if CONFTEST in file.project.folders.entries(folder):
                    found.append(os.path.join(folder, CONFTEST))
                if folder == root:
                    break
                folder = os.path.dirname(folder)
            found.reverse()  # outermost first, as pytest loads them
            for conftest in found:
                if conftest not in self.files:
                    source = _read(conftest)
                    if source is not None:
                        self.add(conftest, source, uses_api(source), named=False)
                if conftest in self.files:
                    self.files[conftest].pinned_wanted = True
            self.conftests[file.path] = [c for c in found if c in self.files]

    def wanted(self) -> list[File]:
        """The files to summarise: those that use the API, and those that import one of them,
        directly or through other project modules."""
        wanted = {path for path, file in self.files.items() if file.uses_api}
        conftests = {path for path, file in self.files.items() if file.pinned_wanted and file.uses_api}
        importers: dict[str, list[str]] = {}
        for path, file in self.files.items():
            for imported in file.imports:
                importers.setdefault(imported, []).append(path)
        frontier = list(wanted)
        while frontier:
            for importer in importers.get(frontier.pop(), ()):
                if importer not in wanted:
                    wanted.add(importer)
                    frontier.append(importer)
        # what the code handed to children may call: the modules the API's users import, and
        # theirs (their work and the state they change are asked of them)
        frontier = [path for path, file in self.files.items() if file.uses_api]
        while frontier:
            for imported in self.files[frontier.pop()].imports:
                if imported not in wanted and imported in self.files:
                    wanted.add(imported)
                    frontier.append(imported)
        # a module that uses the API but imports no project module and that nothing imports
        # gains nothing from a summary
        return [
            self.files[path]
            for path in sorted(wanted)
            if self.files[path].imports or path in importers or path in conftests
        ]

    def link(self) -> None:
        modules = {
            path: Module(self.files[path].ref, self.files[path].project, summary)
            for path, summary in self.summaries.items()
        }
        self._linked = Linked(modules)

    def facts_for(self, path: str) -> ProjectFacts:
        if self._linked is None:
            return NO_PROJECT_FACTS
        key = os.path.abspath(path)
        return self._linked.facts_for(key, self.conftests.get(key, []))


def _read(path: str) -> bytes | None:
    try:
        if not os.path.isfile(path):  # a FIFO or a device must not block the run
            return None
        with open(path, "rb") as file:
            return file.read(_MAX_SCANNED_BYTES + 1)
    except OSError:
        return None


def _is_test_module(path: str) -> bool:
    """pytest's default `python_files`: `test_*.py` and `*_test.py`."""
    name = os.path.basename(path)
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))
