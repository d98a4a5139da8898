"""Text edits: the smallest edits that turn one source into another, and applying edits to a source.

Lines end at `\\r\\n`, `\\r` or `\\n`, as Python and editors count them; columns count code points.
"""

from __future__ import annotations

import bisect
import difflib
import re
from typing import Iterable, Sequence

from mplint.fixes import Edit

_LINE_END = re.compile(r"\r\n|\r|\n")


class Lines:
    """Converts between offsets in a text and 1-based (line, column) positions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [match.end() for match in _LINE_END.finditer(text)]

    def position(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.starts, offset) - 1
        return index + 1, offset - self.starts[index] + 1

    def offset(self, line: int, column: int) -> int:
        if not 1 <= line <= len(self.starts):
            raise ValueError(f"line {line} is outside the text")
        offset = self.starts[line - 1] + column - 1
        if not self.starts[line - 1] <= offset <= len(self.text):
            raise ValueError(f"column {column} is outside line {line}")
        return offset


def edits_between(old: str, new: str) -> tuple[Edit, ...]:
    """Edits that turn `old` into `new`: changed runs of lines, trimmed to the characters that differ."""
    if old == new:
        return ()
    lines = Lines(old)
    old_lines = split_lines(old)
    new_lines = split_lines(new)
    old_starts = lines.starts[: len(old_lines)] + [len(old)]
    # the lines both begin and end with are left out of the matching, which costs the product
    # of the two lengths: a fix changes a few lines of a long module
    head, limit = 0, min(len(old_lines), len(new_lines))
    while head < limit and old_lines[head] == new_lines[head]:
        head += 1
    tail = 0
    while tail < limit - head and old_lines[-1 - tail] == new_lines[-1 - tail]:
        tail += 1
    matcher = difflib.SequenceMatcher(
        None, old_lines[head : len(old_lines) - tail], new_lines[head : len(new_lines) - tail], autojunk=False
    )
    edits = []
    new_offset = [0]
    for chunk in new_lines:
        new_offset.append(new_offset[-1] + len(chunk))
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        i1, i2, j1, j2 = i1 + head, i2 + head, j1 + head, j2 + head
        start, end = old_starts[i1], old_starts[i2]
        before, after = old[start:end], new[new_offset[j1] : new_offset[j2]]
        prefix = _common_prefix(before, after)
        suffix = _common_prefix(before[prefix:][::-1], after[prefix:][::-1])
        line, column = lines.position(start + prefix)
        end_line, end_column = lines.position(end - suffix)
        edits.append(Edit(line, column, end_line, end_column, after[prefix : len(after) - suffix]))
    return tuple(edits)


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """`text` with `edits` made; they must not overlap (see `overlapping`)."""
    lines = Lines(text)
    spans = sorted(
        ((lines.offset(e.line, e.column), lines.offset(e.end_line, e.end_column), e.text) for e in edits),
        key=lambda span: (span[0], span[1]),
    )
    out, at = [], 0
    for start, end, replacement in spans:
        if start < at or end < start:
            raise ValueError("overlapping edits")
        out += [text[at:start], replacement]
        at = end
    out.append(text[at:])
    return "".join(out)


def _key(edit: Edit) -> tuple[tuple[int, int], tuple[int, int]]:
    return (edit.line, edit.column), (edit.end_line, edit.end_column)


def overlapping(edits: Sequence[Edit], others: Sequence[Edit]) -> bool:
    """Whether an edit of one set touches an edit of the other (two insertions at one place do)."""
    for a in edits:
        a_start, a_end = _key(a)
        for b in others:
            b_start, b_end = _key(b)
            if a_start <= b_end and b_start <= a_end:
                return True
    return False


def split_lines(text: str) -> list[str]:
    parts, at = [], 0
    for match in _LINE_END.finditer(text):
        parts.append(text[at : match.end()])
        at = match.end()
    if at < len(text):
        parts.append(text[at:])
    return parts


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i
