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

from mplint.file_index import FileIndex, SourceFile
from mplint.findings import FileResult
from mplint.project.asked import Asked
from mplint.closure import closure
from mplint.project.link import Linked, Module
from mplint.project.resolver import ModuleRef, Project, Projects
from mplint.project.scan import is_test_module, may_import_project, names_of, project_imports
from mplint.project.summary import CONFTEST, Names, Summary, shared_names, words
from mplint.project.told import NO_PROJECT_FACTS, ProjectFacts

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
    #: the file's bytes, read when needed (`file_index.py`)
    origin: SourceFile
    #: it uses a multiprocessing API (the first step of the prefilter lets it through)
    uses_api: bool
    named: bool
    imports: set[str] = field(default_factory=set)
    #: a conftest.py of a named test module: summarised for the start method it may pin
    pinned_wanted: bool = False
    #: the text names a top-level module of the project or imports relatively (`scan.py`)
    may_import: bool = False

    @property
    def source(self) -> bytes:
        data = self.origin.data()
        return data if isinstance(data, bytes) else b""


class Session:
    def __init__(self, start: str | None = None, index: FileIndex | None = None) -> None:
        self.projects = Projects(start)
        #: what earlier runs learned of the modules read here (None: read every one)
        self.index = index
        self.files: dict[str, File] = {}
        self.summaries: dict[str, Summary | None] = {}
        #: named files that were checked while they were summarised (without project facts)
        self.local_results: dict[str, FileResult] = {}
        #: what the check of each of those asked of its project (`asked.py`)
        self.asked: dict[str, Asked] = {}
        #: each named test module -> the conftest.py files pytest loads for it, outermost first
        self.conftests: dict[str, list[str]] = {}
        #: every project module read that no path named, kept or not (`run_memo.py` records them)
        self.opened: dict[str, SourceFile] = {}
        #: project modules this run read before the session (the run memo's look-up): not again
        self.read_before: dict[str, SourceFile] = {}
        self._linked: Linked | None = None
        #: every module's result and summary was kept in the cache (none crashed): what the
        #: link tells the named files may be memoised (`memo.py`)
        self.complete = True

    def add(
        self, path: str, source: SourceFile | bytes, uses_api: bool, named: bool = True, reached: bool = False
    ) -> None:
        """`source`: the file (read when needed), or text that is not on disk as it is (an editor's
        buffer). `reached`: a module imported by another one, kept even when it imports nothing of
        the project, since a worker may call into it (`net.py` doing `requests.get`)."""
        key = os.path.abspath(path)
        if key in self.files:
            return
        if isinstance(source, bytes):
            source = SourceFile.of_bytes(path, source)
        size = source.size
        if size is None or size > _MAX_SCANNED_BYTES:
            return
        project = self.projects.for_path(key)
        ref = project.module_of(key)
        if ref is None:
            return
        imports = may_import_project(names_of(source), project.top_names(ref.search), bool(ref.package_name))
        if not uses_api and not imports and not named and not reached:
            return  # it can neither start processes nor reach code that does: never kept
        self.files[key] = File(key, path, ref, project, source, uses_api, named)
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
            file.imports = project_imports(names_of(file.origin), file.ref, file.project) - {file.path}
            for path in sorted(file.imports):
                if path in self.files or reached >= MAX_REACHED:
                    continue
                source = self._open(path)
                if not source.readable:
                    continue
                reached += 1
                self.add(path, source, _uses_api(source, uses_api), named=False, reached=True)
                if path in self.files:
                    queue.append(self.files[path])

    def add_conftests(self, uses_api: Callable[[bytes], bool]) -> None:
        """The `conftest.py` files pytest loads for each named test module, read and kept for a
        summary: one may pin the start method for the tests below it."""
        for file in [f for f in self.files.values() if f.named and is_test_module(f.path)]:
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
                    source = self._open(conftest)
                    if source.readable:
                        self.add(conftest, source, _uses_api(source, uses_api), named=False)
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
        wanted = closure(wanted, lambda path: importers.get(path, ()))
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

    def shared_names(self, wanted: list[File], recorded: dict[str, Summary | None]) -> dict[str, Names] | None:
        """For each file to summarise, the names its text shares with another's: only functions
        they may name are summarised (`summary.Names`); None: every function (a text may not be
        ASCII-compatible). `recorded`: the summaries found in the cache, which keep their
        module's words (the file is not read for them); None for a module that could not be
        parsed, which names nothing."""
        modules = {}
        for file in wanted:
            if file.path in recorded:
                summary = recorded[file.path]
                if summary is None:
                    continue
                if summary.words is not None:
                    modules[file.path] = (summary.words, file.ref.search)
                    continue
            found = words(file.source)
            if found is None:
                return None
            modules[file.path] = (found, file.ref.search)
        return shared_names(modules)

    def _open(self, path: str) -> SourceFile:
        """A project module that no path of the run named."""
        source = self.opened[path] = self.read_before.pop(path, None) or SourceFile(path, _read, self.index)
        return source

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


def _uses_api(source: SourceFile, uses_api: Callable[[bytes], bool]) -> bool:
    """The prefilter's first step on a module read for the project (not named)."""
    known = source.fact("api")
    if isinstance(known, bool):
        return known
    data = source.data()
    verdict = isinstance(data, bytes) and uses_api(data)
    source.learn("api", verdict)
    return verdict


def _read(path: str) -> bytes | FileResult:
    try:
        if not os.path.isfile(path):  # a FIFO or a device must not block the run
            return FileResult(path)
        with open(path, "rb") as file:
            return file.read()
    except OSError:
        return FileResult(path)
