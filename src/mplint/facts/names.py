"""What a name or dotted expression refers to: a qualified API name, or a def/class of the module.

Resolution is flow-insensitive: a name is resolved only when every statement that binds it in its
scope agrees. A module-level `mp = make_thing()` next to `import multiprocessing as mp` makes `mp`
unknown, and an unknown name matches nothing: precision before recall.
"""

from __future__ import annotations

import libcst as cst

from mplint import apis
from mplint.facts.resolve import MAX_DEPTH as _MAX_DEPTH, agreeing
from mplint.facts.scopes import Binding, Collected, FunctionInfo, Scope

# Class tests here are `type(x) is cst.Name` rather than `isinstance`: LibCST's concrete node
# classes have no subclasses (a test checks it), and `isinstance` against their `ABCMeta` costs a
# Python call each time it fails, hundreds of thousands of times per large module.


class Names:
    def __init__(self, collected: Collected) -> None:
        self._collected = collected
        #: (id of the expression, id of the scope) -> (the expression, the scope, its qualified
        #: name): the rules and facts ask the same calls' names many times; the entry holds both
        #: objects, so that neither id can be another object's while it is kept
        self._qualnames: dict[tuple[int, int], tuple[cst.BaseExpression, Scope, str | None]] = {}
        #: the same for the definitions the expressions name (asked as often)
        self._definitions: dict[
            tuple[int, int], tuple[cst.BaseExpression, Scope, cst.FunctionDef | cst.ClassDef | None]
        ] = {}

    def scope_of(self, name: cst.Name) -> Scope | None:
        return self._collected.name_scopes.get(name)

    def lookup(self, name: str, scope: Scope) -> tuple[Scope, list[Binding]] | None:
        """The scope that binds `name` as seen from `scope`, and its bindings (None: a builtin or unknown)."""
        current: Scope | None = scope
        while current is not None:
            if name in current.global_names:
                current = self._collected.module_scope
            # a class body's names are not visible from the functions and comprehensions inside it
            if current.kind != "class" or current is scope:
                bindings = current.bindings.get(name)
                if bindings:
                    return current, bindings
            current = current.parent
        return None

    def qualname(self, expr: cst.BaseExpression, scope: Scope, _depth: int = 0) -> str | None:
        """`multiprocessing.pool.Pool` for `P` after `from multiprocessing.pool import Pool as P`."""
        if _depth:
            return self._qualname(expr, scope, _depth)
        key = (id(expr), id(scope))
        known = self._qualnames.get(key)
        if known is None:
            known = self._qualnames[key] = (expr, scope, self._qualname(expr, scope, 0))
        return known[2]

    def _qualname(self, expr: cst.BaseExpression, scope: Scope, _depth: int) -> str | None:
        if _depth > _MAX_DEPTH:
            return None
        if type(expr) is cst.Name:
            found = self.lookup(expr.value, scope)
            if found is None:
                return None
            where, bindings = found
            if len(bindings) == 1:  # the common case, without the agreement's machinery
                return self._binding_qualname(bindings[0], where, _depth)
            return agreeing(self._binding_qualname(b, where, _depth) for b in bindings)
        if type(expr) is cst.Attribute:
            base = self.qualname(expr.value, scope, _depth + 1)
            return f"{base}.{expr.attr.value}" if base else None
        if type(expr) is cst.Call:
            # get_context(...) gives an object with its module's API: call it by the module's name
            func = self.qualname(expr.func, scope, _depth + 1)
            api = apis.lookup(func)
            if api is not None and api.kind is apis.Kind.CONTEXT and func is not None:
                return func.rsplit(".", 1)[0]
        return None

    def _binding_qualname(self, binding: Binding, scope: Scope, depth: int) -> str | None:
        if binding.imported is not None:
            return binding.imported
        if binding.value is not None:
            return self.qualname(binding.value, scope, depth + 1)
        return None

    def api(self, expr: cst.BaseExpression, scope: Scope) -> apis.Api | None:
        """The known API that `expr` names, if any."""
        return apis.lookup(self.qualname(expr, scope))

    def definition(
        self, expr: cst.BaseExpression, scope: Scope, _depth: int = 0
    ) -> cst.FunctionDef | cst.ClassDef | None:
        """The def or class of this module that `expr` names: `f`, `Cls`, `self.method`, `Cls.method`."""
        if _depth:
            return self._definition(expr, scope, _depth)
        key = (id(expr), id(scope))
        known = self._definitions.get(key)
        if known is None:
            known = self._definitions[key] = (expr, scope, self._definition(expr, scope, 0))
        return known[2]

    def _definition(
        self, expr: cst.BaseExpression, scope: Scope, _depth: int
    ) -> cst.FunctionDef | cst.ClassDef | None:
        if type(expr) is cst.Name:
            found = self.lookup(expr.value, scope)
            if found is None:
                return None
            _, bindings = found
            if len(bindings) == 1 and bindings[0].definition is not None:
                return bindings[0].definition
            return None
        if type(expr) is cst.Attribute and _depth <= _MAX_DEPTH:
            # `obj = obj.method()`: a name defined through itself resolves to nothing
            owner = self.class_of(expr.value, scope, _depth + 1)
            if owner is not None:
                method = self.method(owner, expr.attr.value, _depth + 1)
                return method.node if method is not None else None
        return None

    def method(self, cls: cst.ClassDef, name: str, _depth: int = 0) -> FunctionInfo | None:
        """The method `name` of a class of this module, defined there or inherited from a base
        class of this module (bases searched left to right, depth first)."""
        info = self._collected.classes[cls]
        found = info.methods.get(name)
        if found is not None or _depth > _MAX_DEPTH:
            return found
        for base in cls.bases:
            local = self.definition(base.value, info.outer, _depth + 1)
            if type(local) is cst.ClassDef and local is not cls:
                found = self.method(local, name, _depth + 1)
                if found is not None:
                    return found
        return None

    def derives(self, cls: cst.ClassDef, base: cst.ClassDef, _depth: int = 0) -> bool:
        """`cls` derives from `base`, a class of this module, through bases of this module."""
        if _depth > _MAX_DEPTH:
            return False
        info = self._collected.classes[cls]
        for arg in cls.bases:
            local = self.definition(arg.value, info.outer)
            if local is base or (type(local) is cst.ClassDef and self.derives(local, base, _depth + 1)):
                return True
        return False

    def related(self, cls: cst.ClassDef, other: cst.ClassDef) -> bool:
        """The two classes of this module are one, or one derives from the other."""
        return cls is other or self.derives(cls, other) or self.derives(other, cls)

    def method_class(self, scope: Scope) -> cst.ClassDef | None:
        """The class whose method holds the code of `scope` (the innermost method around it,
        through the functions nested in it), if any."""
        for function in scope.functions():
            info = self._collected.functions.get(function.node)  # type: ignore[arg-type]
            if info is not None and info.cls is not None:
                return info.cls
        return None

    def class_of(self, expr: cst.BaseExpression, scope: Scope, _depth: int = 0) -> cst.ClassDef | None:
        """The class of this module that `expr` is (`Cls`) or is an instance of (`self` in a method,
        `obj` after `obj = Cls(...)`, `Cls(...)` itself)."""
        definition = self.definition(expr, scope, _depth) if type(expr) is cst.Name else None
        if type(definition) is cst.ClassDef:
            return definition
        if type(expr) is cst.Call:
            made = self.definition(expr.func, scope, _depth)  # `Cls(...).method`
            return made if type(made) is cst.ClassDef else None
        if type(expr) is cst.Name:
            found = self.lookup(expr.value, scope)
            if found is not None:
                where, bindings = found
                if len(bindings) == 1 and type(bindings[0].value) is cst.Call:
                    made = self.definition(bindings[0].value.func, where, _depth)
                    if type(made) is cst.ClassDef:
                        return made
            function = scope.function
            if function is not None and type(function.node) is cst.FunctionDef:
                info = self._collected.functions.get(function.node)
                params = function.node.params.params
                if (
                    info is not None
                    and info.cls is not None
                    and params
                    and params[0].name.value == expr.value
                    and not _is_static(function.node)
                ):
                    return info.cls
        return None


def _is_static(node: cst.FunctionDef) -> bool:
    return any(
        type(d.decorator) is cst.Name and d.decorator.value == "staticmethod"
        for d in node.decorators
    )
