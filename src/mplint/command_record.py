"""What a run read, as it read it, for the memo of the whole command (`command_memo.py`): the
command memo starts a record before the command line runs, the command line (`recording`) and
the runner fill it, and the memo stores it with the run's output once the run is over.

Apart from `command_memo.py` so that the command line, which the memo runs, does not import the
memo back. Imports nothing beyond `os` and `observed.py`.
"""

from __future__ import annotations

import os

from mplint import observed

TYPE_CHECKING = False  # (typing is not imported: the memo's answer imports this module)
if TYPE_CHECKING:
    from typing import Any

    from mplint.cache import Cache
    from mplint.file_index import SourceFile

_CURRENT: Record | None = None


def start(record: Record | None) -> Record | None:
    """The record of the run about to start (None: the run is over, or not recorded)."""
    global _CURRENT
    _CURRENT = record
    return record


def recording(cache: Cache | None, config_path: str | None, reads_only: bool) -> Record | None:
    """The record of this run, which the command line and the runner fill (None: it is not
    recorded). `cache` is the run's (None: no cache), `config_path` the settings' file;
    `reads_only` false: the run reads standard input or writes files, and is not memoised."""
    record = _CURRENT
    if record is None:
        return None
    if cache is None or not reads_only:
        record.refuse()
        return None
    record.begin(cache, config_path)
    return None if record.refused else record


class Record:
    """What a run read, as it read it: the `pyproject.toml` files up to the one in use (read
    before the run: one changed meanwhile is then a miss), what discovery saw, each file checked
    or read by the project side (`file`, `project`), the project side's listings and answers."""

    def __init__(self, key: str, folders: list[str], chain: list[tuple[str, bytes | None]], config: str | None,
                 code: Any) -> None:
        self.key, self._folders, self.chain, self.config, self.code = key, folders, chain, config, code
        self.seen = observed.Seen()
        self._files: dict[str, tuple[int, int, int, int, str]] = {}
        self._absent: list[str] = []
        self._listings: dict[str, frozenset[str]] = {}
        self._dirs: dict[str, bool] = {}
        self.cache: Any = None
        #: the cache folder the run used, when the memo's look-up looks there (None: not yet)
        self.folder: str | None = None
        #: the cache folder, when it did not exist as the run began (the run makes it)
        self._made: str | None = None
        self.refused = False
        self.finished = False

    def refuse(self) -> None:
        self.refused = True

    def begin(self, cache: Cache, config_path: str | None) -> None:
        """The run's cache and settings file are known: it is memoised in the cache's folder only
        if the look-up looks there, and with the `pyproject.toml` files up to the one in use."""
        folder = os.path.abspath(cache.folder)
        if folder not in self._folders:
            self.refuse()
            return
        if config_path is not None:
            paths = [path for path, _ in self.chain]
            if config_path not in paths:
                self.refuse()
                return
            self.chain = self.chain[:paths.index(config_path) + 1]
        elif self.config is not None:
            self.refuse()  # (--config names a file the settings did not use)
            return
        self.folder, self.cache = folder, cache
        if not os.path.lexists(folder):
            self._made = folder

    def file(self, path: str, source: SourceFile) -> None:
        """A file the run checked or read, as it read it."""
        stamp = source.stamp()
        if stamp is None:
            self.refuse()  # it could not be read: why may change without its stat showing it
        else:
            self._files[path] = stamp

    def project(self, reads: Any) -> None:
        """What the project side read besides the named files (`run_memo.Reads`)."""
        if reads is None:
            self.refuse()
            return
        files, absent, folders, dirs = reads
        for path, source in files.items():
            self.file(path, source)
        self._absent += absent
        self._listings.update(folders)
        self._dirs.update(dirs)

    def finish(self, progress_shown: bool = False) -> None:
        """The run is over, and wrote nothing that depends on time (a progress line)."""
        if progress_shown:
            self.refuse()
        self.finished = True

    def kept(self) -> tuple[Any, ...]:
        """What the memo's look-up checks again (`command_memo._holds`)."""
        seen = self.seen.record()
        listings = self._listings
        made = _inert_made(self._made)
        if made is not None:  # listed before the run made it: as a run now lists it
            parent, name = os.path.split(made)
            walked = dict(seen[0])  # (by each folder's path as discovery walked it: relative, or not)
            for folder, entries in walked.items():
                if os.path.abspath(folder) == parent and all(entry[0] != name for entry in entries):
                    walked[folder] = sorted([*entries, (name, True, False)])
            seen = (walked, *seen[1:])
            if parent in listings and name not in listings[parent]:
                listings = {**listings, parent: listings[parent] | {name}}
        return (self.code, self.chain, seen, self._files, self._absent, listings, self._dirs)


def _inert_made(folder: str | None) -> str | None:
    """The cache folder the run made, if what the run read cannot depend on whether it is there:
    a folder discovery never walks into (the default `.mplint_cache`, `discovery.SKIPPED_FOLDERS`)
    and whose name no import or project root marker names (not an identifier, not a marker). A
    run that made it listed its parent before it was there; a run now lists it there, and reads
    the same (an entry recorded otherwise misses once, on the first look-up after a cold run)."""
    if folder is None or not os.path.isdir(folder) or os.path.islink(folder):
        return None
    from mplint.discovery import is_skipped_folder
    from mplint.project.resolver import ROOT_MARKERS

    name = os.path.basename(folder)
    if name.isidentifier() or name in ROOT_MARKERS or not is_skipped_folder(name):
        return None
    return folder
