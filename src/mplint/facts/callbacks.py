"""Pool tasks whose failure nobody can see: submitted with a `callback=` and no `error_callback=`,
and a result that is never kept or never read.

`pool.apply_async(f, args, callback=done)` calls `done` only when `f` returns. When `f` raises,
the exception is stored in the `AsyncResult`, and only `.get()` raises it again; a result that is
thrown away (an expression statement) or bound to a name that nothing reads is never asked, so the
error disappears. Anything else done with the result (kept in a list, returned, passed on) may
reach a `.get()`, and stays silent. Whether a name is read is asked of the flow fact (flow.py):
the results bound to names are creations it follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

import libcst as cst

from mplint import apis
from mplint.facts.resolve import owner_of
from mplint.facts.syntax import argument

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
    for site in _without_error_callback(facts):
        dropped, name = _dropped(facts, site)
        if dropped:
            found.append(Unobserved(site, site.node.func.attr.value, name))  # type: ignore[attr-defined]
    return found


def kept_results(facts: ModuleFacts) -> Iterator[CallSite]:
    """The calls with a callback and no error callback whose result is bound to a name (which
    the flow follows, to tell whether anything reads it)."""
    for site in _without_error_callback(facts):
        if _bound_to(site) is not None and owner_of(site.scope) is not None:
            yield site


def _without_error_callback(facts: ModuleFacts) -> Iterator[CallSite]:
    for site in facts.calls:
        call, func = site.node, site.node.func
        if type(func) is not cst.Attribute or func.attr.value not in _ALL_CALLBACK_METHODS:
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
        yield site


def _is_none(expr: cst.BaseExpression) -> bool:
    return type(expr) is cst.Name and expr.value == "None"


def _statement(site: CallSite) -> cst.CSTNode | None:
    """The small statement whose value is the call (`r = pool.apply_async(...)`, or the call alone)."""
    line = site.statement
    small = line.body if type(line) is cst.SimpleStatementLine else [line]
    return next((s for s in small if getattr(s, "value", None) is site.node), None)


def _bound_to(site: CallSite) -> cst.Name | None:
    statement = _statement(site)
    if type(statement) is cst.AnnAssign and type(statement.target) is cst.Name:
        return statement.target  # `result: AsyncResult = pool.apply_async(...)`
    if (
        type(statement) is cst.Assign and len(statement.targets) == 1
        and type(statement.targets[0].target) is cst.Name
    ):
        return statement.targets[0].target
    return None


def _dropped(facts: ModuleFacts, site: CallSite) -> tuple[bool, str | None]:
    """The result is thrown away, or bound to a name that the owner's code never reads."""
    if type(_statement(site)) is cst.Expr:
        return True, None
    target = _bound_to(site)
    owner = owner_of(site.scope)
    if target is None or owner is None or target.value in owner.global_names or target.value in owner.nonlocal_names:
        return False, None
    made = facts.flow.made.get(site.node)
    if made is None or made.how != "name" or made.key is None:
        return False, None
    # any use counts, a look or a closure's too; a rebinding does not
    return not facts.flow.uses.get(made.key), target.value
