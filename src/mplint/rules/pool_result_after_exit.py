"""MPL008: leaving a `with Pool(...)` block (which terminates the pool) while work is still pending."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Union

import libcst as cst

from mplint.apis import Kind
from mplint.facts import CallSite, ModuleFacts, Scope
from mplint.rules.base import Report, Rule

#: pool methods that return before the work is done: an AsyncResult or a lazy iterator
_PENDING = frozenset({"apply_async", "map_async", "starmap_async", "imap", "imap_unordered"})
_LAZY = frozenset({"imap", "imap_unordered"})
#: pools whose `__exit__` calls `terminate()`; a ThreadPool drops its queued tasks the same way
_POOLS = frozenset({Kind.POOL, Kind.THREAD_POOL})
#: builtins that run an iterator to its end (or take its next item)
_CONSUMERS = frozenset(
    {"list", "tuple", "set", "frozenset", "sorted", "sum", "min", "max", "any", "all", "dict", "next", "zip", "enumerate"}
)

Owner = Union[cst.FunctionDef, cst.Module]


@dataclass(eq=False)
class _Block:
    node: cst.With
    creation: cst.Call
    start: int
    end: int = 1 << 62
    #: `pool.join()` inside the block: every task has finished before the exit
    joined: bool = False


@dataclass(eq=False)
class _Pending:
    call: cst.Call
    order: int
    block: _Block


@dataclass(eq=False)
class _Event:
    """A use of a name: `wait` (get/wait/poll), `use` (an iterator consumed), `iterate` (a loop over
    a list), `escape` (anything mplint cannot follow), `moved` (appended to the list `into`)."""

    kind: str
    node: cst.CSTNode
    order: int
    into: str | None = None


@dataclass(eq=False)
class _Holder:
    """A name that holds pending results: one (`direct`) or a list of them (`list`)."""

    kind: str
    calls: list[_Pending] = field(default_factory=list)


class PoolResultAfterExit(Rule):
    """Finds work left pending when a `with multiprocessing.Pool(...) as pool:` block ends: an
    `AsyncResult` from `apply_async`/`map_async`/`starmap_async` or a lazy `imap`/
    `imap_unordered` iterator that is first consumed (`.get()`, `.wait()`, iteration, `list()`)
    after the block, and `*_async` calls inside the block whose results are never waited on. A
    `pool.close()` and `pool.join()` inside the block make both safe. `ThreadPool` blocks are
    checked too (they end the same way); `concurrent.futures` executors are not: their `with`
    waits for the work."""

    code = "MPL008"
    name = "pool-result-after-exit"
    summary = "Pool results consumed after, or never waited on before, the end of `with Pool(...)`, which terminates the pool"
    why = (
        "Leaving `with Pool(...) as pool:` calls `pool.terminate()`, not `close()` and `join()`: "
        "the workers are stopped at once and the tasks still queued or running are dropped. "
        "`apply_async`, `map_async` and `imap` return before the work is done, so a result first "
        "asked for after the block never arrives: `.get()` without a timeout waits forever and "
        "an `imap` iterator blocks on its first missing item. Results that are never waited on "
        "are lost silently, callbacks included. Whether it shows depends on timing: the same "
        "code passes with fast tasks and hangs or loses work with slow ones."
    )
    fix = (
        "Consume the results inside the `with` block (`.get()` them, or iterate the `imap` "
        "iterator there), or call `pool.close()` then `pool.join()` as the block's last "
        "statements so every task finishes before the exit. A fire-and-forget `apply_async` with "
        "a callback needs the `close()`/`join()` too. `concurrent.futures.ProcessPoolExecutor` "
        "waits for pending work when its `with` block ends."
    )
    bad_example = '''\
from multiprocessing import Pool


def thumbnail(path):
    return path.replace(".jpg", "_small.jpg")


if __name__ == "__main__":
    paths = ["a.jpg", "b.jpg", "c.jpg"]
    with Pool(4) as pool:
        pending = pool.map_async(thumbnail, paths)
    print(pending.get())
'''
    good_example = '''\
from multiprocessing import Pool


def thumbnail(path):
    return path.replace(".jpg", "_small.jpg")


if __name__ == "__main__":
    paths = ["a.jpg", "b.jpg", "c.jpg"]
    with Pool(4) as pool:
        pending = pool.map_async(thumbnail, paths)
        print(pending.get())
'''
    references = (
        (
            "multiprocessing.pool.Pool: the context manager calls terminate()",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.pool.Pool",
        ),
        (
            "multiprocessing.pool.AsyncResult",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.pool.AsyncResult",
        ),
        (
            "Pool.imap (a lazy iterator)",
            "https://docs.python.org/3/library/multiprocessing.html#multiprocessing.pool.Pool.imap",
        ),
    )

    def check(self, facts: ModuleFacts) -> Iterator[Report]:
        owners: dict[Owner, Scope] = {}
        for site in facts.calls:
            func = site.node.func
            if isinstance(func, cst.Attribute) and func.attr.value in _PENDING:
                pool = facts.values.instance_of(func.value, site.scope)
                scope = _owner(site.scope)
                if pool is not None and pool.kind in _POOLS and scope is not None:
                    owners.setdefault(scope.node, scope)  # type: ignore[arg-type]
        if not owners:
            return
        sites = {site.node: site for site in facts.calls}
        for node, scope in owners.items():
            walk = _Walk(facts, scope, sites)
            if isinstance(node, cst.Module):
                node.visit(walk)
            else:
                node.body.visit(walk)
            yield from _reports(facts, walk)


def _owner(scope: Scope) -> Scope | None:
    current: Scope | None = scope
    while current is not None and current.kind == "comprehension":
        current = current.parent
    if current is not None and current.kind in ("function", "module") and isinstance(
        current.node, (cst.FunctionDef, cst.Module)
    ):
        return current
    return None


class _Walk(cst.CSTVisitor):
    """One function body (or module) in source order: its pool blocks, the pending results made
    in them, and every use of a name."""

    def __init__(self, facts: ModuleFacts, scope: Scope, sites: dict[cst.Call, CallSite]) -> None:
        self.facts = facts
        self.scope = scope
        self.sites = sites
        self.stack: list[cst.CSTNode] = []
        self.order = 0
        self.nested = 0
        self.blocks: list[_Block] = []
        self.active: list[_Block] = []
        self.holders: dict[str, _Holder] = {}
        self.discarded: list[_Pending] = []
        self.escaped_calls: set[cst.Call] = set()
        self.events: dict[str, list[_Event]] = {}
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
            if pool is not None and pool.kind in _POOLS:
                block = _Block(node, pool.creation, self.order)
                self.blocks.append(block)
                self.active.append(block)

    def leave_With(self, original_node: cst.With) -> None:
        while self.active and self.active[-1].node is original_node:
            self.active.pop().end = self.order

    def _block_of(self, receiver: cst.BaseExpression, call: cst.Call) -> _Block | None:
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
        if method in _PENDING:
            block = self._block_of(func.value, node)
            if block is not None:
                self._pending(_Pending(node, self.order, block))
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

    def _pending(self, pending: _Pending) -> None:
        """Where the result of a pending call goes: a name, a list, nowhere, or somewhere unknown."""
        parent = self.stack[-2] if len(self.stack) > 1 else None
        grand = self.stack[-3] if len(self.stack) > 2 else None
        call = pending.call
        if isinstance(parent, cst.Expr):
            self.discarded.append(pending)
        elif isinstance(parent, (cst.Assign, cst.AnnAssign)) and parent.value is call:
            name = _assigned_name(parent)
            if name is not None:
                self.holders.setdefault(name, _Holder("direct")).calls.append(pending)
        elif isinstance(parent, (cst.ListComp, cst.GeneratorExp)) and parent.elt is call:
            name = _assigned_name(grand) if isinstance(grand, (cst.Assign, cst.AnnAssign)) else None
            if name is not None and isinstance(parent, cst.ListComp):
                self.holders.setdefault(name, _Holder("list")).calls.append(pending)
        elif isinstance(parent, cst.Arg) and isinstance(grand, cst.Call):
            into = _append_target(grand)
            if into is not None:
                self.holders.setdefault(into, _Holder("list")).calls.append(pending)
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
                _Event("element-wait" if kind == "wait" else "element-escape", node, self.order)
            )
            return
        self.events.setdefault(node.value, []).append(_Event(kind, node, self.order, into))

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
            if isinstance(grand.func, cst.Name) and grand.func.value in _CONSUMERS:
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


# --- deciding -------------------------------------------------------------------------------


def _reports(facts: ModuleFacts, walk: _Walk) -> Iterator[Report]:
    holders = _merge_moved(walk)
    pending_names = set(walk.holders) | set(holders)
    for name, holder in holders.items():
        blocks = {p.block for p in holder.calls}
        if len(blocks) != 1 or not _only_bound_to_results(facts, walk, name, holder):
            continue
        block = blocks.pop()
        if block.joined:
            continue
        events = [e for e in walk.events.get(name, []) if e.order > block.start]
        useful = _uses(holder, events)
        if useful is None:
            continue  # the results go where mplint cannot follow them
        if any(e.order < block.end for e in useful):
            continue  # waited for inside the block
        if useful:
            yield Report(useful[0].node, _late_message(facts, name, holder, block, useful[0]))
        else:
            for pending in holder.calls:
                if not _synchronised_after(walk, pending, pending_names):
                    yield Report(pending.call, _never_message(facts, pending))
    for pending in walk.discarded:
        if not pending.block.joined and not _synchronised_after(walk, pending, pending_names):
            yield Report(pending.call, _never_message(facts, pending))


def _merge_moved(walk: _Walk) -> dict[str, _Holder]:
    """`r = pool.apply_async(...)` then `results.append(r)`: `results` holds `r`'s result."""
    holders = dict(walk.holders)
    for name, holder in walk.holders.items():
        if holder.kind != "direct":
            continue
        moves = [e for e in walk.events.get(name, []) if e.kind == "moved"]
        if moves and all(e.kind in ("moved", "bind") for e in walk.events.get(name, [])):
            into = moves[0].into
            if into is not None and all(e.into == into for e in moves):
                target = holders.setdefault(into, _Holder("list"))
                if target.kind == "list":
                    target.calls.extend(holder.calls)
                    del holders[name]
    return holders


def _uses(holder: _Holder, events: list[_Event]) -> list[_Event] | None:
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


def _only_bound_to_results(facts: ModuleFacts, walk: _Walk, name: str, holder: _Holder) -> bool:
    """Every binding of `name` in the function stores its pending results (or starts an empty list)."""
    bindings = walk.scope.bindings.get(name, [])
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


def _synchronised_after(walk: _Walk, pending: _Pending, pending_names: set[str]) -> bool:
    """After the call, inside the block, the code waits on something mplint cannot see through
    (a queue's `get()`, an event's `wait()`, a process's `join()`): the author synchronises by
    other means, so the finding would be a guess."""
    for order, receiver, name in walk.syncs:
        if pending.order < order < pending.block.end:
            if name in pending_names:
                continue  # waiting for another result of the pool does not wait for this one
            if isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute) and receiver.func.attr.value in _PENDING:
                continue
            return True
    return False


def _pool_text(facts: ModuleFacts, block: _Block) -> str:
    return facts.call_text(block.creation)


def _late_message(facts: ModuleFacts, name: str, holder: _Holder, block: _Block, use: _Event) -> str:
    lazy = all(p.call.func.attr.value in _LAZY for p in holder.calls)  # type: ignore[attr-defined]
    what = "the lazy `imap` iterator" if lazy else "the pool's results"
    wait = "blocks on its first missing item" if lazy else "waits forever"
    return (
        f"`{name}` ({what}) is consumed only after the `with {_pool_text(facts, block)}` block "
        f"(line {facts.line_of(block.node)}), whose exit called `terminate()` and dropped the "
        f"tasks not finished by then, so this {wait}; consume `{name}` inside the block, or end "
        f"the block with `pool.close()` and `pool.join()`"
    )


def _never_message(facts: ModuleFacts, pending: _Pending) -> str:
    return (
        f"the result of `{facts.call_text(pending.call)}` is never waited for inside the "
        f"`with {_pool_text(facts, pending.block)}` block, whose exit calls `terminate()`: tasks "
        f"still queued or running then are dropped and their work (and callbacks) silently lost; "
        f"keep the result and `.get()` it in the block, or end the block with `pool.close()` and "
        f"`pool.join()`"
    )
