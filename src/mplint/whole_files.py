"""A file written whole: to a temporary file beside it, then renamed over it, so that a reader
(another run at the same time) sees the old file or the new one, never part of one. The cache's
entries, the stat index's folders, the kept dataclass code, the command memo's entries and the
files `--fix` rewrites are written so."""

from __future__ import annotations

import contextlib
import itertools
import os

#: tells apart the temporary files of one process (the process id, those of processes)
_serial = itertools.count()


def write_whole(path: str, data: str | bytes, mode: int = 0o600) -> None:
    """Write `data` (text as UTF-8) to `path`, whole or not at all, with the permissions `mode`:
    raises OSError, and leaves no temporary file behind. (No `tempfile`: its import costs a run
    that writes an entry more than the write.)"""
    folder = os.path.dirname(path) or os.curdir
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temporary = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.{next(_serial)}.tmp")
        try:
            handle = os.open(temporary, flags, 0o600)
            break
        except FileExistsError:  # left by a process that had this one's id: take the next name
            continue
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data.encode("utf-8") if isinstance(data, str) else data)
        if mode != 0o600:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:  # an interrupt included
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
