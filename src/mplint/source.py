"""Turning a file's bytes into text the way Python would, with errors a user can act on."""

from __future__ import annotations

import io
import re
import tokenize


class SourceError(Exception):
    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def reads_as_ascii(data: bytes) -> bool:
    """`decode` gives the bytes as they are, one character each, and no error: they are ASCII
    without a null byte, and their first two lines (where Python looks for a coding line) do not
    say `coding`. A caller can then search the bytes for what it would search the text for, and
    decode only the few files it keeps (with `data.decode("ascii")`)."""
    if not data.isascii() or b"\0" in data:
        return False
    second = data.find(b"\n", data.find(b"\n") + 1)  # (-1 when there are fewer lines: all of it)
    return b"coding" not in (data if second < 0 else data[:second])


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


# A form feed in the indentation of a line: Python ignores it (and what precedes it) when it
# measures indentation; LibCST either drops it from the tree, shifting that line's columns, or
# refuses the line.
_FORM_FEED_INDENT = re.compile(r"^[ \t\f]*\f", re.MULTILINE)


def without_form_feed_indents(text: str) -> tuple[str, dict[int, int]]:
    """`text` with form feeds (and what precedes them) cut from indentations, for LibCST, and for
    each line so cut the number of characters cut: the columns to add back to positions on it."""
    if "\f" not in text:
        return text, {}
    shifts: dict[int, int] = {}
    line, counted_to = 1, 0

    def cut(match: re.Match[str]) -> str:
        nonlocal line, counted_to
        line += text.count("\n", counted_to, match.start())
        counted_to = match.start()
        shifts[line] = len(match.group())
        return ""

    return _FORM_FEED_INDENT.sub(cut, text), shifts
