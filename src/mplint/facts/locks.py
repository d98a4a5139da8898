"""Where code holds a lock, and its read-modify-write updates of `.value` and items: a query of
what the one walk recorded (the order of a function's calls and assignments, its `with` blocks).

A *region* is one function body seen as lock-held or not, statement by statement: inside
`with <lock>:` or between a lock's `acquire()` and `release()`. An *update* is a read-modify-write
of an attribute `.value` or of one item: `c.value += 1`, `c.value = c.value + 1`, `arr[i] += n`.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple, Union

import libcst as cst

from mplint.apis import Kind
from mplint.facts.resolve import owner_of

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import FunctionInfo, Scope

UpdateNode = Union[cst.AugAssign, cst.Assign]


class Update(NamedTuple):
    """A read-modify-write: the statement, the object updated, and the item index (None for `.value`)."""

    node: UpdateNode
    obj: cst.BaseExpression
    index: cst.BaseExpression | None


class Locks:
    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self._regions: dict[cst.FunctionDef, Regions] = {}

    @cached_property
    def call_index(self) -> dict[cst.Call, int]:
        """Each call's place in the walk's calls (`WithBlock.calls_from` and `calls_to`)."""
        return {site.node: index for index, site in enumerate(self.facts.calls)}

    @cached_property
    def store_index(self) -> dict[cst.CSTNode, int]:
        """Each store's place in the walk's stores (`WithBlock.stores_from` and `stores_to`)."""
        return {node: index for index, (node, _) in enumerate(self.facts.statements.stores)}

    def regions(self, function: FunctionInfo) -> Regions:
        if function.node not in self._regions:
            self._regions[function.node] = Regions(self, function)
        return self._regions[function.node]

    def may_be_lock(self, expr: cst.BaseExpression, scope: Scope) -> bool:
        """False only for what is known not to be a lock: `open(...)`, a pool, an imported helper
        with no lock in its name."""
        facts = self.facts
        if type(expr) is cst.Call and type(expr.func) is cst.Attribute and expr.func.attr.value == "get_lock":
            return True
        instance = facts.values.instance_of(expr, scope)
        if instance is not None:
            return instance.kind in (Kind.LOCK, Kind.SHARED_VALUE)  # `with counter:` takes its lock
        if type(expr) is cst.Call:
            func = expr.func
            if type(func) is cst.Name and func.value == "open" and facts.names.lookup("open", scope) is None:
                return False
            qualname = facts.names.qualname(func, scope)
            if qualname is not None:
                last = qualname.rsplit(".", 1)[-1].lower()
                return any(word in last for word in ("lock", "semaphore", "condition", "mutex"))
        return True


class Regions:
    """One function's own code: its read-modify-write updates and calls, and whether a lock is
    held there, read from the order of its calls, assignments and `with` blocks (as the one walk
    recorded them).

    Silence when unsure: a `with` over anything not known to be something else counts as a lock,
    and so does every statement after an `acquire()` unless a `release()` comes between and none
    follows.
    """

    def __init__(self, locks: Locks, function: FunctionInfo) -> None:
        facts = locks.facts
        scope = function.scope
        statements = facts.statements
        #: the bodies of the `with` blocks that take a lock, by their calls and their stores
        held = [
            (block.calls_from, block.calls_to, block.stores_from, block.stores_to)
            for block in facts.withs
            if block.scope is scope and any(locks.may_be_lock(item.item, scope) for item in block.node.items)
        ]
        self.unlocked_updates: list[Update] = []
        self.locked_calls: set[cst.Call] = set()
        #: the body takes a lock somewhere (`with <lock>:`, `acquire()`)
        self.takes_locks = bool(held)
        #: acquire/release calls, and the updates and calls outside `with` locks, in source order
        events: list[tuple[int, str, object]] = []
        calls = locks.call_index
        for site in function.calls:
            if owner_of(site.scope) is not scope:
                continue
            func = site.node.func
            index = calls[site.node]
            if type(func) is cst.Attribute and func.attr.value in ("acquire", "release"):
                events.append((statements.order(site.node), func.attr.value, site.node))
                self.takes_locks = True
            elif any(first <= index < last for first, last, _, _ in held):
                self.locked_calls.add(site.node)
            else:
                events.append((statements.order(site.node), "call", site.node))
        stores = locks.store_index
        for node, _ in statements.own_stores(function.node):
            if type(node) not in (cst.Assign, cst.AugAssign):
                continue
            found = _update(node)
            index = stores[node]
            if found is not None and not any(first <= index < last for _, _, first, last in held):
                events.append((statements.store_order(node), "update", found))
        events.sort(key=lambda event: event[0])
        self._resolve_acquires([(kind, item) for _, kind, item in events])

    def _resolve_acquires(self, events: list[tuple[str, object]]) -> None:
        last_acquire = last_release = -1
        releases = [i for i, (kind, _) in enumerate(events) if kind == "release"]
        for i, (kind, item) in enumerate(events):
            if kind == "acquire":
                last_acquire = i
            elif kind == "release":
                last_release = i
            else:
                held = last_acquire >= 0 and (last_release < last_acquire or any(r > i for r in releases))
                if kind == "update" and not held:
                    self.unlocked_updates.append(item)  # type: ignore[arg-type]
                elif kind == "call" and held:
                    self.locked_calls.add(item)  # type: ignore[arg-type]


def _update(node: cst.Assign | cst.AugAssign) -> Update | None:
    """A read-modify-write of `.value` or of one item: `c.value += 1`, `arr[i] = arr[i] + n`."""
    if type(node) is cst.AugAssign:
        target = node.target
    elif len(node.targets) == 1 and _reads(node.value, node.targets[0].target):
        target = node.targets[0].target
    else:
        return None
    if type(target) is cst.Attribute and target.attr.value == "value":
        return Update(node, target.value, None)
    if type(target) is cst.Subscript and len(target.slice) == 1 and type(target.slice[0].slice) is cst.Index:
        return Update(node, target.value, target.slice[0].slice.value)
    return None


def _reads(value: cst.CSTNode, target: cst.BaseExpression) -> bool:
    """`value` reads what `target` names: `c.value = c.value + 1`."""
    if value.deep_equals(target):
        return True
    return any(_reads(child, target) for child in value.children)
