"""Fixing files on disk for `--fix` and `--diff`: read as Python would, fix, write back whole.

A file is written in its own encoding (a UTF-8 BOM kept) through a temporary file in its folder
that replaces it in one rename, with the file's permissions, so an interrupted run never leaves
half a file.
"""

from __future__ import annotations

import difflib
import io
import os
import tokenize
from collections.abc import Collection
from dataclasses import dataclass

from mplint.findings import FileError, FileResult
from mplint.fixes.apply import FixOutcome, fix_source
from mplint.fixes.edits import split_lines
from mplint.options import RuleOptions
from mplint.source import SourceError, decode
from mplint.whole_files import write_whole


@dataclass
class FixedFile:
    path: str
    outcome: FixOutcome
    #: how to write the fixed text back: the file's encoding and whether it starts with a BOM
    encoding: str = "utf-8"
    bom: bool = False

    def encoded(self) -> bytes:
        data = self.outcome.source.encode(self.encoding)
        return ("\ufeff".encode(self.encoding) if self.bom else b"") + data


def fix_bytes(
    data: bytes, path: str, codes: Collection[str], options: RuleOptions, unsafe: bool
) -> FixedFile | FileResult:
    """The fixes of one file's bytes; a `FileResult` with the error when it cannot be decoded."""
    try:
        text = decode(data)
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SourceError as error:
        return FileResult(path, error=FileError(path, error.message, error.line, error.column))
    bom = encoding == "utf-8-sig"
    outcome = fix_source(text, path, codes=codes, options=options, unsafe=unsafe)
    return FixedFile(path, outcome, "utf-8" if bom else encoding, bom)


def write_atomically(path: str, data: bytes) -> None:
    """Replace the file at `path` by `data` in one rename, keeping its permissions."""
    write_whole(os.path.abspath(path), data, mode=os.stat(path).st_mode & 0o7777)


def unified_diff(path: str, old: str, new: str) -> str:
    """What `--diff` prints for one file."""
    lines = difflib.unified_diff(split_lines(old), split_lines(new), fromfile=path, tofile=path)
    out = []
    for line in lines:
        out.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(out)
