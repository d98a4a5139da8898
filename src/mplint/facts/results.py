"""Pending results of pools, and whether they are waited for before the pool's block ends: a
query of the flow fact (flow.py).

A *pending* result is what a pool method returns before the work is done: the `AsyncResult` of
`apply_async`/`map_async`/`starmap_async`, or the lazy iterator of `imap`/`imap_unordered`. A
*pool block* is `with <pool>:` on a pool whose exit terminates it; a *holder* is a local name that
keeps pending results made in one (one result, or a list of them). What the owner does with a
holder is read from the flow's events of that name, in source order: a wait (`get()`, `wait()`,
a loop over an `imap` iterator, `list(it)`), a move into a list, or an escape mplint cannot follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Iterator, Literal

import libcst as cst

from mplint.apis import Kind, methods, vocabulary
from mplint.facts.flow import Event, Use
from mplint.facts.resolve import owner_of
from mplint.facts.uses import RESULT_WAITS

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.flow import Flow, Key, Made
    from mplint.facts.scopes import CallSite, Scope
    from mplint.facts.values import Instance

#: pool methods that return before the work is done: an AsyncResult or a lazy iterator
PENDING = methods(Kind.POOL).pending
LAZY = methods(Kind.POOL).lazy

#: what an event does to pending results: waits for (or consumes) them, or takes them where
#: mplint cannot follow; None: neither (a look, a move into a list that is followed)
Meaning = Literal["wait", "escape"]


@dataclass(eq=False)
class PoolBlock:
    """`with <pool>:` in its owner's code, from its first to its last node in the flow's order."""

    node: cst.With
    creation: cst.Call
    start: int
    end: int
    #: `pool.join()` inside the block: every task has finished before the exit
    joined: bool = False


@dataclass(eq=False)
class Pending:
    call: cst.Call
    order: int
    block: PoolBlock


@dataclass(eq=False)
class Holder:
    """A local name that keeps pending results: one (an AsyncResult, an iterator) or a list."""

    key: Key
    listed: bool
    calls: list[Pending] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.key[1]

    @property
    def lazy(self) -> bool:
        """Every result it keeps is a lazy iterator (`imap`)."""
        return all(p.call.func.attr.value in LAZY for p in self.calls)  # type: ignore[attr-defined]


@dataclass(frozen=True, eq=False)
class Late:
    """Results of a pool block first waited for after the block: `wait` is that first wait."""

    holder: Holder
    block: PoolBlock
    wait: Event


def pending_sites(facts: ModuleFacts) -> list[CallSite]:
    """The calls that make pending results of a pool whose `with` block terminates it."""
    found = []
    for site in facts.calls:
        func = site.node.func
        if type(func) is cst.Attribute and func.attr.value in PENDING:
            pool = facts.values.instance_of(func.value, site.scope)
            if pool is not None and _terminating(pool) and owner_of(site.scope) is not None:
                found.append(site)
    return found


class PoolResults:
    """The pending results of the module's pool blocks (ModuleFacts.pool_results)."""

    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts

    @cached_property
    def bodies(self) -> list[ResultsBody]:
        """One per function (or module) that makes pending results of a pool."""
        sites = pending_sites(self.facts)
        if not sites:
            return []
        flow = self.facts.flow
        owners: dict[Scope, list[CallSite]] = {}
        for site in sites:
            owners.setdefault(owner_of(site.scope), []).append(site)  # type: ignore[arg-type]
        return [ResultsBody(self.facts, flow, owner, made) for owner, made in owners.items()]

    def consumed_after_exit(self) -> Iterator[Late]:
        """Results first waited for (or an `imap` iterator first consumed) after their block."""
        for body in self.bodies:
            yield from body.late()

    def never_waited(self) -> Iterator[Pending]:
        """Results made in a block, never waited for in it nor kept for later, while nothing
        else in the block waits (a queue's `get()`, a process's `join()`) and no `join()` ends it."""
        for body in self.bodies:
            yield from body.never_waited()


class ResultsBody:
    """One owner's pool blocks, the pending results made in them, and the holders that keep them."""

    def __init__(self, facts: ModuleFacts, flow: Flow, owner: Scope, sites: list[CallSite]) -> None:
        self.facts = facts
        self.flow = flow
        self.owner = owner
        self.blocks = [
            PoolBlock(span.node, pool.creation, span.first, span.last)
            for span in flow.withs_in(owner)
            for item in span.node.items
            if (pool := facts.values.instance_of(item.item, owner)) is not None and _terminating(pool)
        ]
        self._calls = [s for s in facts.calls if owner_of(s.scope) is owner and s.node in flow.order_of]
        for site in self._calls:
            func = site.node.func
            if type(func) is cst.Attribute and func.attr.value == "join":
                block = self._block_of(site)
                if block is not None:
                    block.joined = True
        self.discarded: list[Pending] = []
        #: holder key -> holder, in the order of their first pending result
        self.made: dict[Key, Holder] = {}
        for site in sites:
            block = self._block_of(site)
            if block is not None:
                self._keep(Pending(site.node, flow.order_of[site.node], block), flow.made[site.node])
        self.holders = self._merged()

    # --- building -----------------------------------------------------------------------------

    def _active(self, order: int) -> list[PoolBlock]:
        """The blocks around a node of that order, outermost first."""
        return [b for b in self.blocks if b.start < order <= b.end]

    def _block_of(self, site: CallSite) -> PoolBlock | None:
        """The innermost block around a call whose receiver is that block's pool."""
        active = self._active(self.flow.order_of[site.node])
        if not active:
            return None
        pool = self.facts.values.instance_of(site.node.func.value, site.scope)  # type: ignore[attr-defined]
        if pool is None:
            return None
        return next((b for b in reversed(active) if b.creation is pool.creation), None)

    def _keep(self, pending: Pending, made: Made) -> None:
        """Where a pending result goes: a name, a list, nowhere; anything else is not followed
        (consumed on the spot: `.get()`, a loop over it; or handed on)."""
        parent, grand = made.parent, made.grand
        if made.how == "discarded":
            self.discarded.append(pending)
            return
        if made.key is None:
            return
        if made.how == "name" and type(parent) in (cst.Assign, cst.AnnAssign):
            listed = False
        elif made.how == "element" and type(parent) is cst.ListComp and type(grand) in (cst.Assign, cst.AnnAssign):
            listed = True
        elif made.how == "element" and type(grand) is cst.Call and _appends(grand):
            listed = True
        else:
            return
        self.made.setdefault(made.key, Holder(made.key, listed)).calls.append(pending)

    def _merged(self) -> dict[Key, Holder]:
        """`r = pool.apply_async(...)` then `results.append(r)`: `results` holds `r`'s result."""
        holders = dict(self.made)
        for key, holder in self.made.items():
            if holder.listed:
                continue
            events = [e for e in self.flow.uses.get(key, []) if e.use is not Use.READ]
            targets = {self.flow.store_targets.get(e.node) if self._moved(e) else None for e in events}
            if len(targets) == 1 and None not in targets:
                into = targets.pop()
                target = holders.setdefault(into, Holder(into, True))  # type: ignore[arg-type]
                if target.listed:
                    target.calls.extend(holder.calls)
                    del holders[key]
        return holders

    @staticmethod
    def _moved(event: Event) -> bool:
        return event.use is Use.STORE and type(event.node) is cst.Call and _appends(event.node)

    # --- queries ------------------------------------------------------------------------------

    def late(self) -> Iterator[Late]:
        for holder, block, waits in self._followed():
            if waits and not any(e.order < block.end for e in waits):
                yield Late(holder, block, waits[0])

    def never_waited(self) -> Iterator[Pending]:
        for holder, block, waits in self._followed():
            if not waits:
                yield from (p for p in holder.calls if not self._synchronised_after(p))
        for pending in self.discarded:
            if not pending.block.joined and not self._synchronised_after(pending):
                yield pending

    def _followed(self) -> Iterator[tuple[Holder, PoolBlock, list[Event]]]:
        """Each holder of one block not joined, with its waits after the block's start, when
        every use of it after the start can be followed."""
        for holder in self.holders.values():
            blocks = {p.block for p in holder.calls}
            if len(blocks) != 1 or not self._only_bound_to_results(holder):
                continue
            block = blocks.pop()
            if block.joined:
                continue
            waits = []
            for event in self.flow.uses.get(holder.key, []):
                meaning = _meaning(event, holder.listed) if event.order > block.start else None
                if meaning == "escape":
                    break
                if meaning == "wait":
                    waits.append(event)
            else:
                yield holder, block, waits

    def _only_bound_to_results(self, holder: Holder) -> bool:
        """Every binding of the name stores its pending results (or starts an empty list)."""
        scope, name = holder.key
        bindings = scope.bindings.get(name, [])
        calls = {p.call for p in holder.calls}
        for binding in bindings:
            value = binding.value
            if value in calls or (type(value) is cst.ListComp and value.elt in calls):
                continue
            if holder.listed and type(value) is cst.List and not value.elements:
                continue
            return False
        return bool(bindings)

    def _synchronised_after(self, pending: Pending) -> bool:
        """After the call, inside the block, the code waits on something mplint cannot see through
        (a queue's `get()`, an event's `wait()`, a process's `join()`): the author synchronises by
        other means, so the finding would be a guess. Waiting for another result of the pool does
        not wait for this one."""
        for site in self._calls:
            order = self.flow.order_of[site.node]
            if not pending.order < order < pending.block.end or site.node in self._on_results:
                continue
            if self._waits(site):
                return True
        return False

    @cached_property
    def _on_results(self) -> set[cst.CSTNode]:
        """Where the names that keep pending results are used."""
        return {
            e.node for key in {*self.made, *self.holders} for e in self.flow.uses.get(key, []) if e.use is not Use.READ
        }

    def _waits(self, site: CallSite) -> bool:
        """A call that blocks on something: `x.get()` (no positional argument), `x.wait()`, a
        process's `join()` inside a block; not a wait on a result made on the spot."""
        func = site.node.func
        if type(func) is not cst.Attribute:
            return False
        receiver = func.value
        if type(receiver) is cst.Call and type(receiver.func) is cst.Attribute and receiver.func.attr.value in PENDING:
            return False
        method = func.attr.value
        if method == "join":
            if not self._active(self.flow.order_of[site.node]) or self._block_of(site) is not None:
                return False
            made = self.facts.values.instance_of(receiver, site.scope)
            return made is not None and made.kind is Kind.PROCESS
        return method == "wait" or (method == "get" and not [a for a in site.node.args if a.keyword is None])


def _meaning(event: Event, listed: bool) -> Meaning | None:
    """What an event of a holder's name does to its results. A list is followed through the
    loops over it (`for r in results: r.get()`); an element of one result (what an `imap`
    iterator yields) says nothing of the result itself."""
    use = event.use
    if use is Use.READ:
        return None
    if use is Use.CALL and event.method in RESULT_WAITS:
        return "wait" if listed or not event.element else None
    if event.element:
        return "escape" if listed else None
    if use is Use.CALL and event.method == "append":
        return None
    if use is Use.STORE and ResultsBody._moved(event):
        return None if listed else "escape"
    if use is Use.ITERATE:  # `for r in results:` follows the list, `for x in it:` consumes it
        return None if listed else "wait"
    if use is Use.CONSUME or (use is Use.CALL and event.method == "next"):
        return "escape" if listed else "wait"
    return "escape"


def _terminating(pool: Instance) -> bool:
    """Leaving a `with` block on the pool terminates it and leaves its pending results waiting
    forever: multiprocessing's pools (a ThreadPool drops its queued tasks the same way). Not the
    libraries' own: pebble's block closes and joins, pathos' does nothing, and mpire's
    `terminate()` fails what is pending (with an error, not a hang)."""
    return pool.api.methods is None and vocabulary(pool.api).exit_terminates


def _appends(call: cst.Call) -> bool:
    """`results.append(x)`."""
    func = call.func
    return type(func) is cst.Attribute and func.attr.value == "append" and type(func.value) is cst.Name
