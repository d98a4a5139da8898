"""Statements the scope walk does not record, from one more walk: assignments (to names, items and
attributes), `del`, the calls inside `finally:` blocks, returned and yielded values, `with`
items, and the order in which calls and `with` blocks run in the source.

Each is recorded with the scope it runs in. A `finally:` inside a nested function protects only
that function's code: a call is *in a finally* when the innermost `try` whose `finally:` holds it
is in the call's own function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

import libcst as cst

from mplint.facts.walk import Walker

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import Scope

StoreNode = Union[cst.Assign, cst.AugAssign, cst.AnnAssign, cst.Del]


class Statements:
    def __init__(self, facts: ModuleFacts) -> None:
        walker = _StatementWalker(facts)
        walker.walk(facts.module)
        #: assignments, augmented assignments and `del`, with their scope, in source order
        self.stores: list[tuple[StoreNode, Scope]] = walker.stores
        #: values of `return` and `yield`, with their scope
        self.returned: list[tuple[cst.BaseExpression, Scope]] = walker.returned
        #: `with` items (`with lock:`, `with Pool() as p:`), with their scope and source order
        self.with_items: list[tuple[cst.WithItem, Scope, int]] = walker.with_items
        self._in_finally = walker.in_finally
        self._order = walker.order

    def in_finally(self, call: cst.Call) -> bool:
        """The call runs in a `finally:` block of its own function (or of the module)."""
        return call in self._in_finally

    def order(self, call: cst.Call) -> int:
        """Where the call comes in the source, comparable with the order of `with` items."""
        return self._order.get(call, -1)


class _StatementWalker(Walker):
    def __init__(self, facts: ModuleFacts) -> None:
        self._facts = facts
        self._scopes: list[Scope] = [facts.module_scope]
        self._finally_depths: list[int] = [0]
        self.stores: list[tuple[StoreNode, Scope]] = []
        self.returned: list[tuple[cst.BaseExpression, Scope]] = []
        self.with_items: list[tuple[cst.WithItem, Scope, int]] = []
        self.in_finally: set[cst.Call] = set()
        self.order: dict[cst.Call, int] = {}
        self._count = 0

    def _enter(self, node: cst.CSTNode) -> None:
        self._scopes.append(self._facts.scopes.get(node, self._scopes[-1]))
        self._finally_depths.append(0)

    def _leave(self, node: cst.CSTNode) -> None:
        self._scopes.pop()
        self._finally_depths.pop()

    visit_FunctionDef = visit_ClassDef = visit_Lambda = _enter
    leave_FunctionDef = leave_ClassDef = leave_Lambda = _leave

    def visit_Try(self, node: cst.Try) -> bool:
        self.walk(node.body)
        for handler in node.handlers:
            self.walk(handler)
        if node.orelse is not None:
            self.walk(node.orelse)
        if node.finalbody is not None:
            self._finally_depths[-1] += 1
            self.walk(node.finalbody)
            self._finally_depths[-1] -= 1
        return False

    visit_TryStar = visit_Try

    def visit_Call(self, node: cst.Call) -> None:
        self._count += 1
        self.order[node] = self._count
        if self._finally_depths[-1]:
            self.in_finally.add(node)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        self._count += 1
        self.with_items.append((node, self._scopes[-1], self._count))

    def _store(self, node: StoreNode) -> None:
        self.stores.append((node, self._scopes[-1]))

    visit_Assign = visit_AugAssign = visit_AnnAssign = visit_Del = _store

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.returned.append((node.value, self._scopes[-1]))

    def visit_Yield(self, node: cst.Yield) -> None:
        if isinstance(node.value, cst.BaseExpression):
            self.returned.append((node.value, self._scopes[-1]))
