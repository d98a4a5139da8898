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

from mplint.facts.syntax import FunctionBodyVisitor
from mplint.facts.walk import Walker

LoopNode = cst.CSTNode  # For, While, ListComp, SetComp, DictComp, GeneratorExp

_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)


class Loops:
    def __init__(self, module: cst.Module) -> None:
        finder = _LoopFinder()
        finder.walk(module)
        self._loop_of = finder.loop_of
        self._early: dict[LoopNode, bool] = {}

    def loop_of(self, call: cst.Call) -> LoopNode | None:
        """The innermost loop whose every round runs `call` again, if any."""
        return self._loop_of.get(call)

    def may_stop_early(self, loop: LoopNode) -> bool:
        """The loop's own body can leave it before the last round (`break`, `return`)."""
        if loop not in self._early:
            if isinstance(loop, (cst.For, cst.While)):
                finder = _ExitFinder()
                finder.walk(loop.body)
                self._early[loop] = finder.found
            else:
                self._early[loop] = False
        return self._early[loop]


class _LoopFinder(Walker):
    def __init__(self) -> None:
        self.loops: list[LoopNode | None] = [None]
        self.loop_of: dict[cst.Call, LoopNode] = {}

    def _walk_in(self, loop: LoopNode | None, *nodes: cst.CSTNode | None) -> None:
        self.loops.append(loop)
        for node in nodes:
            if node is not None:
                self.walk(node)
        self.loops.pop()

    def visit_Call(self, node: cst.Call) -> None:
        loop = self.loops[-1]
        if loop is not None:
            self.loop_of[node] = loop

    def visit_For(self, node: cst.For) -> bool:
        self.walk(node.target)
        self.walk(node.iter)
        self._walk_in(node, node.body)
        if node.orelse is not None:
            self.walk(node.orelse)
        return False

    def visit_While(self, node: cst.While) -> bool:
        self._walk_in(node, node.test, node.body)
        if node.orelse is not None:
            self.walk(node.orelse)
        return False

    def _comprehension(self, node: cst.CSTNode) -> bool:
        first: cst.CompFor = node.for_in  # type: ignore[attr-defined]
        self.walk(first.iter)  # evaluated once, before the first round
        parts: list[cst.CSTNode | None] = [first.target, *first.ifs, first.inner_for_in]
        if isinstance(node, cst.DictComp):
            parts += [node.key, node.value]
        else:
            parts.append(node.elt)  # type: ignore[attr-defined]
        self._walk_in(node, *parts)
        return False

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def _own_code(self, node: cst.CSTNode) -> bool:
        # a def's decorators and defaults run where it is defined: walk them in the current loop
        if isinstance(node, cst.FunctionDef):
            for decorator in node.decorators:
                self.walk(decorator)
            self.walk(node.params)
            self._walk_in(None, node.body)
        elif isinstance(node, cst.ClassDef):
            for part in (*node.decorators, *node.bases, *node.keywords):
                self.walk(part)
            self._walk_in(None, node.body)
        else:  # a lambda's body runs when it is called
            self.walk(node.params)  # type: ignore[attr-defined]
            self._walk_in(None, node.body)  # type: ignore[attr-defined]
        return False

    visit_FunctionDef = visit_ClassDef = visit_Lambda = _own_code


class _ExitFinder(FunctionBodyVisitor):
    """A `break` or `return` that leaves the loop being looked at."""

    def __init__(self) -> None:
        self.found = False
        self.inner_loops = 0

    def visit_Return(self, node: cst.Return) -> None:
        self.found = True

    def visit_Break(self, node: cst.Break) -> None:
        if not self.inner_loops:
            self.found = True

    def _enter(self, node: cst.CSTNode) -> None:
        self.inner_loops += 1

    def _leave(self, node: cst.CSTNode) -> None:
        self.inner_loops -= 1

    visit_For = visit_While = _enter
    leave_For = leave_While = _leave
