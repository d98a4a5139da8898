"""Statements read from what the one walk recorded: assignments (to names, items and
attributes), `del`, the calls inside `finally:` blocks, returned and yielded values, `with`
items, and the order in which calls and `with` blocks run in the source.

Each is recorded with the scope it runs in. A `finally:` inside a nested function protects only
that function's code: a call is *in a finally* when the innermost `try` whose `finally:` holds it
is in the call's own function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

if TYPE_CHECKING:
    from mplint.facts.scopes import Collected, Scope, StoreNode

_OWN_CODE = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


class Statements:
    def __init__(self, collected: Collected) -> None:
        self._up = collected.up
        self._scopes = collected.scopes
        self._module_scope = collected.module_scope
        #: assignments, augmented assignments and `del`, with their scope, in source order
        self.stores: list[tuple[StoreNode, Scope]] = [(node, scope) for node, scope, _ in collected.stores]
        #: values of `return` and `yield`, with their scope
        self.returned: list[tuple[cst.BaseExpression, Scope]] = [
            (node.value, self._scope_of(node))
            for node in collected.returns_and_yields
            if isinstance(node.value, cst.BaseExpression)
        ]
        # Calls and `with` items are numbered in one sequence: the call at index i of the walk's
        # calls is 2i + 2, a `with` item that comes after n calls is 2n + 1.
        self._order = {site.node: 2 * index + 2 for index, site in enumerate(collected.calls)}
        self._by_owner: dict[cst.CSTNode | None, list[tuple[StoreNode, Scope]]] | None = None
        self._store_order = {node: 2 * before + 1 for node, _, before in collected.stores}
        #: `with` items (`with lock:`, `with Pool() as p:`), with their scope and source order
        self.with_items: list[tuple[cst.WithItem, Scope, int]] = [
            (item, scope, 2 * before + 1) for item, scope, before in collected.with_items
        ]

    def owner(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The innermost def, class or lambda that holds `node` in any of its parts (its body,
        decorators, defaults); None for the module's own code."""
        parent = self._up.get(node)
        while parent is not None and type(parent) not in _OWN_CODE:
            parent = self._up.get(parent)
        return parent

    def _scope_of(self, node: cst.CSTNode) -> Scope:
        """The scope of the def, class or lambda whose code `node` is (a def's decorators and
        defaults count as its own), else the module's."""
        owner = self.owner(node)
        return self._scopes[owner] if owner is not None else self._module_scope

    def own_stores(self, function: cst.FunctionDef) -> list[tuple[StoreNode, Scope]]:
        """The assignments and `del` statements of the function's own body, in source order."""
        if self._by_owner is None:
            self._by_owner = {}
            for node, scope in self.stores:
                self._by_owner.setdefault(self.owner(node), []).append((node, scope))
        return self._by_owner.get(function, [])

    def in_finally(self, call: cst.Call) -> bool:
        """The call runs in a `finally:` block of its own function (or of the module)."""
        parent = self._up.get(call)
        while parent is not None and type(parent) not in _OWN_CODE:
            if type(parent) is cst.Finally:
                return True
            parent = self._up.get(parent)
        return False

    def order(self, call: cst.Call) -> int:
        """Where the call comes in the source, comparable with the order of `with` items."""
        return self._order.get(call, -1)

    def store_order(self, store: StoreNode) -> int:
        """Where an assignment or `del` comes in the source, comparable with `order(call)`."""
        return self._store_order.get(store, -1)

