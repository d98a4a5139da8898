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
from mplint.facts.uses import LIFECYCLE_METHODS, Seen, Use, UseReader, path_to

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
        self._sites: dict[cst.Call, CallSite] = facts.site_of
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
        found = self._param_kept(function, param, depth)
        self._kept[key] = found
        return found

    def _param_kept(self, function: FunctionInfo, param: str, depth: int) -> Kept:
        """Reads every use of one parameter in its function's body (nested code included: a
        use there is a capture, which gives the object away)."""
        names, up = self._facts.names, self._facts.up
        body = function.node.body
        reader = UseReader()
        reader.names = names
        reader.helpers = _Deeper(self, depth)
        methods: set[str] = set()
        for node in self._facts.names_in_order[function.names_from : function.names_to]:
            if node.value != param:
                continue
            scope = names.scope_of(node)
            found = names.lookup(node.value, scope) if scope is not None else None
            if found is None or found[0] is not function.scope:
                continue  # another variable of the same name
            reader.stack = path_to(node, body, up)
            i = len(reader.stack) - 1
            if not reader._is_use(i) or owner_of(scope) is not function.scope:  # type: ignore[arg-type]
                return None  # rebound, or captured by a nested function or lambda
            seen = reader._use(i)
            if seen.use in (Use.READ, Use.ITERATE, Use.LENT):
                continue
            if seen.use is Use.CALL and seen.method is not None and not seen.each:
                if seen.method in LIFECYCLE_METHODS:
                    return None  # the helper ends it: it is the helper's business
                if seen.method in _SEEN_METHODS:
                    methods.add(seen.method)
                continue
            return None
        return frozenset(methods)


class _Deeper:
    """What the module's helpers do with what a helper hands on, one level deeper."""

    def __init__(self, handed: Handed, depth: int) -> None:
        self._handed = handed
        self._depth = depth

    def passed(self, call: cst.Call, value: cst.BaseExpression) -> Seen | None:
        return self._handed.passed(call, value, self._depth + 1)
