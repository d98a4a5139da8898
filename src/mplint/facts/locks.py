"""Where code holds a lock, and its read-modify-write updates of `.value` and items.

A *region* is one function body seen as lock-held or not, statement by statement: inside
`with <lock>:` or between a lock's `acquire()` and `release()`. An *update* is a read-modify-write
of an attribute `.value` or of one item: `c.value += 1`, `c.value = c.value + 1`, `arr[i] += n`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Union

import libcst as cst

from mplint.apis import Kind
from mplint.facts.syntax import FunctionBodyVisitor

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

    def regions(self, function: FunctionInfo) -> Regions:
        if function.node not in self._regions:
            self._regions[function.node] = Regions.of(self, function)
        return self._regions[function.node]

    def may_be_lock(self, expr: cst.BaseExpression, scope: Scope) -> bool:
        """False only for what is known not to be a lock: `open(...)`, a pool, an imported helper
        with no lock in its name."""
        facts = self.facts
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "get_lock":
            return True
        instance = facts.values.instance_of(expr, scope)
        if instance is not None:
            return instance.kind in (Kind.LOCK, Kind.SHARED_VALUE)  # `with counter:` takes its lock
        if isinstance(expr, cst.Call):
            func = expr.func
            if isinstance(func, cst.Name) and func.value == "open" and facts.names.lookup("open", scope) is None:
                return False
            qualname = facts.names.qualname(func, scope)
            if qualname is not None:
                last = qualname.rsplit(".", 1)[-1].lower()
                return any(word in last for word in ("lock", "semaphore", "condition", "mutex"))
        return True


class Regions(FunctionBodyVisitor):
    """One function body: its read-modify-write updates and calls, and whether a lock is held there.

    Silence when unsure: a `with` over anything not known to be something else counts as a lock,
    and so does every statement after an `acquire()` unless a `release()` comes between and none
    follows.
    """

    def __init__(self, locks: Locks, function: FunctionInfo) -> None:
        self._locks = locks
        self._scope = function.scope
        self._with_locks = 0
        #: acquire/release calls in order, with the update and call events between them
        self._events: list[tuple[str, object]] = []
        self.unlocked_updates: list[Update] = []
        self.locked_calls: set[cst.Call] = set()
        #: the body takes a lock somewhere (`with <lock>:`, `acquire()`)
        self.takes_locks = False

    @classmethod
    def of(cls, locks: Locks, function: FunctionInfo) -> Regions:
        regions = cls(locks, function)
        regions.walk(function.node.body)
        regions._resolve_acquires()
        return regions

    def visit_With(self, node: cst.With) -> bool:
        locking = any(self._locks.may_be_lock(item.item, self._scope) for item in node.items)
        for item in node.items:
            self.walk(item)
        self._with_locks += locking
        self.takes_locks = self.takes_locks or locking
        self.walk(node.body)
        self._with_locks -= locking
        return False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("acquire", "release"):
            self._events.append((func.attr.value, node))
            self.takes_locks = True
        elif self._with_locks:
            self.locked_calls.add(node)
        else:
            self._events.append(("call", node))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._update(node, node.target)

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1:
            target = node.targets[0].target
            if _reads(node.value, target):
                self._update(node, target)

    def _update(self, node: UpdateNode, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Attribute) and target.attr.value == "value":
            found = Update(node, target.value, None)
        elif isinstance(target, cst.Subscript) and len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
            found = Update(node, target.value, target.slice[0].slice.value)
        else:
            return
        if not self._with_locks:
            self._events.append(("update", found))

    def _resolve_acquires(self) -> None:
        last_acquire = last_release = -1
        releases = [i for i, (kind, _) in enumerate(self._events) if kind == "release"]
        for i, (kind, item) in enumerate(self._events):
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


def _reads(value: cst.CSTNode, target: cst.BaseExpression) -> bool:
    """`value` reads what `target` names: `c.value = c.value + 1`."""
    if value.deep_equals(target):
        return True
    return any(_reads(child, target) for child in value.children)
