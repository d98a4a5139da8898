"""Which expression of a caller each parameter of a function of the module receives.

Rules that follow an object into a function (a shared `Value` into a helper of a worker, a queue
into the function that fills it, a constructor argument into `self.x`) ask here instead of mapping
call arguments themselves. Like the other facts this gives up rather than guess: a `*args` before
a parameter, or a name bound to something other than the parameter, maps to nothing.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Collection

import libcst as cst

from mplint.facts.resolve import MAX_DEPTH as _MAX_DEPTH

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import CallSite, FunctionInfo, Scope



class Arguments:
    def __init__(self, facts: ModuleFacts) -> None:
        self._facts = facts

    @cached_property
    def _callers(self) -> dict[cst.FunctionDef, list[tuple[CallSite, dict[str, cst.BaseExpression]]]]:
        found: dict[cst.FunctionDef, list[tuple[CallSite, dict[str, cst.BaseExpression]]]] = {}
        for site in self._facts.calls:
            callee = self._facts.callgraph.callee(site)
            if callee is not None:
                found.setdefault(callee.node, []).append((site, self.bind(site, callee)))
        return found

    def callers(self, function: FunctionInfo) -> list[tuple[CallSite, dict[str, cst.BaseExpression]]]:
        """The calls of `function` in this module, each with what it passes: {parameter: expression}.

        A class call (`Cls(x)`) is a call of its `__init__`."""
        return self._callers.get(function.node, [])

    def bind(self, site: CallSite, function: FunctionInfo) -> dict[str, cst.BaseExpression]:
        """{parameter name: argument expression} for a call of `function` (as `callgraph.callee` finds it)."""
        params = list(function.node.params.params)
        if self._passes_self(site, function):
            params = params[1:]
        given: dict[str, cst.BaseExpression] = {}
        positional = [a for a in site.node.args if a.keyword is None]
        for param, arg in zip(params, positional):
            if arg.star:
                break  # `*args` hides which parameter gets what
            given[param.name.value] = arg.value
        names = {p.name.value for p in (*params, *function.node.params.kwonly_params)}
        for arg in site.node.args:
            if arg.keyword is not None and arg.keyword.value in names:
                given[arg.keyword.value] = arg.value
        return given

    def _passes_self(self, site: CallSite, function: FunctionInfo) -> bool:
        if function.cls is None or _decorated(function.node, "staticmethod"):
            return False
        func = site.node.func
        if type(func) is cst.Attribute:
            # `Cls.method(obj, x)` passes the instance explicitly, unless it is a classmethod
            on_class = self._facts.names.definition(func.value, site.scope) is not None
            return not on_class or _decorated(function.node, "classmethod")
        return True  # `Cls(x)`: the instance is made for __init__

    def parameter(self, expr: cst.BaseExpression, scope: Scope) -> tuple[FunctionInfo, str] | None:
        """The function and parameter that `expr` is, when it is a name whose only binding is a
        parameter of the function it is read in (never reassigned there)."""
        if type(expr) is not cst.Name:
            return None
        found = self._facts.names.lookup(expr.value, scope)
        if found is None:
            return None
        where, bindings = found
        if len(bindings) != 1 or type(bindings[0].node) is not cst.Param:
            return None
        function = self._facts.functions.get(where.node) if type(where.node) is cst.FunctionDef else None
        if function is None:
            return None
        return function, expr.value

    def method_calls_on(
        self, function: FunctionInfo, param: str, methods: Collection[str], _depth: int = 0
    ) -> list[CallSite]:
        """The calls `param.m(...)` (m in `methods`) that `function` makes on its parameter `param`,
        directly or in the functions of the module it hands the parameter to."""
        found: list[CallSite] = []
        if _depth > _MAX_DEPTH:
            return found
        for site in function.calls:
            func = site.node.func
            if (
                type(func) is cst.Attribute
                and func.attr.value in methods
                and self._is_param(func.value, site.scope, function, param)
            ):
                found.append(site)
            callee = self._facts.callgraph.callee(site)
            if callee is None or callee.node is function.node:
                continue
            for name, value in self.bind(site, callee).items():
                if self._is_param(value, site.scope, function, param):
                    found.extend(self.method_calls_on(callee, name, methods, _depth + 1))
        return found

    def _is_param(self, expr: cst.BaseExpression, scope: Scope, function: FunctionInfo, param: str) -> bool:
        found = self.parameter(expr, scope)
        return found is not None and found[0] is function and found[1] == param


def _decorated(node: cst.FunctionDef, name: str) -> bool:
    return any(type(d.decorator) is cst.Name and d.decorator.value == name for d in node.decorators)
