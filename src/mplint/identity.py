"""What tells one build of the linter from another: the times of its own source files and
LibCST's version file, read without importing LibCST. The cache keys every entry by them
(`cache.py`, with the Python version); the command memo checks them again before it answers a
run (`command_memo.py`). Imports nothing beyond `os`: a memo's look-up reads them first.

Both are read once for a run's start (`at_start`), which the cache's fingerprint and the command
memo's record share; whether they changed while the run went on is read again (the functions)."""

from __future__ import annotations

import os

_AT_START: tuple[str, list[str]] | None = None


def at_start() -> tuple[str, list[str]]:
    """LibCST's version file and mplint's source stamps as this process first read them (read
    now if it has not)."""
    global _AT_START
    if _AT_START is None:
        _AT_START = libcst_version(), source_stamps()
    return _AT_START


def libcst_version() -> str:
    """LibCST's version file as text, read without importing LibCST (a run that finds every file
    in the cache never imports it)."""
    from importlib.machinery import PathFinder  # (importlib.util costs a run more)

    spec = PathFinder.find_spec("libcst")
    if spec is None or not spec.submodule_search_locations:
        return "?"
    folder = next(iter(spec.submodule_search_locations))
    try:
        with open(os.path.join(folder, "_version.py"), encoding="utf-8") as file:
            return f"{folder}\n{file.read()}"
    except OSError:
        return f"{folder}:?"


def source_stamps() -> list[str]:
    """Each source file of mplint with its modification time (`os.scandir`: pathlib's `rglob`
    costs a run several milliseconds more)."""
    stamps = []
    folders = [("", os.path.dirname(os.path.abspath(__file__)))]
    while folders:
        prefix, folder = folders.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.endswith(".py") and entry.is_file():
                    stamps.append(f"{prefix}{entry.name}:{entry.stat().st_mtime_ns}")
                elif entry.name != "__pycache__" and entry.is_dir():
                    folders.append((f"{prefix}{entry.name}/", entry.path))
    return sorted(stamps)
