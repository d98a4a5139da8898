"""Pending results of pools, followed through one function body at a time.

A *pending* result is what a pool method returns before the work is done: the `AsyncResult` of
`apply_async`/`map_async`/`starmap_async`, or the lazy iterator of `imap`/`imap_unordered`. A
*pool block* is `with <pool>:`; a *holder* is a name that stores pending results (one, or a list of
them); a *use* is what the body does with a name afterwards (waits on it, consumes it, moves it
into a list, or lets it escape where the analysis cannot follow).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Iterator, Union

import libcst as cst

from mplint.apis import Kind, methods, vocabulary
from mplint.facts.resolve import owner_of
from mplint.facts.syntax import ITERATING_BUILTINS
from mplint.facts.walk import Walker

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import CallSite, Scope
    from mplint.facts.values import Instance

#: pool methods that return before the work is done: an AsyncResult or a lazy iterator
PENDING = methods(Kind.POOL).pending
LAZY = methods(Kind.POOL).lazy

Owner = Union[cst.FunctionDef, cst.Module]


@dataclass(eq=False)
class PoolBlock:
    node: cst.With
    creation: cst.Call
    start: int
    end: int = 1 << 62
    #: `pool.join()` inside the block: every task has finished before the exit
    joined: bool = False


@dataclass(eq=False)
class Pending:
    call: cst.Call
    order: int
    block: PoolBlock


@dataclass(eq=False)
class Use:
    """A use of a name: `wait` (get/wait/poll), `use` (an iterator consumed), `iterate` (a loop over
    a list), `escape` (anything mplint cannot follow), `moved` (appended to the list `into`)."""

    kind: str
    node: cst.CSTNode
    order: int
    into: str | None = None


@dataclass(eq=False)
class Holder:
    """A name that holds pending results: one (`direct`) or a list of them (`list`)."""

    kind: str
    calls: list[Pending] = field(default_factory=list)


class PoolResults:
    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts

    @cached_property
    def bodies(self) -> list[ResultsBody]:
        """The function bodies (and module) that make pending results of a pool, walked."""
        facts = self.facts
        owners: dict[Owner, Scope] = {}
        for site in facts.calls:
            func = site.node.func
            if isinstance(func, cst.Attribute) and func.attr.value in PENDING:
                pool = facts.values.instance_of(func.value, site.scope)
                scope = owner_of(site.scope)
                if pool is not None and _terminating(pool) and scope is not None:
                    owners.setdefault(scope.node, scope)  # type: ignore[arg-type]
        if not owners:
            return []
        sites = {site.node: site for site in facts.calls}
        bodies = []
        for node, scope in owners.items():
            body = ResultsBody(facts, scope, sites)
            if isinstance(node, cst.Module):
                body.walk(node)
            else:
                body.walk(node.body)
            bodies.append(body)
        return bodies




class ResultsBody(Walker):
    """One function body (or module) in source order: its pool blocks, the pending results made
    in them, and every use of a name."""

    def __init__(self, facts: ModuleFacts, scope: Scope, sites: dict[cst.Call, CallSite]) -> None:
        self.facts = facts
        self.scope = scope
        self.sites = sites
        self.stack: list[cst.CSTNode] = []
        self.order = 0
        self.nested = 0
        self.blocks: list[PoolBlock] = []
        self.active: list[PoolBlock] = []
        self.holders: dict[str, Holder] = {}
        self.discarded: list[Pending] = []
        self.escaped_calls: set[cst.Call] = set()
        self.events: dict[str, list[Use]] = {}
        #: loop variable -> the list it walks, while inside the loop
        self.loop_vars: dict[str, list[str]] = {}
        #: waits in source order: (order, receiver, the name it is or whose element it is)
        self.syncs: list[tuple[int, cst.BaseExpression, str | None]] = []

    # --- bookkeeping ----------------------------------------------------------------------

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.order += 1
        self.stack.append(node)
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        super().on_leave(original_node)
        self.stack.pop()

    def _enter_nested(self, node: cst.CSTNode) -> None:
        self.nested += 1

    def _leave_nested(self, node: cst.CSTNode) -> None:
        self.nested -= 1

    visit_FunctionDef = visit_Lambda = visit_ClassDef = _enter_nested
    leave_FunctionDef = leave_Lambda = leave_ClassDef = _leave_nested

    def _scope_of(self, call: cst.Call) -> Scope:
        site = self.sites.get(call)
        return site.scope if site is not None else self.scope

    # --- pool blocks ----------------------------------------------------------------------

    def visit_With(self, node: cst.With) -> None:
        if self.nested:
            return
        for item in node.items:
            pool = self.facts.values.instance_of(item.item, self.scope)
            if pool is not None and _terminating(pool):
                block = PoolBlock(node, pool.creation, self.order)
                self.blocks.append(block)
                self.active.append(block)

    def leave_With(self, original_node: cst.With) -> None:
        while self.active and self.active[-1].node is original_node:
            self.active.pop().end = self.order

    def _block_of(self, receiver: cst.BaseExpression, call: cst.Call) -> PoolBlock | None:
        if not self.active:
            return None
        pool = self.facts.values.instance_of(receiver, self._scope_of(call))
        if pool is None:
            return None
        for block in reversed(self.active):
            if block.creation is pool.creation:
                return block
        return None

    # --- loops over lists of results ----------------------------------------------------------

    def visit_For(self, node: cst.For) -> None:
        self._loop(node.target, node.iter, +1)

    def leave_For(self, original_node: cst.For) -> None:
        self._loop(original_node.target, original_node.iter, -1)

    def _visit_comprehension(self, node: cst.CSTNode) -> None:
        for target, iterable in _comp_fors(node):
            self._loop(target, iterable, +1)

    def _leave_comprehension(self, node: cst.CSTNode) -> None:
        for target, iterable in _comp_fors(node):
            self._loop(target, iterable, -1)

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _visit_comprehension
    leave_ListComp = leave_SetComp = leave_GeneratorExp = leave_DictComp = _leave_comprehension

    def _loop(self, target: cst.BaseExpression, iterable: cst.BaseExpression, step: int) -> None:
        if isinstance(target, cst.Name) and isinstance(iterable, cst.Name):
            if step > 0:
                self.loop_vars.setdefault(target.value, []).append(iterable.value)
            elif self.loop_vars.get(target.value):
                self.loop_vars[target.value].pop()

    # --- calls ----------------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if self.nested or not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        if method in PENDING:
            block = self._block_of(func.value, node)
            if block is not None:
                self._pending(Pending(node, self.order, block))
        elif method == "join" and self.active:
            block = self._block_of(func.value, node)
            if block is not None:
                block.joined = True
            elif self._is_process(func.value, node):
                self._sync(func.value)
        elif (method == "get" and not [a for a in node.args if a.keyword is None]) or method == "wait":
            self._sync(func.value)

    def _sync(self, receiver: cst.BaseExpression) -> None:
        """A wait on `receiver`; for a loop variable, on an element of the list it walks."""
        name = receiver.value if isinstance(receiver, cst.Name) else None
        walked = self.loop_vars.get(name or "")
        self.syncs.append((self.order, receiver, walked[-1] if walked else name))

    def _is_process(self, receiver: cst.BaseExpression, call: cst.Call) -> bool:
        made = self.facts.values.instance_of(receiver, self._scope_of(call))
        return made is not None and made.kind is Kind.PROCESS

    def _pending(self, pending: Pending) -> None:
        """Where the result of a pending call goes: a name, a list, nowhere, or somewhere unknown."""
        parent = self.stack[-2] if len(self.stack) > 1 else None
        grand = self.stack[-3] if len(self.stack) > 2 else None
        call = pending.call
        if isinstance(parent, cst.Expr):
            self.discarded.append(pending)
        elif isinstance(parent, (cst.Assign, cst.AnnAssign)) and parent.value is call:
            name = _assigned_name(parent)
            if name is not None:
                self.holders.setdefault(name, Holder("direct")).calls.append(pending)
        elif isinstance(parent, (cst.ListComp, cst.GeneratorExp)) and parent.elt is call:
            name = _assigned_name(grand) if isinstance(grand, (cst.Assign, cst.AnnAssign)) else None
            if name is not None and isinstance(parent, cst.ListComp):
                self.holders.setdefault(name, Holder("list")).calls.append(pending)
        elif isinstance(parent, cst.Arg) and isinstance(grand, cst.Call):
            into = _append_target(grand)
            if into is not None:
                self.holders.setdefault(into, Holder("list")).calls.append(pending)
        # anything else: consumed on the spot (`.get()`, a loop over it) or handed on: not followed

    # --- names ----------------------------------------------------------------------------

    def visit_Name(self, node: cst.Name) -> None:
        parent = self.stack[-2] if len(self.stack) > 1 else None
        if isinstance(parent, cst.Attribute) and parent.attr is node:
            return
        if isinstance(parent, cst.Arg) and parent.keyword is node:
            return
        if isinstance(parent, (cst.FunctionDef, cst.ClassDef, cst.Param, cst.ImportAlias)) and not self.nested:
            return
        kind, into = ("escape", None) if self.nested else self._use(node)
        if kind == "bind":
            return
        for collection in self.loop_vars.get(node.value, [])[-1:]:
            # a use of `r` in `for r in results:` is a use of an element of `results`
            self.events.setdefault(collection, []).append(
                Use("element-wait" if kind == "wait" else "element-escape", node, self.order)
            )
            return
        self.events.setdefault(node.value, []).append(Use(kind, node, self.order, into))

    def _use(self, node: cst.Name) -> tuple[str, str | None]:
        parent = self.stack[-2] if len(self.stack) > 1 else None
        grand = self.stack[-3] if len(self.stack) > 2 else None
        if isinstance(parent, cst.Attribute) and parent.value is node:
            called = isinstance(grand, cst.Call) and grand.func is parent
            method = parent.attr.value
            if called and method in ("get", "wait", "ready", "successful"):
                return "wait", None
            if called and method == "next":
                return "use", None
            if called and method == "append":
                return "append", None
            return "escape", None
        if isinstance(parent, cst.AssignTarget) or (
            isinstance(parent, (cst.AnnAssign, cst.For, cst.CompFor)) and parent.target is node
        ):
            return "bind", None
        if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is node:
            return "iterate", None
        if isinstance(parent, cst.From):  # yield from
            return "use", None
        if isinstance(parent, cst.Arg) and isinstance(grand, cst.Call):
            if isinstance(grand.func, cst.Name) and grand.func.value == "len":
                return "neutral", None
            if isinstance(grand.func, cst.Name) and grand.func.value in ITERATING_BUILTINS:
                return "use", None
            into = _append_target(grand)
            if into is not None:
                return "moved", into
        if isinstance(parent, cst.Subscript) and parent.value is node:
            attribute = grand if isinstance(grand, cst.Attribute) and grand.value is parent else None
            caller = self.stack[-4] if len(self.stack) > 3 else None
            if attribute is not None and isinstance(caller, cst.Call) and caller.func is attribute:
                if attribute.attr.value in ("get", "wait", "ready", "successful"):
                    return "wait", None
        return "escape", None

    # --- queries --------------------------------------------------------------------------

    def merged_holders(self) -> dict[str, Holder]:
        """`r = pool.apply_async(...)` then `results.append(r)`: `results` holds `r`'s result."""
        holders = dict(self.holders)
        for name, holder in self.holders.items():
            if holder.kind != "direct":
                continue
            moves = [e for e in self.events.get(name, []) if e.kind == "moved"]
            if moves and all(e.kind in ("moved", "bind") for e in self.events.get(name, [])):
                into = moves[0].into
                if into is not None and all(e.into == into for e in moves):
                    target = holders.setdefault(into, Holder("list"))
                    if target.kind == "list":
                        target.calls.extend(holder.calls)
                        del holders[name]
        return holders

    @staticmethod
    def uses(holder: Holder, events: list[Use]) -> list[Use] | None:
        """The events that wait for or consume the results; None when one of them cannot be followed."""
        found = []
        for event in events:
            kind = event.kind
            if holder.kind == "list":
                # a list is followed through the loops over it: `for r in results: r.get()`
                if kind in ("escape", "use", "element-escape"):
                    return None
                if kind in ("wait", "element-wait"):
                    found.append(event)
            elif kind in ("escape", "moved"):
                return None
            elif kind in ("wait", "use", "iterate"):
                found.append(event)
        return found

    def only_bound_to_results(self, name: str, holder: Holder) -> bool:
        """Every binding of `name` in the function stores its pending results (or starts an empty list)."""
        bindings = self.scope.bindings.get(name, [])
        calls = {p.call for p in holder.calls}
        for binding in bindings:
            value = binding.value
            if value in calls:
                continue
            if isinstance(value, cst.ListComp) and value.elt in calls:
                continue
            if holder.kind == "list" and isinstance(value, cst.List) and not value.elements:
                continue
            return False
        return bool(bindings)

    def synchronised_after(self, pending: Pending, pending_names: set[str]) -> bool:
        """After the call, inside the block, the code waits on something mplint cannot see through
        (a queue's `get()`, an event's `wait()`, a process's `join()`): the author synchronises by
        other means, so the finding would be a guess."""
        for order, receiver, name in self.syncs:
            if pending.order < order < pending.block.end:
                if name in pending_names:
                    continue  # waiting for another result of the pool does not wait for this one
                if isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute) and receiver.func.attr.value in PENDING:
                    continue
                return True
        return False


def _terminating(pool: Instance) -> bool:
    """Leaving a `with` block on the pool terminates it and leaves its pending results waiting
    forever: multiprocessing's pools (a ThreadPool drops its queued tasks the same way). Not the
    libraries' own: pebble's block closes and joins, pathos' does nothing, and mpire's
    `terminate()` fails what is pending (with an error, not a hang)."""
    return pool.api.methods is None and vocabulary(pool.api).exit_terminates


def _comp_fors(node: cst.CSTNode) -> Iterator[tuple[cst.BaseExpression, cst.BaseExpression]]:
    comp = getattr(node, "for_in", None)
    while comp is not None:
        yield comp.target, comp.iter
        comp = comp.inner_for_in


def _assigned_name(statement: cst.CSTNode | None) -> str | None:
    if isinstance(statement, cst.Assign) and len(statement.targets) == 1:
        target = statement.targets[0].target
        return target.value if isinstance(target, cst.Name) else None
    if isinstance(statement, cst.AnnAssign) and isinstance(statement.target, cst.Name):
        return statement.target.value
    return None


def _append_target(call: cst.Call) -> str | None:
    """`results` for `results.append(x)`."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == "append" and isinstance(func.value, cst.Name):
        return func.value.value
    return None
