"""Under which conditions a call runs inside its function: the `if` tests, `try` handlers and
`with` blocks around it.

A call is *behind* a test when it sits in the body (or the `else`) of an `if`/`elif`/`while`,
a conditional expression, or the right operand of `and`/`or`; it is *handled* when it sits in the
body of a `try` whose handlers catch an exception (by name, an ancestor class, `Exception`, a bare
`except:`), or in `with contextlib.suppress(...)`. Conditions stop at a function's own body: a
`try` around a `def` does not protect what the function does when it is called later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterator, Literal

import libcst as cst


if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import CallSite

ConditionKind = Literal["test", "try", "with"]

#: what catches an exception besides its own name: its built-in ancestors
_ANCESTORS: dict[str, frozenset[str]] = {
    "NotImplementedError": frozenset({"RuntimeError", "Exception", "BaseException"}),
    "AssertionError": frozenset({"Exception", "BaseException"}),
}


@dataclass(frozen=True, eq=False)
class Condition:
    kind: ConditionKind
    #: the `if`, `while`, conditional expression, `and`/`or`, `try` or `with` node
    node: cst.CSTNode
    #: for tests: the expression tested; for `try`: None
    test: cst.BaseExpression | None = None


class Conditions:
    def __init__(self, facts: ModuleFacts, up: dict[cst.CSTNode, cst.CSTNode]) -> None:
        self._facts = facts
        self._up = up
        self._around: dict[cst.Call, tuple[Condition, ...]] = {}
        self._made: dict[cst.CSTNode, Condition] = {}

    def around(self, call: cst.Call) -> tuple[Condition, ...]:
        """The conditions around `call` in its own function (or module), outermost first."""
        found = self._around.get(call)
        if found is None:
            found = self._around[call] = self._climb(call)
        return found

    def _climb(self, call: cst.Call) -> tuple[Condition, ...]:
        """The conditions met from `call` up to its function's body (the parents the walk
        recorded), each on the part of its node that runs under it."""
        found: list[Condition] = []
        up, child = self._up, call
        parent = up.get(call)
        while parent is not None:
            kind = type(parent)
            if kind is cst.FunctionDef or kind is cst.Lambda:
                if child is parent.body:
                    break
                if kind is cst.FunctionDef and child is parent.returns:  # type: ignore[attr-defined]
                    return ()
            elif kind is cst.If or kind is cst.IfExp:
                if child is not parent.test:  # type: ignore[attr-defined]
                    found.append(self._condition("test", parent, parent.test))  # type: ignore[attr-defined]
            elif kind is cst.While:
                if child is parent.body:  # type: ignore[attr-defined]
                    found.append(self._condition("test", parent, parent.test))  # type: ignore[attr-defined]
            elif kind is cst.BooleanOperation:
                if child is parent.right:  # type: ignore[attr-defined]
                    found.append(self._condition("test", parent, parent.left))  # type: ignore[attr-defined]
            elif kind is cst.Try or kind is cst.With:
                if child is parent.body:  # type: ignore[attr-defined]
                    found.append(self._condition("try" if kind is cst.Try else "with", parent))
            child, parent = parent, up.get(parent)
        found.reverse()
        return tuple(found)

    def _condition(self, kind: ConditionKind, node: cst.CSTNode, test: cst.BaseExpression | None = None) -> Condition:
        made = self._made.get(node)
        if made is None:
            made = self._made[node] = Condition(kind, node, test)
        return made

    def tests(self, call: cst.Call) -> Iterator[cst.BaseExpression]:
        """The expressions tested before `call` runs."""
        for condition in self.around(call):
            if condition.test is not None:
                yield condition.test

    def behind_test(self, site: CallSite, predicate: Callable[[cst.CSTNode, CallSite], bool]) -> bool:
        """A test around the call has a part (a name, attribute or call in it) satisfying `predicate`."""
        return any(
            predicate(part, site) for test in self.tests(site.node) for part in self._parts(test)
        )

    def _parts(self, test: cst.BaseExpression) -> Iterator[cst.CSTNode]:
        """The names, attributes and calls of a test, as the walk recorded them."""
        facts = self._facts
        names = facts.names_in(test)
        yield from names
        up = self._up
        for name in names:
            parent = up.get(name)
            if type(parent) is cst.Attribute and parent.attr is name:
                yield parent
        for site in facts.calls_in(test):
            yield site.node

    def handles(self, site: CallSite, exception: str) -> bool:
        """The call is in a `try` body whose handlers catch `exception` (a built-in's name), or in
        `with contextlib.suppress(...)` of it."""
        catching = {exception, *_ANCESTORS.get(exception, ())}
        for condition in self.around(site.node):
            if condition.kind == "try" and type(condition.node) is cst.Try:
                for handler in condition.node.handlers:
                    if handler.type is None or catching & _names_of(handler.type):
                        return True
            elif condition.kind == "with" and type(condition.node) is cst.With:
                for item in condition.node.items:
                    call = item.item
                    if (
                        type(call) is cst.Call
                        and self._facts.names.qualname(call.func, site.scope) == "contextlib.suppress"
                        and any(catching & _names_of(arg.value) for arg in call.args)
                    ):
                        return True
        return False


def _names_of(expr: cst.BaseExpression) -> set[str]:
    """The exception names a handler's type names: `E`, `(E, F)`, `builtins.E`."""
    if type(expr) is cst.Name:
        return {expr.value}
    if type(expr) is cst.Attribute:
        return {expr.attr.value}
    if type(expr) in (cst.Tuple, cst.List):
        return set().union(*(_names_of(e.value) for e in expr.elements))
    return set()
