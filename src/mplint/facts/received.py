"""What object a parameter holds, from what every caller and every hand-over to a child gives it.

`values.instance_of` answers for expressions whose value the function makes itself; a helper
`def report(queue): queue.qsize()` or a worker `def consume(queue): ...` started with
`Process(target=consume, args=(queue,))` gets its object from outside. Here a parameter is the
object that every call of the function in the module, and every dispatch of it to a child, passes
in, when they all agree; a function nobody in the module calls tells nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import FunctionInfo, Scope
    from mplint.facts.values import Instance

_MAX_DEPTH = 4  # parameters handed on to parameters deeper than this are not followed


class Received:
    def __init__(self, facts: ModuleFacts) -> None:
        self._facts = facts

    def instance_of(self, expr: cst.BaseExpression, scope: Scope, _depth: int = 0) -> Instance | None:
        """The object `expr` is: made in its function, or given to its parameter by every caller."""
        facts = self._facts
        made = facts.values.instance_of(expr, scope)
        if made is not None or _depth >= _MAX_DEPTH:
            return made
        param = facts.arguments.parameter(expr, scope)
        if param is None:
            return None
        given = self.given(*param)
        if given is None:
            return None
        found = [self.instance_of(value, where, _depth + 1) for value, where in given]
        first = found[0]
        if first is None or any(
            f is None or f.kind is not first.kind or f.api != first.api or f.cls is not first.cls
            for f in found
        ):
            return None
        return first

    def given(self, function: FunctionInfo, name: str) -> list[tuple[cst.BaseExpression, Scope]] | None:
        """What every call of `function` in the module, and every dispatch of it to a child, gives
        its parameter `name` (with the scope it is evaluated in); None when one of them gives
        nothing known, or nobody calls it."""
        facts = self._facts
        given: list[tuple[cst.BaseExpression, Scope]] = [
            (passed[name], site.scope)
            for site, passed in facts.arguments.callers(function)
            if name in passed
        ]
        callers = len(facts.arguments.callers(function))
        dispatches = facts.workers.dispatches_of(function) if facts.workers.runs_in_child(function) else []
        direct = [d for d in dispatches if d.worker is function]
        for dispatch in direct:
            passed = dispatch.arguments()
            if name in passed and dispatch.scope is not None:
                given.append((passed[name], dispatch.scope))
        if not given or len(given) != callers + len(direct):
            return None  # some caller passes nothing known for it
        return given
