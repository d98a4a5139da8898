"""Who runs a function of the module, where the call graph alone does not say.

- *Handed over only*: a function that the module never calls but passes on as a value
  (`dict(initializer=_init)` spread into `Pool(**kw)`, `functools.partial(_init, cfg)` bound to a
  name, a callback): whoever calls it, in whichever process, is out of sight.
- *Worker setup*: what a process does first to set up its own state. The simple statements that
  open the body of a `Process` target (or of a `Process` subclass's `run`) before its first
  compound statement (the loop or block that does the work), and the functions they call: each
  worker's own initializer, as `initializer=` is for a pool.
- *Parent-reached*: the functions that the parent's own code is seen to run: those that
  module-level code calls (at import time or under the main guard) and those that hand work to a
  child, with everything they call. A function that nothing of the module calls (an accessor
  exported to other modules) is not among them.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import libcst as cst

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import FunctionInfo
    from mplint.facts.state import Mutation


class Reach:
    def __init__(self, facts: ModuleFacts) -> None:
        self._facts = facts

    @cached_property
    def handed_over_only(self) -> frozenset[cst.FunctionDef]:
        """Functions that no call of the module runs and no process API is seen to receive,
        whose name is read as a value."""
        facts = self._facts
        called: set[cst.CSTNode] = set()
        funcs: set[cst.CSTNode] = set()
        for site in facts.calls:
            funcs.add(site.node.func)
            callee = facts.callgraph.callee(site)
            if callee is not None:
                called.add(callee.node)
        found: set[cst.FunctionDef] = set()
        for info in facts.functions.values():
            if info.node in called or facts.workers.runs_in_child(info):
                continue
            for node, scope in facts.loads.get(info.name, ()):
                if node not in funcs and facts.names.definition(node, scope) is info.node:
                    found.add(info.node)
                    break
        return frozenset(found)

    @cached_property
    def _setup(self) -> tuple[frozenset[cst.CSTNode], frozenset[cst.FunctionDef]]:
        facts = self._facts
        nodes: set[cst.CSTNode] = set()
        functions: set[cst.FunctionDef] = set()
        for dispatch in facts.workers.dispatches:
            worker = dispatch.worker
            if worker is None or dispatch.kind not in ("target", "run"):
                continue
            leading = _leading_simple_statements(worker.node)
            if not leading:
                continue
            found = _changes_and_calls(worker, leading)
            nodes.update(found)
            for site in worker.calls:
                if site.node in found:
                    callee = facts.callgraph.callee(site)
                    if callee is not None and callee.node is not worker.node:
                        functions.update(f.node for f in facts.callgraph.reached_from(callee))
        return frozenset(nodes), frozenset(functions)

    def in_worker_setup(self, mutation: Mutation, function: FunctionInfo) -> bool:
        """The change is made by a process's own setup: its target's first statements, or a
        function they call."""
        nodes, functions = self._setup
        return function.node in functions or mutation.node in nodes

    @cached_property
    def parent_reached(self) -> frozenset[cst.FunctionDef]:
        """The functions that the parent's own code is seen to run."""
        facts = self._facts
        roots: list[FunctionInfo] = []
        for site in facts.calls:
            if site.scope.function is None:  # module-level code, the main guard included
                callee = facts.callgraph.callee(site)
                if callee is not None:
                    roots.append(callee)
        for dispatch in facts.workers.dispatches:
            scope = dispatch.scope
            owner = scope.function if scope is not None else None
            info = facts.functions.get(owner.node) if owner is not None else None  # type: ignore[call-overload]
            if info is not None and not facts.workers.runs_in_child(info):
                roots.append(info)
        reached: set[cst.FunctionDef] = set()
        for root in roots:
            if root.node not in reached:
                reached.update(f.node for f in facts.callgraph.reached_from(root))
        return frozenset(reached)


def _leading_simple_statements(function: cst.FunctionDef) -> list[cst.CSTNode]:
    """The simple statements that open a function's body, when a compound statement follows."""
    body = function.body
    if type(body) is not cst.IndentedBlock:
        return []
    leading: list[cst.CSTNode] = []
    for statement in body.body:
        if type(statement) is not cst.SimpleStatementLine:
            return leading
        leading.append(statement)
    return []  # nothing but simple statements: they are the work, not its setup


def _changes_and_calls(worker: FunctionInfo, statements: list[cst.CSTNode]) -> set[cst.CSTNode]:
    """The calls (not those of a lambda's body) and the assignments, augmented assignments and
    `del`s of some simple statements of the worker's own body."""
    leading = set(statements)
    found: set[cst.CSTNode] = {site.node for site in worker.calls if site.statement in leading}
    for statement in statements:
        found.update(small for small in statement.body if type(small) in _CHANGES)  # type: ignore[attr-defined]
    return found


_CHANGES = (cst.Assign, cst.AnnAssign, cst.AugAssign, cst.Del)
