"""Small LibCST helpers rules build their fixes with, and turning a rewrite into located edits.

Every helper works on the module's own nodes (the ones the facts hold), matched by identity, and
returns a `Rewrite`: the fixed module is made by LibCST, so comments and blank lines stay.
"""

from __future__ import annotations

import ast
import warnings
from typing import Mapping, Sequence

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


def locate(module: cst.Module, rewrite: Rewrite) -> Fix | None:
    """The rewrite as edits of the module's code; None when it changes nothing or its result does
    not parse (a fix that would break the file is no fix)."""
    old = module.code
    new = rewrite.transform(module).code
    if new == old or not compiles(new):
        return None
    return Fix(rewrite.title, rewrite.applicability, edits_between(old, new), rewrite.reveals)
