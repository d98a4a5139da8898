"""Calls that set the start method: which may raise because one was set before.

`set_start_method(...)` without `force=True` raises `RuntimeError: context has already been set`
when a start method was chosen before; code that copes with it (a `try` catching `RuntimeError`,
`contextlib.suppress(RuntimeError)`, an `if` on `get_start_method()`) tolerates that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from mplint.apis import Kind

if TYPE_CHECKING:
    from mplint.facts import ModuleFacts
    from mplint.facts.scopes import CallSite

#: exceptions whose handler takes in `RuntimeError: context has already been set`
_CATCHES_RUNTIME_ERROR = frozenset({"RuntimeError", "Exception", "BaseException"})


def unforced_setter(facts: ModuleFacts, site: CallSite) -> bool:
    """A `set_start_method(...)` call that raises when a start method was set before."""
    return is_set_start_method(facts, site) and not forced(site.node) and not tolerated(facts, site)


def is_set_start_method(facts: ModuleFacts, site: CallSite) -> bool:
    api = facts.api_of_call(site)
    return api is not None and api.kind is Kind.SET_START_METHOD


def forced(call: cst.Call) -> bool:
    """`force=True`, or a `force` that may be true (only `force=False` counts as not forced)."""
    positional = [a for a in call.args if a.keyword is None]
    force = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "force"), None)
    if force is None and len(positional) > 1:
        force = positional[1].value
    if force is None:
        return any(a.star for a in call.args)
    return not (type(force) is cst.Name and force.value == "False")


def tolerated(facts: ModuleFacts, site: CallSite) -> bool:
    """The call sits in a block that copes with a start method chosen before: a `try` catching
    `RuntimeError`, `with contextlib.suppress(RuntimeError)`, or an `if` on `get_start_method()`."""
    if type(site.scope.node) not in (cst.Module, cst.FunctionDef, cst.ClassDef):
        return False  # a lambda or a comprehension: the blocks around it are another scope's
    for statement, block in facts.enclosing(site.statement):
        if type(statement) in (cst.Try, cst.TryStar) and block is statement.body:
            if any(_catches_runtime_error(h.type) for h in statement.handlers):
                return True
        if type(statement) in (cst.If, cst.While) and "get_start_method" in facts.code(statement.test):
            return True
        if type(statement) is cst.With and any(_suppresses_runtime_error(i.item) for i in statement.items):
            return True
    return False


def _catches_runtime_error(kind: cst.BaseExpression | None) -> bool:
    if kind is None:
        return True  # a bare `except:`
    if type(kind) is cst.Tuple:
        return any(_catches_runtime_error(e.value) for e in kind.elements)
    if type(kind) is cst.Name:
        return kind.value in _CATCHES_RUNTIME_ERROR
    if type(kind) is cst.Attribute:
        return kind.attr.value in _CATCHES_RUNTIME_ERROR
    return False


def _suppresses_runtime_error(item: cst.BaseExpression) -> bool:
    if type(item) is not cst.Call:
        return False
    func = item.func
    name = func.attr.value if type(func) is cst.Attribute else func.value if type(func) is cst.Name else ""
    return name == "suppress" and any(_catches_runtime_error(a.value) for a in item.args)
