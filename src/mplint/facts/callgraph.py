"""Which functions of the module call which, and what a call reaches through them."""

from __future__ import annotations

from typing import Callable

import libcst as cst

from mplint.facts.names import Names
from mplint.facts.scopes import CallSite, Collected, FunctionInfo

#: a chain of calls: the first site is in the caller, the last satisfies the query
CallChain = tuple[CallSite, ...]


class CallGraph:
    def __init__(self, collected: Collected, names: Names) -> None:
        self._collected = collected
        self._names = names
        #: id of the call site -> (the site, the function it runs): asked again and again of the
        #: same calls; the entry holds the site, so that its id is no other object's meanwhile
        self._callees: dict[int, tuple[CallSite, FunctionInfo | None]] = {}

    def callee(self, site: CallSite) -> FunctionInfo | None:
        """The function of this module that a call runs: `f()`, `self.method()`, `Cls()` (its __init__)."""
        known = self._callees.get(id(site))
        if known is None:
            known = self._callees[id(site)] = (site, self._callee(site))
        return known[1]

    def _callee(self, site: CallSite) -> FunctionInfo | None:
        target = self._names.definition(site.node.func, site.scope)
        if type(target) is cst.FunctionDef:
            return self._collected.functions.get(target)
        if type(target) is cst.ClassDef:
            return self._collected.classes[target].methods.get("__init__")
        return None

    def may_be_overridden(self, function: FunctionInfo) -> bool:
        """A method that another class of the module also defines: `self.build()` may run that one."""
        if function.cls is None:
            return False
        return any(
            info.node is not function.cls and function.name in info.methods
            for info in self._collected.classes.values()
        )

    def reaches(
        self, function: FunctionInfo, predicate: Callable[[CallSite], bool]
    ) -> CallChain | None:
        """The shortest chain of calls from `function`'s body to a call satisfying `predicate`."""
        seen = {function.node}
        frontier: list[tuple[FunctionInfo, CallChain]] = [(function, ())]
        while frontier:
            next_frontier: list[tuple[FunctionInfo, CallChain]] = []
            for current, chain in frontier:
                for site in current.calls:
                    if predicate(site):
                        return (*chain, site)
                for site in current.calls:
                    callee = self.callee(site)
                    if callee is not None and callee.node not in seen:
                        seen.add(callee.node)
                        next_frontier.append((callee, (*chain, site)))
            frontier = next_frontier
        return None

    def reached_from(self, function: FunctionInfo) -> list[FunctionInfo]:
        """`function` and every function of the module it calls, directly or through others."""
        order = [function]
        seen = {function.node}
        for current in order:
            for site in current.calls:
                callee = self.callee(site)
                if callee is not None and callee.node not in seen:
                    seen.add(callee.node)
                    order.append(callee)
        return order
