"""Shared ctypes objects (`Value`, `Array`, `RawValue`, `RawArray`) as worker code sees them.

Which shared object an expression in a worker is and how it got there (the *route*), whether more
than one process runs a worker at a time, and whether an array item may be the same one in every
worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from mplint.apis import Kind
from mplint.facts.resolve import MAX_DEPTH as _MAX_DEPTH

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import CallSite, FunctionInfo, Scope
    from mplint.facts.values import Instance

#: dispatches that run the worker in more than one process at a time
_MANY_PROCESSES = frozenset({"pool", "executor", "initializer", "spawn"})
#: how the value reaches the worker: as an argument (`args=`, through helpers or `self.x`), or as a
#: global set by a pool initializer; both work under every start method
PASSED, INITIALIZER = "passed", "initializer"
#: ... or as a global the module creates itself: shared only by inheritance under fork
GLOBAL = "global"


@dataclass(frozen=True)
class SharedValue:
    """A shared ctypes object that reaches worker code, and how."""

    instance: Instance
    route: str

    @property
    def kind_name(self) -> str:
        return self.instance.api.qualname.rsplit(".", 1)[-1]

    @property
    def has_lock(self) -> bool:
        if self.kind_name.startswith("Raw"):
            return False
        for arg in self.instance.creation.args:
            if arg.keyword is not None and arg.keyword.value == "lock":
                return not (type(arg.value) is cst.Name and arg.value.value == "False")
        return True


class SharedValues:
    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts

    # --- how many processes run it --------------------------------------------------------------

    def many_processes(self, function: FunctionInfo) -> bool:
        """More than one process may run `function` at a time (a pool, or processes made in a loop)."""
        dispatches = self.facts.workers.dispatches_of(function)
        sites = []
        for dispatch in dispatches:
            if dispatch.kind in _MANY_PROCESSES:
                return True
            if dispatch.kind == "run" and dispatch.worker is not None and dispatch.worker.cls is not None:
                sites.extend(self._constructions(dispatch.worker.cls))
            elif dispatch.site is not None:
                sites.append(dispatch.site)
        if any(self._in_loop(site) for site in sites):
            return True
        if len(sites) < 2:
            return False
        # several processes: a race only if two of them get the same object (or share a global)
        passed = [self._values_passed(site) for site in sites]
        if not any(passed):
            return True
        seen: set[cst.Call] = set()
        for creations in passed:
            if creations & seen:
                return True
            seen |= creations
        return False

    def _values_passed(self, site: CallSite) -> set[cst.Call]:
        """The shared values (their creations) that a process creation hands to the child."""
        found = set()
        for arg in site.node.args:
            values = [e.value for e in arg.value.elements] if type(arg.value) in (cst.Tuple, cst.List) else [arg.value]
            for value in values:
                instance = self.facts.values.instance_of(value, site.scope)
                if instance is not None and instance.kind is Kind.SHARED_VALUE:
                    found.add(instance.creation)
        return found

    def _constructions(self, cls: cst.ClassDef) -> list[CallSite]:
        facts = self.facts
        return [s for s in facts.calls if facts.names.definition(s.node.func, s.scope) is cls]

    def _in_loop(self, site: CallSite) -> bool:
        if site.scope.kind == "comprehension":
            return True
        return site.scope.kind in ("module", "function") and self.facts.loops.in_loop_statement(site.node)

    # --- is the slot written by several workers? -------------------------------------------------

    def slot_is_shared(self, index: cst.BaseExpression, scope: Scope) -> bool:
        """The array item `arr[index]` may be the same one in every worker: a constant index, a
        bucket computed from the data (`%`, `//`, a call), or a loop over the whole array. An index
        that is a parameter or a loop over a range the worker was given is taken as its own slot."""
        if _is_int(index):
            return True
        if type(index) is cst.Name:
            found = self.facts.names.lookup(index.value, scope)
            if found is None:
                return False
            _, bindings = found
            if len(bindings) != 1 or type(bindings[0].iter) is not cst.Call:
                return False
            loop = bindings[0].iter
            return (
                type(loop.func) is cst.Name
                and loop.func.value == "range"
                and self.facts.names.lookup("range", scope) is None
                and all(_is_int(a.value) or _is_len(a.value) for a in loop.args)
            )
        return _computes_bucket(index)

    # --- where the object comes from ---------------------------------------------------------

    def source(self, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> SharedValue | None:
        """The shared Value/Array that `expr` (read in a function running in a child) is, if known."""
        if depth > _MAX_DEPTH:
            return None
        facts = self.facts
        if type(expr) is cst.Name:
            found = facts.names.lookup(expr.value, scope)
            if found is None:
                return None
            where, _ = found
            if where is facts.module_scope:
                return self._global(expr.value, depth)
            param = facts.arguments.parameter(expr, scope)
            return self._parameter(*param, depth) if param is not None else None
        if type(expr) is cst.Attribute:
            owner = facts.names.class_of(expr.value, scope)
            if owner is None:
                return None
            assigned = facts.classes[owner].attributes.get(expr.attr.value, [])
            found_all = [self._assigned(value, where, depth) for value, where in assigned]
            if found_all and all(found_all):
                return found_all[0]
        return None

    def _assigned(self, value: cst.BaseExpression, where: Scope, depth: int) -> SharedValue | None:
        """What `self.x = value` stores, when it is a shared value the parent made."""
        facts = self.facts
        instance = facts.values.instance_of(value, where)
        if instance is not None:
            return SharedValue(instance, PASSED) if instance.kind is Kind.SHARED_VALUE else None
        param = facts.arguments.parameter(value, where)
        if param is None:
            return None
        function, name = param
        if facts.workers.runs_in_child(function):
            return self._parameter(function, name, depth + 1)
        # the constructor runs in the parent: what do the calls of it pass?
        for site, passed in facts.arguments.callers(function):
            argument = passed.get(name)
            instance = facts.values.instance_of(argument, site.scope) if argument is not None else None
            if instance is not None and instance.kind is Kind.SHARED_VALUE:
                return SharedValue(instance, PASSED)
        return None

    def _parameter(self, function: FunctionInfo, name: str, depth: int) -> SharedValue | None:
        facts = self.facts
        for dispatch in facts.workers.dispatches:
            # values cannot be pickled into pool tasks (they raise RuntimeError): only these carry them
            if dispatch.worker is not function or dispatch.kind not in ("target", "initializer", "spawn"):
                continue
            argument = dispatch.arguments().get(name)
            if argument is None or dispatch.scope is None:
                continue
            instance = facts.values.instance_of(argument, dispatch.scope)
            if instance is not None and instance.kind is Kind.SHARED_VALUE:
                return SharedValue(instance, PASSED)
        for site, passed in facts.arguments.callers(function):
            argument = passed.get(name)
            caller = site.scope.function
            if argument is None or caller is None or type(caller.node) is not cst.FunctionDef:
                continue
            info = facts.functions.get(caller.node)
            if info is None or not facts.workers.runs_in_child(info):
                continue
            if site.node in facts.locks.regions(info).locked_calls:
                continue  # the helper runs under the caller's lock
            found = self.source(argument, site.scope, depth + 1)
            if found is not None:
                return found
        return None

    def _global(self, name: str, depth: int) -> SharedValue | None:
        """A module-level name: a Value the module creates, or one a pool initializer stores there."""
        facts = self.facts
        bindings = facts.module_scope.bindings.get(name, [])
        found: SharedValue | None = None
        for binding in bindings:
            value = binding.value
            if value is None:
                return None
            if type(value) is cst.Name and value.value == "None":
                continue  # the placeholder an initializer fills in
            instance = facts.values.instance_of(value, facts.module_scope)
            if instance is not None:
                if instance.kind is not Kind.SHARED_VALUE:
                    return None
                found = found or SharedValue(instance, GLOBAL)
                continue
            stored = self._stored_by_function(name, value, depth)
            if stored is None:
                return None
            found = found or stored
        return found

    def _stored_by_function(self, name: str, value: cst.BaseExpression, depth: int) -> SharedValue | None:
        """`global counter; counter = c` in a function whose parameter `c` gets a shared value."""
        facts = self.facts
        for function in facts.functions.values():
            if name not in function.scope.global_names:
                continue
            param = facts.arguments.parameter(value, function.scope)
            if param is not None:
                found = self._parameter(*param, depth + 1)
                if found is not None:
                    return SharedValue(found.instance, INITIALIZER)
        return None


def _is_int(expr: cst.BaseExpression) -> bool:
    if type(expr) is cst.UnaryOperation and type(expr.operator) is cst.Minus:
        expr = expr.expression
    return type(expr) is cst.Integer


def _is_len(expr: cst.BaseExpression) -> bool:
    return type(expr) is cst.Call and type(expr.func) is cst.Name and expr.func.value == "len"


def _computes_bucket(expr: cst.CSTNode) -> bool:
    if type(expr) is cst.BinaryOperation and type(expr.operator) in (cst.Modulo, cst.FloorDivide):
        return True
    if type(expr) is cst.Call:
        return True
    return any(_computes_bucket(child) for child in expr.children)
