"""What runs before what: the calls of a function (or of the module's own code) in the order they
run, with the calls of the module's functions followed into their bodies.

A *run* starts at a root (the module's top-level code, main guard included, or any function of
the module, for callers outside it) and lists its steps: each call once it has been made (the
arguments' calls before it), and the end of each `with` block, which ends what its items manage.
A call of a function of the module is followed by that function's own steps, once per chain
(recursion is cut). Code that runs elsewhere is not followed: functions handed to a thread or a
process, lambdas, nested defs until they are called, and both branches of an `if` that tests the
result of `os.fork()` (one of them runs in the child). Branches, loops and handlers are read in
source order, each once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Literal

import libcst as cst

from mplint import apis
from mplint.facts.syntax import FunctionBodyVisitor

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import CallSite, FunctionInfo, Scope

StepKind = Literal["call", "exit"]

#: steps of one run beyond this are not read: a call graph that fans out that far is cut
MAX_STEPS = 20_000


@dataclass(frozen=True, eq=False)
class Step:
    kind: StepKind
    #: for a call: the call site; None for the end of a `with` block
    site: CallSite | None = None
    #: for the end of a `with` block: the `with` statement and the scope its items are read in
    block: cst.With | None = None
    scope: Scope | None = None


class Order:
    def __init__(self, facts: ModuleFacts) -> None:
        self._facts = facts
        self._sites = {site.node: site for site in facts.calls}
        self._own: dict[cst.CSTNode, list[Step]] = {}

    def roots(self) -> Iterator[tuple[FunctionInfo | None, Iterator[Step]]]:
        """Every run: the module's own code first (None), then each function of the module."""
        yield None, self.run(None)
        for function in self._facts.functions.values():
            yield function, self.run(function)

    def run(self, function: FunctionInfo | None) -> Iterator[Step]:
        """The steps from `function`'s start (the module's code for None), callees followed."""
        count = 0
        stack: list[tuple[Iterator[Step], cst.CSTNode]] = []
        root = function.node if function is not None else self._facts.module
        stack.append((iter(self._own_steps(function)), root))
        active = {root}
        while stack:
            steps, node = stack[-1]
            step = next(steps, None)
            if step is None:
                stack.pop()
                active.discard(node)
                continue
            count += 1
            if count > MAX_STEPS:
                return
            yield step
            if step.site is not None:
                callee = self._facts.callgraph.callee(step.site)
                if callee is not None and callee.node not in active:
                    active.add(callee.node)
                    stack.append((iter(self._own_steps(callee)), callee.node))

    def _own_steps(self, function: FunctionInfo | None) -> list[Step]:
        node: cst.CSTNode = function.node if function is not None else self._facts.module
        found = self._own.get(node)
        if found is None:
            scope = function.scope if function is not None else self._facts.module_scope
            walker = _Steps(self._facts, self._sites, scope)
            if function is not None:
                walker.walk(function.node.body)
            else:
                for statement in self._facts.module.body:
                    walker.walk(statement)
            found = self._own[node] = walker.steps
        return found


class _Steps(FunctionBodyVisitor):
    def __init__(self, facts: ModuleFacts, sites: dict[cst.Call, CallSite], scope: Scope) -> None:
        self._facts = facts
        self._sites = sites
        self._scope = scope
        self.steps: list[Step] = []

    def leave_Call(self, original_node: cst.Call) -> None:
        site = self._sites.get(original_node)
        if site is not None:
            self.steps.append(Step("call", site))

    def leave_With(self, original_node: cst.With) -> None:
        self.steps.append(Step("exit", block=original_node, scope=self._scope))

    def visit_If(self, node: cst.If) -> bool:
        if not self._tests_fork_result(node.test):
            return True
        self.walk(node.test)
        return False  # one branch is the child's, the other the parent's: neither is followed

    def _tests_fork_result(self, test: cst.BaseExpression) -> bool:
        names = self._facts.names
        for part in _names_in(test):
            if isinstance(part, cst.Call):
                api = names.api(part.func, self._scope)
                if api is not None and api.kind is apis.Kind.FORK:
                    return True
                continue
            found = names.lookup(part.value, self._scope)
            if found is None:
                continue
            where, bindings = found
            for binding in bindings:
                value = binding.value
                if isinstance(binding.node, cst.Assign) and isinstance(binding.node.value, cst.Call):
                    value = binding.node.value  # `pid, fd = os.forkpty()`
                if isinstance(value, cst.Call):
                    api = names.api(value.func, where)
                    if api is not None and api.kind is apis.Kind.FORK:
                        return True
        return False


def _names_in(expr: cst.BaseExpression) -> list[cst.Name | cst.Call]:
    """The names and calls a test compares: `pid`, `os.fork()` in `if pid == 0`, `if not os.fork()`."""
    found: list[cst.Name | cst.Call] = []
    todo: list[cst.CSTNode] = [expr]
    while todo:
        node = todo.pop()
        if isinstance(node, (cst.Name, cst.Call)):
            found.append(node)
        elif isinstance(node, (cst.Comparison, cst.ComparisonTarget, cst.BooleanOperation, cst.UnaryOperation)):
            todo.extend(node.children)
    return found
