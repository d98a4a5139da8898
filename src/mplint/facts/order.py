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
from mplint.facts.walk import children

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
        self._sites = facts.site_of
        self._own: dict[cst.CSTNode | None, list[Step]] | None = None

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
        if self._own is None:
            self._own = self._all_steps()
        return self._own.get(function.node if function is not None else None, [])

    def _all_steps(self) -> dict[cst.CSTNode | None, list[Step]]:
        """The steps of every function's own body (None: the module's own code), read from the
        order in which the walk left the calls and `with` blocks."""
        facts = self._facts
        homes = _Homes(facts)
        steps: dict[cst.CSTNode | None, list[Step]] = {}
        for node in facts._collected.exits:
            if type(node) is cst.With:
                home = homes.of_statement(node)
                if home is not _NOWHERE:
                    steps.setdefault(home, []).append(Step("exit", block=node, scope=homes.scope(home)))
                continue
            site = self._sites[node]
            home = homes.of_call(site)
            if home is not _NOWHERE:
                steps.setdefault(home, []).append(Step("call", site))
        return steps


#: the home of code that is no function's own steps: a lambda, a class body, a def's decorators
#: and defaults, a branch of an `if` on the result of `os.fork()`
_NOWHERE = object()


class _Homes:
    """Whose own steps a call or a `with` is: the def whose body holds it, None for the module's
    own code, `_NOWHERE` for code run elsewhere (see the module's docstring)."""

    def __init__(self, facts: ModuleFacts) -> None:
        self._facts = facts
        self._parents = facts._parents
        self._of: dict[cst.CSTNode, object] = {}
        self._forks: dict[cst.If, bool] = {}

    def scope(self, home: object) -> Scope:
        if home is None:
            return self._facts.module_scope
        return self._facts.functions[home].scope  # type: ignore[index]

    def of_call(self, site: CallSite) -> object:
        scope = site.scope
        while scope.kind == "comprehension":
            scope = scope.parent  # type: ignore[assignment]
        if scope.kind == "lambda":
            return _NOWHERE
        statement = site.statement
        kind = type(statement)
        if kind is cst.ClassDef:
            return _NOWHERE  # its decorators, bases, or a body on one line
        if kind is cst.FunctionDef:
            # a body on one line (`def size(self): return len(self.items)`) is the def's own;
            # its decorators, defaults and annotations are nobody's
            return statement if self._part_of(site.node, statement) is statement.body else _NOWHERE  # type: ignore[attr-defined]
        home = self.of_statement(statement)
        if kind is cst.If and home is not _NOWHERE and self._tests_fork(statement, home):  # type: ignore[arg-type]
            if self._part_of(site.node, statement) is not statement.test:  # type: ignore[attr-defined]
                return _NOWHERE  # a branch on one line: `if pid == 0: os._exit(0)`
        return home

    def of_statement(self, statement: cst.CSTNode) -> object:
        """The home of the code of a statement of some block."""
        found = self._of.get(statement, self)
        if found is not self:
            return found
        parent = self._parents.get(statement)
        if parent is None:
            found = None
        else:
            kind = type(parent)
            if kind is cst.FunctionDef:
                found = parent
            elif kind is cst.ClassDef:
                found = _NOWHERE
            else:
                found = self.of_statement(parent)
                if kind is cst.If and found is not _NOWHERE and self._tests_fork(parent, found):  # type: ignore[arg-type]
                    found = _NOWHERE  # one branch is the child's, the other the parent's
        self._of[statement] = found
        return found

    def _tests_fork(self, node: cst.If, home: object) -> bool:
        answer = self._forks.get(node)
        if answer is None:
            answer = self._forks[node] = _tests_fork_result(self._facts, self.scope(home), node.test)
        return answer

    def _part_of(self, node: cst.CSTNode, statement: cst.CSTNode) -> cst.CSTNode:
        """The child of `statement` that holds `node`."""
        up = self._facts.up
        child, parent = node, up.get(node)
        while parent is not statement and parent is not None:
            child, parent = parent, up.get(parent)
        return child


def _tests_fork_result(facts: ModuleFacts, scope: Scope, test: cst.BaseExpression) -> bool:
    """The test compares the result of `os.fork()` (or of a name bound to it)."""
    names = facts.names
    for part in _names_in(test):
        if type(part) is cst.Call:
            api = names.api(part.func, scope)
            if api is not None and api.kind is apis.Kind.FORK:
                return True
            continue
        found = names.lookup(part.value, scope)
        if found is None:
            continue
        where, bindings = found
        for binding in bindings:
            value = binding.value
            if type(binding.node) is cst.Assign and type(binding.node.value) is cst.Call:
                value = binding.node.value  # `pid, fd = os.forkpty()`
            if type(value) is cst.Call:
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
        if type(node) in (cst.Name, cst.Call):
            found.append(node)
        elif type(node) in (cst.Comparison, cst.ComparisonTarget, cst.BooleanOperation, cst.UnaryOperation):
            todo.extend(children(node))  # what a walk visits: LibCST's `children` rebuilds the node
    return found
