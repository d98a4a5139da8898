"""Files mplint keeps beside its own bytecode between runs, as Python keeps that: one marshal file
per Python version (its cache tag) in a package's `__pycache__`, read back only whole and only
as written, and never written where Python writes no bytecode (`sys.dont_write_bytecode`).

They hold what is costly to make at every start and cheap to check: the code `dataclasses`
generates for LibCST's and mplint's classes (`dataclass_code.py`) and the rules' metadata
(`rules/__init__.py`). Whatever cannot be read or written is made again; nothing here raises.
"""

from __future__ import annotations

import marshal
import os
import sys

TYPE_CHECKING = False  # (typing is not imported: this is read at every start)
if TYPE_CHECKING:
    from typing import Callable


def path_of(folder: str, name: str) -> str | None:
    """Where `name` is kept in `folder` (a `__pycache__`) for this Python; None: it keeps no
    bytecode (no cache tag)."""
    tag = sys.implementation.cache_tag
    return None if tag is None else os.path.join(folder, f"{name}.{tag}.marshal")


def read(path: str, header: Callable[[], bytes] = bytes) -> object | None:
    """What `write` kept at `path` after the bytes `header()` gives (asked only once the file is
    read); None: nothing kept, another header, or not readable as marshal data."""
    try:
        with open(path, "rb") as file:
            data = file.read()
        start = header()
        if data[: len(start)] != start:
            return None
        return marshal.loads(data[len(start):])
    except (OSError, ValueError, EOFError, TypeError):
        return None


def write(path: str, value: object, header: bytes = b"") -> None:
    """Keep `value` at `path` after `header`, written whole; not where Python writes no bytecode,
    nor where it cannot be written (ValueError: a value marshal cannot write)."""
    if sys.dont_write_bytecode:
        return
    from mplint.whole_files import write_whole

    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_whole(path, header + marshal.dumps(value))
    except (OSError, ValueError):
        pass
