"""Turning a file's bytes into text the way Python would, with errors a user can act on."""

from __future__ import annotations

import io
import tokenize


class SourceError(Exception):
    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def decode(data: bytes) -> str:
    """Decode as the interpreter does: a BOM or a PEP 263 coding line, else UTF-8."""
    if b"\0" in data:
        line = data.count(b"\n", 0, data.index(b"\0")) + 1
        raise SourceError("source contains a null byte; is this a Python file?", line)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        raise SourceError(f"cannot decode: {error.msg}") from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start : error.start + 1].hex()
        raise SourceError(
            f"cannot decode as {encoding}: byte 0x{byte} is invalid "
            "(save the file as UTF-8 or declare its encoding with a '# -*- coding: ... -*-' line)",
            line,
        ) from None
    return text.removeprefix("\ufeff")
