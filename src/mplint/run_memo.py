"""The memo of a whole run over a project: the results the project side gave the named files,
keyed by the named files alone, so that a warm run with nothing changed neither builds the
project's session nor imports it.

`project/memo.py` keys what the link tells each file by the session (every module reached, how
the resolver placed it, what it imports); building that session is most of what is left of a
warm run. This memo is keyed by what a run knows before it: the linter and the rule options (the
cache's salt), whether it builds fixes, the working folder, and each named file's path, the hash
of its bytes (from the stat-keyed index, without reading it), its enabled codes and whether it
uses the API. Everything else the project side read is recorded in the entry and checked on a
look-up, by the stat index and the file system, without re-deriving the session:

- each project module the session read that no path named (its hash, or that it could not be
  read): an edit of one, or one that went away, is a miss;
- each project's `pyproject.toml` (its `[tool.mplint] src` moves the source roots);
- every folder listing the resolver read (by a hash of its names) and every "is it a folder?" it
  answered: a module added beside the others, a package that shadows a module, a folder renamed,
  a `pyproject.toml` or `.git` put above a file (a new project root) change one.

The entry holds each named file's final result (its check with what its project told it, or
without when that stands), so a hit reads no other cache entry. It is written only when every
result of the run could be kept in the cache and no named file changed while the run read it;
one that cannot be read, or has another shape, is a miss, never a wrong result.
"""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from mplint import listings as folder_views
from mplint.file_index import FileIndex, SourceFile
from mplint.findings import FileResult

if TYPE_CHECKING:
    from mplint.project.session import Session

FORMAT = "1"
_FIELDS = frozenset({"run memo", "modules", "configs", "listings", "dirs", "results"})

#: a named file of the run: (path as given, its file, its enabled codes, it uses the API)
Named = tuple[str, SourceFile, frozenset[str], bool]
Reader = Callable[[str], "bytes | FileResult"]
#: what the project side read besides the named files, for the command memo
#: (`command_memo.Record.project`): each file it read (a module no path named, a project's
#: `pyproject.toml`), each `pyproject.toml` that is not a file, each folder listing (its names)
#: and each "is it a folder?" answer; None: it cannot be told (something changed meanwhile)
Reads = "tuple[dict[str, SourceFile], list[str], dict[str, frozenset[str]], dict[str, bool]] | None"


class RunMemo:
    """Reads and writes the memo in the cache (`store`: `key`, `get_data`, `put_data`,
    `result_data`, `result_of`)."""

    def __init__(self, store: Any, options: object, fixes: bool = True) -> None:
        self._store = store
        self._options = options
        self._fixes = fixes
        self._found: dict[str, Any] | None = None  # the entry of the last hit

    def key(self, named: Sequence[Named]) -> str | None:
        """The key of the named files as they are now (None: one cannot be read)."""
        joined: dict[frozenset[str], str] = {}
        parts = [FORMAT, "fixes" if self._fixes else "no fixes", os.getcwd()]
        for path, source, codes, uses_api in named:
            digest = source.digest
            if digest is None:
                return None
            codes_text = joined.get(codes)
            if codes_text is None:
                codes_text = joined[codes] = ",".join(sorted(codes))
            parts.append(f"{path}\0{digest}\0{codes_text}\0{int(uses_api)}")
        text = "\n".join(parts).encode("utf-8", "surrogatepass")
        return self._store.key(hashlib.sha256(text).hexdigest(), "\0run memo", (), self._options, "\0run")

    def get(
        self, key: str, index: FileIndex | None, reader: Reader, opened: dict[str, SourceFile] | None = None
    ) -> dict[str, FileResult] | None:
        """The named files' results (by path as given) the entry holds, if everything it
        recorded still stands; a named file it holds none for keeps its prefilter's result.
        `opened` receives the project modules read to tell (on a miss, the session reads none
        of them twice)."""
        data = self._store.get_data(key)
        try:
            found = _results(data, index, reader, self._store.result_of, {} if opened is None else opened)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
            return None
        self._found = data if found is not None else None
        return found

    def reads(self, index: FileIndex | None, reader: Reader, opened: dict[str, SourceFile]) -> Reads:
        """What the last hit's entry recorded, as the project side's reads (`opened`: the
        modules its look-up read): the listings as their names today, which must still be
        those it recorded."""
        data = self._found
        if data is None:
            return None
        configs: dict[str, SourceFile] = {}
        for path, seen in data["configs"].items():
            if seen is not None:
                source = configs[path] = SourceFile(path, reader, index)
                if source.digest != seen:
                    return None
        folders = {folder: folder_views.listing(folder) for folder in data["listings"]}
        if any(folder_views.digest(names) != data["listings"][folder] for folder, names in folders.items()):
            return None
        absent = [path for path, seen in data["configs"].items() if seen is None]
        return {**opened, **configs}, absent, folders, dict(data["dirs"])

    def put(
        self, key: str, named: Sequence[Named], session: Session, results: Mapping[str, FileResult],
        index: FileIndex | None, reader: Reader,
    ) -> None:
        """Memoise the run: `results` are the named files' results the project side decided."""
        if self.key(named) != key:
            return  # a named file changed while the run read it: its results are of other bytes
        listings, dirs = folder_views.recorded(*session.projects.folders.seen())
        modules = {path: source.digest for path, source in sorted(session.opened.items())}
        configs = {
            path: _config_digest(path, index, reader)
            for path in sorted(os.path.join(root, "pyproject.toml") for root in session.projects.by_root())
        }
        self._store.put_data(key, {
            "run memo": FORMAT,
            "modules": modules,
            "configs": configs,
            "listings": listings,
            "dirs": dirs,
            "results": {path: self._store.result_data(result) for path, result in sorted(results.items())},
        })


def session_reads(session: Session, index: FileIndex | None, reader: Reader) -> Reads:
    """What the session read besides the named files, as `RunMemo.reads` tells it of a hit."""
    listings, dirs = session.projects.folders.seen()
    files = dict(session.opened)
    absent = []
    for root in session.projects.by_root():
        path = os.path.join(root, "pyproject.toml")
        if os.path.isfile(path):
            files[path] = SourceFile(path, reader, index)
        else:
            absent.append(path)
    return files, absent, listings, dirs


def _config_digest(path: str, index: FileIndex | None, reader: Reader) -> str | None:
    """The hash of a project's `pyproject.toml` (None: it has none), which the resolver reads
    for `[tool.mplint] src` when it is a file."""
    return SourceFile(path, reader, index).digest if os.path.isfile(path) else None


def _results(
    data: object, index: FileIndex | None, reader: Reader, result_of: Any, opened: dict[str, SourceFile]
) -> dict[str, FileResult] | None:
    if not isinstance(data, dict) or data.keys() != _FIELDS or data["run memo"] != FORMAT:
        return None
    modules, configs, listings, dirs, results = (data[name] for name in ("modules", "configs", "listings", "dirs",
                                                                         "results"))
    if not all(isinstance(table, dict) for table in (modules, configs, results)):
        return None
    if not folder_views.still_seen(listings, dirs):
        return None
    for path, seen in configs.items():
        if not (seen is None or type(seen) is str) or _config_digest(path, index, reader) != seen:
            return None  # `src` may have changed
    for path, seen in modules.items():
        if not (seen is None or type(seen) is str):
            return None
        source = opened[path] = SourceFile(path, reader, index)
        if source.digest != seen:
            return None  # edited, gone, or readable again
    found: dict[str, FileResult] = {}
    for path, entry in results.items():
        result = result_of(entry, path)
        if result is None:
            return None
        found[path] = result
    return found
