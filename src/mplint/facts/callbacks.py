"""Pool tasks whose failure nobody can see: submitted with a `callback=` and no `error_callback=`,
and a result that is never kept or never read.

`pool.apply_async(f, args, callback=done)` calls `done` only when `f` returns. When `f` raises,
the exception is stored in the `AsyncResult`, and only `.get()` raises it again; a result that is
thrown away (an expression statement) or bound to a name that nothing reads is never asked, so the
error disappears. Anything else done with the result (kept in a list, returned, passed on) may
reach a `.get()`, and stays silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from mplint import apis
from mplint.facts.resolve import owner_of
from mplint.facts.syntax import argument
from mplint.facts.walk import Walker

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import CallSite

#: the kinds whose `*_async` methods take callbacks: process pools and their thread look-alikes
_POOLS = frozenset({apis.Kind.POOL, apis.Kind.THREAD_POOL})
_ALL_CALLBACK_METHODS = frozenset(
    m for row in (apis.methods(apis.Kind.POOL), apis.MPIRE_POOL) for m in row.callbacks
)


@dataclass(frozen=True, eq=False)
class Unobserved:
    site: CallSite
    #: `apply_async`, `map_async`, `starmap_async`
    method: str
    #: the result is bound to this name, which nothing reads (None: thrown away)
    name: str | None


def unobserved_callbacks(facts: ModuleFacts) -> list[Unobserved]:
    found = []
    for site in facts.calls:
        call, func = site.node, site.node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in _ALL_CALLBACK_METHODS:
            continue
        runner = facts.values.instance_of(func.value, site.scope)
        if runner is None or runner.kind not in _POOLS:
            continue
        if func.attr.value not in apis.vocabulary(runner.api).callbacks:
            continue
        if any(a.star for a in call.args):
            continue  # `*args` / `**kwargs` may hold the error callback
        callback, errors = argument(call, 3, "callback"), argument(call, 4, "error_callback")
        if callback is None or _is_none(callback) or (errors is not None and not _is_none(errors)):
            continue
        dropped, name = _dropped(facts, site)
        if dropped:
            found.append(Unobserved(site, func.attr.value, name))
    return found


def _is_none(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


def _dropped(facts: ModuleFacts, site: CallSite) -> tuple[bool, str | None]:
    """The result is thrown away, or bound to a name that the owner's code never reads."""
    line = site.statement
    small = line.body if isinstance(line, cst.SimpleStatementLine) else [line]
    statement = next((s for s in small if getattr(s, "value", None) is site.node), None)
    if isinstance(statement, cst.Expr):
        return True, None
    if isinstance(statement, cst.AnnAssign) and isinstance(statement.target, cst.Name):
        target = statement.target  # `result: AsyncResult = pool.apply_async(...)`
    elif (
        isinstance(statement, cst.Assign) and len(statement.targets) == 1
        and isinstance(statement.targets[0].target, cst.Name)
    ):
        target = statement.targets[0].target
    else:
        return False, None
    owner = owner_of(site.scope)
    if owner is None or target.value in owner.global_names or target.value in owner.nonlocal_names:
        return False, None
    reader = _Reads(target)
    reader.walk(owner.node)
    return not reader.read, target.value


class _Reads(Walker):
    """Any other mention of the name in the owner (a nested function's too): a possible read."""

    def __init__(self, target: cst.Name) -> None:
        self.target = target
        self.read = False

    def visit_Name(self, node: cst.Name) -> None:
        if node is not self.target and node.value == self.target.value:
            self.read = True
