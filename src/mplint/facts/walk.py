"""A faster way to visit a LibCST tree, for visitors that only read it.

`node.visit(visitor)` rebuilds every node it passes (LibCST's visit serves transformers too) and
looks up the handler by name for every node; that costs more than the parse itself. `Walker` is a
`CSTVisitor` with the same handlers (`visit_Call`, `leave_FunctionDef`, returning False to skip
the children), driven by `walker.walk(node)`: children are found from a per-class list of fields
read once from LibCST itself (so they come in source order), handlers from a per-class cache,
and nothing is rebuilt. The walk does not recurse, however deep the tree.

It skips what no rule reads: whitespace, comments, parentheses, commas and operator tokens.
A visitor that needs those must use `node.visit(visitor)`.
"""

from __future__ import annotations

import linecache
import re
import types
from typing import Callable

import libcst as cst

# Fields that hold only layout and punctuation: whitespace, comments, brackets, separators and
# operator tokens (rules read `node.operator` directly when they need it).
_TRIVIA_FIELDS = frozenset({
    "lpar", "rpar", "lbracket", "rbracket", "lbrace", "rbrace", "leading_lines",
    "lines_after_decorators", "header", "footer", "trailing_whitespace", "newline", "comma",
    "semicolon", "colon", "first_colon", "second_colon", "equal", "dot", "operator", "relative",
    "asynchronous", "leading_whitespace",
})

# The node classes of layout and punctuation, for fields whose names do not say so.
_TRIVIA_BASES = (
    cst.BaseParenthesizableWhitespace, cst.EmptyLine, cst.TrailingWhitespace, cst.Newline,
    cst.Comment, cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket,
    cst.LeftCurlyBrace, cst.RightCurlyBrace, cst.Comma, cst.Semicolon, cst.Colon, cst.Dot,
    cst.AssignEqual, cst.BaseBinaryOp, cst.BaseBooleanOp, cst.BaseCompOp, cst.BaseUnaryOp,
    cst.BaseAugOp, cst.Asynchronous,
)


def derives(cls: type, classes: frozenset[type]) -> bool:
    """`issubclass(cls, tuple(classes))` for LibCST's node classes, read from the class's MRO.
    Their metaclass is `ABCMeta`, whose check of a class that is not a subclass walks every
    subclass of the abstract class, and of theirs, in Python: asked of LibCST's classes at start-up
    that was 30-50 ms per process. LibCST registers no virtual subclass, so the MRO gives the
    same answers (a test compares them for every node class)."""
    return not classes.isdisjoint(cls.__mro__)


_TRIVIA_TYPES = frozenset(
    value for value in vars(cst).values()
    if isinstance(value, type) and derives(value, frozenset(_TRIVIA_BASES))
)


class _FieldRecorder(cst.CSTVisitor):
    """Lists the fields a node's own visit goes through, in that (source) order."""

    def __init__(self) -> None:
        self.fields: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        if attribute not in self.fields:
            self.fields.append(attribute)


class ClassTest(dict):
    """`test[type(node)]` is `isinstance(node, classes)`, worked out once per class.

    LibCST's node classes have `ABCMeta` for metaclass, whose `isinstance` costs a Python call
    whenever the answer is not the node's own class: asked for every node of a walk, that was a
    seventh of the facts' time. A dict look-up by class costs a tenth of it.
    """

    def __init__(self, *classes: type) -> None:
        super().__init__()
        self.classes = classes
        self._classes = frozenset(classes)

    def __missing__(self, cls: type) -> bool:
        answer = self[cls] = derives(cls, self._classes)
        return answer


# What a walk does with a field's value, by the value's class (`FIELD_KINDS[type(value)]`)
SKIP, NODE, SEQUENCE = 0, 1, 2


class _FieldKinds(dict):
    def __missing__(self, cls: type) -> int:
        if derives(cls, _NODE_CLASS):
            kind = SKIP if cls in _TRIVIA_TYPES else NODE
        else:
            kind = SEQUENCE if issubclass(cls, (tuple, list)) else SKIP
        self[cls] = kind
        return kind


_NODE_CLASS = frozenset({cst.CSTNode})
FIELD_KINDS = _FieldKinds()
_FIELDS: dict[type, tuple[str, ...]] = {}
_VISITED_FIELD = re.compile(r'visit_\w+\(\s*self,\s*"(\w+)"')


def _fields(node: cst.CSTNode) -> tuple[str, ...]:
    """The fields of `node`'s class that hold code, in the order LibCST visits them.

    Read from the source of the class's `_visit_and_replace_children` (every visit there names its
    field), so that fields an instance leaves empty are known too; what a first instance visits
    is the fallback where that source cannot be read.
    """
    cls = type(node)
    names = _VISITED_FIELD.findall(_source_of(cls._visit_and_replace_children.__code__))
    if not names:  # no source (or a class without children): what an instance visits
        recorder = _FieldRecorder()
        node._visit_and_replace_children(recorder)  # rebuilds the node, validating it
        names = recorder.fields
    fields = tuple(
        name for name in dict.fromkeys(names)
        if name not in _TRIVIA_FIELDS and not name.startswith("whitespace")
    )
    _FIELDS[cls] = fields
    return fields


def _source_of(code: types.CodeType) -> str:
    """The source lines of a function, from its first line to the last line its code (and the code
    nested in it) stands on: what `inspect.getsource` gives, without tokenizing the file (a
    tenth of its cost, paid for every node class at every start). Empty where the source cannot
    be read."""
    lines = linecache.getlines(code.co_filename)
    return "".join(lines[code.co_firstlineno - 1:_last_line(code)])


def _last_line(code: types.CodeType) -> int:
    last = code.co_firstlineno
    for _start, _end, line in code.co_lines():
        if line is not None and line > last:
            last = line
    positions = getattr(code, "co_positions", None)  # Python 3.11: where each expression ends
    for _line, end_line, _column, _end_column in positions() if positions is not None else ():
        if end_line is not None and end_line > last:
            last = end_line
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            last = max(last, _last_line(constant))
    return last


def fields_of(node: cst.CSTNode) -> tuple[str, ...]:
    """The fields of `node`'s class that a walk visits, in source order."""
    fields = _FIELDS.get(type(node))
    return fields if fields is not None else _fields(node)


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The children of `node` that a walk visits, in the order it visits them (one level: no
    walk)."""
    fields = _FIELDS.get(type(node))
    if fields is None:
        fields = _fields(node)
    found: list[cst.CSTNode] = []
    for name in fields:
        value = getattr(node, name)
        kind = FIELD_KINDS[type(value)]
        if kind == NODE:
            found.append(value)
        elif kind == SEQUENCE:
            found.extend(value)
    return found


LEAVE = object()


def handler_of(visitor: type, name: str) -> Callable | None:
    """The visitor class's own handler `name` (`visit_Call`), None where it has none: LibCST's
    `CSTVisitor` defines a handler for every node class that does nothing, and calling it for every
    node a walk passes costs more than the walk's own work on most of them."""
    handler = getattr(visitor, name, None)
    return None if handler is None or handler is getattr(cst.CSTVisitor, name, None) else handler


class Walker(cst.CSTVisitor):
    """A read-only `CSTVisitor` that `walk()`s a tree fast; see the module's docstring."""

    # handler caches, per Walker subclass: node class -> unbound handler (or None)
    _visit_handlers: dict[type, Callable | None]
    _leave_handlers: dict[type, Callable | None]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls._visit_handlers = {}
        cls._leave_handlers = {}

    def on_visit(self, node: cst.CSTNode) -> bool:
        cls = type(node)
        try:
            handler = self._visit_handlers[cls]
        except KeyError:
            handler = self._visit_handlers[cls] = handler_of(type(self), f"visit_{cls.__name__}")
        return handler is None or handler(self, node) is not False

    def on_leave(self, original_node: cst.CSTNode) -> None:
        cls = type(original_node)
        try:
            handler = self._leave_handlers[cls]
        except KeyError:
            handler = self._leave_handlers[cls] = handler_of(type(self), f"leave_{cls.__name__}")
        if handler is not None:
            handler(self, original_node)

    def walk(self, node: cst.CSTNode) -> None:
        """Visit `node` and what it holds, as `node.visit(self)` would, without rebuilding it."""
        on_visit, on_leave = self.on_visit, self.on_leave
        fields_of, kinds = _FIELDS, FIELD_KINDS
        stack: list[object] = [node]
        pop, push, extend = stack.pop, stack.append, stack.extend
        while stack:
            item = pop()
            if item is LEAVE:
                on_leave(pop())  # type: ignore[arg-type]
                continue
            push(item)
            push(LEAVE)
            if not on_visit(item):  # type: ignore[arg-type]
                continue
            fields = fields_of.get(type(item))
            if fields is None:
                fields = _fields(item)  # type: ignore[arg-type]
            for name in reversed(fields):
                value = getattr(item, name)
                kind = kinds[type(value)]
                if kind == NODE:
                    push(value)
                elif kind == SEQUENCE:
                    extend(reversed(value))
