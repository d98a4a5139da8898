"""What kind of multiprocessing object an expression evaluates to: a process, a pool, a list of processes.

Like name resolution this is flow-insensitive and gives up when the bindings of a name disagree:
`p` is a process only if every assignment to `p` in its scope makes one.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from mplint import apis
from mplint.facts.names import Names
from mplint.facts.scopes import Collected, Scope

_MAX_DEPTH = 12

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
    }
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
        self._class_apis: dict[cst.ClassDef, apis.Api | None] = {}

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
                if isinstance(local, cst.ClassDef):
                    api = self.class_api(local, _depth + 1)
            if api is not None and api.kind in _OBJECT_KINDS:
                result = api
                break
        self._class_apis[cls] = result
        return result

    def instance_of(self, expr: cst.BaseExpression, scope: Scope, _depth: int = 0) -> Instance | None:
        """The object `expr` evaluates to, when it is made by a known API."""
        if _depth > _MAX_DEPTH:
            return None
        if isinstance(expr, cst.Call):
            api = self._names.api(expr.func, scope)
            if api is not None and api.kind in _OBJECT_KINDS:
                return Instance(api.kind, expr, api)
            local = self._names.definition(expr.func, scope)
            if isinstance(local, cst.ClassDef):
                base = self.class_api(local)
                if base is not None:
                    return Instance(base.kind, expr, base, local)
            return None
        if isinstance(expr, cst.Name):
            found = self._names.lookup(expr.value, scope)
            if found is None:
                return None
            where, bindings = found
            instances = []
            for binding in bindings:
                if _is_none(binding.value):
                    continue  # `proc = None` before the real assignment: a placeholder, not a value
                if binding.value is not None:
                    instance = self.instance_of(binding.value, where, _depth + 1)
                elif binding.iter is not None:
                    instance = self.element_of(binding.iter, self._iter_scope(binding, where), _depth + 1)
                else:
                    instance = None
                if instance is None:
                    return None
                instances.append(instance)
            if instances and all(i.kind is instances[0].kind for i in instances):
                return instances[0] if len(instances) == 1 else _merged(instances)
            return None
        if isinstance(expr, cst.Subscript):
            return self.element_of(expr.value, scope, _depth + 1)
        if isinstance(expr, cst.Attribute):
            assigned = self._attribute_values(expr, scope)
            found = [self.instance_of(value, where, _depth + 1) for value, where in assigned]
            if found and all(i is not None and i.kind is found[0].kind for i in found):  # type: ignore[union-attr]
                return found[0]
        return None

    def _attribute_values(
        self, expr: cst.Attribute, scope: Scope
    ) -> list[tuple[cst.BaseExpression, Scope]]:
        """What `self.x` may hold: every `self.x = value` of the class (empty when unknown)."""
        owner = self._names.class_of(expr.value, scope)
        if owner is None:
            return []
        return self._collected.classes[owner].attributes.get(expr.attr.value, [])

    def element_of(self, expr: cst.BaseExpression, scope: Scope, _depth: int = 0) -> Instance | None:
        """What the elements of a collection are, when they are all made by the same kind of API."""
        if _depth > _MAX_DEPTH:
            return None
        if isinstance(expr, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
            inner = self._collected.scopes.get(expr, scope)
            return self.instance_of(expr.elt, inner, _depth + 1)
        if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
            found = [self.instance_of(e.value, scope, _depth + 1) for e in expr.elements]
            if found and all(i is not None and i.kind is found[0].kind for i in found):  # type: ignore[union-attr]
                return found[0]
            return None
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.args:
            if expr.func.value in ("list", "tuple", "set", "reversed", "sorted", "iter"):
                return self.element_of(expr.args[0].value, scope, _depth + 1)
            return None
        if isinstance(expr, cst.Name):
            return self._elements_of_name(expr, scope, _depth)
        return None

    def _elements_of_name(self, expr: cst.Name, scope: Scope, depth: int) -> Instance | None:
        found = self._names.lookup(expr.value, scope)
        if found is None:
            return None
        where, bindings = found
        elements: list[Instance] = []
        for binding in bindings:
            if binding.value is None:
                if binding.augmented:
                    continue  # `procs += [...]`: its elements are checked below with the appends
                return None
            value = binding.value
            if isinstance(value, (cst.List, cst.Tuple)) and not value.elements:
                continue  # an empty list, filled by appends
            element = self.element_of(value, where, depth + 1)
            if element is None:
                return None
            elements.append(element)
        for added in self.added_elements(expr.value, where):
            element = self.instance_of(added, where, depth + 1)
            if element is None:
                return None
            elements.append(element)
        if elements and all(e.kind is elements[0].kind for e in elements):
            return elements[0] if len(elements) == 1 else _merged(elements)
        return None

    def added_elements(self, name: str, scope: Scope) -> list[cst.BaseExpression]:
        """What is put into the collection `name` of `scope`: `.append(x)`, `.add(x)`, `+= [x]`."""
        added: list[cst.BaseExpression] = []
        for site in self._collected.calls:
            func = site.node.func
            if (
                isinstance(func, cst.Attribute)
                and isinstance(func.value, cst.Name)
                and func.value.value == name
                and func.attr.value in ("append", "add", "insert")
                and site.node.args
                and _bound_in(self._names.lookup(name, site.scope), scope)
            ):
                added.append(site.node.args[-1].value)
        for binding in scope.bindings.get(name, ()):
            if binding.augmented and isinstance(binding.node, cst.AugAssign):
                value = binding.node.value
                if isinstance(value, (cst.List, cst.Tuple)):
                    added.extend(e.value for e in value.elements)
        return added

    def _iter_scope(self, binding: object, where: Scope) -> Scope:
        # a comprehension's first iterable is evaluated in the enclosing scope
        if where.kind == "comprehension" and where.parent is not None:
            return where.parent
        return where


def _is_none(expr: cst.BaseExpression | None) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


def _bound_in(found: tuple[Scope, list] | None, scope: Scope) -> bool:
    return found is not None and found[0] is scope


def _merged(instances: list[Instance]) -> Instance:
    """Several creations of the same kind of object bound to one name: the first stands for them."""
    return instances[0]
