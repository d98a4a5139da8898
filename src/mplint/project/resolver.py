"""Where the modules of a project are, found the way Python's import system finds them.

A project is the folder holding `pyproject.toml`, `setup.cfg`, `setup.py` or `.git`, nearest above a
file (else the folder of the path the run was given). Its source roots are the `src` setting of its
own `[tool.mplint]` table when there is one, else the root itself and `src/` beside it. A file
belongs to the first folder above it that is not a package (no `__init__.py`), as pytest and
`sys.path[0]` see a script: that folder comes first when its imports are resolved, then the
project's source roots.

Regular packages and modules win in the first folder where they are found; folders without
`__init__.py` are namespace packages, whose portions are gathered over every folder. Names of the
standard library are never taken for project modules (a project's `queue.py` does not shadow
`queue` here: precision before recall), and installed packages are not read: what is not found in
the project stays unknown. Neither are the forks of the standard library's multiprocessing
(`multiprocess`, `billiard`), even in their own source tree: like `multiprocessing`, they are the
library the API table describes, and their per-process machinery (finalizer registries, the
current process's state) is not project code whose changes a parent should see.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Iterable

from mplint.listings import listing, view
from mplint.project.scan import not_project

_NOT_PROJECT = not_project()

ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")
_MARKERS = frozenset(ROOT_MARKERS)
DEFAULT_SRC = (".", "src")
_MAX_PARTS = 32  # dotted names longer than this are nobody's module


@functools.cache
def _stdlib_folders() -> tuple[str, ...]:
    """The running interpreter's standard library: its files are never a project's modules (its
    `test` package, for one, is not in `sys.stdlib_module_names`). Looked up (`sysconfig`) the
    first time a file is placed in a project, not by every run that imports the resolver."""
    import sysconfig

    return tuple(
        sorted({os.path.join(f(sysconfig.get_paths()[key]), "") for key in ("stdlib", "platstdlib")
                for f in (os.path.abspath, os.path.realpath)})
    )


@dataclass(frozen=True)
class ModuleRef:
    """A project file as a module: its dotted name and the folders its absolute imports search."""

    path: str
    name: str
    #: the module is a package's `__init__.py`: its relative imports start from itself
    package: bool
    search: tuple[str, ...]

    @property
    def package_name(self) -> str:
        """The package relative imports start from."""
        return self.name if self.package else self.name.rpartition(".")[0]

    def absolute(self, qualname: str) -> str | None:
        """`..jobs.run` seen from this module as an absolute name, None if it leaves the top."""
        level = len(qualname) - len(qualname.lstrip("."))
        if not level:
            return qualname
        parts = self.package_name.split(".") if self.package_name else []
        if level - 1 > len(parts) or (level - 1 == len(parts) and not parts):
            return None
        base = parts[: len(parts) - (level - 1)]
        rest = qualname[level:]
        return ".".join([*base, rest] if rest else base) or None


class Folders:
    """Directory listings, read once each (a resolution asks the same folders many times)."""

    def __init__(self) -> None:
        #: what was asked of each folder (its whole listing, or a `view` of it) -> the answer
        self._entries: dict[str, frozenset[str]] = {}
        self._dirs: dict[str, bool] = {}
        self._listed: dict[str, frozenset[str]] = {}  # (each folder listed once, whatever is asked)

    def entries(self, folder: str) -> frozenset[str]:
        found = self._entries.get(folder)
        if found is None:
            found = self._entries[folder] = self._listing(folder)
        return found

    def among(self, folder: str, names: frozenset[str]) -> frozenset[str]:
        """The names among `names` the folder holds, recorded as that alone (`listings.view`)."""
        key = view(folder, names)
        found = self._entries.get(key)
        if found is None:
            found = self._entries[key] = self._listing(folder) & names
        return found

    def _listing(self, folder: str) -> frozenset[str]:
        found = self._listed.get(folder)
        if found is None:
            found = self._listed[folder] = listing(folder)
        return found

    def is_dir(self, path: str) -> bool:
        found = self._dirs.get(path)
        if found is None:
            found = self._dirs[path] = os.path.isdir(path)
        return found

    def seen(self) -> tuple[dict[str, frozenset[str]], dict[str, bool]]:
        """Every listing read and every "is it a folder?" answered so far."""
        return dict(self._entries), dict(self._dirs)

    def is_package(self, folder: str) -> bool:
        return "__init__.py" in self.entries(folder)


class Project:
    def __init__(self, root: str, src: Iterable[str] = DEFAULT_SRC, folders: Folders | None = None) -> None:
        self.root = root
        self.folders = folders or Folders()
        roots = []
        for entry in src:
            folder = os.path.normpath(os.path.join(root, entry))
            if folder not in roots and self.folders.is_dir(folder):
                roots.append(folder)
        self.roots = tuple(roots)
        self._modules: dict[tuple[tuple[str, ...], str], str | None] = {}
        self._tops: dict[tuple[str, ...], frozenset[str]] = {}

    def module_of(self, path: str) -> ModuleRef | None:
        """The file as a module of this project; None for a name of the standard library."""
        path = os.path.abspath(path)
        if path.startswith(_stdlib_folders()):
            return None
        folder, filename = os.path.split(path)
        stem = filename[:-3] if filename.endswith(".py") else filename
        parts = [] if stem == "__init__" else [stem]
        base = folder
        for _ in range(_MAX_PARTS):
            if not self.folders.is_package(base):
                break
            base, package = os.path.split(base)
            parts.insert(0, package)
        if not parts or not all(part.isidentifier() for part in parts) or parts[0] in _NOT_PROJECT:
            return None
        search = (base, *(root for root in self.roots if root != base))
        return ModuleRef(path, ".".join(parts), stem == "__init__", search)

    def find(self, name: str, search: tuple[str, ...]) -> str | None:
        """The file of module `name` (a `.py` file or a package's `__init__.py`), None when the
        project does not hold it (a namespace package has no file: it is None too)."""
        key = (search, name)
        if key not in self._modules:
            self._modules[key] = self._find(name.split("."), search)
        return self._modules[key]

    def _find(self, parts: list[str], search: tuple[str, ...]) -> str | None:
        if not parts or len(parts) > _MAX_PARTS or parts[0] in _NOT_PROJECT:
            return None
        folders: list[str] = list(search)
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            portions: list[str] = []
            found: str | None = None
            for folder in folders:
                entries = self.folders.entries(folder)
                candidate = os.path.join(folder, part)
                if part in entries and self.folders.is_package(candidate):
                    found = candidate
                    break
                if f"{part}.py" in entries:
                    if not last:
                        return None  # a module has no submodules
                    return os.path.join(folder, f"{part}.py")
                if part in entries and self.folders.is_dir(candidate):
                    portions.append(candidate)
            if found is not None:
                if last:
                    return os.path.join(found, "__init__.py")
                folders = [found]
            elif portions:
                if last:
                    return None  # a namespace package: no code of its own
                folders = portions
            else:
                return None
        return None

    def top_names(self, search: tuple[str, ...]) -> frozenset[str]:
        """The top-level modules and packages a module searching `search` can import from the
        project (standard library names left out)."""
        key = ("", *search)
        found = self._tops.get(key)
        if found is None:
            names = set()
            for folder in search:
                for entry in self.folders.entries(folder):
                    name = entry[:-3] if entry.endswith(".py") else entry
                    if name.isidentifier() and name not in _NOT_PROJECT and (
                        entry.endswith(".py") or self.folders.is_dir(os.path.join(folder, entry))
                    ):
                        names.add(name)
            found = self._tops[key] = frozenset(names)
        return found

    def locate(self, qualname: str, importer: ModuleRef) -> tuple[str, str] | None:
        """The project file a qualified name seen from `importer` lives in, and the name inside
        it: `app.jobs.run_all` -> (`.../app/jobs.py`, `run_all`). The longest module wins."""
        absolute = importer.absolute(qualname)
        if absolute is None:
            return None
        parts = absolute.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            path = self.find(".".join(parts[:cut]), importer.search)
            if path is not None:
                return path, ".".join(parts[cut:])
        return None


class Projects:
    """The projects of one run, each found once: every path resolves within its own root."""

    def __init__(self, start: str | None = None) -> None:
        self.folders = Folders()
        self._by_root: dict[str, Project] = {}
        self._root_of: dict[str, str] = {}
        self._start = os.path.abspath(start) if start else None

    def by_root(self) -> dict[str, Project]:
        """The projects found so far, by root."""
        return dict(self._by_root)

    def for_path(self, path: str) -> Project:
        folder = os.path.dirname(os.path.abspath(path))
        root = self._root(folder)
        project = self._by_root.get(root)
        if project is None:
            project = self._by_root[root] = Project(root, _src_setting(root), self.folders)
        return project

    def _root(self, folder: str) -> str:
        seen = []
        current = folder
        root = None
        while True:
            known = self._root_of.get(current)
            if known is not None:
                root = known
                break
            seen.append(current)
            if self.folders.among(current, _MARKERS):  # (a folder above the project: its markers only)
                root = current
                break
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        if root is None:  # no marker anywhere above: the folder the run was pointed at
            root = self._start if self._start and folder.startswith(self._start) else folder
        for each in seen:
            self._root_of[each] = root
        return root


def _src_setting(root: str) -> tuple[str, ...]:
    """The `src` of the project's own `[tool.mplint]`, else the defaults."""
    path = os.path.join(root, "pyproject.toml")
    if not os.path.isfile(path):
        return DEFAULT_SRC
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError:
        return DEFAULT_SRC  # (as `read_config`'s error)
    if b"mplint" not in data and b"\\" not in data:
        # no [tool.mplint] table: its name is in the text, unless written with escapes (a
        # quoted key's `\u006d`), so no TOML is read (the reader's import and the parse, a few
        # milliseconds of every run that places a file in a project with a pyproject.toml)
        return DEFAULT_SRC
    from mplint.config import ConfigError, read_config

    try:
        table = read_config(path)
    except ConfigError:
        return DEFAULT_SRC  # a broken or absent table is reported where the run loads settings
    src = table.get("src")
    return tuple(src) if src else DEFAULT_SRC
