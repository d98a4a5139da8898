"""Manager proxies (`manager.dict()`, `manager.list()`, `manager.Namespace()`, ...) and what code
does to the objects they hold.

A proxy is the result of a proxy-making method of a manager (`Manager()`, a started
`SyncManager`), followed through names, `self.x` attributes and the parameters every caller (and
every hand-over to a child) fills with the same proxy.

A dict or list proxy hands out copies: `d[k]`, `d.get(k)`, `d.setdefault(k, v)` and a
`Namespace`'s `ns.attr` are pickled from the manager's process. An *in-place change of a held
object* is a change made to such a copy and never sent back: a mutating method called on it
(`d[k].append(x)`), an item or attribute assigned on it (`d[k][j] = v`, `d[k][j] += 1`,
`items[i].attr = v`, `del d[k][j]`), at any depth below the copy. Stores through the proxy itself
(`d[k] = v`, `d[k] += [x]`, `ns.attr = v`) are not changes of a held object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from mplint import apis
from mplint.facts.resolve import agreeing
from mplint.facts.scopes import StoreNode
from mplint.facts.state import MUTATING_METHODS

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import Scope
    from mplint.facts.values import Instance

_MAX_DEPTH = 6
_MANAGERS = frozenset({apis.Kind.MANAGER, apis.Kind.MANAGER_CLASS})
#: methods of a container proxy that store their arguments in it
_STORING_METHODS = frozenset({"append", "extend", "insert", "update", "setdefault", "__setitem__"})


@dataclass(frozen=True, eq=False)
class Proxy:
    #: what the proxy stands for: "dict", "list", "Namespace", "Lock", ...
    type: str
    #: the `manager.dict(...)` call that made it
    creation: cst.Call
    manager: Instance


@dataclass(frozen=True, eq=False)
class HeldChange:
    """An in-place change of an object that a proxy handed out as a copy."""

    #: the statement (for stores) or the call (for mutating methods) that makes the change
    node: cst.CSTNode
    #: the copy as written: `d[k]`, `d.get(k)`, `ns.items`
    held: cst.BaseExpression
    proxy: Proxy
    scope: Scope


class Proxies:
    def __init__(self, facts: ModuleFacts) -> None:
        self._facts = facts
        self._holds_proxies: dict[cst.Call, bool] = {}

    # --- what a proxy is -----------------------------------------------------------------------

    def proxy_of(self, expr: cst.BaseExpression, scope: Scope, _depth: int = 0) -> Proxy | None:
        """The manager proxy `expr` evaluates to, when every way it gets its value agrees."""
        if _depth > _MAX_DEPTH:
            return None
        facts = self._facts
        if type(expr) is cst.Call:
            func = expr.func
            if type(func) is cst.Attribute and func.attr.value in apis.MANAGER_PROXY_TYPES:
                manager = facts.received.instance_of(func.value, scope)
                if manager is not None and manager.kind in _MANAGERS:
                    return Proxy(func.attr.value, expr, manager)
            return None
        if type(expr) is cst.Name:
            found = facts.names.lookup(expr.value, scope)
            if found is None:
                return None
            where, bindings = found
            if all(b.value is None and not b.augmented for b in bindings):
                param = facts.arguments.parameter(expr, scope)
                given = facts.received.given(*param) if param is not None else None
                if given is None:
                    return None
                return _agreeing([self.proxy_of(v, s, _depth + 1) for v, s in given])
            values = [b.value for b in bindings if not _is_none(b.value)]
            if any(v is None for v in values):
                return None
            return _agreeing([self.proxy_of(v, where, _depth + 1) for v in values])  # type: ignore[arg-type]
        if type(expr) is cst.Attribute:
            owner = facts.names.class_of(expr.value, scope)
            if owner is None:
                return None
            assigned = facts.classes[owner].attributes.get(expr.attr.value, [])
            return _agreeing([self.proxy_of(v, s, _depth + 1) for v, s in assigned if not _is_none(v)])
        return None

    def holds_proxies(self, proxy: Proxy) -> bool:
        """Something stored into the proxy (at its creation, by an item assignment or a storing
        method) is itself a proxy, or may be: then its items need not be copies."""
        creation = proxy.creation
        if creation not in self._holds_proxies:
            self._holds_proxies[creation] = False  # a cycle tells nothing
            self._holds_proxies[creation] = self._stores_proxies(proxy)
        return self._holds_proxies[creation]

    def _stores_proxies(self, proxy: Proxy) -> bool:
        facts = self._facts
        stored: list[tuple[cst.BaseExpression, Scope]] = []
        for site in facts.calls:
            if site.node is proxy.creation:
                stored.extend((a.value, site.scope) for a in site.node.args)
            func = site.node.func
            if (
                type(func) is cst.Attribute
                and func.attr.value in _STORING_METHODS
                and self._is(func.value, site.scope, proxy)
            ):
                stored.extend((a.value, site.scope) for a in site.node.args)
        for node, scope in self._facts.statements.stores:
            for target in _targets(node):
                if type(target) in (cst.Subscript, cst.Attribute) and self._is(target.value, scope, proxy):
                    value = getattr(node, "value", None)
                    if value is not None:
                        stored.append((value, scope))
        return any(self._may_be_proxy(value, where) for value, where in stored)

    def _is(self, expr: cst.BaseExpression, scope: Scope, proxy: Proxy) -> bool:
        found = self.proxy_of(expr, scope)
        return found is not None and found.creation is proxy.creation

    def _may_be_proxy(self, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> bool:
        if depth > _MAX_DEPTH:
            return True
        if self.proxy_of(expr, scope) is not None:
            return True
        facts = self._facts
        if type(expr) in (cst.Tuple, cst.List, cst.Set):
            return any(self._may_be_proxy(e.value, scope, depth + 1) for e in expr.elements)
        if type(expr) is cst.Dict:
            return any(
                self._may_be_proxy(e.value, scope, depth + 1) for e in expr.elements
            )
        if type(expr) in (cst.ListComp, cst.SetComp, cst.GeneratorExp):
            return self._may_be_proxy(expr.elt, facts.scopes.get(expr, scope), depth + 1)
        if type(expr) is cst.DictComp:
            return self._may_be_proxy(expr.value, facts.scopes.get(expr, scope), depth + 1)
        if type(expr) is cst.Call:
            # a function of the module may return a proxy (`d[k] = new_bucket()`)
            return type(facts.names.definition(expr.func, scope)) is cst.FunctionDef
        if type(expr) is cst.Name:
            found = facts.names.lookup(expr.value, scope)
            if found is None:
                return False  # a builtin: `None`, `True`
            where, bindings = found
            if all(b.value is None and not b.augmented for b in bindings):
                param = facts.arguments.parameter(expr, scope)
                given = facts.received.given(*param) if param is not None else None
                if given is None:
                    return True  # a loop variable, an unpacking, an unknown argument: may be one
                return any(self._may_be_proxy(v, s, depth + 1) for v, s in given)
            return any(
                b.value is None or self._may_be_proxy(b.value, where, depth + 1)
                for b in bindings
                if not b.augmented
            )
        return False

    # --- changes made to copies --------------------------------------------------------------

    def held_changes(self) -> list[HeldChange]:
        """Every in-place change of an object a dict, list or `Namespace` proxy handed out."""
        changes: list[HeldChange] = []
        if not any(
            type(s.node.func) is cst.Attribute
            and s.node.func.attr.value in (*apis.CONTAINER_PROXIES, apis.NAMESPACE_PROXY)
            for s in self._facts.calls
        ):
            return changes  # no container proxy is made in this module: nothing to resolve
        for site in self._facts.calls:
            func = site.node.func
            if type(func) is cst.Attribute and func.attr.value in MUTATING_METHODS:
                found = self._held(func.value, site.scope)
                if found is not None:
                    changes.append(HeldChange(site.node, found[0], found[1], site.scope))
        for node, scope in self._facts.statements.stores:
            for target in _targets(node):
                if type(target) in (cst.Subscript, cst.Attribute):
                    found = self._held(target.value, scope)
                    if found is not None:
                        changes.append(HeldChange(node, found[0], found[1], scope))
                        break
        return changes

    def _held(self, expr: cst.BaseExpression, scope: Scope) -> tuple[cst.BaseExpression, Proxy] | None:
        """The copy handed out by a proxy that `expr` is, or is part of: `d[k]` in `d[k][j]`."""
        for _ in range(_MAX_DEPTH):
            copy = self._copy_from_proxy(expr, scope)
            if copy is not None:
                return expr, copy
            if type(expr) in (cst.Subscript, cst.Attribute):
                expr = expr.value
            else:
                return None
        return None

    def _copy_from_proxy(self, expr: cst.BaseExpression, scope: Scope) -> Proxy | None:
        """The proxy `expr` reads a copy from: `d[k]`, `d.get(k)`, `d.setdefault(k, v)`, `ns.attr`."""
        if type(expr) is cst.Subscript:
            proxy = self.proxy_of(expr.value, scope)
            return proxy if proxy is not None and proxy.type in apis.CONTAINER_PROXIES else None
        if type(expr) is cst.Call and type(expr.func) is cst.Attribute:
            if expr.func.attr.value in apis.ITEM_COPYING_METHODS:
                proxy = self.proxy_of(expr.func.value, scope)
                return proxy if proxy is not None and proxy.type == "dict" else None
            return None
        if type(expr) is cst.Attribute:
            proxy = self.proxy_of(expr.value, scope)
            return proxy if proxy is not None and proxy.type == apis.NAMESPACE_PROXY else None
        return None


def _targets(node: StoreNode) -> list[cst.BaseExpression]:
    if type(node) is cst.Assign:
        return [t.target for t in node.targets]
    if type(node) is cst.Del:
        return [node.target]
    return [node.target]


def _agreeing(found: list[Proxy | None]) -> Proxy | None:
    """The proxy every answer names (the same creation); None when one is unknown or none is given."""
    return agreeing(found, lambda a, b: a.creation is b.creation) if found else None


def _is_none(expr: cst.BaseExpression | None) -> bool:
    return type(expr) is cst.Name and expr.value == "None"
