"""The line a node starts on, and its range, without generating the code of the whole module.

`Positions` (positions.py) generates the whole module's code once, which costs about as much as a
third of the parse; a module's project summary needs the line of every function and of a few
calls, and the findings of most modules are none. Here Python's `ast` reads the same text (at a
tenth of LibCST's cost) and gives:

- the line of each `def` (its name's line, when the text there is `def name`), matched to
  LibCST's function definitions in source order by name;
- the first line of each function definition and of each statement, at the top level and in
  every block (a function's, a class's, an `if`'s, a loop's, a `with`'s, a `try`'s, a `match`'s
  cases), so that only the innermost of these that holds a node is generated, with the
  indentation of its first line, counting lines from there (a node in a compound statement's
  header is generated with the whole statement).

The same statement's code gives a finding's whole range (`range`: start and end, line and
column), so that a module with findings needs no code of its own generated either.

Every answer is checked against the text (the generated statement is the text at that line, the
`def` and the name are on the line) and is otherwise left to `Positions`: the lines are exactly
those `Positions` gives.

Most nodes asked about need no code generated at all: a small statement (`x = ...`, `del x`)
starts on the line of its first token, which is the line `ast` gives the statement paired with it
(the statements of a line pair one to one); and a call that is the value of such a statement
(`x = f(...)`, `f(...)` alone, `return f(...)`) or the context of a `with` item starts where its
own first token is, which is the line `ast` gives the call paired with it: both leave out the
parentheses around the call, and both count those around its callee (`(f)(x)` starts at the `(`).
Python and LibCST count lines alike (`\n`, `\r\n`, and a backslash's continuation); a text with a
lone `\r` gets no such answer.
"""

from __future__ import annotations

import ast
import re
from bisect import bisect_right
from typing import Callable, Sequence

import libcst as cst
from libcst.metadata import CodePosition, CodeRange

from mplint.facts.positions import _NEWLINE, _OffsetState
from mplint.python_tree import python_tree

_DEF = re.compile(r"(?:async[ \t\f]+)?def[ \t\f]+(\w+)")
_INDENT = re.compile(r"[ \t\f]*")


class Lines:
    def __init__(
        self,
        module: cst.Module,
        source: str | None,
        defs: list[cst.FunctionDef],
        up: dict[cst.CSTNode, cst.CSTNode],
        fallback: Callable[[cst.CSTNode], int],
        tree: ast.Module | None = None,
    ) -> None:
        self._module = module
        self._up = up
        self._fallback = fallback
        self._defs: dict[cst.FunctionDef, int] = {}
        #: each function definition and top-level statement -> the line its first token is on
        self._firsts: dict[cst.CSTNode, int] = {}
        #: each of those generated so far -> (its ranges, the line of its offset 0,
        #: the offsets at which its lines start), None where it does not match the text
        self._generated: dict[cst.CSTNode, tuple[dict[int, tuple[int, int]], int, list[int]] | None] = {}
        self._text = source
        self._line_starts: list[int] = []
        #: the line of each small statement, and of each call it holds as its value (`ast`'s)
        self._known: dict[cst.CSTNode, int] = {}
        self._pair_calls = source is not None and source.count("\r") == source.count("\r\n")
        if tree is None and source is not None:  # Python's tree of `source`, unless given
            tree = python_tree(source)
        if tree is None:
            return
        self._line_starts = [0, *(match.end() for match in _NEWLINE.finditer(source))]  # type: ignore[arg-type]
        self._read_statements(module.body, tree.body)
        self._read_defs(tree, defs)

    def _read_defs(self, tree: ast.Module, defs: list[cst.FunctionDef]) -> None:
        found: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        _collect_defs(tree.body, found)
        found.sort(key=lambda node: (node.lineno, node.col_offset))
        if len(found) != len(defs) or any(f.name != d.name.value for f, d in zip(found, defs)):
            return
        for parsed, node in zip(found, defs):
            self._firsts[node] = _first_line(parsed)
            match = _DEF.match(self._line(parsed.lineno), parsed.col_offset)
            if match is not None and match.group(1) == parsed.name:
                self._defs[node] = parsed.lineno
            if isinstance(node.body, cst.IndentedBlock):
                self._read_statements(node.body.body, parsed.body)

    def _read_statements(self, statements: Sequence[cst.BaseStatement], parsed: list[ast.stmt]) -> None:
        """The first line of each of `statements`, where they are the statements `parsed` holds,
        and of the statements in the blocks they hold (a def's body is read with the defs)."""
        firsts = []
        compound = []
        small: list[tuple[Sequence[cst.BaseSmallStatement], list[ast.stmt]]] = []
        at = 0
        for statement in statements:
            if at >= len(parsed):
                return
            firsts.append((statement, _first_line(parsed[at])))
            if isinstance(statement, cst.SimpleStatementLine):
                small.append((statement.body, parsed[at: at + len(statement.body)]))
                at += len(statement.body)
            else:
                compound.append((statement, parsed[at]))
                at += 1
        if at == len(parsed):
            self._firsts.update(firsts)
            if self._pair_calls:
                for body, nodes in small:
                    for statement, node in zip(body, nodes):
                        self._read_small(statement, node)
                for statement, node in compound:
                    if isinstance(statement, cst.With) and isinstance(node, (ast.With, ast.AsyncWith)):
                        self._read_items(statement, node)
            for statement, node in compound:
                for block, body in _blocks(statement, node):
                    if isinstance(block, cst.IndentedBlock):
                        self._read_statements(block.body, body)

    def _read_small(self, statement: cst.BaseSmallStatement, node: ast.stmt) -> None:
        kind = _SMALL.get(type(statement))
        if kind is None or not isinstance(node, kind):
            return
        self._known[statement] = node.lineno
        value = getattr(statement, "value", None)
        parsed = getattr(node, "value", None)
        if type(value) is cst.Call and isinstance(parsed, ast.Call):
            self._known[value] = parsed.lineno

    def _read_items(self, statement: cst.With, node: ast.With | ast.AsyncWith) -> None:
        if len(statement.items) != len(node.items):
            return
        for item, parsed in zip(statement.items, node.items):
            if type(item.item) is cst.Call and isinstance(parsed.context_expr, ast.Call):
                self._known[item.item] = parsed.context_expr.lineno

    def _line(self, line: int) -> str:
        starts, text = self._line_starts, self._text or ""
        if not 0 < line <= len(starts):
            return ""
        return text[starts[line - 1]: starts[line] if line < len(starts) else len(text)]

    def of_def(self, node: cst.FunctionDef) -> int:
        """The line of the function's name."""
        line = self._defs.get(node)
        return line if line is not None else self.of(node.name)

    def of(self, node: cst.CSTNode) -> int:
        """The line `node` starts on."""
        known = self._known.get(node)
        if known is not None:
            return known
        located = self._located(node)
        if located is None:
            return self._fallback(node)
        first, starts, start, _end = located
        return first + bisect_right(starts, start) - 1

    def range(self, node: cst.CSTNode) -> CodeRange | None:
        """Where `node` starts and ends, as `Positions` gives it, from the code of the innermost
        statement that holds it alone; None where `_located` finds nothing."""
        located = self._located(node)
        if located is None:
            return None
        first, starts, start, end = located
        return CodeRange(_position(first, starts, start), _position(first, starts, end))

    def _located(self, node: cst.CSTNode) -> tuple[int, list[int], int, int] | None:
        """From the code of the innermost statement that holds `node`: the line of that code's
        first line, the offsets at which its lines start, and the node's start and end offsets
        in it; None where that code is not the text there, or the node is in no statement (the
        module's header or footer) or in the statement's leading lines."""
        statement = self._statement(node)
        generated = self._generate(statement) if statement is not None else None
        if generated is None:
            return None
        ranges, first, starts = generated
        found = ranges.get(id(node))
        if found is None or found[0] < starts[0]:
            return None
        return first, starts, found[0], found[1]

    def _statement(self, node: cst.CSTNode) -> cst.CSTNode | None:
        up, firsts = self._up, self._firsts
        current: cst.CSTNode | None = node
        for _ in range(10_000):
            if current is None or current in firsts:
                return current
            current = up.get(current)
        return None

    def _generate(self, statement: cst.CSTNode) -> tuple[dict[int, tuple[int, int]], int, list[int]] | None:
        if statement in self._generated:
            return self._generated[statement]
        module = self._module
        first = self._firsts[statement]
        start = self._line_starts[first - 1] if 0 < first <= len(self._line_starts) else -1
        # a nested definition is generated with its first line's indentation, as its block would
        indent = _INDENT.match(self._text or "", max(start, 0)).group()  # type: ignore[union-attr]
        state = _OffsetState(
            default_indent=module.default_indent, default_newline=module.default_newline,
            indent_tokens=[indent] if indent else [],
        )
        statement._codegen(state)
        text = "".join(state.tokens)
        leading = statement.leading_lines  # type: ignore[attr-defined]
        skip = state.ranges[id(leading[-1])][1] if leading else 0
        result = None
        if start >= 0 and self._text is not None and self._text.startswith(text[skip:], start):
            starts = [skip, *(m.end() for m in _NEWLINE.finditer(text, skip))]
            result = (state.ranges, first, starts)
        self._generated[statement] = result
        return result


def _position(first: int, starts: list[int], offset: int) -> CodePosition:
    """The line and column of an offset into a statement's generated code whose first line,
    `first` in the text, starts at `starts[0]`."""
    index = bisect_right(starts, offset) - 1
    return CodePosition(first + index, offset - starts[index])


def _blocks(statement: cst.CSTNode, parsed: ast.stmt) -> list[tuple[cst.BaseSuite, list[ast.stmt]]]:
    """The blocks of a compound statement other than a def, each with the statements Python's
    tree holds there; none where the two trees do not hold the same statement."""
    pairs: list[tuple[cst.BaseSuite, list[ast.stmt]]] = []
    kind = _KINDS.get(type(statement))
    if kind is None or not isinstance(parsed, kind):
        return pairs
    if isinstance(statement, cst.Match):
        cases = parsed.cases  # type: ignore[attr-defined]
        if len(cases) == len(statement.cases):
            pairs += [(case.body, parsed_case.body) for case, parsed_case in zip(statement.cases, cases)]
        return pairs
    pairs.append((statement.body, parsed.body))  # type: ignore[attr-defined]
    if isinstance(statement, (cst.Try, cst.TryStar)):
        handlers = parsed.handlers  # type: ignore[attr-defined]
        if len(handlers) == len(statement.handlers):
            pairs += [(handler.body, parsed_handler.body)
                      for handler, parsed_handler in zip(statement.handlers, handlers)]
        if statement.finalbody is not None:
            pairs.append((statement.finalbody.body, parsed.finalbody))  # type: ignore[attr-defined]
    orelse = getattr(statement, "orelse", None)
    if isinstance(orelse, cst.Else):
        pairs.append((orelse.body, parsed.orelse))  # type: ignore[attr-defined]
    elif isinstance(orelse, cst.If) and len(parsed.orelse) == 1:  # type: ignore[attr-defined]
        pairs += _blocks(orelse, parsed.orelse[0])  # type: ignore[attr-defined]  # an `elif`
    return pairs


#: LibCST's compound statements (but `def`) -> the classes of Python's tree that stand for them
_KINDS: dict[type, tuple[type, ...]] = {
    cst.ClassDef: (ast.ClassDef,),
    cst.If: (ast.If,),
    cst.For: (ast.For, ast.AsyncFor),
    cst.While: (ast.While,),
    cst.With: (ast.With, ast.AsyncWith),
    cst.Try: (ast.Try,),
    **({cst.TryStar: (ast.TryStar,)} if hasattr(ast, "TryStar") else {}),
    cst.Match: (ast.Match,),
}


#: LibCST's small statements read from `ast` (with the value a call may be) -> their classes there
_SMALL: dict[type, type | tuple[type, ...]] = {
    cst.Assign: ast.Assign,
    cst.AnnAssign: ast.AnnAssign,
    cst.AugAssign: ast.AugAssign,
    cst.Expr: ast.Expr,
    cst.Return: ast.Return,
    cst.Del: ast.Delete,
}


def _collect_defs(statements: list[ast.stmt], found: list[ast.FunctionDef | ast.AsyncFunctionDef]) -> None:
    """The function definitions among `statements` and the blocks they hold (a `def` can stand
    only where a statement can)."""
    for statement in statements:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append(statement)
        for name in _BLOCKS:
            block = getattr(statement, name, None)
            if block:
                _collect_defs(block, found)
        for part in (*getattr(statement, "handlers", ()), *getattr(statement, "cases", ())):
            _collect_defs(part.body, found)


_BLOCKS = ("body", "orelse", "finalbody")


def _first_line(statement: ast.stmt) -> int:
    """The line of a statement's first token: its first decorator's for a decorated one."""
    decorators = getattr(statement, "decorator_list", None)
    return decorators[0].lineno if decorators else statement.lineno
