"""Fixes of shared state and of what ends a pool: an update of a shared `Value` put under its own
lock (MPL005), a pool never closed closed and joined after its last use (MPL002)."""

from __future__ import annotations

from typing import Sequence

import libcst as cst

from mplint.fixes import Rewrite
from mplint.fixes.rewrite import statement


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


def hold_own_lock(update: cst.BaseSmallStatement, name: str, *, safe: bool) -> Rewrite:
    """`v.value += 1` -> `with v.get_lock():` and the update indented under it; changes nothing
    (so is no fix) unless the update is the whole of its line, in an indented block."""
    lock = cst.parse_expression(f"{name}.get_lock()")
    return Rewrite(f"Hold its lock around the update: `with {name}.get_lock():`",
                   lambda module: module.visit(_UnderLock(update, lock)), safe)


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


def close_and_join(creation: cst.CSTNode, uses: Sequence[cst.CSTNode], name: str) -> Rewrite:
    """`name.close()` and `name.join()` after the pool's last use in the block of its creation
    (see `_EndAfterLastUse`; otherwise nothing changes and there is no fix). Unsafe: `join()` waits
    for every task, and code after the last use may still have meant to use the pool."""
    return Rewrite(
        f"Close and join the pool after its last use: `{name}.close()`, `{name}.join()`",
        lambda module: module.visit(_EndAfterLastUse(creation, uses, name)),
        safe=False,
    )
