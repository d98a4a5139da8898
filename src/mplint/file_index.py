"""What earlier runs learned about each file, found again by the file's `stat` alone.

A warm run would otherwise read and hash every file, run the prefilter over it and scan its
imports, only to find its result in the cache. The index maps a file's path to its size,
modification time and inode as they were when it was read, with the hash of its bytes and the
facts drawn from them (the prefilter's verdict for a set of rules, the names it imports). When
the three still match, the file is not read: its hash keys the cache as its bytes would.

It never serves a stale file. A file written in the same tick of the file system's clock as the
index read it can change again without its time changing ("racily clean", as git calls it): an
entry is trusted only when the file's modification time is more than `observed.RACY_NS` (the coarsest
common timestamp resolution, FAT's two seconds) before the moment the index read the file;
a file read sooner after its last change is not recorded at all, and is read and hashed again
by the next run. The size, the inode (a file replaced by a rename) and the time must all match;
anything else is a miss.

The index is a folder per linter version holding one small JSON file per folder of checked files
(a run over one file, an editor's, loads the entries of that file's folder and of the project
modules it reaches, not those of the whole tree). Each is read when first needed and written
whole at the end of a run if it changed (temporary file, then rename): concurrent runs cannot
corrupt one, the last one's view wins, and one that cannot be read is ignored (it costs a read of
the files of its folder, never a wrong result).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from mplint.findings import FileResult
from mplint.observed import racily_clean, stamp
from mplint.whole_files import write_whole

_FORMAT = 2


def content_digest(data: bytes) -> str:
    from mplint.digests import sha256_hex  # (imported by a run that hashes a file, as json by one that reads the index)

    return sha256_hex(data)


def _stamp(status: os.stat_result) -> list[int]:
    return list(stamp(status))


@dataclass
class Known:
    """One file as the index knows it: its hash and the facts drawn from its bytes (name ->
    a JSON value), which a run may add to."""

    digest: str
    facts: dict[str, Any] = field(default_factory=dict)
    #: when the index read the file (0: read by this run)
    seen: int = field(default=0, compare=False)


class FileIndex:
    def __init__(self, folder: str | os.PathLike[str], prepare: Callable[[str], None] | None = None) -> None:
        """`prepare(folder)` makes the index's folder before it is first written (the cache makes
        its own folder with the files that keep it out of version control)."""
        self.folder = os.fspath(folder)
        self._prepare = prepare
        #: the folder of checked files -> its files' entries (by file name)
        self._shards: dict[str, dict[str, list[Any]]] = {}
        self._changed: set[str] = set()

    def _shard_path(self, folder: str) -> str:
        from mplint.digests import sha256_hex

        name = sha256_hex(folder.encode("utf-8", "surrogatepass"))[:24]
        return os.path.join(self.folder, f"{name}.json")

    def _shard(self, folder: str) -> dict[str, list[Any]]:
        shard = self._shards.get(folder)
        if shard is None:
            shard = self._shards[folder] = _read_shard(self._shard_path(folder), folder)
        return shard

    def lookup(self, path: str, status: os.stat_result) -> Known | None:
        """What the index knows of the file at `path` (absolute, as `os.stat` sees it now), if it
        can be trusted: same size, time and inode, and not racily clean."""
        folder, name = os.path.split(path)
        entry = self._shard(folder).get(name)
        if entry is None or entry[0] != _stamp(status):
            return None
        seen, digest, facts = entry[1], entry[2], entry[3]
        if racily_clean(status.st_mtime_ns, seen):
            return None  # modified too close to when it was read: it may have changed since
        return Known(digest, facts, seen)

    def record(self, path: str, status: os.stat_result, seen_ns: int, known: Known) -> None:
        """Remember the file as read at `seen_ns` (taken before it was read), with the stat
        taken before it was read too; a file modified too shortly before is forgotten instead
        (its entry could never be trusted)."""
        folder, name = os.path.split(path)
        shard = self._shard(folder)
        if racily_clean(status.st_mtime_ns, seen_ns):
            if shard.pop(name, None) is not None:
                self._changed.add(folder)
            return
        shard[name] = [_stamp(status), seen_ns, known.digest, known.facts]
        self._changed.add(folder)

    def touched(self, path: str) -> None:
        """The entry of the file at `path` gained facts: write its folder's entries at the end."""
        folder, name = os.path.split(path)
        if name in self._shard(folder):
            self._changed.add(folder)

    def save(self) -> None:
        if not self._changed:
            return
        try:
            if self._prepare is not None:
                self._prepare(self.folder)
            else:
                os.makedirs(self.folder, exist_ok=True)
            import json

            for folder in sorted(self._changed):
                shard = {"format": _FORMAT, "folder": folder, "files": self._shards[folder]}
                write_whole(self._shard_path(folder), json.dumps(shard))
        except OSError:
            pass  # a read-only or full disk costs speed, never findings
        self._changed.clear()


def _read_shard(path: str, folder: str) -> dict[str, list[Any]]:
    """The entries of one folder's files; none when missing, damaged or of another folder."""
    import json

    try:
        with open(path, encoding="utf-8") as file:
            data = json.loads(file.read())
    except (OSError, ValueError, RecursionError):
        return {}
    if not (isinstance(data, dict) and data.get("format") == _FORMAT and data.get("folder") == folder
            and isinstance(data.get("files"), dict)):
        return {}
    return {name: value for name, value in data["files"].items() if _valid(value)}


def _valid(value: object) -> bool:
    return (
        isinstance(value, list) and len(value) == 4
        and isinstance(value[0], list) and len(value[0]) == 3 and all(type(v) is int for v in value[0])
        and type(value[1]) is int and type(value[2]) is str and isinstance(value[3], dict)
    )


def now_ns() -> int:
    return time.time_ns()


class SourceFile:
    """A file of the run: read only when its bytes are needed, its hash and facts taken from the
    index when the index can be trusted with it."""

    def __init__(
        self,
        path: str,
        reader: Callable[[str], bytes | FileResult],
        index: FileIndex | None = None,
        data: bytes | None = None,
    ) -> None:
        self.path = path
        self._reader = reader
        self._index = index
        self._data: bytes | FileResult | None = data
        self._status: os.stat_result | None = None
        self._known: Known | None = None
        self._seen = 0
        self._hashed = False
        #: the path as the index keys it (absolute), made once
        self._key = os.path.abspath(path) if index is not None else path
        if data is None and index is not None:
            self._seen = now_ns()
            try:
                self._status = os.stat(path)
            except OSError:
                self._status = None  # the read says why
            else:
                self._known = index.lookup(self._key, self._status)

    @classmethod
    def of_bytes(cls, path: str, data: bytes) -> SourceFile:
        """Text that is not (or not as it is on) disk: an editor's buffer, standard input."""
        return cls(path, _unreadable, None, data)

    @property
    def size(self) -> int | None:
        if self._known is not None and self._status is not None:
            return self._status.st_size
        data = self.data()
        return len(data) if isinstance(data, bytes) else None

    def data(self) -> bytes | FileResult:
        """The file's bytes, or why they cannot be had."""
        if self._data is None:
            self._data = self._reader(self.path)
        if self._index is not None:
            self._hash()  # what the index knew is checked against the bytes, or learned
        return self._data

    def _hash(self) -> None:
        if not isinstance(self._data, bytes) or self._hashed:
            return
        self._hashed = True
        digest = content_digest(self._data)
        if self._known is None or self._known.digest != digest:
            self._known = Known(digest)  # what the index knew, if anything, is of other bytes
            if self._index is not None and self._status is not None:
                self._index.record(self._key, self._status, self._seen, self._known)

    @property
    def readable(self) -> bool:
        """The index knows the file unchanged, or its bytes can be read."""
        return self._known is not None or isinstance(self.data(), bytes)

    @property
    def digest(self) -> str | None:
        """The hash of the file's bytes (None: they cannot be read); without an index, hashed only
        when asked (a run without a cache never asks)."""
        if self._known is None:
            self.data()
            self._hash()
        return self._known.digest if self._known is not None else None

    def stamp(self) -> tuple[int, int, int, int, str] | None:
        """What a later run checks the file against: its size, time and inode as they were when
        it was read, when that was (its index entry's, or this run's), and the hash of its bytes;
        None when it could not be read or is not on disk."""
        if self._status is None or self.digest is None or self._known is None:
            return None
        seen = self._known.seen or self._seen
        return (*stamp(self._status), seen, self._known.digest)

    def fact(self, name: str) -> Any:
        """A fact drawn from the bytes in an earlier run (None: not known)."""
        if self._known is None:
            return None
        return self._known.facts.get(name)

    def learn(self, name: str, value: Any) -> None:
        """Remember a fact drawn from the bytes, for the next run."""
        if self._known is not None and self._known.facts.get(name) != value:
            self._known.facts[name] = value
            if self._index is not None:
                self._index.touched(self._key)


def _unreadable(path: str) -> bytes | FileResult:  # pragma: no cover - of_bytes has its bytes
    raise AssertionError(path)
