"""Which files a run checks: the named files, and under the named folders the *.py files and the
scripts without a suffix whose first line is a Python shebang (as pre-commit's file types see them)."""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable

from mplint.cache_folder import DEFAULT_FOLDER
from mplint.findings import FileError
from mplint.observed import entries, first_line

if TYPE_CHECKING:
    from mplint.observed import Seen

# Folders that hold no code of the project (tooling, environments, build output, mplint's own
# cache). Always skipped when walking, so an `exclude` setting cannot make a run wander into a
# virtualenv by accident.
SKIPPED_FOLDERS = frozenset({
    ".git", ".hg", ".venv", "venv", ".tox", ".nox", "build", "dist",
    "__pycache__", "node_modules", "site-packages", ".eggs", DEFAULT_FOLDER,
})
SKIPPED_FOLDER_GLOBS = ("*.egg-info",)


def is_skipped_folder(name: str) -> bool:
    return name in SKIPPED_FOLDERS or any(fnmatch.fnmatchcase(name, g) for g in SKIPPED_FOLDER_GLOBS)


_PYTHON_SHEBANG = re.compile(rb"^#!\s*\S*(?:/|\s)(?:env\s+(?:-\S+\s+)*)?python[0-9.]*(?:\s|$)")


def is_python_script(path: str) -> bool:
    """An extensionless regular file whose first line is `#!/usr/bin/env python3` or the like."""
    return _is_shebang(first_line(path))


def _is_shebang(line: bytes | None) -> bool:
    return line is not None and _PYTHON_SHEBANG.match(line) is not None


@dataclass
class Discovered:
    files: list[str] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    #: the paths given that hold no file to check (said on stderr; not an error)
    empty: list[str] = field(default_factory=list)


def _walk(
    root: str, excluded: Callable[[str], bool], errors: list[FileError], observe: Seen | None = None
) -> Iterable[tuple[str, str]]:
    """Each file to check under `root`, with the real path that identifies it: folders top-down,
    each one's files sorted before its subfolders (sorted), as `os.walk` orders them.

    Symlinked folders are not followed: that is how a walk loops or leaves the project. So the
    real path of every folder below `root` is its parent's with its name added: one `realpath`
    per walk (of `root`), and one per file only for a symlink (`os.scandir`'s entries tell a link
    without a system call; `os.walk` and `os.path.islink` cost one `lstat` per folder and file).
    `observe` keeps what it read (`observed.py`)."""
    realpath = observe.realpath if observe is not None else os.path.realpath

    def unreadable(exc: OSError) -> None:  # a folder we cannot list must not vanish silently
        errors.append(FileError(exc.filename or root, f"cannot read folder: {exc.strerror or exc}"))

    stack: list[tuple[str, str | None]] = [(root, None)]
    while stack:
        folder, real_folder = stack.pop()
        folders: list[tuple[str, bool]] = []
        files: list[tuple[str, bool]] = []
        try:
            listed = entries(folder)
        except OSError as exc:
            if observe is not None:
                observe.failed = True
            unreadable(exc)
            continue
        if observe is not None:
            observe.listings[folder] = sorted(listed)
        for name, is_dir, link in listed:
            (folders if is_dir else files).append((name, link))
        for name, link in sorted(files):
            path = os.path.join(folder, name)
            if excluded(path):
                continue
            if not name.endswith(".py"):
                if "." in name:
                    continue
                line = first_line(path)
                if observe is not None:
                    observe.lines[path] = line
                if not _is_shebang(line):
                    continue
            if link:
                key = realpath(path)
            else:
                real_folder = real_folder or realpath(folder)
                key = os.path.join(real_folder, name)
            yield os.path.normpath(path), key
        below = [
            name for name, link in sorted(folders)
            if not link and not is_skipped_folder(name) and not excluded(os.path.join(folder, name))
        ]
        real = real_folder or (realpath(folder) if below else None)
        stack.extend((os.path.join(folder, name), os.path.join(real, name) if real else None)
                     for name in reversed(below))


def discover(
    paths: Iterable[str],
    excluded: Callable[[str], bool] = lambda path: False,
    *,
    force_excluded: Callable[[str], bool] | None = None,
    observe: Seen | None = None,
) -> Discovered:
    """Files to check, in the order the paths were given and sorted within each folder.

    A file named explicitly is checked whatever its suffix and the excludes, unless
    `force_excluded` (the excludes applied to named paths and their folders, for tools such as
    pre-commit that name every file) says otherwise; a folder named explicitly is walked even if
    its own name would be skipped. Each file is listed once. `observe` keeps what it read of the
    file system (`observed.py`).
    """
    found = Discovered()
    realpath = observe.realpath if observe is not None else os.path.realpath
    seen: set[str] = set()
    for path in paths:
        if force_excluded is not None and force_excluded(path):
            continue
        errors_before = len(found.errors)
        is_dir = os.path.isdir(path)
        exists = is_dir or os.path.lexists(path)
        if observe is not None:
            observe.kinds[path] = (is_dir, exists)
        if is_dir:
            candidates: Iterable[tuple[str, str]] = _walk(path, excluded, found.errors, observe)
        elif exists:  # a broken symlink is reported when it cannot be read
            candidates = [(os.path.normpath(path), realpath(path))]
        else:
            found.errors.append(FileError(path, "no such file or directory"))
            continue
        listed = False
        for candidate, key in candidates:
            listed = True
            if key not in seen:
                seen.add(key)
                found.files.append(candidate)
        if not listed and len(found.errors) == errors_before:
            found.empty.append(path)
    return found
