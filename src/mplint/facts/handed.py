"""What a helper of the module does with a process, pool, executor or manager it is handed.

Passing an object to a call usually gives it away: whoever receives it may keep it, end it or
pass it on, so the lifecycle fact counts it as an escape. A function of this module says for
itself what it does: `def make_shared(manager): return manager.dict()` only uses the manager,
which stays its caller's to shut down. Here a helper *only uses* its parameter when every use of
it in the helper's own body calls a method that neither ends the object nor hands it on (a
submit, a proxy made by a manager, `start()`), or looks at it without keeping it, also through
helpers it hands the parameter to. Anything else gives the object away: returned, stored,
rebound, closed, joined, terminated, used in a `with` block, captured by a nested function, or
passed to anything that is not such a helper.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from mplint.facts.resolve import MAX_DEPTH, owner_of
from mplint.facts.uses import LIFECYCLE_METHODS, Seen, Use, UseReader

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import CallSite, FunctionInfo

#: what a helper does with a parameter: None when it gives the object away, else the methods it
#: calls on it that matter to the caller's lifecycle (`start`)
Kept = frozenset[str] | None

#: methods a helper may call on the object that the caller's lifecycle should see
_SEEN_METHODS = frozenset({"start"})


class Handed:
    """Answers for the lifecycle flow: does the call at a use only use the object it is given?"""

    def __init__(self, facts: ModuleFacts) -> None:
        self._facts = facts
        self._sites: dict[cst.Call, CallSite] = {site.node: site for site in facts.calls}
        self._kept: dict[tuple[cst.FunctionDef, str], Kept] = {}

    def passed(self, call: cst.Call, value: cst.BaseExpression, depth: int = 0) -> Seen | None:
        """What the call does with `value`, one of its arguments, when the callee is a helper of
        the module that only uses it: a read, or the `start()` it calls; None when it is given
        away (or nothing is known)."""
        site = self._sites.get(call)
        if site is None or depth > MAX_DEPTH:
            return None
        facts = self._facts
        callee = facts.callgraph.callee(site)
        if callee is None or callee.yields or facts.callgraph.may_be_overridden(callee):
            return None  # a generator's body may never run; an override may do anything
        params = [name for name, given in facts.arguments.bind(site, callee).items() if given is value]
        if len(params) != 1:
            return None
        kept = self.kept(callee, params[0], depth)
        if kept is None:
            return None
        if "start" in kept:
            return Seen(Use.CALL, call, method="start")
        return Seen(Use.LENT, call)

    def kept(self, function: FunctionInfo, param: str, depth: int = 0) -> Kept:
        """The methods that `function` calls on its parameter `param` (of `_SEEN_METHODS`), when
        it only uses it; None when it gives it away."""
        key = (function.node, param)
        if key in self._kept:
            return self._kept[key]
        self._kept[key] = None  # a helper that reaches itself gives the object away
        reader = _ParamUses(self, function, param, depth)
        reader.walk(function.node.body)
        found: Kept = None if reader.given_away else frozenset(reader.methods)
        self._kept[key] = found
        return found


class _ParamUses(UseReader):
    """Reads every use of one parameter in its function's own body (nested code included: a use
    there is a capture, which gives the object away)."""

    def __init__(self, handed: Handed, function: FunctionInfo, param: str, depth: int) -> None:
        self.handed = handed
        self.names = handed._facts.names
        self.function = function
        self.param = param
        self.depth = depth
        self.stack: list[cst.CSTNode] = []
        self.methods: set[str] = set()
        self.given_away = False

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.stack.append(node)  # on_leave comes for every node, its children skipped or not
        return not self.given_away and super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        super().on_leave(original_node)
        self.stack.pop()

    def visit_Name(self, node: cst.Name) -> None:
        if node.value != self.param or len(self.stack) < 2:
            return
        scope = self.names.scope_of(node)
        found = self.names.lookup(node.value, scope) if scope is not None else None
        if found is None or found[0] is not self.function.scope:
            return  # another variable of the same name
        i = len(self.stack) - 1
        if not self._is_use(i) or owner_of(scope) is not self.function.scope:
            self.given_away = True  # rebound, or captured by a nested function or lambda
            return
        seen = self._use(i)
        if seen.use in (Use.READ, Use.ITERATE, Use.LENT):
            return
        if seen.use is Use.CALL and seen.method is not None and not seen.each:
            if seen.method in LIFECYCLE_METHODS:
                self.given_away = True  # the helper ends it: it is the helper's business
            elif seen.method in _SEEN_METHODS:
                self.methods.add(seen.method)
            return
        self.given_away = True

    def _handed_on(self, j: int, value: cst.BaseExpression) -> Seen | None:
        call = self.stack[j]
        if not isinstance(call, cst.Call):
            return None
        return self.handed.passed(call, value, self.depth + 1)

