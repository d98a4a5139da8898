"""Which calls run again on every round of a loop, and which loops may stop early.

A call is *repeated* when it sits in the body of a `for` (not its iterable, evaluated once), in
the test or body of a `while`, or in a comprehension's element, its conditions, or any of its
iterables but the first (the first is evaluated once, before the comprehension runs). The loop
is the innermost such construct. A function or class defined inside a loop is code of its own:
its calls repeat only if its body has a loop.

A loop *may stop early* when its body holds a `break` or a `return` of its own (`for attempt in
range(3): try: return pool.apply(...)`): one round at a time may be the point. (A `raise` ends
the loop only on an error: the rounds still run one after another.)
"""

from __future__ import annotations

import libcst as cst

LoopNode = cst.CSTNode  # For, While, ListComp, SetComp, DictComp, GeneratorExp

_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)
_OWN_CODE = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


class Loops:
    """Read from the parents the one walk recorded (`Collected.up`), its `return` and `break`
    statements."""

    def __init__(
        self,
        up: dict[cst.CSTNode, cst.CSTNode],
        returns_and_yields: list[cst.Return | cst.Yield],
        breaks: list[cst.Break],
        whiles: list[cst.While],
    ) -> None:
        self._up = up
        #: every `while` loop of the module
        self.whiles = whiles
        self._exits = [node for node in returns_and_yields if type(node) is cst.Return], breaks
        self._early: set[LoopNode] | None = None

    def loop_of(self, call: cst.Call) -> LoopNode | None:
        """The innermost loop whose every round runs `call` again, if any."""
        up = self._up
        below: cst.CSTNode | None = None
        child, parent = call, up.get(call)
        while parent is not None:
            kind = type(parent)
            if kind is cst.For:
                if child is parent.body:  # type: ignore[attr-defined]
                    return parent
            elif kind is cst.While:
                if child is parent.body or child is parent.test:  # type: ignore[attr-defined]
                    return parent
            elif kind in _COMPREHENSIONS:
                # the first iterable is evaluated once, before the first round
                if child is not parent.for_in or below is not parent.for_in.iter:  # type: ignore[attr-defined]
                    return parent
            elif kind is cst.FunctionDef:
                if child is parent.body or child is parent.returns:  # type: ignore[attr-defined]
                    return None
            elif kind is cst.ClassDef or kind is cst.Lambda:
                if child is parent.body:  # type: ignore[attr-defined]
                    return None
            below, child, parent = child, parent, up.get(parent)
        return None

    def in_loop_statement(self, call: cst.Call) -> bool:
        """A `for` or `while` statement of the call's own code holds it, in any of its parts (the
        iterable, the test, the body, the `else`); a def, class or lambda ends the climb."""
        up = self._up
        parent = up.get(call)
        while parent is not None and type(parent) not in _OWN_CODE:
            if type(parent) in (cst.For, cst.While):
                return True
            parent = up.get(parent)
        return False

    def in_body(self, node: cst.CSTNode, loop: cst.For | cst.While) -> bool:
        """`node` is part of the loop's body, as code of the loop's own function (not of a def,
        class or lambda inside it)."""
        up = self._up
        child, parent = node, up.get(node)
        while parent is not None and type(parent) not in _OWN_CODE:
            if parent is loop:
                return child is loop.body
            child, parent = parent, up.get(parent)
        return False

    def may_stop_early(self, loop: LoopNode) -> bool:
        """The loop's own body can leave it before the last round (`break`, `return`)."""
        if self._early is None:
            self._early = self._stopping()
        return loop in self._early

    def _stopping(self) -> set[LoopNode]:
        """The loops whose body holds a `return` of their function, or a `break` of their own."""
        up, found = self._up, set()
        returns, breaks = self._exits
        for exit in (*returns, *breaks):
            child, parent = exit, up.get(exit)
            while parent is not None and type(parent) not in _OWN_CODE:
                if type(parent) in (cst.For, cst.While):
                    if child is parent.body:
                        found.add(parent)
                    if type(exit) is cst.Break:
                        break  # a `break` leaves its innermost loop only
                child, parent = parent, up.get(parent)
        return found
