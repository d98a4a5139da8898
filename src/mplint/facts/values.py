"""What kind of multiprocessing object an expression evaluates to: a process, a pool, a list of processes.

Like name resolution this is flow-insensitive and gives up when the bindings of a name disagree:
`p` is a process only if every assignment to `p` in its scope makes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import libcst as cst

from mplint import apis
from mplint.facts.names import Names
from mplint.facts.resolve import MAX_DEPTH as _MAX_DEPTH, agreeing
from mplint.facts.scopes import CallSite, Collected, Scope

#: kinds whose calls make an object worth following (calls of other kinds return plain data)
_OBJECT_KINDS = frozenset(
    {
        apis.Kind.PROCESS,
        apis.Kind.POOL,
        apis.Kind.PROCESS_EXECUTOR,
        apis.Kind.MANAGER,
        apis.Kind.MANAGER_CLASS,
        apis.Kind.SHARED_VALUE,
        apis.Kind.SHARED_MEMORY,
        apis.Kind.QUEUE,
        apis.Kind.PIPE,
        apis.Kind.LOCK,
        apis.Kind.EVENT,
        apis.Kind.THREAD_POOL,
        apis.Kind.THREAD_EXECUTOR,
        apis.Kind.THREAD_PROCESS,
        apis.Kind.THREAD,
        apis.Kind.PARALLEL,
    }
)

#: the last names of the table's APIs of those kinds: `x.y.attr(...)` names `<x.y>.attr` (and an
#: attribute names a method, never a class), so a method call by any other name makes nothing to
#: follow, which the lifecycles, the workers and the resources ask of every call of the module
_OBJECT_ATTRS = frozenset(
    qualname.rsplit(".", 1)[-1] for qualname, api in apis.APIS.items() if api.kind in _OBJECT_KINDS
)


@dataclass(frozen=True, eq=False)
class Instance:
    """An object made by a known API (or by a class of the module derived from one)."""

    kind: apis.Kind
    #: the call that made it
    creation: cst.Call
    #: the API called, or for a subclass defined in the module, the API it derives from
    api: apis.Api
    #: the class of the module that was instantiated, for subclasses
    cls: cst.ClassDef | None = None


class Values:
    def __init__(self, collected: Collected, names: Names) -> None:
        self._collected = collected
        self._names = names
        #: each name -> the calls that may put something into it (`name.append(x)`), in order
        self._adders: dict[str, list[CallSite]] | None = None
        self._class_apis: dict[cst.ClassDef, apis.Api | None] = {}
        self._resolving: set[tuple[int, str, str]] = set()
        #: (id of the expression, id of the scope) -> (the expression, the scope, the instance):
        #: the facts ask each call what it makes several times over (the lifecycles, the workers,
        #: the resources); the entry holds both objects, so that neither id is reused meanwhile
        self._instances: dict[tuple[int, int], tuple[cst.BaseExpression, Scope, Instance | None]] = {}

    def class_api(self, cls: cst.ClassDef, _depth: int = 0) -> apis.Api | None:
        """The known API a class of the module derives from (`class Worker(mp.Process)`), if any."""
        if cls in self._class_apis:
            return self._class_apis[cls]
        self._class_apis[cls] = None  # a cycle of bases resolves to nothing
        info = self._collected.classes[cls]
        result = None
        for base in cls.bases:
            api = self._names.api(base.value, info.outer)
            if api is None and _depth < _MAX_DEPTH:
                local = self._names.definition(base.value, info.outer)
                if type(local) is cst.ClassDef:
                    api = self.class_api(local, _depth + 1)
            if api is not None and api.kind in _OBJECT_KINDS:
                result = api
                break
        self._class_apis[cls] = result
        return result

    def instance_of(self, expr: cst.BaseExpression, scope: Scope, _depth: int = 0) -> Instance | None:
        """The object `expr` evaluates to, when it is made by a known API."""
        if _depth or self._resolving:  # asked inside a resolution: its answer may be the cycle's
            found = self._instance(expr, scope, _depth)
            return None if found is _CYCLE else found
        key = (id(expr), id(scope))
        known = self._instances.get(key)
        if known is None:
            found = self._instance(expr, scope, 0)
            known = self._instances[key] = (expr, scope, None if found is _CYCLE else found)
        return known[2]

    def element_of(self, expr: cst.BaseExpression, scope: Scope, _depth: int = 0) -> Instance | None:
        """What the elements of a collection are, when they are all made by the same kind of API."""
        found = self._elements(expr, scope, _depth)
        return None if found is _CYCLE else found

    # The two below may also answer _CYCLE: the value depends on the name being resolved, as `p`
    # does in `p = Process(); procs.append(p); for p in procs: ...`. Such a binding tells nothing
    # new about the name, so it is skipped instead of making the whole name unknown.

    def _instance(self, expr: cst.BaseExpression, scope: Scope, _depth: int) -> Instance | None:
        if _depth > _MAX_DEPTH:
            return None
        cls = type(expr)  # LibCST's concrete classes have no subclasses: `is` answers as isinstance
        if cls is cst.Call:
            func = expr.func
            if type(func) is cst.Attribute and func.attr.value not in _OBJECT_ATTRS:
                return None  # neither its qualified name nor its definition can answer
            api = self._names.api(func, scope)
            if api is not None and api.kind in _OBJECT_KINDS:
                return Instance(api.kind, expr, api)
            local = self._names.definition(func, scope)
            if type(local) is cst.ClassDef:
                base = self.class_api(local)
                if base is not None:
                    return Instance(base.kind, expr, base, local)
            return None
        if cls is cst.Name:
            found = self._names.lookup(expr.value, scope)
            if found is None:
                return None
            where, bindings = found
            key = (id(where), expr.value, "instance")
            if key in self._resolving:
                return _CYCLE
            self._resolving.add(key)
            try:
                return agreeing(
                    (self._binding_instance(binding, where, _depth) for binding in bindings),
                    _same_kind, skip=_CYCLE,
                )
            finally:
                self._resolving.discard(key)
        if cls is cst.Subscript:
            return self._elements(expr.value, scope, _depth + 1)
        if cls is cst.IfExp:  # `Pool(2) if fast else Pool(1)`: both branches must agree
            return _agreeing([self._instance(branch, scope, _depth + 1) for branch in (expr.body, expr.orelse)])
        if cls is cst.Attribute:
            assigned = self._attribute_values(expr, scope)
            return _agreeing([self._instance(value, where, _depth + 1) for value, where in assigned])
        return None

    def _binding_instance(self, binding: Any, where: Scope, depth: int) -> Instance | None:
        if _is_none(binding.value):
            return _CYCLE  # `proc = None` before the real assignment: a placeholder, tells nothing
        if binding.value is not None:
            return self._instance(binding.value, where, depth + 1)
        if binding.iter is not None:
            return self._elements(binding.iter, self._iter_scope(binding, where), depth + 1)
        return None

    def _attribute_values(
        self, expr: cst.Attribute, scope: Scope
    ) -> list[tuple[cst.BaseExpression, Scope]]:
        """What `self.x` may hold: every `self.x = value` of the class (empty when unknown)."""
        owner = self._names.class_of(expr.value, scope)
        if owner is None:
            return []
        return self._collected.classes[owner].attributes.get(expr.attr.value, [])

    def _elements(self, expr: cst.BaseExpression, scope: Scope, _depth: int) -> Instance | None:
        if _depth > _MAX_DEPTH:
            return None
        if type(expr) in (cst.ListComp, cst.SetComp, cst.GeneratorExp):
            inner = self._collected.scopes.get(expr, scope)
            return self._instance(expr.elt, inner, _depth + 1)
        if type(expr) in (cst.List, cst.Tuple, cst.Set):
            return _agreeing([self._instance(e.value, scope, _depth + 1) for e in expr.elements])
        if type(expr) is cst.Call and type(expr.func) is cst.Name and expr.args:
            if expr.func.value in ("list", "tuple", "set", "reversed", "sorted", "iter"):
                return self._elements(expr.args[0].value, scope, _depth + 1)
            return None
        if type(expr) is cst.Name:
            return self._elements_of_name(expr, scope, _depth)
        return None

    def _elements_of_name(self, expr: cst.Name, scope: Scope, depth: int) -> Instance | None:
        found = self._names.lookup(expr.value, scope)
        if found is None:
            return None
        where, bindings = found
        key = (id(where), expr.value, "elements")
        if key in self._resolving:
            return _CYCLE
        self._resolving.add(key)
        try:
            elements: list[Instance | None] = []
            for binding in bindings:
                if binding.value is None:
                    if binding.augmented and type(binding.node) is cst.AugAssign:
                        added = binding.node.value
                        if type(added) not in (cst.List, cst.Tuple):
                            # `procs += [... for ...]`; literal lists are read with the appends
                            elements.append(self._elements(added, where, depth + 1))
                        continue
                    return None
                value = binding.value
                if type(value) in (cst.List, cst.Tuple) and not value.elements:
                    continue  # an empty list, filled by appends
                elements.append(self._elements(value, where, depth + 1))
            for added in self.added_elements(expr.value, where):
                elements.append(self._instance(added, where, depth + 1))
        finally:
            self._resolving.discard(key)
        return _agreeing(elements)

    def bound_values(self, name: cst.Name, scope: Scope) -> list[tuple[cst.BaseExpression, Scope]] | None:
        """What every binding of the name gives it (`path = "/data"` and the like), each with the
        scope it is evaluated in; None when a binding's value is unknown (a parameter, a loop
        variable, an unpacking, an augmented assignment, an import, a def) or the name is unbound."""
        found = self._names.lookup(name.value, scope)
        if found is None:
            return None
        where, bindings = found
        if any(b.value is None or b.augmented for b in bindings):
            return None
        return [(b.value, where) for b in bindings if b.value is not None]

    def added_elements(self, name: str, scope: Scope) -> list[cst.BaseExpression]:
        """What is put into the collection `name` of `scope`: `.append(x)`, `.add(x)`, `+= [x]`."""
        added: list[cst.BaseExpression] = []
        for site in self._adders_of(name):
            if _bound_in(self._names.lookup(name, site.scope), scope):
                added.append(site.node.args[-1].value)
        for binding in scope.bindings.get(name, ()):
            if binding.augmented and type(binding.node) is cst.AugAssign:
                value = binding.node.value
                if type(value) in (cst.List, cst.Tuple):
                    added.extend(e.value for e in value.elements)
        return added

    def _adders_of(self, name: str) -> list[CallSite]:
        """The calls `name.append(x)`, `name.add(x)`, `name.insert(i, x)` of the module, read once
        for every name (a module's collections are asked about one by one)."""
        if self._adders is None:
            self._adders = {}
            for site in self._collected.calls:
                func = site.node.func
                if (
                    type(func) is cst.Attribute
                    and type(func.value) is cst.Name
                    and func.attr.value in ("append", "add", "insert")
                    and site.node.args
                ):
                    self._adders.setdefault(func.value.value, []).append(site)
        return self._adders.get(name, [])

    def _iter_scope(self, binding: object, where: Scope) -> Scope:
        # a comprehension's first iterable is evaluated in the enclosing scope
        if where.kind == "comprehension" and where.parent is not None:
            return where.parent
        return where


#: the answer for a name whose value depends on itself (see Values._instance)
_CYCLE: Any = object()


def _same_kind(a: Instance, b: Instance) -> bool:
    return a.kind is b.kind


def _agreeing(found: list[Instance | None]) -> Instance | None:
    """The instance that all of `found` agree on, ignoring cycles (all cycles: a cycle)."""
    return agreeing(found, _same_kind, skip=_CYCLE, nothing=_CYCLE if found else None)


def _is_none(expr: cst.BaseExpression | None) -> bool:
    return type(expr) is cst.Name and expr.value == "None"


def _bound_in(found: tuple[Scope, list] | None, scope: Scope) -> bool:
    return found is not None and found[0] is scope
