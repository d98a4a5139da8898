"""Small LibCST helpers rules build their fixes with, and turning a rewrite into located edits.

Every helper works on the module's own nodes (the ones the facts hold), matched by identity, and
returns a `Rewrite`: the fixed module is made by LibCST, so comments and blank lines stay.
"""

from __future__ import annotations

import ast
import warnings
from typing import Callable, Mapping, Sequence

import libcst as cst

from mplint.fixes import Fix, Rewrite
from mplint.fixes.edits import edits_between


class _Replacer(cst.CSTTransformer):
    def __init__(self, mapping: Mapping[cst.CSTNode, cst.CSTNode | cst.RemovalSentinel]) -> None:
        self.mapping = mapping

    def on_leave(self, original_node, updated_node):  # type: ignore[no-untyped-def, override]
        return self.mapping.get(original_node, updated_node)


class _Inserter(cst.CSTTransformer):
    """Inserts statements after one statement of a block (the module's or an indented one)."""

    def __init__(self, after: cst.CSTNode, statements: Sequence[cst.BaseStatement]) -> None:
        self.after = after
        self.statements = statements

    def _insert(self, original, updated):  # type: ignore[no-untyped-def]
        for index, statement in enumerate(original.body):
            if statement is self.after:
                body = list(updated.body)
                body[index + 1 : index + 1] = self.statements
                return updated.with_changes(body=body)
        return updated

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return self._insert(original_node, updated_node)

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        return self._insert(original_node, updated_node)


class _UnderLock(cst.CSTTransformer):
    """The line whose one statement is `update` (in an indented block) made the body of a `with`."""

    def __init__(self, update: cst.BaseSmallStatement, lock: cst.BaseExpression) -> None:
        self.update = update
        self.lock = lock

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        body = list(updated_node.body)
        for index, line in enumerate(original_node.body):
            if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 and line.body[0] is self.update:
                inner = body[index]
                assert isinstance(inner, cst.SimpleStatementLine)
                body[index] = cst.With(
                    items=[cst.WithItem(self.lock)],
                    body=cst.IndentedBlock([inner.with_changes(leading_lines=())]),
                    leading_lines=inner.leading_lines,
                )
                return updated_node.with_changes(body=body)
        return updated_node


def _nodes(node: cst.CSTNode) -> set[int]:
    found = {id(node)}
    for child in node.children:
        found |= _nodes(child)
    return found


_LEAVES = (cst.Return, cst.Raise, cst.Break, cst.Continue)


class _EndAfterLastUse(cst.CSTTransformer):
    """In the block that holds `creation`: `name.close()`, `name.join()` after the last statement
    that uses the pool, when that is a simple statement line, every use is in the block at or after
    the creation, and the line does not leave the block (`return`, `raise`, ...)."""

    def __init__(self, creation: cst.CSTNode, uses: Sequence[cst.CSTNode], name: str) -> None:
        self.creation = creation
        self.uses = {id(use) for use in uses}
        self.name = name

    def _end(self, original, updated):  # type: ignore[no-untyped-def]
        statements = list(original.body)
        start = next((i for i, s in enumerate(statements) if s is self.creation), None)
        if start is None:
            return updated
        seen: set[int] = set()
        last = start
        for index in range(start, len(statements)):
            inside = _nodes(statements[index]) & self.uses
            if inside:
                seen |= inside
                last = index
        line = statements[last]
        if (
            last == start
            or seen != self.uses
            or not isinstance(line, cst.SimpleStatementLine)
            or any(isinstance(small, _LEAVES) for small in line.body)
        ):
            return updated
        body = list(updated.body)
        body[last + 1 : last + 1] = [statement(f"{self.name}.close()\n"), statement(f"{self.name}.join()\n")]
        return updated.with_changes(body=body)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return self._end(original_node, updated_node)

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        return self._end(original_node, updated_node)


def under_with(update: cst.BaseSmallStatement, lock: cst.BaseExpression):  # type: ignore[no-untyped-def]
    """The transform putting the line of `update` under `with lock:` (see `_UnderLock`)."""
    return lambda module: module.visit(_UnderLock(update, lock))


def after_last_use(creation: cst.CSTNode, uses: Sequence[cst.CSTNode], name: str):  # type: ignore[no-untyped-def]
    """The transform adding `name.close()`, `name.join()` after the last use (see `_EndAfterLastUse`)."""
    return lambda module: module.visit(_EndAfterLastUse(creation, uses, name))


def replace(title: str, mapping: Mapping[cst.CSTNode, cst.CSTNode], *, safe: bool = True) -> Rewrite:
    """Each node of `mapping` (a node of the module) replaced by its value."""
    return Rewrite(title, lambda module: module.visit(_Replacer(dict(mapping))), safe)


def insert_after(
    title: str, statement: cst.BaseStatement, statements: Sequence[cst.BaseStatement], *, safe: bool = True
) -> Rewrite:
    """`statements` inserted right after `statement`, in the same block."""
    return Rewrite(title, lambda module: module.visit(_Inserter(statement, list(statements))), safe)


def statement(code: str) -> cst.BaseStatement:
    return cst.parse_statement(code)


def expression(code: str) -> cst.BaseExpression:
    return cst.parse_expression(code)


def compiles(code: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(code, "<fixed>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def locate(
    module: cst.Module,
    rewrite: Rewrite,
    code: str | None = None,
    known: Callable[[cst.CSTNode], str | None] | None = None,
) -> Fix | None:
    """The rewrite as edits of the module's code (`code`, when the caller has the text the module
    was parsed from: LibCST gives it back unchanged); None when it changes nothing or its result
    does not parse (a fix that would break the file is no fix). `known` gives the code the module
    generates for one of its own top-level nodes (None for another node): the fixed module's
    code is generated only for the top-level nodes the rewrite made."""
    old = module.code if code is None else code
    fixed = rewrite.transform(module)
    new = fixed.code if known is None else _code_of(fixed, module, known)
    if new == old or not compiles(new):
        return None
    return Fix(rewrite.title, rewrite.applicability, edits_between(old, new), rewrite.reveals)


def _code_of(fixed: cst.Module, module: cst.Module, known: Callable[[cst.CSTNode], str | None]) -> str:
    """`fixed.code`, from the code of each of its top-level nodes: a node of `module`'s that
    `fixed` kept (a rewrite that moves or adds statements keeps the others) is not generated
    again. A module's code is that of its header's lines, its statements and its footer's lines
    one after the other, each generated at the top level with the module's indentation and
    newline, and then the trailing newline taken off where the module has none: that one is
    left to LibCST, as is a module with no node at all."""
    nodes = (*fixed.header, *fixed.body, *fixed.footer)
    if (
        not nodes
        or not fixed.has_trailing_newline
        or (fixed.default_indent, fixed.default_newline) != (module.default_indent, module.default_newline)
    ):
        return fixed.code
    parts = []
    for node in nodes:
        text = known(node)
        parts.append(fixed.code_for_node(node) if text is None else text)
    return "".join(parts)
