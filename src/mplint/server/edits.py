"""Text changes as the smallest LSP edit: editors keep the cursor and the undo history sane when
only the changed lines are replaced, not the whole buffer."""

from __future__ import annotations

from lsprotocol import types


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def smallest_edit(old: str, new: str) -> types.TextEdit | None:
    """One edit that turns `old` into `new`, replacing whole lines from the first that differs to
    the last that differs; None when they are equal. Positions count lines and characters of
    `old` in code points (the caller converts them to the client's units)."""
    if old == new:
        return None
    before, after = _lines(old), _lines(new)
    start = 0
    while start < min(len(before), len(after)) and before[start] == after[start]:
        start += 1
    end_before, end_after = len(before), len(after)
    while end_before > start and end_after > start and before[end_before - 1] == after[end_after - 1]:
        end_before -= 1
        end_after -= 1
    if end_before == len(before) and before and not before[-1].endswith(("\n", "\r")):
        # the last line has no line end: the edit ends at its last character
        end = types.Position(line=len(before) - 1, character=len(before[-1]))
    else:
        end = types.Position(line=end_before, character=0)
    return types.TextEdit(
        range=types.Range(start=types.Position(line=start, character=0), end=end),
        new_text="".join(after[start:end_after]),
    )
