"""Where nodes are in the source, as LibCST's PositionProvider says, at a fraction of its cost.

`MetadataWrapper(...).resolve(PositionProvider)` walks the tree once to collect metadata (rebuilding
every node) and then generates the code again, splitting every token with a regular expression and
allocating a position object per node: on a large file that costs about as much as the parse.
Here the code is generated once, counting characters, and character offsets become lines and
columns only for the nodes asked about. The ranges are the same as PositionProvider's: the
syntactic extent a node records for itself (a statement without its leading blank lines), else
everything its code generation emitted.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import CodePosition, CodeRange
from libcst._nodes.internal import CodegenState

_NEWLINE = re.compile(r"\r\n?|\n")


class _Record:
    """The `with state.record_syntactic_position(node)` block of one node."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: _OffsetState, node: cst.CSTNode, start_node: cst.CSTNode | None,
                 end_node: cst.CSTNode | None) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = self.state.offset

    def __exit__(self, exc_type: object, *exc_info: object) -> None:
        if exc_type is not None:
            # the code generation is unwinding (a RecursionError on deep code): the nodes inside
            # were never recorded, and looking them up would replace the error the engine retries
            # on with a KeyError
            return
        ranges = self.state.ranges
        start = ranges[id(self.start_node)][0] if self.start_node is not None else self.start
        end = ranges[id(self.end_node)][1] if self.end_node is not None else self.state.offset
        ranges[id(self.node)] = (start, end)


@dataclass
class _OffsetState(CodegenState):
    offset: int = 0
    starts: list[int] = field(default_factory=list)
    #: id(node) -> (start offset, end offset)
    ranges: dict[int, tuple[int, int]] = field(default_factory=dict)
    #: the module's own children (its header's lines, its statements, its footer's lines): id(node)
    #: -> (start offset, end offset) of all the code it generated, its leading lines included
    tops: dict[int, tuple[int, int]] = field(default_factory=dict)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.tokens.append(token)
            self.offset += len(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self.offset += len(value)

    def pop_trailing_newline(self) -> None:
        # Keep it: PositionProvider counts it too, and the offsets must match the text.
        pass

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.starts.append(self.offset)

    def after_codegen(self, node: cst.CSTNode) -> None:
        starts = self.starts
        start = starts.pop()
        self.ranges.setdefault(id(node), (start, self.offset))
        if len(starts) == 1:  # a child of the module
            self.tops[id(node)] = (start, self.offset)

    def record_syntactic_position(  # type: ignore[override]
        self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> _Record:
        return _Record(self, node, start_node, end_node)


#: what LibCST's code generation may leave out of the text it parsed: a space before a colon
#: (`except OSError :`), a line holding only a backslash, and similar layout
_DROPPABLE = frozenset(" \t\f\\\r\n")


def source_offsets(generated: str, source: str) -> list[int] | None:
    """For each character of `generated`, its offset in `source` (plus one entry for the end), when
    `generated` is `source` with some layout characters left out; None when it is not."""
    offsets = []
    at = 0
    for char in generated:
        while at < len(source) and source[at] != char:
            if source[at] not in _DROPPABLE:
                return None
            at += 1
        if at == len(source):
            return None
        offsets.append(at)
        at += 1
    offsets.append(len(source))
    return offsets


class Positions:
    """Positions of the nodes of one module (which must stay alive while this is used).

    With `source` (the text the module was parsed from), positions are those of Python's tokens in
    it, also where LibCST regenerates slightly different text.
    """

    def __init__(self, module: cst.Module, source: str | None = None) -> None:
        state = _OffsetState(default_indent=module.default_indent, default_newline=module.default_newline)
        module._codegen(state)
        self._ranges = state.ranges
        self._tops = state.tops
        self._generated = text = "".join(state.tokens)
        self._offsets = source_offsets(text, source) if source is not None and source != text else None
        if self._offsets is not None:
            text = source  # type: ignore[assignment]
        self._line_starts = [0, *(match.end() for match in _NEWLINE.finditer(text))]

    def top_level_code(self, node: cst.CSTNode) -> str | None:
        """The code the module generates for one of its own children (a statement of its body
        with its leading lines, a line of its header or footer), as `module.code_for_node` would
        give it; None for any other node."""
        found = self._tops.get(id(node))
        return self._generated[found[0]:found[1]] if found is not None else None

    def _position(self, offset: int) -> CodePosition:
        line = bisect_right(self._line_starts, offset)
        return CodePosition(line, offset - self._line_starts[line - 1])

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        start, end = self._ranges[id(node)]
        if self._offsets is not None:
            # the start is where the first character went, the end just after the last one
            start, end = self._offsets[start], (self._offsets[end - 1] + 1 if end > start else self._offsets[start])
        return CodeRange(self._position(start), self._position(end))
