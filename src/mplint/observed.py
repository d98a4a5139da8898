"""What a run saw of the file system, kept so that a later run can tell whether it still shows
the same (`command_memo.py`, `file_index.py`).

A file's stat is trusted to tell that it did not change only when the file was last modified
more than `RACY_NS` (FAT's two seconds, the coarsest timestamp resolution in common use) before
the moment it was read: a file changed within that window can change again keeping its size and
time ("racily clean", as git says), and is read and hashed again.

Of discovery it keeps each folder's entries (name, folder or not, symlink or not),
the first line of each file without a suffix (whether it is a Python script), each real path
asked and, for each path named, whether it is a folder and whether it exists. Given the same
settings, discovery finds the same files exactly when all of these read the same again.

Discovery reads the file system through `entries` and `first_line`, and the command memo's
look-up through the same two, so there is one way to read each. Nothing here imports more than
`os`: a look-up that answers a run must stay cheaper than the run.
"""

from __future__ import annotations

import os
import stat

#: a stat is trusted only for a file last modified this long before it was read
RACY_NS = 2_000_000_000

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def stamp(status: os.stat_result) -> tuple[int, int, int]:
    """What tells a file's change: its size, modification time and inode (replaced by a rename)."""
    return (status.st_size, status.st_mtime_ns, status.st_ino)


def racily_clean(mtime_ns: int, seen_ns: int) -> bool:
    """A file modified at `mtime_ns` and read at `seen_ns` may have changed since without its
    stat showing it."""
    return mtime_ns > seen_ns - RACY_NS


def entries(folder: str) -> list[tuple[str, bool, bool]]:
    """Each entry of `folder`: its name, whether it is a folder (following a symlink), whether it
    is a symlink; OSError when the folder cannot be listed. `os.scandir`'s entries tell both
    without a system call per entry on most file systems."""
    found = []
    with os.scandir(folder) as listing:
        for entry in listing:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            found.append((entry.name, is_dir, entry.is_symlink()))
    return found


def first_line(path: str) -> bytes | None:
    """The first line (at most 256 bytes) of a regular file; None when `path` is not one or
    cannot be read. Only regular files are opened: a FIFO or a device would block the walk."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as file:
            return file.readline(256)
    except OSError:
        return None


class Seen:
    """What one discovery read (`discovery.discover(..., seen=Seen())`)."""

    def __init__(self) -> None:
        self.listings: dict[str, list[tuple[str, bool, bool]]] = {}
        self.lines: dict[str, bytes | None] = {}
        self.real: dict[str, str] = {}
        self.kinds: dict[str, tuple[bool, bool]] = {}
        #: a folder could not be listed (its error names the reason of that moment)
        self.failed = False

    def realpath(self, path: str) -> str:
        found = self.real[path] = os.path.realpath(path)
        return found

    def record(self) -> tuple[Any, ...]:
        return (self.listings, self.lines, self.real, self.kinds)


def still_seen(record: object) -> bool:
    """The file system shows today what `Seen.record` kept (a record of another shape does not)."""
    if not (isinstance(record, tuple) and len(record) == 4 and all(isinstance(part, dict) for part in record)):
        return False
    listings, lines, real, kinds = record
    for folder, seen in listings.items():
        try:
            if sorted(entries(folder)) != seen:
                return False
        except OSError:
            return False
    if any(first_line(path) != seen for path, seen in lines.items()):
        return False
    if any(os.path.realpath(path) != seen for path, seen in real.items()):
        return False
    return all((os.path.isdir(path), os.path.lexists(path)) == tuple(seen) for path, seen in kinds.items())
